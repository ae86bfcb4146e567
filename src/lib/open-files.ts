import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The process's open-files limits; `Infinity` for unlimited. undefined where /proc does not tell. */
export function openFilesLimits(): { soft: number; hard: number } | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const [soft, hard] = (line ?? '')
      .split(/\s{2,}/)
      .slice(1, 3)
      .map(limit);
    return soft === undefined || hard === undefined ? undefined : { soft, hard };
  } catch {
    return undefined;
  }
}

function limit(text: string): number | undefined {
  if (text === 'unlimited') return Infinity;
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

/**
 * Raises the soft open-files limit to the hard one: each client connection holds a descriptor,
 * and the usual soft limit (1024) is far below what a server needs. Node has no setrlimit, so
 * util-linux's prlimit does it for this process. Resolves what the limit is now, and why it
 * could not be raised when it was not.
 */
export function raiseOpenFilesLimit(): { soft: number; hard: number; failure?: string } | undefined {
  const before = openFilesLimits();
  if (!before || before.soft >= before.hard) return before;
  const target = before.hard === Infinity ? 'unlimited' : String(before.hard);
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${target}:${target}`], { stdio: 'pipe', timeout: 5000 });
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer; message: string };
    return { ...before, failure: e.code === 'ENOENT' ? 'prlimit is not installed' : e.stderr?.toString().trim() || e.message };
  }
  return openFilesLimits() ?? before;
}

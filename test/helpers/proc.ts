/**
 * Running the real launcher, bin/ctl, which loads dist/. The README's test command builds
 * before jest; when dist/ is missing or older than a source file (someone ran jest alone
 * after an edit), `ensureBuilt` builds it once so that we never test stale code.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const root = resolve(__dirname, '..', '..');
export const launcher = join(root, 'bin', 'ctl');
const built = join(root, 'dist', 'src', 'transports', 'cli', 'main.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

export function ensureBuilt(): void {
  const sources = Math.max(newestSource(join(root, 'src')), newestSource(join(root, 'commands')));
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  try {
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'pipe', timeout: 110_000 });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer; message: string };
    throw new Error(`npm run build failed; the e2e tests need dist/:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
}

export interface ProcResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment without anything that would choose another home than the test's. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['CTL_HOME', 'CTL_CONFIG', 'XDG_DATA_HOME', 'NO_COLOR', 'FORCE_COLOR']) delete env[k];
  return env;
}

/** Runs `ctl ARGS --home HOME` as its own process; never rejects, and kills it after 90 s. */
export function ctlProcess(home: string, args: readonly string[], options: { stdin?: string; cwd?: string } = {}): Promise<ProcResult> {
  const child = spawn(process.execPath, [launcher, ...args, '--home', home], { env: cleanEnv(), cwd: options.cwd, timeout: 90_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(options.stdin ?? '');
  return new Promise((done) => child.on('close', (status) => done({ status, stdout, stderr })));
}

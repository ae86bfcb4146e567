import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { main } from '../../src/transports/cli/main';
import { cliApp, type CliAppOptions } from '../../src/node/cli';

export interface CliResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions extends CliAppOptions {
  readonly stdin?: string;
  readonly tty?: boolean;
  /** The terminal's width stdout reports (with `tty`). */
  readonly columns?: number;
  readonly env?: NodeJS.ProcessEnv;
}

// Nodes that tests start in this process (and those `ctl start` spawns) take any free port for
// clients when their configuration has no `listen`, never this machine's 5222.
process.env.CTL_C2S_PORT = '0';
const TEST_ENV: NodeJS.ProcessEnv = { CTL_C2S_PORT: '0' };

/** Runs `ctl ARGV` in this process with captured streams. */
export async function runCli(argv: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const status = await main(
    argv,
    {
      stdout: { write: (s: string) => (stdout += s), isTTY: options.tty, columns: options.columns },
      stderr: { write: (s: string) => (stderr += s), isTTY: options.tty },
      stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]),
      env: { ...TEST_ENV, ...options.env },
    },
    cliApp(options),
  );
  return { status, stdout, stderr };
}

/** A fresh home directory per test file, removed afterwards; `ctl` calls get `--home` set. */
export function tempHome(prefix = 'ctl-test-'): {
  dir: string;
  ctl: (argv: readonly string[], options?: RunOptions) => Promise<CliResult>;
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    ctl: (argv, options) => runCli([...argv, '--home', dir], options),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** What a command that succeeded gives: `stdout`, and nothing on stderr. */
export const ok = (stdout = ''): CliResult => ({ status: 0, stdout, stderr: '' });

/** What a long command gives with --verbose: nothing on stdout, its summary on stderr. */
export const summary = (stderr: string): CliResult => ({ status: 0, stdout: '', stderr });

/** What a command that failed gives: nothing on stdout, `stderr`, a non-zero status. */
export const fails = (status: number, stderr: string): CliResult => ({ status, stdout: '', stderr });

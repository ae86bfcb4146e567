import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { CommandError } from '../../lib/errors';
import type { Home } from '../../config/home';
import { connectControl } from '../socket/client';
import type { Io } from './output';

const POLL_MS = 50;

/** Whether a node answers on the home's socket right now. */
export async function nodeAnswers(home: Home, timeoutMs: number): Promise<boolean> {
  const client = await connectControl(home.socket, timeoutMs).catch(() => undefined);
  if (!client) return false;
  try {
    return (await client.call({ op: 'ping' })) === 'pong';
  } catch {
    return false;
  } finally {
    client.close();
  }
}

/** Polls until `done()` holds or `timeoutMs` passes (0: forever); resolves whether it held. */
async function waitFor(done: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (timeoutMs > 0 && Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** How the node's V8 heap is sized; `ctl foreground` under systemd gets it from NODE_OPTIONS (see the README). */
export const NODE_HEAP = '--max-semi-space-size=1';

/**
 * `ctl start`: the node in the background. Returns once it answers on its socket; if it
 * exits or does not answer in time, shows what it wrote to its log meanwhile.
 */
export async function startBackground(io: Io, home: Home, timeoutMs: number, script: string): Promise<number> {
  if (await nodeAnswers(home, timeoutMs)) throw new CommandError('conflict', `A node is already running on ${home.dir}`);
  const logStart = sizeOf(home.logFile);
  const log = openLog(home.logFile);
  // A young generation of 1 MiB semi-spaces instead of V8's 16: a node holding thousands of idle
  // client sessions then costs half the memory, and message throughput was measured the same.
  const child = spawn(process.execPath, [NODE_HEAP, script, home.dir, home.configFile], { detached: true, stdio: ['ignore', log, log], env: io.env });
  closeSync(log);
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  child.unref();
  const up = await waitFor(async () => exited !== undefined || (await nodeAnswers(home, 1000)), timeoutMs);
  if (up && exited === undefined) return 0;
  const why = exited !== undefined ? `the node exited (status ${exited})` : `the node did not answer within ${timeoutMs / 1000} s`;
  io.stderr.write(`Error: Cannot start the node on ${home.dir}: ${why}. Its log (${home.logFile}) says:\n${tail(home.logFile, logStart, 20)}`);
  return 1;
}

/** `ctl started` / `ctl stopped`: wait for the state; 0 when reached, 1 on timeout. */
export async function waitForState(home: Home, state: 'started' | 'stopped', timeoutMs: number): Promise<number> {
  const reached = await waitFor(async () => (await nodeAnswers(home, 1000)) === (state === 'started'), timeoutMs);
  return reached ? 0 : 1;
}

/** `ctl ping`: pong (0) or pang (3). */
export async function ping(io: Io, home: Home, timeoutMs: number): Promise<number> {
  const up = await nodeAnswers(home, timeoutMs);
  io.stdout.write(up ? 'pong\n' : 'pang\n');
  return up ? 0 : 3;
}

/** The log the node's output goes to; a directory that cannot be made is the operator's to fix. */
function openLog(file: string): number {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o750 });
    return openSync(file, 'a', 0o640);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const { fsReason } = require('../../lib/files') as typeof import('../../lib/files');
    throw new CommandError('failed', `Cannot ${e.syscall === 'mkdir' ? 'create the directory' : 'open'} ${e.path ?? file}: ${fsReason(err)}`, { cause: err });
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function tail(file: string, from: number, lines: number): string {
  let text = '';
  try {
    text = readFileSync(file).subarray(from).toString('utf8');
  } catch {
    return '(no log)\n';
  }
  const last = text
    .split('\n')
    .filter((l) => l !== '')
    .slice(-lines);
  return last.length ? `${last.join('\n')}\n` : '(nothing)\n';
}

/**
 * A throwaway Redis for the cluster tests: Debian's `redis-server`, on 127.0.0.1 and a port of
 * its own, keeping nothing on disk. It can be stopped and started again on the same port, empty,
 * as a Redis that crashed comes back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';

const SERVER = '/usr/bin/redis-server';

export interface TestRedis {
  readonly port: number;
  /** Stops it (SIGKILL: what it held is lost). */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => socket.end('PING\r\n'));
    socket.once('data', (d) => resolve(d.toString().startsWith('+PONG')));
    socket.once('error', () => resolve(false));
  });
}

export async function startRedis(): Promise<TestRedis> {
  if (!existsSync(SERVER)) throw new Error(`Redis is not installed (no ${SERVER}): install it with: apt-get install -y redis-server`);
  const dir = mkdtempSync(join(tmpdir(), 'ctl-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const launch = async () => {
    const c = spawn(SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'], {
      stdio: 'ignore',
    });
    child = c;
    const deadline = Date.now() + 10_000;
    while (!(await answers(port))) {
      if (c.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start on port ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const kill = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  };
  await launch();
  return {
    port,
    kill,
    restart: launch,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

import { toCommandError } from '../lib/errors';
import type { Registry } from '../core/registry';
import type { Home } from '../config/home';
import { startNode } from './daemon';

export interface NodeProcessOptions {
  readonly home: Home;
  readonly registry: Registry;
  readonly echo?: { write(s: string): unknown };
  readonly lockTimeout?: number;
}

/**
 * Runs a node in this process until it stops: SIGTERM and SIGINT stop it cleanly (pending
 * writes done, database closed, socket and pid file removed). Resolves the exit status.
 */
export async function runNodeProcess(options: NodeProcessOptions): Promise<number> {
  const version = (require('../../../package.json') as { version: string }).version;
  let node;
  try {
    node = await startNode({ ...options, version, lockTimeout: options.lockTimeout ?? 10_000 });
  } catch (err) {
    process.stderr.write(`Error: ${toCommandError(err).message}\n`);
    return 1;
  }
  const stop = () => void node.control.stop();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    await node.stopped;
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
  return 0;
}

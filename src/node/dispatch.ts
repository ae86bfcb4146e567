import type { Caller } from '../core/access';
import { createContext, type NodeControl } from '../core/context';
import { CommandError } from '../lib/errors';
import { execute, lookup } from '../core/executor';
import type { Registry } from '../core/registry';
import type { Command } from '../core/command';
import { createServices } from '../services';
import { unsynced } from '../storage/unsynced';
import type { Store } from '../storage/types';
import type { Request } from '../transports/socket/protocol';
import type { Config } from '../config/config';

export interface RunOptions {
  /** Writes need not wait for the disk: the caller syncs at the end of its batch. */
  readonly bulk?: boolean;
  readonly caller?: Caller;
  /** Progress of a long command: a line to keep, or (transient) what it is doing now. */
  readonly send?: (text: string, transient?: boolean) => void;
}

/** What a request needs from the node at the moment it runs; the node may have restarted since. */
export interface NodeState {
  readonly config: Config;
  readonly store: Store;
  readonly stopping: boolean;
}

/**
 * Runs requests on the node. Commands that use the database run one at a time, in arrival
 * order, so conflicting writes from parallel callers cannot interleave (two `register`s of
 * one name give one success and one conflict); the others run at once.
 */
export function createDispatcher(registry: Registry, node: NodeControl, state: () => NodeState, clock: () => number = Date.now) {
  let tail: Promise<unknown> = Promise.resolve();

  /** Runs `fn` after every database command queued before it. */
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  }

  /** Runs a command for a caller (absent: the node's operator, with every right). */
  function run(command: Command, args: Record<string, unknown>, options: RunOptions = {}): Promise<unknown> {
    const send = options.send ?? (() => undefined);
    const go = () => {
      const s = state();
      if (s.stopping && command.needs === 'store') throw new CommandError('unavailable', 'The node is stopping');
      const store = options.bulk ? unsynced(s.store) : s.store;
      const services = command.needs === 'none' ? undefined : createServices({ store, config: s.config, clock });
      const progress = (text: string) => send(text);
      const working = (text: string) => send(text, true);
      const ctx = createContext({ command: command.name, config: s.config, registry, clock, services, node, progress, working, caller: options.caller });
      return execute(command, args, ctx);
    };
    return command.needs === 'store' ? exclusive(go) : Promise.resolve().then(go);
  }

  /** A request from the control socket. */
  async function dispatch(request: Request, send: (text: string, transient?: boolean) => void): Promise<unknown> {
    if ('op' in request) {
      if (request.op === 'ping') return 'pong';
      return exclusive(() => state().store.sync());
    }
    return run(lookup(registry, request.command), request.args, { bulk: request.bulk, send });
  }

  return { dispatch, run, exclusive };
}

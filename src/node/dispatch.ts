import { createContext, type NodeControl } from '../core/context';
import { CommandError } from '../core/errors';
import { execute, lookup } from '../core/executor';
import type { Registry } from '../core/registry';
import { createServices } from '../services';
import { unsynced } from '../storage/unsynced';
import type { Store } from '../storage/types';
import type { Request } from '../transports/socket/protocol';
import type { Config } from './config';

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

  async function dispatch(request: Request, send: (text: string, transient?: boolean) => void): Promise<unknown> {
    if ('op' in request) {
      if (request.op === 'ping') return 'pong';
      return exclusive(() => state().store.sync());
    }
    const command = lookup(registry, request.command);
    const run = () => {
      const s = state();
      if (s.stopping && command.needs === 'store') throw new CommandError('unavailable', 'The node is stopping');
      const store = request.bulk ? unsynced(s.store) : s.store;
      const services = command.needs === 'none' ? undefined : createServices({ store, config: s.config, clock });
      const progress = (text: string) => send(text);
      const working = (text: string) => send(text, true);
      const ctx = createContext({ command: command.name, config: s.config, registry, clock, services, node, progress, working });
      return execute(command, request.args, ctx);
    };
    return command.needs === 'store' ? exclusive(run) : run();
  }

  return { dispatch, exclusive };
}

import type { Caller } from '../core/access';
import { createContext, type NodeControl } from '../core/context';
import { CommandError } from '../lib/errors';
import { execute, lookup } from '../core/executor';
import type { Registry } from '../core/registry';
import { scopeOf, type Command } from '../core/command';
import type { Gate } from '../lib/gate';
import { createScopedSerial, type ScopedSerial } from '../lib/scoped-serial';
import type { Store } from '../storage/types';
import type { ProgressKind, Request } from '../transports/socket/protocol';
import type { Config } from '../config/config';
import type { Services } from './services';

export interface RunOptions {
  /** Writes need not wait for the disk: the caller syncs at the end of its batch. */
  readonly bulk?: boolean;
  readonly caller?: Caller;
  /** Imports fail on what they would skip with a warning (`--strict`). */
  readonly strict?: boolean;
  /** The ejabberd SQL layout export_odbc writes (`--sql-schema`). */
  readonly sqlSchema?: string;
  /** Progress of a long command: a line to keep, what it is doing now, or its summary. */
  readonly send?: (text: string, kind?: ProgressKind) => void;
}

/** What a request needs from the node at the moment it runs; the node may have restarted since. */
export interface NodeState {
  readonly config: Config;
  readonly store: Store;
  /** Built once per store and configuration; `bulk` writes without waiting for the disk. */
  readonly services: { readonly synced: Services; readonly bulk: Services };
  readonly stopping: boolean;
}

const settled = () => undefined;

/**
 * Work on the database waits at the gate, so that it sees the database before or after a
 * command that replaces it, never between: what the node does (sessions, rooms) reads it too.
 */
function passesGate(command: Command): boolean {
  return command.needs === 'store' || (command.needs === 'node' && !command.lifecycle);
}

/**
 * Runs requests on the node. Commands run side by side: the features serialise what must not
 * interleave per account (two `register`s of one name give one success and one conflict).
 * Only a command that replaces the database (`exclusive`) runs alone, as do restarts and stops.
 */
export function createDispatcher(registry: Registry, node: NodeControl, state: () => NodeState, gate: Gate, clock: () => number = Date.now) {
  /**
   * Each connection's database commands, so that its next one waits for those before it that
   * touch what it touches (see `Command.scope`): a batch's registrations of different accounts
   * run side by side, and their writes reach the database together. Their replies still leave
   * in the order asked: a caller that loses the node has heard of a run of its first requests.
   */
  const connections = new WeakMap<object, { readonly serial: ScopedSerial; replied: Promise<unknown> }>();

  function inOrder<T>(connection: object, scope: string | undefined, fn: () => Promise<T>): Promise<T> {
    let c = connections.get(connection);
    if (!c) connections.set(connection, (c = { serial: createScopedSerial(), replied: Promise.resolve() }));
    const ran = c.serial.run(scope, fn);
    ran.catch(settled); // its failure is the caller's, met through inTurn
    const inTurn = c.replied.then(() => ran);
    c.replied = inTurn.then(settled, settled);
    return inTurn;
  }

  /** Runs a command for a caller (absent: the node's operator, with every right). */
  function run(command: Command, args: Record<string, unknown>, options: RunOptions = {}): Promise<unknown> {
    const send = options.send ?? (() => undefined);
    const go = () => {
      const s = state();
      if (s.stopping && passesGate(command)) throw new CommandError('unavailable', 'The node is stopping');
      const services = command.needs === 'none' ? undefined : options.bulk ? s.services.bulk : s.services.synced;
      const progress = (text: string) => send(text);
      const working = (text: string) => send(text, 'working');
      const summary = (text: string) => send(text, 'summary');
      const ctx = createContext({
        command: command.name,
        config: s.config,
        registry,
        clock,
        services,
        node,
        progress,
        working,
        summary,
        caller: options.caller,
        strict: options.strict,
        sqlSchema: options.sqlSchema,
      });
      return execute(command, args, ctx);
    };
    // `stop` and `restart` close the gate themselves.
    if (!passesGate(command)) return Promise.resolve().then(go);
    return command.exclusive ? gate.exclusive(go) : gate.shared(go);
  }

  /** A request from the control socket. */
  async function dispatch(request: Request, send: (text: string, kind?: ProgressKind) => void, connection: object): Promise<unknown> {
    if ('op' in request) {
      if (request.op === 'ping') return 'pong';
      return inOrder(connection, undefined, () => gate.shared(() => state().store.sync()));
    }
    const command = lookup(registry, request.command);
    const go = () => run(command, request.args, { bulk: request.bulk, strict: request.strict === true, sqlSchema: request.sqlSchema, send });
    return passesGate(command) ? inOrder(connection, scopeOf(command, request.args), go) : go();
  }

  return { dispatch, run };
}

import type { Config } from '../config/config';
import type { Registry } from './registry';
import type { Caller } from './access';
import { CommandError } from '../lib/errors';
import type { XmppControl } from './sessions';
import type { MucControl } from './muc';
import type { ExtensionControl } from './extensions';

/** Everything a handler may use, passed explicitly: there are no module-level singletons. */
export interface Context<S = unknown> {
  readonly config: Config;
  readonly registry: Registry;
  /** Milliseconds since the epoch. */
  readonly clock: () => number;
  /** The domain services; only commands that declared `needs: 'store'` get them. */
  readonly services: S;
  /** The running node; only commands that declared `needs: 'node'` get it. */
  readonly node: NodeControl;
  /**
   * The node when the command runs on one, whatever it declared; absent in a local `ctl`. A
   * command that also works without a node uses it to reach live sessions.
   */
  readonly running?: NodeControl;
  /** A line for the caller about a long command's steps: always shown, on standard error. */
  readonly progress: (text: string) => void;
  /** What a long command is doing now: a spinner on a terminal, nothing on a pipe. */
  readonly working: (text: string) => void;
  /**
   * What a long command did, for people (`Backed up 12 records to ...`): on standard error, on a
   * terminal or with --verbose, while stdout keeps the result scripts read.
   */
  readonly summary: (text: string) => void;
  /** An authenticated account calling over HTTP or XML-RPC; absent for the node's operator. */
  readonly caller?: Caller;
  /** The caller asked imports to fail on what they would skip with a warning (`--strict`). */
  readonly strict: boolean;
  /** The ejabberd SQL layout export_odbc writes (`--sql-schema`); undefined: pg.sql's. */
  readonly sqlSchema?: string;
  /** The extension modules: those the node runs, or without a node the home's installed files. */
  readonly extensions: ExtensionControl;
}

/** What commands may ask of the running node itself. */
export interface NodeControl {
  readonly name: string;
  readonly version: string;
  /** The node's secret, created on its first start. */
  readonly cookie: string;
  uptimeSeconds(): number;
  /** Resources the node's event loop tracks (sockets, timers, pending I/O): its "processes". */
  activeResources(): number;
  /** Stops accepting new client connections; the sessions already open stay. */
  stopAccepting(): Promise<void>;
  /** The node's XMPP server: its live sessions. */
  readonly xmpp: XmppControl;
  /** The XMPP server's MUC service: its rooms. */
  readonly muc: MucControl;
  /** The extension modules the node runs. */
  readonly extensions: ExtensionControl;
  /** The node's cluster, when ctl.yml names its Redis; absent, the node serves alone. */
  readonly cluster?: ClusterControl;
  /** Server-to-server connections; this node has none yet. */
  s2sConnections(direction: 'incoming' | 'outgoing'): number;
  loglevel(): number;
  setLoglevel(level: number): void;
  reopenLog(): Promise<void>;
  rotateLog(): Promise<void>;
  /**
   * Re-reads the configuration and applies it: hosts and log level at once, `listen` by opening
   * and closing client and HTTP listeners. An invalid file throws and leaves the running one in place.
   * `report` is told, a line at a time, what was applied and what waits for the node's next start.
   */
  reloadConfig(report?: (line: string) => void): Promise<void>;
  /** Closes and reopens everything, in this process; resolves once the node serves again. */
  restart(): Promise<void>;
  /** Stops serving, closes the database; resolves once it is closed. */
  stop(): Promise<void>;
}

/** What the cluster commands ask of the node's cluster (src/cluster). */
export interface ClusterControl {
  /** The nodes alive in the cluster, this node first. */
  members(): Promise<string[]>;
  /** Resolves to what was done, in words. */
  join(node: string): Promise<string>;
  leave(node: string): Promise<string>;
  remove(node: string): Promise<string>;
  /** A line for `status`: the cluster, and whether its Redis answers. */
  status(): string;
}

export interface ContextParts<S = unknown> {
  readonly command: string;
  readonly config: Config;
  readonly registry: Registry;
  readonly clock: () => number;
  readonly services?: S;
  readonly node?: NodeControl;
  readonly progress?: (text: string) => void;
  readonly working?: (text: string) => void;
  readonly summary?: (text: string) => void;
  readonly caller?: Caller;
  readonly strict?: boolean;
  readonly sqlSchema?: string;
  /** Without a node: what handles the home's extension modules on disk. */
  readonly extensions?: () => ExtensionControl;
}

/** A context whose missing parts fail clearly when a handler reaches for them. */
export function createContext<S>(parts: ContextParts<S>): Context<S> {
  const missing = (what: string) => new CommandError('internal', `${parts.command} uses ${what} but does not declare it`);
  return {
    config: parts.config,
    registry: parts.registry,
    clock: parts.clock,
    progress: parts.progress ?? (() => undefined),
    working: parts.working ?? (() => undefined),
    summary: parts.summary ?? (() => undefined),
    caller: parts.caller,
    strict: parts.strict === true,
    sqlSchema: parts.sqlSchema,
    running: parts.node,
    get services(): S {
      if (!parts.services) throw missing('the database');
      return parts.services;
    },
    get node(): NodeControl {
      if (!parts.node) throw missing('the node');
      return parts.node;
    },
    get extensions(): ExtensionControl {
      const control = parts.node?.extensions ?? parts.extensions?.();
      if (!control) throw missing('the extension modules');
      return control;
    },
  };
}

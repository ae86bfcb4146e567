/**
 * The contract between the node and an extension module: what `setup(api)` is given. A module
 * is a folder with a manifest (`module.yml`) and code (TypeScript or JavaScript, CommonJS once
 * built) that exports `setup` and, optionally, `teardown`. It imports this file for its types
 * only (`import type`, erased when it is built): everything it uses at run time comes through the
 * api, so that a module needs nothing of ctl's own files and keeps working when they move.
 */
import type { Element } from 'ltx';
import type { CommandSpec, Policy } from '../core/command';
import type { CommandError } from '../lib/errors';
import type { Field } from '../schema/types';
import type * as schema from '../schema/types';
import type { HubHooks, IqHandler, IqRoute, SessionTable, XmppLogger } from './api';
import type { StanzaError } from './stanza';

/** `module.yml`: who the module is, and which ctl versions it works with. */
export interface ModuleManifest {
  /** The module's name: its folder's, `mod_` and lower-case letters, digits and `_`. */
  readonly name: string;
  /** `MAJOR.MINOR.PATCH`. */
  readonly version: string;
  /** One line: what modules_available and modules_installed print. */
  readonly summary: string;
  readonly author: string;
  /** The ctl versions it works with: comparators such as `>=0.1.0 <1.0.0`, `^0.1`, `0.1.x` or `*`. */
  readonly ctl: string;
  /** The file that exports `setup`, relative to the folder: `index.ts` or `index.js` unless said. */
  readonly main?: string;
}

/**
 * A command as a module declares it: the schema of ctl's own commands. It runs in the node
 * (`needs` is always `node`), and its ejabberd module is the extension's name.
 */
export type ExtensionCommandSpec<A extends readonly Field[] = readonly Field[], R extends Field = Field, P extends Policy = Policy> = Omit<
  CommandSpec<A, R, P>,
  'needs' | 'module' | 'origin' | 'extension' | 'managesCode' | 'exclusive' | 'lifecycle' | 'paths' | 'policy'
> & {
  /** `restricted` (the node's operator and the `admin` ACL) unless said. */
  readonly policy?: P;
};

/** A key: one text, or a tuple of texts from the most general part to the most particular. */
export type TableKey = string | readonly string[];

/** One of the module's own tables in the node's database; a value is any JSON value but null. */
export interface ExtensionTable<T = unknown> {
  get(key: TableKey): Promise<T | undefined>;
  put(key: TableKey, value: T): Promise<void>;
  delete(key: TableKey): Promise<void>;
  /** Read-modify-write of one record, never interleaved with another update of it: return the new value, null to delete, undefined to keep. */
  update(key: TableKey, fn: (current: T | undefined) => T | null | undefined): Promise<T | undefined>;
  /** The records in key order, those whose key starts with `prefix` when it is given. */
  entries(prefix?: TableKey): AsyncIterable<[readonly string[], T]>;
}

/** The hooks a module may take: a stanza from a client, one for an account, a session's life. */
export type ExtensionHooks = Pick<HubHooks, 'client-stanza' | 'deliver' | 'message-delivered' | 'session-bound' | 'session-available' | 'session-closed'>;

/** The module's side of the XMPP server. */
export interface ExtensionXmpp {
  /** Answers IQ get/set whose payload has this namespace; one another module answers is refused. */
  iq(route: IqRoute, handler: IqHandler): void;
  hook<K extends keyof ExtensionHooks>(name: K, handler: ExtensionHooks[K]): void;
  /** A feature var the server's disco#info lists while the module runs. */
  discoFeature(ns: string): void;
  /** The live sessions; none while the XMPP server does not run. */
  readonly sessions: SessionTable;
  /** Routes a stanza whose `from` and `to` are set, as if its sender had sent it. */
  route(stanza: Element): Promise<void>;
  /** A new XML element (ltx's), to build stanzas and IQ payloads with. */
  element(name: string, attrs?: Readonly<Record<string, string>>): Element;
  /** What an IQ handler throws to answer with an error: `new StanzaError('item-not-found', 'text')`. */
  readonly StanzaError: typeof StanzaError;
}

/** The schema constructors of ctl's commands, for `defineCommand`'s args and result. */
export type ExtensionTypes = Pick<typeof schema, 'f' | 'list' | 'tuple' | 'integer' | 'string' | 'binary' | 'atom' | 'rescode' | 'restuple'>;

export interface ExtensionApi {
  readonly name: string;
  readonly version: string;
  /** `modules: NAME: {...}` of ctl.yml, as it is now (a reload_config changes it); {} when absent. */
  readonly options: Readonly<Record<string, unknown>>;
  readonly logger: XmppLogger;
  /** Milliseconds since the epoch. */
  readonly clock: () => number;
  readonly types: ExtensionTypes;
  /** Declares an admin command: `ctl help` lists it, and the control socket, HTTP and XML-RPC serve it. */
  defineCommand<const A extends readonly Field[], const R extends Field, const P extends Policy = 'restricted'>(spec: ExtensionCommandSpec<A, R, P>): void;
  /** The module's own table NAME (letters, digits, `_`), kept when the module is uninstalled. */
  table<T = unknown>(name: string): ExtensionTable<T>;
  readonly xmpp: ExtensionXmpp;
  /** What a command handler throws to fail with a message: `new CommandError('not_found', 'No motd set')`. */
  readonly CommandError: typeof CommandError;
}

/** What a module's main file exports. */
export interface ExtensionModule {
  /** Declares the module's commands and handlers; they serve once it resolved, and only then. */
  setup(api: ExtensionApi): void | Promise<void>;
  /** Lets go of what setup took (timers, connections); its commands and handlers are removed for it. */
  teardown?(api: ExtensionApi): void | Promise<void>;
}

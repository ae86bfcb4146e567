/**
 * The XMPP server's inner contracts: what a client stream (c2s, WebSocket) hands the hub, what
 * the hub offers its modules (presence, roster, disco, carbons, ...), and what it offers the
 * node's session commands. Streams translate bytes to stanzas; the hub routes; modules call the
 * features' domain API, the same functions the admin commands call.
 */
import type { Element } from 'ltx';
import type { Config } from '../config/config';
import type { Features } from '../features';
import type { BareJid, Jid } from '../lib/jid';
import type { ConnectionKind } from '../core/sessions';

export type { ConnectionKind, SessionInfo, XmppControl } from '../core/sessions';

/** A stream error condition of RFC 6120 §4.9.3, and an optional text. */
export interface StreamError {
  readonly condition: string;
  readonly text?: string;
}

/** What a stream is before it is bound: authenticated as `jid`, reached over `connection`. */
export interface StreamInfo {
  readonly bare: BareJid;
  readonly connection: ConnectionKind;
  readonly ip: string;
  readonly port: number;
  /** Writes a stanza to the client (queued by stream management when it is enabled). */
  send(stanza: Element): void;
  /** Sends a stream error, closes the stream, and (once closed) calls the hub's `unbind`. */
  close(error?: StreamError): void;
  /**
   * A copy of another node's session: writes the stanza there only if the session is available
   * by then (its presence may be on its way here still).
   */
  offer?(stanza: Element): void;
}

/** One bound resource: what the hub and the session commands know of a client. */
export interface Session extends StreamInfo {
  /** Unique for the life of the node. */
  readonly id: number;
  readonly jid: Jid;
  /** Milliseconds since the epoch. */
  readonly startedAt: number;
  /** The last available presence the client broadcast; undefined before initial presence and after unavailable. */
  presence: Element | undefined;
  /** From the last presence, 0 when none was given. */
  priority: number;
  /** The client asked for its roster: it gets roster pushes. */
  interested: boolean;
  /** XEP-0280 carbons enabled. */
  carbons: boolean;
  /** XEP-0352: the client said it is inactive. */
  inactive: boolean;
  /** XEP-0198: the stream is gone but the session waits for a resumption; it still counts as a session. */
  detached: boolean;
  /** Contacts this session sent directed presence to (RFC 6121 §4.6): they get its unavailable. */
  readonly directed: Set<string>;
}

/** An IQ a module answers: the payload child's namespace, and which addresses it answers for. */
export interface IqRoute {
  readonly xmlns: string;
  /** The server (to absent or a served host), the sender's own bare JID, or any local bare JID. */
  readonly to: readonly ('host' | 'self' | 'bare')[];
}

/**
 * Answers an IQ get or set: returns the result's payload (or nothing, for an empty result), or
 * throws a `StanzaError`. `session` is the sender's when a local client sent it.
 */
export type IqHandler = (iq: Element, from: Jid, session: Session | undefined) => Promise<Element | void> | Element | void;

/** What the hub tells its modules; a handler returning true has taken the stanza (stop routing it). */
export interface HubHooks {
  /** A bound client sent a stanza (`from` stamped); before the hub routes it. */
  'client-stanza': (stanza: Element, session: Session) => boolean | void | Promise<boolean | void>;
  /** A stanza for a local account (`to` bare or full), before it is delivered or stored offline. */
  deliver: (stanza: Element, to: Jid) => boolean | void | Promise<boolean | void>;
  /** A message was delivered live to `sessions` (carbons copies it to the others). */
  'message-delivered': (stanza: Element, to: Jid, sessions: readonly Session[]) => void | Promise<void>;
  /** A resource was bound. */
  'session-bound': (session: Session) => void | Promise<void>;
  /** The client's first available presence (offline messages are flushed then). */
  'session-available': (session: Session) => void | Promise<void>;
  /** A session ended (unavailable already broadcast); last activity is stored then. */
  'session-closed': (session: Session, error: StreamError | undefined) => void | Promise<void>;
  /**
   * Presence the server sends on a session's behalf (its broadcasts, its unavailable on close,
   * answers to probes, its probes) is about to go to `recipients` (bare or full JIDs): a handler
   * deletes those the user's lists withhold it from (XEP-0016 presence-out, XEP-0191).
   */
  'presence-broadcast': (presence: Element, session: Session, recipients: Set<string>) => void | Promise<void>;
}

/** The node's log, as the server writes to it. */
export interface XmppLogger {
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}

/** An entity the server's disco#items lists (the MUC service, say). */
export interface DiscoItem {
  readonly jid: string;
  readonly name?: string;
}

/** What a module is given: the domain, the live sessions, routing, and registration. */
export interface ModuleApi {
  readonly features: () => Features;
  readonly config: () => Config;
  readonly clock: () => number;
  readonly sessions: SessionTable;
  readonly logger: XmppLogger;
  /** Routes a stanza whose `from` and `to` are set, as if its sender had sent it. */
  route(stanza: Element): Promise<void>;
  /** Answers IQ get/set with this payload namespace. */
  iq(route: IqRoute, handler: IqHandler): void;
  hook<K extends keyof HubHooks>(name: K, handler: HubHooks[K]): void;
  /** A feature var the server's disco#info lists. */
  discoFeature(ns: string): void;
  /** Every feature var registered so far. */
  discoFeatures(): readonly string[];
  /** An item the server's disco#items lists, for the host it is given. */
  discoItem(host: string, item: DiscoItem): void;
  /** Items computed on each request (they may follow the configuration's hosts). */
  discoItemsFrom(provider: (host: string) => readonly DiscoItem[]): void;
  discoItems(host: string): readonly DiscoItem[];
  /**
   * Takes every stanza (any type) addressed to a domain that is not a served host and that
   * `owns` claims: a component such as the MUC service. `from` is the sender, parsed.
   */
  component(owns: (domain: string) => boolean, handler: ComponentHandler): void;
}

/** Takes a stanza for a component's domain; `session` is the sender's when a local client sent it. */
export type ComponentHandler = (stanza: Element, from: Jid, session: Session | undefined) => void | Promise<void>;

export type XmppModule = (api: ModuleApi) => void;

/** The live sessions, by bare and full JID. */
export interface SessionTable {
  get(jid: Jid): Session | undefined;
  /** A user's sessions, in the order they were bound. */
  ofUser(jid: BareJid): readonly Session[];
  /** Every session, of one host or all, in the order they were bound. */
  all(host?: string): readonly Session[];
  count(host?: string): number;
  /** Users with at least one session. */
  users(host?: string): number;
}

/** What the hub offers the c2s and WebSocket streams. */
export interface Hub {
  /** Is this a domain the node serves (at this moment: `hosts` may change on reload)? */
  serves(domain: string): boolean;
  /** Binds a resource (empty: the server makes one); a clash closes the old session with conflict. */
  bind(stream: StreamInfo, resource: string): Session;
  /** A stanza from a bound client. */
  receive(session: Session, stanza: Element): void;
  /** The stream is gone (or detached and its wait ended). */
  unbind(session: Session, error: StreamError | undefined): void;
}

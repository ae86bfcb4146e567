/**
 * The live sessions: full JID → session, bare JID → the user's sessions in bind order. Sessions
 * are small objects whose methods live on the prototype, so that ten thousand of them stay cheap.
 */
import { randomBytes } from 'node:crypto';
import type { Element } from 'ltx';
import { bareText, type BareJid, type Jid } from '../lib/jid';
import type { ConnectionKind, Session, SessionTable, StreamError, StreamInfo } from './api';

/** The key of the full-JID table. */
const fullKey = (bare: BareJid, resource: string) => `${bare.user}@${bare.host}/${resource}`;

/** Work a session's queue holds besides stanzas: a close, or a call that waits for its turn. */
export interface QueuedTask {
  readonly task: () => void | Promise<void>;
}

export class LiveSession implements Session {
  readonly bare: BareJid;
  /** These four change when the session resumes on a new stream (XEP-0198). */
  connection: ConnectionKind;
  ip: string;
  port: number;
  presence: Element | undefined = undefined;
  priority = 0;
  interested = false;
  carbons = false;
  inactive = false;
  detached = false;
  readonly directed = new Set<string>();
  /** Another node of the cluster serves this session: this one is its copy, and `stream` reaches it over the bus. */
  node: string | undefined = undefined;
  /** `user@host/resource`, the key of the full-JID table. */
  readonly full: string;
  /** Set once: the session left the table, and its stanzas are no longer taken. */
  closed = false;
  /** A stanza is being handled: the next ones wait in `backlog`, in order. */
  busy = false;
  backlog: (Element | QueuedTask)[] | undefined = undefined;

  constructor(
    public stream: StreamInfo,
    readonly id: number,
    readonly jid: Jid,
    readonly startedAt: number,
  ) {
    this.bare = { user: jid.user, host: jid.host };
    this.connection = stream.connection;
    this.ip = stream.ip;
    this.port = stream.port;
    this.full = fullKey(jid, jid.resource);
  }

  /** The client resumed the session on `stream`: it is sent to there from now on. */
  moveTo(stream: StreamInfo): void {
    this.stream = stream;
    this.connection = stream.connection;
    this.ip = stream.ip;
    this.port = stream.port;
    this.detached = false;
  }

  send(stanza: Element): void {
    this.stream.send(stanza);
  }

  offer(stanza: Element): void {
    this.stream.offer?.(stanza);
  }

  close(error?: StreamError): void {
    this.stream.close(error);
  }
}

/** The sessions of one user, and the user's bare JID as routing hands it to hooks. */
interface UserEntry {
  readonly jid: Jid;
  readonly sessions: LiveSession[];
}

/** A random resource, as ejabberd makes one: digits and letters. */
function randomResource(): string {
  return BigInt(`0x${randomBytes(10).toString('hex')}`).toString(36);
}

export class Sessions implements SessionTable {
  readonly full = new Map<string, LiveSession>();
  readonly bare = new Map<string, UserEntry>();
  private nextId = 1;

  get(jid: Jid): LiveSession | undefined {
    return this.full.get(fullKey(jid, jid.resource));
  }

  ofUser(jid: BareJid): readonly LiveSession[] {
    return this.bare.get(bareText(jid))?.sessions ?? [];
  }

  /** Map order is insertion order: bind order, since a session is never re-inserted. */
  all(host?: string): readonly LiveSession[] {
    const out: LiveSession[] = [];
    for (const s of this.full.values()) if (host === undefined || s.jid.host === host) out.push(s);
    return out;
  }

  count(host?: string): number {
    if (host === undefined) return this.full.size;
    let n = 0;
    for (const u of this.bare.values()) if (u.jid.host === host) n += u.sessions.length;
    return n;
  }

  users(host?: string): number {
    if (host === undefined) return this.bare.size;
    let n = 0;
    for (const u of this.bare.values()) if (u.jid.host === host) n++;
    return n;
  }

  /** Adds a session for `resource` (not empty); the caller closes any session it replaces first. */
  add(stream: StreamInfo, resource: string, now: number): LiveSession {
    const jid: Jid = { user: stream.bare.user, host: stream.bare.host, resource };
    const session = new LiveSession(stream, this.newId(), jid, now);
    this.insert(session);
    return session;
  }

  /** Ids are this node's: a copy of another node's session gets one too. */
  newId(): number {
    return this.nextId++;
  }

  /** Puts a session made elsewhere in both tables (a copy of another node's session). */
  insert(session: LiveSession): void {
    const jid = session.jid;
    this.full.set(session.full, session);
    const key = bareText(jid);
    const entry = this.bare.get(key);
    if (entry) entry.sessions.push(session);
    else this.bare.set(key, { jid: { user: jid.user, host: jid.host, resource: '' }, sessions: [session] });
  }

  /** Takes the session out of both tables; false when it was not there. */
  remove(session: LiveSession): boolean {
    if (this.full.get(session.full) !== session) return false;
    this.full.delete(session.full);
    const key = bareText(session.jid);
    const entry = this.bare.get(key);
    if (entry) {
      const at = entry.sessions.indexOf(session);
      if (at >= 0) entry.sessions.splice(at, 1);
      if (entry.sessions.length === 0) this.bare.delete(key);
    }
    return true;
  }

  /** A resource nobody of this user holds. */
  freeResource(bare: BareJid): string {
    for (;;) {
      const r = randomResource();
      if (!this.full.has(fullKey(bare, r))) return r;
    }
  }
}

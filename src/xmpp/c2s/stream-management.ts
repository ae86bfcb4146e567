/**
 * XEP-0198 stream management (urn:xmpp:sm:3) on client streams: counting what each side
 * handled, acks, and resumption. A stream that enabled it gets one `SmState`; every stanza sent
 * to it stays in that state's queue until the client acks it. When the transport of a resumable
 * stream is lost, the session stays bound and detached: stanzas for it are queued, and a new
 * stream of the same user can take it over with `<resume/>` within `max` seconds. When the
 * session ends instead, what the client never acked is handled as undelivered: messages go to
 * the user's other resources or offline storage, IQ requests get an error, presence is dropped.
 *
 * A stream without stream management pays nothing: no state, no queue, no timer.
 */
import { randomBytes } from 'node:crypto';
import { Element, clone } from 'ltx';
import { bareText } from '../../lib/jid';
import type { Session, StreamError } from '../api';
import { LiveSession } from '../sessions';
import { NS, StanzaError, errorReply } from '../stanza';
import { STANZAS, type C2sConnection, type C2sExtension, type C2sLogger, type C2sStreamError, type StreamAttachment } from './connection';

export interface StreamManagementOptions {
  /** Routes a stanza whose `from` and `to` are set, as if its sender had sent it (the hub's control.route). */
  route(stanza: Element): Promise<void>;
  /** Seconds a detached session waits for its client; a client may ask for less. */
  readonly resumeTimeout?: number;
  /** Unacked stanzas a stream may hold; one more closes it with resource-constraint. */
  readonly maxQueue?: number;
  /** Unacked stanzas after which the server asks the client for an ack. */
  readonly ackAfter?: number;
  /** Milliseconds after which the server asks for an ack while some stanza is unacked. */
  readonly ackInterval?: number;
  readonly clock?: () => number;
  readonly logger?: C2sLogger;
}

/** The extension a composition adds to its streams, and what it can tell of the sessions it keeps. */
export interface StreamManagement extends C2sExtension {
  /** Sessions waiting for their client to resume. */
  detachedCount(): number;
}

export const DEFAULT_RESUME_TIMEOUT = 300;
const DEFAULT_MAX_QUEUE = 500;
const DEFAULT_ACK_AFTER = 5;
const DEFAULT_ACK_INTERVAL = 30_000;
const MOD = 2 ** 32;

interface Shared {
  readonly options: StreamManagementOptions;
  /** Resumption ids of live resumable sessions. */
  readonly resumable: Map<string, SmState>;
  detached: number;
}

/** One stream-managed session: the counts of both sides and what the client has not acked. */
class SmState implements StreamAttachment {
  /** Stanzas handled from the client (h), mod 2^32. */
  handled = 0;
  /** The client's last h: the stanza queue[0] is number acked + 1. */
  acked = 0;
  queue: Element[] = [];
  /** Stanzas sent since the server last asked for an ack. */
  unrequested = 0;
  requestTimer: NodeJS.Timeout | undefined = undefined;
  detachTimer: NodeJS.Timeout | undefined = undefined;
  ended = false;

  constructor(
    private readonly shared: Shared,
    /** The stream the session is served on now. */
    public conn: C2sConnection,
    readonly session: Session,
    readonly id: string | undefined,
    readonly max: number,
  ) {}

  send(_from: C2sConnection, stanza: Element): void {
    if (this.ended) return;
    const { options } = this.shared;
    if (this.queue.length >= (options.maxQueue ?? DEFAULT_MAX_QUEUE)) {
      this.undelivered(stanza);
      return this.conn.close({ condition: 'resource-constraint', text: 'too many unacknowledged stanzas' });
    }
    this.queue.push(stanza);
    if (!this.conn.connected) return;
    this.conn.writeStanza(stanza);
    if (++this.unrequested >= (options.ackAfter ?? DEFAULT_ACK_AFTER)) this.request();
    else this.requestTimer ??= setTimeout(() => this.request(), options.ackInterval ?? DEFAULT_ACK_INTERVAL).unref();
  }

  transportClosed(conn: C2sConnection, error: StreamError | undefined, lost: boolean): void {
    this.stopRequests();
    if (!lost || this.id === undefined || this.ended) return this.end(error);
    this.session.detached = true;
    this.shared.detached++;
    this.detachTimer = setTimeout(() => this.end(undefined), this.max * 1000).unref();
    this.shared.options.logger?.debug?.(
      `${bareText(this.session.bare)}/${this.session.jid.resource} detached from ${conn.ip}:${conn.port}; it waits ${this.max} s`,
    );
  }

  closeGone(from: C2sConnection, error: StreamError | undefined): void {
    // An older stream of a resumed session: the session lives on the current one.
    if (from !== this.conn) return this.conn.close(error);
    this.end(error);
  }

  /** The client's `<a h=N/>`; false (and the stream closed) when it acks more than it was sent. */
  ack(h: string | undefined, conn: C2sConnection): boolean {
    const n = count(h);
    const acked = n === undefined ? -1 : (n - this.acked + MOD) % MOD;
    if (acked < 0 || acked > this.queue.length) {
      const sent = (this.acked + this.queue.length) % MOD;
      const extra = new Element('handled-count-too-high', { xmlns: NS.sm, h: h ?? '', 'send-count': String(sent) });
      const text = n === undefined ? 'the ack has no valid h' : `the client acked ${n} stanzas, ${sent} were sent`;
      conn.close({ condition: 'undefined-condition', text, extra } satisfies C2sStreamError);
      return false;
    }
    this.queue.splice(0, acked);
    this.acked = n!;
    if (this.queue.length === 0) this.stopRequests();
    return true;
  }

  request(): void {
    this.stopRequests();
    if (this.ended || !this.conn.connected) return;
    this.conn.writeElement(new Element('r', { xmlns: NS.sm }));
  }

  stopRequests(): void {
    this.unrequested = 0;
    if (this.requestTimer) clearTimeout(this.requestTimer);
    this.requestTimer = undefined;
  }

  /** The session ends: the hub unbinds it, and what the client did not ack is handled as undelivered. */
  end(error: StreamError | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.stopRequests();
    this.undetach();
    if (this.id !== undefined) this.shared.resumable.delete(this.id);
    this.conn.endSession(error);
    for (const stanza of this.queue.splice(0)) this.undelivered(stanza);
  }

  /** The session is served again (or ends): its wait is over. */
  undetach(): void {
    if (this.detachTimer) clearTimeout(this.detachTimer);
    this.detachTimer = undefined;
    if (this.session.detached) this.shared.detached--;
    this.session.detached = false;
  }

  /** A stanza the client never acked; the session is out of the table by now, so nothing loops back to it. */
  undelivered(stanza: Element): void {
    const out = rerouted(stanza, this.session, this.shared.options.clock?.() ?? Date.now());
    if (!out) return;
    this.shared.options.route(out).catch((err: unknown) => {
      this.shared.options.logger?.error(`rerouting a stanza ${bareText(this.session.bare)} did not ack: ${(err as Error).message}`);
    });
  }
}

/** What becomes of an unacked stanza: a message for the bare JID, an error for an IQ request, nothing for the rest. */
function rerouted(stanza: Element, session: Session, now: number): Element | undefined {
  if (stanza.name === 'iq') {
    const type = stanza.attrs.type;
    if ((type !== 'get' && type !== 'set') || stanza.attrs.from === undefined) return undefined;
    return errorReply(stanza, new StanzaError('service-unavailable', 'the recipient went away'));
  }
  if (stanza.name !== 'message') return undefined;
  const type = (stanza.attrs.type as string | undefined) ?? 'normal';
  if ((type !== 'chat' && type !== 'normal') || stanza.getChild('body') === undefined) return undefined;
  const copy = clone(stanza);
  copy.attrs.to = bareText(session.bare);
  if (!copy.getChild('delay', NS.delay)) copy.c('delay', { xmlns: NS.delay, from: session.jid.host, stamp: new Date(now).toISOString() });
  return copy;
}

/** An h: a decimal below 2^32. */
function count(h: string | undefined): number | undefined {
  if (h === undefined || !/^\d{1,10}$/.test(h)) return undefined;
  const n = Number(h);
  return n < MOD ? n : undefined;
}

const sameUser = (a: Session['bare'], b: Session['bare']) => a.user === b.user && a.host === b.host;

function failed(condition: string, h?: number): Element {
  const el = new Element('failed', h === undefined ? { xmlns: NS.sm } : { xmlns: NS.sm, h: String(h) });
  el.c(condition, { xmlns: NS.stanzas });
  return el;
}

/** The extension for every c2s and WebSocket stream of one server (resumption may cross listeners). */
export function streamManagement(options: StreamManagementOptions): StreamManagement {
  const shared: Shared = { options, resumable: new Map(), detached: 0 };
  const maxWait = options.resumeTimeout ?? DEFAULT_RESUME_TIMEOUT;

  function enable(conn: C2sConnection, el: Element): void {
    if (conn.stage !== 'bound' || conn.attachment || !conn.session) return conn.writeElement(failed('unexpected-request'));
    const resume = el.attrs.resume === 'true' || el.attrs.resume === '1';
    const asked = count(el.attrs.max);
    const max = asked !== undefined && asked > 0 ? Math.min(asked, maxWait) : maxWait;
    const id = resume ? randomBytes(18).toString('base64url') : undefined;
    const state = new SmState(shared, conn, conn.session, id, max);
    if (id !== undefined) shared.resumable.set(id, state);
    conn.attachment = state;
    conn.writeElement(new Element('enabled', id === undefined ? { xmlns: NS.sm } : { xmlns: NS.sm, id, resume: 'true', max: String(max) }));
  }

  function resume(conn: C2sConnection, el: Element): void {
    if (conn.stage !== 'bind') return conn.writeElement(failed('unexpected-request'));
    const state = shared.resumable.get(el.attrs.previd ?? '');
    if (!state || state.ended || !sameUser(state.session.bare, conn.bare) || !(state.session instanceof LiveSession) || state.session.closed) {
      return conn.writeElement(failed('item-not-found'));
    }
    if (!state.ack(el.attrs.h, conn)) return;
    const old = state.conn;
    old.session = undefined;
    // The old stream may not know yet that its client moved: it is replaced.
    if (old.connected) old.close({ condition: 'conflict', text: 'the session was resumed on another stream' });
    state.undetach();
    state.session.moveTo(conn);
    state.conn = conn;
    conn.adopt(state.session, state);
    conn.writeElement(new Element('resumed', { xmlns: NS.sm, previd: state.id!, h: String(state.handled) }));
    for (const stanza of state.queue) conn.writeStanza(stanza);
    if (state.queue.length > 0) state.request();
    options.logger?.debug?.(`${bareText(conn.bare)}/${state.session.jid.resource} resumed from ${conn.ip}:${conn.port}`);
  }

  return {
    features: () => [new Element('sm', { xmlns: NS.sm })],
    element(conn, el, ns) {
      if (ns !== NS.sm) {
        const state = conn.attachment;
        if (state instanceof SmState && ns === NS.client && STANZAS.has(el.name)) state.handled = (state.handled + 1) % MOD;
        return false;
      }
      const state = conn.attachment instanceof SmState ? conn.attachment : undefined;
      switch (el.name) {
        case 'enable':
          enable(conn, el);
          return true;
        case 'resume':
          resume(conn, el);
          return true;
        case 'r':
          if (!state) return false;
          conn.writeElement(new Element('a', { xmlns: NS.sm, h: String(state.handled) }));
          return true;
        case 'a':
          if (!state) return false;
          state.ack(el.attrs.h, conn);
          return true;
        default:
          return false;
      }
    },
    detachedCount: () => shared.detached,
  };
}

/**
 * One client stream (RFC 6120), from the first byte to the close: the stream header, STARTTLS,
 * SASL, the stream restart, resource binding, then stanzas to the hub and from it. The same
 * state machine serves TCP (one XML document, TLS upgraded in place) and WebSocket (RFC 7395:
 * one element per frame, `<open/>` and `<close/>` for the stream's ends).
 *
 * Ten thousand idle streams must stay cheap: one object per stream whose methods live on the
 * prototype, three socket listeners, one timer, and no buffers beyond the parser's.
 */
import { randomBytes } from 'node:crypto';
import type * as net from 'node:net';
import * as tls from 'node:tls';
import { Element } from 'ltx';
import type { C2sListener } from '../../config/listen';
import { formatJid, nameprep, resourceprep, type BareJid } from '../../lib/jid';
import type { ConnectionKind, Hub, Session, StreamError, StreamInfo } from '../api';
import { SaslFailure, type SaslExchange, type SaslProvider } from '../sasl';
import { NS, StanzaError, errorReply, iqResult, mayReplyWithError } from '../stanza';
import { StreamParser, type StreamHandler, type StreamNames } from '../stream/parser';
import { createAuthGuard, type AuthAttempt, type AuthGuard } from '../../lib/auth-limiter';

export interface C2sLogger {
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  debug?(message: string): void;
}

/** Milliseconds. */
export interface C2sTimeouts {
  /** No byte from an authenticated client for this long closes its stream with connection-timeout. */
  readonly idle?: number;
  /** A stream not authenticated this long after it connected is closed. */
  readonly auth?: number;
  /** How long a closing stream may take to flush before its socket is destroyed. */
  readonly flush?: number;
}

/**
 * What other parts of the server add to a stream after authentication (stream management, say):
 * features to offer with bind, and top-level elements they take before the stream looks at them.
 */
export interface C2sExtension {
  features?(stream: C2sConnection): readonly Element[];
  /** True when the extension took the element. Called once the client authenticated (before and after bind). */
  element?(stream: C2sConnection, el: Element, ns: string): boolean;
}

/**
 * What an extension attaches to a bound stream when the client asks for it (stream management's
 * counters and queue): every stanza sent goes through it, and it decides what the end of the
 * transport means for the session.
 */
export interface StreamAttachment {
  /** A stanza for the client: the attachment writes it (`writeStanza`) or keeps it. */
  send(stream: C2sConnection, stanza: Element): void;
  /** The transport of a bound stream is gone; `lost`: neither side closed the stream (or the client went idle). */
  transportClosed(stream: C2sConnection, error: StreamError | undefined, lost: boolean): void;
  /** `close()` on a stream whose transport is already gone. */
  closeGone(stream: C2sConnection, error: StreamError | undefined): void;
}

/** A stream error with an application-specific condition element beside the defined one. */
export interface C2sStreamError extends StreamError {
  readonly extra?: Element;
}

export interface C2sEnv {
  readonly hub: Hub;
  readonly sasl: SaslProvider;
  secureContext(): tls.SecureContext;
  readonly logger: C2sLogger;
  readonly timeouts?: C2sTimeouts;
  readonly extensions?: readonly C2sExtension[];
  /** Bytes queued for a client that does not read beyond which its stream is closed (resource-constraint). */
  readonly maxWriteBuffer?: number;
  /**
   * Whether the access rule a listener names (`access`) lets this account log in from this
   * address. Asked at each login, so a reloaded configuration decides the next one; absent, a
   * listener with `access` lets no one in.
   */
  allowed?(rule: string, who: { jid: BareJid; ip: string }): boolean;
  /** Logs failed logins and refuses an address that failed too often; absent, failures are logged and nothing is refused. */
  readonly authGuard?: AuthGuard;
}

/** What a stream writes to: a socket, or the WebSocket adapter. */
export interface Wire {
  write(data: string): unknown;
  readonly writableLength: number;
  end(): unknown;
  destroy(): unknown;
}

export const DEFAULT_TIMEOUTS = { idle: 300_000, auth: 30_000, flush: 2_000 } as const;
const DEFAULT_MAX_WRITE_BUFFER = 1 << 20;
/** Failed authentications one stream may make before it is closed. */
const MAX_AUTH_FAILURES = 5;
/** Elements a client may send while its SASL step is being checked. */
const MAX_QUEUED = 16;
/** The top-level elements of jabber:client that are stanzas. */
export const STANZAS: ReadonlySet<string> = new Set(['iq', 'message', 'presence']);
const PRESENCE_TYPES = new Set(['unavailable', 'subscribe', 'subscribed', 'unsubscribe', 'unsubscribed', 'probe', 'error']);
const IQ_TYPES = new Set(['get', 'set', 'result', 'error']);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Streams holding output for the end of this turn of the event loop: what a stream is sent in
 * one turn leaves in one write, one system call, whoever sent it.
 */
let unflushed: C2sConnection[] = [];
let flushScheduled = false;

function flushAll(): void {
  flushScheduled = false;
  const list = unflushed;
  unflushed = [];
  for (const conn of list) conn.flush();
}

/** Where a stream is; 'bind': authenticated, no resource yet. */
export type C2sStage = 'header' | 'tls' | 'auth' | 'bind' | 'bound' | 'closed';

/** `::ffff:127.0.0.1` is 127.0.0.1. */
export function peerAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

export class C2sConnection implements StreamInfo, StreamHandler {
  bare!: BareJid;
  connection: ConnectionKind;
  readonly ip: string;
  readonly port: number;
  /** The served domain the client named in its first header. */
  host = '';
  session: Session | undefined = undefined;
  /** Set by an extension on a bound stream (stream management); nothing otherwise. */
  attachment: StreamAttachment | undefined = undefined;
  private state: C2sStage = 'header';
  private parser: StreamParser;
  private headerSent = false;
  private secure: boolean;
  private readonly id = randomBytes(8).toString('hex');
  private exchange: SaslExchange | undefined = undefined;
  private mechanism = '';
  private saslUser = '';
  private failures = 0;
  /** Elements that arrived while a SASL step was pending, with the namespace the parser found them in. */
  private queue: [Element, string][] | undefined = undefined;
  private timer: NodeJS.Timeout;
  private closeError: C2sStreamError | undefined = undefined;
  private gone = false;
  private readonly framed: boolean;
  /** Written in this turn of the event loop, not yet handed to the wire (TCP only: a WebSocket frame is one element). */
  private out = '';

  constructor(
    private wire: Wire,
    private readonly env: C2sEnv,
    private readonly listener: C2sListener,
    /** `secure`: TLS below the stream (WebSocket over https); TCP streams learn it themselves. */
    peer: { ip: string; port: number; kind: ConnectionKind; framed?: boolean; secure?: boolean },
    /** The TCP socket, for STARTTLS; absent on WebSocket. */
    private raw?: net.Socket,
  ) {
    this.connection = peer.kind;
    this.ip = peer.ip;
    this.port = peer.port;
    this.framed = peer.framed === true;
    this.secure = peer.secure ?? peer.kind === 'c2s_tls';
    this.parser = this.newParser();
    this.timer = setTimeout(C2sConnection.expire, env.timeouts?.auth ?? DEFAULT_TIMEOUTS.auth, this);
    if (raw) this.attach(raw);
  }

  /** A direct TLS listener: the handshake comes before the stream. */
  startDirectTls(): void {
    if (this.raw) this.upgrade(this.raw);
  }

  /** Bytes (TCP) or one frame (WebSocket) from the client. */
  receive(data: Buffer | string): void {
    if (this.bare !== undefined) this.timer.refresh();
    this.parser.write(data);
  }

  /** The transport is gone: the hub hears of it once. */
  transportClosed(): void {
    if (this.gone) return;
    // An idle client is as good as gone: its session may wait for it like one whose socket broke.
    const lost = this.state !== 'closed' || this.closeError?.condition === 'connection-timeout';
    this.gone = true;
    this.state = 'closed';
    this.parser.stop();
    clearTimeout(this.timer);
    if (this.session && this.attachment) return this.attachment.transportClosed(this, this.closeError, lost);
    this.endSession(this.closeError);
  }

  send(stanza: Element): void {
    if (this.attachment) return this.attachment.send(this, stanza);
    this.writeStanza(stanza);
  }

  /** Writes a stanza now, past any attachment. */
  writeStanza(stanza: Element): void {
    if (this.state === 'closed') return;
    this.write(this.serialise(stanza));
  }

  /** Writes a top-level element that is not a stanza (`<r/>`, `<enabled/>`). */
  writeElement(el: Element): void {
    if (this.state === 'closed') return;
    this.write(el.toString());
  }

  /** Where the stream is: authenticated and not bound is 'bind'. */
  get stage(): C2sStage {
    return this.state;
  }

  /** The transport is still there (it may be closing). */
  get connected(): boolean {
    return !this.gone;
  }

  /** The stream no longer serves its session: the hub hears that the session ended. */
  endSession(error: StreamError | undefined): void {
    const session = this.session;
    this.session = undefined;
    this.attachment = undefined;
    if (session) this.env.hub.unbind(session, error);
  }

  /** This authenticated, unbound stream takes over `session` (a resumption). */
  adopt(session: Session, attachment: StreamAttachment): void {
    this.session = session;
    this.attachment = attachment;
    this.state = 'bound';
  }

  close(error?: C2sStreamError): void {
    if (this.gone && this.attachment) return this.attachment.closeGone(this, error);
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closeError = error;
    this.parser.stop();
    clearTimeout(this.timer);
    this.flush();
    const parts: string[] = this.headerSent ? [] : [this.header()];
    if (error) parts.push(this.streamError(error));
    parts.push(this.framed ? `<close xmlns="${NS.framing}"/>` : '</stream:stream>');
    // A WebSocket frame holds one element.
    if (this.framed) for (const part of parts) this.wire.write(part);
    else this.wire.write(parts.join(''));
    this.wire.end();
    const wire = this.wire;
    setTimeout(() => wire.destroy(), this.env.timeouts?.flush ?? DEFAULT_TIMEOUTS.flush).unref();
  }

  // The parser's events.

  onStreamOpen(attrs: Record<string, string>, names: StreamNames): void {
    if (this.state !== 'header') return this.close({ condition: 'not-authorized', text: 'the stream is already open' });
    if (!this.framed && names.local !== 'stream') return this.close({ condition: 'invalid-namespace', text: 'the stream root must be stream:stream' });
    if (names.uri !== (this.framed ? NS.framing : NS.stream)) return this.close({ condition: 'invalid-namespace', text: `the stream must be in ${NS.stream}` });
    if (names.defaultNs !== NS.client) return this.close({ condition: 'invalid-namespace', text: `the stream's default namespace must be ${NS.client}` });
    const host = this.servedHost(attrs.to);
    if (host === undefined)
      return this.close({ condition: 'host-unknown', text: attrs.to ? `this server does not serve ${attrs.to}` : 'the stream names no host' });
    if (this.host !== '' && host !== this.host) return this.close({ condition: 'host-unknown', text: `the restarted stream names ${host}, not ${this.host}` });
    this.host = host;
    this.write(this.header());
    if (!/^1\.\d+$/.test(attrs.version ?? '')) return this.close({ condition: 'unsupported-version', text: 'this server speaks XMPP 1.0' });
    this.state = this.bare === undefined ? 'auth' : 'bind';
    this.write(this.features());
  }

  onStanza(el: Element, ns: string): void {
    if (this.queue) {
      if (this.queue.length >= MAX_QUEUED) return this.close({ condition: 'policy-violation', text: 'too many elements while authenticating' });
      this.queue.push([el, ns]);
      return;
    }
    this.handle(el, ns);
  }

  onStreamClose(): void {
    this.close();
  }

  onError(condition: string, text: string): void {
    this.close({ condition, text });
  }

  // The states.

  private handle(el: Element, ns: string): void {
    if (this.env.extensions && (this.state === 'bound' || this.state === 'bind')) {
      for (const ext of this.env.extensions) if (ext.element?.(this, el, ns)) return;
    }
    switch (this.state) {
      case 'auth':
        return this.preAuth(el, ns);
      case 'bind':
        return this.preBind(el, ns);
      case 'bound':
        return this.stanza(el, ns);
      default:
        return;
    }
  }

  private preAuth(el: Element, ns: string): void {
    if (ns === NS.tls && el.name === 'starttls') return this.starttls();
    if (ns === NS.sasl) {
      if (this.mustStartTls()) return this.saslFailure('encryption-required', 'start TLS first');
      if (el.name === 'auth') return this.auth(el);
      if (el.name === 'response') return this.response(el);
      if (el.name === 'abort') {
        this.exchange = undefined;
        return this.saslFailure('aborted');
      }
    }
    this.close({ condition: 'not-authorized', text: 'authenticate first' });
  }

  private preBind(el: Element, ns: string): void {
    if (ns === NS.client && el.name === 'iq' && el.attrs.type === 'set') {
      if (el.getChild('bind', NS.bind)) return this.bind(el);
      if (el.getChild('session', NS.session)) return this.write(this.serialise(iqResult(el)));
    }
    this.close({ condition: 'not-authorized', text: 'bind a resource first' });
  }

  private stanza(el: Element, ns: string): void {
    if (ns !== NS.client || !STANZAS.has(el.name)) return this.close({ condition: 'unsupported-stanza-type', text: `<${el.name}/> in ${ns}` });
    const problem = invalid(el);
    if (problem !== undefined) {
      if (mayReplyWithError(el)) this.send(errorReply(el, new StanzaError('bad-request', problem)));
      return;
    }
    if (el.name === 'iq' && el.attrs.type === 'set' && el.getChild('session', NS.session) && noOtherAddress(el, this.host)) {
      return this.send(iqResult(el));
    }
    if (el.name === 'iq' && el.getChild('bind', NS.bind)) {
      return this.send(errorReply(el, new StanzaError('not-allowed', 'a resource is already bound')));
    }
    this.env.hub.receive(this.session!, el);
  }

  // STARTTLS.

  private mustStartTls(): boolean {
    return this.listener.starttlsRequired && !this.secure;
  }

  private starttls(): void {
    if (!this.raw || this.secure || !(this.listener.starttls || this.listener.starttlsRequired)) {
      return this.close({ condition: 'policy-violation', text: 'STARTTLS is not offered on this stream' });
    }
    this.flush();
    this.wire.write(`<proceed xmlns="${NS.tls}"/>`);
    // Whatever the client sent after <starttls/> is dropped unread: it came before TLS.
    this.parser.stop();
    this.upgrade(this.raw);
  }

  private upgrade(raw: net.Socket): void {
    this.state = 'tls';
    raw.removeListener('data', this.onData);
    let socket: tls.TLSSocket;
    try {
      socket = new tls.TLSSocket(raw, { isServer: true, secureContext: this.env.secureContext() });
    } catch (err) {
      this.env.logger.error(`Cannot start TLS for ${this.ip}:${this.port}: ${(err as Error).message}`);
      raw.destroy();
      return;
    }
    this.wire = socket;
    this.raw = undefined;
    this.attach(socket);
    socket.once('secure', () => {
      this.secure = true;
      this.connection = 'c2s_tls';
      this.parser = this.newParser();
      if (this.state === 'tls') this.state = 'header';
    });
  }

  private attach(socket: net.Socket): void {
    socket.on('data', this.onData);
    socket.on('close', this.onClose);
    socket.on('error', this.onSocketError);
  }

  private readonly onData = (data: Buffer): void => this.receive(data);
  private readonly onClose = (): void => this.transportClosed();
  private readonly onSocketError = (err: Error): void => {
    this.env.logger.debug?.(`client ${this.ip}:${this.port}: ${err.message}`);
  };

  // SASL.

  private auth(el: Element): void {
    if (this.exchange) return this.saslFailure('aborted', 'an authentication is already under way');
    const mechanism = el.attrs.mechanism ?? '';
    const offered = this.env.sasl.mechanisms(this.host, this.secure).includes(mechanism);
    const exchange = offered || mechanism === 'PLAIN' ? this.env.sasl.start(mechanism, this.host, this.secure) : undefined;
    if (!exchange) return this.saslFailure('invalid-mechanism', `${mechanism || 'no mechanism'} is not offered`);
    const data = decode(el.text());
    if (data === undefined) return this.saslFailure('incorrect-encoding');
    this.mechanism = mechanism;
    this.saslUser = claimedUser(mechanism, data);
    if (this.refusedForFailures()) return;
    this.exchange = exchange;
    this.step(exchange, data);
  }

  private response(el: Element): void {
    const exchange = this.exchange;
    if (!exchange) return this.saslFailure('malformed-request', 'no authentication is under way');
    const data = decode(el.text());
    if (data === undefined) return this.saslFailure('incorrect-encoding');
    // The address may have been blocked since the exchange began (SCRAM's proof comes second).
    if (this.refusedForFailures()) return;
    this.step(exchange, data);
  }

  private guard(): AuthGuard {
    return this.env.authGuard ?? createAuthGuard({ limit: () => undefined, warn: (line) => this.env.logger.warning(line) });
  }

  private attempt(): AuthAttempt {
    const user = this.saslUser === '' || this.saslUser.includes('@') ? this.saslUser : `${this.saslUser}@${this.host}`;
    return { address: this.ip, port: this.port, via: this.connection === 'websocket' ? 'websocket' : 'c2s', mechanism: this.mechanism, user };
  }

  /** An address that failed too often of late is refused before its credentials are looked at. */
  private refusedForFailures(): boolean {
    const wait = this.guard().refused(this.attempt());
    if (wait === undefined) return false;
    this.exchange = undefined;
    this.saslFailure('temporary-auth-failure', `Too many failed logins from this address: try again in ${wait} s`);
    this.failed();
    return true;
  }

  private step(exchange: SaslExchange, data: Buffer): void {
    this.queue = [];
    exchange.step(data).then(
      (result) => {
        if (this.state !== 'auth' || this.exchange !== exchange) return;
        if ('challenge' in result) {
          this.write(`<challenge xmlns="${NS.sasl}">${result.challenge.toString('base64')}</challenge>`);
          return this.drain();
        }
        this.exchange = undefined;
        if (!this.mayLogIn(result.jid)) return this.failed();
        this.queue = undefined;
        this.bare = result.jid;
        this.write(`<success xmlns="${NS.sasl}">${result.success && result.success.length > 0 ? result.success.toString('base64') : ''}</success>`);
        // The client restarts the stream now; anything it sent before that is dropped.
        this.state = 'header';
        this.parser = this.newParser();
        clearTimeout(this.timer);
        this.timer = setTimeout(C2sConnection.expire, this.env.timeouts?.idle ?? DEFAULT_TIMEOUTS.idle, this);
        this.env.logger.debug?.(`${formatJid(result.jid)} authenticated from ${this.ip}:${this.port} (${this.mechanism})`);
      },
      (err: unknown) => {
        if (this.state !== 'auth' || this.exchange !== exchange) return;
        this.exchange = undefined;
        if (err instanceof SaslFailure) {
          // not-authorized is all a client learns of a wrong password, an unknown user or a banned one, and all the log says.
          this.guard().failed(this.attempt(), err.condition === 'not-authorized' ? 'bad-password' : err.condition);
          this.saslFailure(err.condition, err.text);
        } else {
          this.env.logger.error(`authentication of ${this.saslUser || '?'}@${this.host} failed: ${(err as Error).message}`);
          this.saslFailure('temporary-auth-failure');
        }
        this.failed();
      },
    );
  }

  /** After a SASL failure: the client may try again, a few times. */
  private failed(): void {
    if (++this.failures >= MAX_AUTH_FAILURES) return this.close({ condition: 'policy-violation', text: 'too many failed authentication attempts' });
    this.drain();
  }

  /** The listener's access rule, asked once the credentials are right; refused, the client gets not-authorized with ejabberd's text. */
  private mayLogIn(jid: BareJid): boolean {
    const rule = this.listener.access;
    if (rule === undefined || this.env.allowed?.(rule, { jid, ip: this.ip })) return true;
    this.env.logger.warning(`login of ${formatJid(jid)} from ${this.ip}:${this.port} refused by access rule ${rule}`);
    this.saslFailure('not-authorized', 'Access denied by service policy');
    return false;
  }

  private drain(): void {
    const queued = this.queue ?? [];
    this.queue = undefined;
    while (queued.length > 0 && this.state !== 'closed') {
      // Another step began: the rest waits for it.
      if (this.queue) return void (this.queue as [Element, string][]).unshift(...queued);
      const [el, ns] = queued.shift()!;
      this.handle(el, ns);
    }
  }

  private saslFailure(condition: string, text?: string): void {
    const failure = new Element('failure', { xmlns: NS.sasl });
    failure.c(condition);
    if (text) failure.c('text', { 'xml:lang': 'en' }).t(text);
    this.write(failure.toString());
  }

  // Binding.

  private bind(iq: Element): void {
    const resource = resourceprep(iq.getChild('bind', NS.bind)?.getChildText('resource') ?? '');
    if (/[\u0000-\u001f\u007f]/.test(resource) || Buffer.byteLength(resource) > 1023) {
      return this.send(errorReply(iq, new StanzaError('bad-request', 'that resource is not allowed')));
    }
    let session: Session;
    try {
      session = this.env.hub.bind(this, resource);
    } catch (err) {
      const error = err instanceof StanzaError ? err : new StanzaError('internal-server-error');
      if (!(err instanceof StanzaError)) this.env.logger.error(`binding a resource for ${formatJid(this.bare)} failed: ${(err as Error).message}`);
      return this.send(errorReply(iq, error));
    }
    this.session = session;
    this.state = 'bound';
    const bind = new Element('bind', { xmlns: NS.bind });
    bind.c('jid').t(formatJid(session.jid));
    this.send(iqResult(iq, bind));
  }

  // Writing.

  private write(data: string): void {
    if (this.gone) return;
    if (this.framed) {
      this.wire.write(data);
    } else {
      if (this.out === '') {
        unflushed.push(this);
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flushAll);
        }
      }
      this.out += data;
    }
    if (this.out.length + this.wire.writableLength > (this.env.maxWriteBuffer ?? DEFAULT_MAX_WRITE_BUFFER) && this.state !== 'closed') {
      this.close({ condition: 'resource-constraint', text: 'the client does not read what it is sent' });
    }
  }

  /** Hands what this turn wrote to the wire. */
  flush(): void {
    const data = this.out;
    if (data === '') return;
    this.out = '';
    if (!this.gone) this.wire.write(data);
  }

  /** The stream's default namespace is jabber:client: TCP stanzas leave it out, WebSocket frames must carry it. */
  private serialise(stanza: Element): string {
    const xmlns = stanza.attrs.xmlns;
    if (this.framed) {
      if (xmlns !== undefined || !STANZAS.has(stanza.name)) return stanza.toString();
      stanza.attrs.xmlns = NS.client;
    } else {
      if (xmlns !== NS.client) return stanza.toString();
      delete stanza.attrs.xmlns;
    }
    // The element may be shared with other streams: put it back as it was.
    const text = stanza.toString();
    if (xmlns === undefined) delete stanza.attrs.xmlns;
    else stanza.attrs.xmlns = xmlns;
    return text;
  }

  private header(): string {
    const from = this.host ? ` from='${this.host}'` : '';
    this.headerSent = true;
    if (this.framed) return `<open xmlns='${NS.framing}' id='${this.id}'${from} version='1.0' xml:lang='en'/>`;
    return `<?xml version='1.0'?><stream:stream xmlns='${NS.client}' xmlns:stream='${NS.stream}' id='${this.id}'${from} version='1.0' xml:lang='en'>`;
  }

  private features(): string {
    const features = new Element('stream:features', this.framed ? { 'xmlns:stream': NS.stream } : {});
    if (this.bare === undefined) {
      const tlsOffered = this.raw !== undefined && !this.secure && (this.listener.starttls || this.listener.starttlsRequired);
      if (tlsOffered) {
        const starttls = features.c('starttls', { xmlns: NS.tls });
        if (this.listener.starttlsRequired) starttls.c('required');
      }
      if (!this.mustStartTls()) {
        const mechanisms = features.c('mechanisms', { xmlns: NS.sasl });
        for (const name of this.env.sasl.mechanisms(this.host, this.secure)) mechanisms.c('mechanism').t(name);
      }
    } else {
      features.c('bind', { xmlns: NS.bind });
      features.c('session', { xmlns: NS.session }).c('optional');
      for (const ext of this.env.extensions ?? []) for (const el of ext.features?.(this) ?? []) features.cnode(el);
    }
    return features.toString();
  }

  private streamError(error: C2sStreamError): string {
    const el = new Element('stream:error', this.framed ? { 'xmlns:stream': NS.stream } : {});
    el.c(error.condition, { xmlns: NS.streams });
    if (error.text) el.c('text', { xmlns: NS.streams, 'xml:lang': 'en' }).t(error.text);
    if (error.extra) el.cnode(error.extra);
    return el.toString();
  }

  private servedHost(to: string | undefined): string | undefined {
    if (!to) return undefined;
    try {
      const host = nameprep(to);
      return this.env.hub.serves(host) ? host : undefined;
    } catch {
      return undefined;
    }
  }

  private newParser(): StreamParser {
    return new StreamParser(this, { maxStanzaSize: this.listener.maxStanzaSize, framed: this.framed });
  }

  /** The timer's callback: a closure made where the timer is set would keep that scope (a SASL exchange, say) alive. */
  private static expire(conn: C2sConnection): void {
    conn.timedOut();
  }

  private timedOut(): void {
    if (this.bare === undefined) this.close({ condition: 'connection-timeout', text: 'authentication took too long' });
    else this.close({ condition: 'connection-timeout', text: 'no traffic from the client' });
  }
}

/** Why a stanza is not one RFC 6120 allows, or undefined. */
function invalid(el: Element): string | undefined {
  if (el.name === 'iq') {
    if (!el.attrs.id) return 'an iq needs an id';
    const type = el.attrs.type;
    if (!IQ_TYPES.has(type)) return "an iq's type is get, set, result or error";
    if ((type === 'get' || type === 'set') && el.getChildElements().length !== 1) return `an iq of type ${type} holds exactly one element`;
  } else if (el.name === 'presence') {
    if (el.attrs.type !== undefined && !PRESENCE_TYPES.has(el.attrs.type)) return `'${el.attrs.type}' is not a presence type`;
  }
  return undefined;
}

/** The legacy session IQ goes to the server itself. */
function noOtherAddress(el: Element, host: string): boolean {
  return el.attrs.to === undefined || el.attrs.to === host;
}

/** SASL's base64: empty means no data, `=` an empty response (RFC 6120 §6.4.2). */
function decode(text: string): Buffer | undefined {
  const s = text.replace(/\s+/g, '');
  if (s === '' || s === '=') return Buffer.alloc(0);
  if (s.length % 4 !== 0 || !BASE64.test(s)) return undefined;
  return Buffer.from(s, 'base64');
}

/** The user a client says it is, for the log of a failed login. */
function claimedUser(mechanism: string, data: Buffer): string {
  const text = data.toString('utf8');
  if (mechanism === 'PLAIN') return text.split('\u0000')[1] ?? '';
  const m = /(?:^|,)n=([^,]*)/.exec(text.replace(/^[^,]*,[^,]*,/, ''));
  return m ? m[1].replace(/=2C/g, ',').replace(/=3D/g, '=') : '';
}

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import type { Element } from 'ltx';
import type { C2sListener } from '../../../src/config/listen';
import type { Hub, Session, StreamError, StreamInfo } from '../../../src/xmpp/api';
import { loadCertificate } from '../../../src/xmpp/c2s/certificate';
import type { C2sEnv } from '../../../src/xmpp/c2s/listener';
import { SaslFailure, type SaslProvider } from '../../../src/xmpp/sasl';
import { iqResult } from '../../../src/xmpp/stanza';

export const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";
export const plainAuth = (user = 'alice', password = 'secret') =>
  `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\u0000${user}\u0000${password}`).toString('base64')}</auth>`;
export const AUTH = plainAuth();
export const BIND = "<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>phone</resource></bind></iq>";

/** A hub serving localhost: it records what it is given and answers every IQ get with an empty result. */
export class FakeHub implements Hub {
  received: Element[] = [];
  unbound: { session: Session; error: StreamError | undefined }[] = [];
  sessions: Session[] = [];
  serves(domain: string): boolean {
    return domain === 'localhost';
  }
  bind(stream: StreamInfo, resource: string): Session {
    const session: Session = {
      bare: stream.bare,
      connection: stream.connection,
      ip: stream.ip,
      port: stream.port,
      send: (el) => stream.send(el),
      close: (e) => stream.close(e),
      id: this.sessions.length + 1,
      jid: { ...stream.bare, resource: resource || 'generated' },
      startedAt: Date.now(),
      presence: undefined,
      priority: 0,
      interested: false,
      carbons: false,
      inactive: false,
      detached: false,
      directed: new Set(),
    };
    this.sessions.push(session);
    return session;
  }
  receive(session: Session, stanza: Element): void {
    this.received.push(stanza);
    if (stanza.name === 'iq' && stanza.attrs.type === 'get') session.send(iqResult(stanza));
  }
  unbind(session: Session, error: StreamError | undefined): void {
    this.unbound.push({ session, error });
  }
}

/** PLAIN only, for any user whose password is "secret", offered everywhere. */
export const fakeSasl: SaslProvider = {
  mechanisms: () => ['PLAIN'],
  start: (mechanism, host) =>
    mechanism !== 'PLAIN'
      ? undefined
      : {
          step: async (data) => {
            const [, user, password] = data.toString().split('\u0000');
            if (password === 'secret') return { success: undefined, jid: { user, host } };
            throw new SaslFailure('not-authorized', 'wrong user or password');
          },
        },
};

let certDir: string | undefined;
let context: tls.SecureContext | undefined;
/** A self-signed certificate for localhost, made once per test file. */
export function secureContext(): tls.SecureContext {
  if (!context) {
    certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctl-c2s-'));
    context = tls.createSecureContext(loadCertificate([], ['localhost'], certDir));
  }
  return context;
}
export function removeCertificate(): void {
  if (certDir) fs.rmSync(certDir, { recursive: true, force: true });
}

export interface Logged {
  level: string;
  message: string;
}

export function testEnv(hub: Hub, logs: Logged[], extra: Partial<C2sEnv> = {}): C2sEnv {
  return {
    hub,
    sasl: fakeSasl,
    secureContext,
    logger: {
      info: (message) => logs.push({ level: 'info', message }),
      warning: (message) => logs.push({ level: 'warning', message }),
      error: (message) => logs.push({ level: 'error', message }),
      debug: (message) => logs.push({ level: 'debug', message }),
    },
    ...extra,
  };
}

export function listenerOptions(options: Partial<C2sListener> = {}): C2sListener {
  return { port: 0, ip: '127.0.0.1', starttls: true, starttlsRequired: false, tls: false, maxStanzaSize: 65536, ...options };
}

/** A raw client: what it was sent so far, and bounded waits for more. */
export class RawClient {
  text = '';
  closed = false;
  private waiters: (() => void)[] = [];
  constructor(public socket: net.Socket | tls.TLSSocket) {
    this.listen(socket);
  }
  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }
  static connectTls(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }
  private listen(socket: net.Socket): void {
    socket.on('data', (d: Buffer) => {
      this.text += d.toString();
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }
  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
  send(data: string): void {
    this.socket.write(data);
  }
  /** Waits until what was received matches, and returns it; fails after `ms`. */
  async waitFor(pattern: RegExp | string, ms = 3000): Promise<string> {
    const deadline = Date.now() + ms;
    const test = () => (typeof pattern === 'string' ? this.text.includes(pattern) : pattern.test(this.text));
    while (!test()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(pattern)}; received: ${this.text}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.text;
  }
  async waitClosed(ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for the server to close; received: ${this.text}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  /** Opens a stream, authenticates with `auth` and opens the restarted stream; what was received since the restart. */
  async logIn(auth = AUTH): Promise<string> {
    this.send(HEADER);
    await this.waitFor('</stream:features>');
    this.send(auth);
    await this.waitFor('<success');
    this.reset();
    this.send(HEADER);
    return this.waitFor('</stream:features>');
  }
  /** The client's side of STARTTLS after `<proceed/>`. */
  startTls(): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    return new Promise((resolve, reject) => {
      const secure = tls.connect({ socket: plain, servername: 'localhost', rejectUnauthorized: false }, () => resolve());
      secure.once('error', reject);
      this.socket = secure;
      this.listen(secure);
    });
  }
  reset(): void {
    this.text = '';
  }
  destroy(): void {
    this.socket.destroy();
  }
}

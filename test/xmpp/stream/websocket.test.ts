import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { attachWebSocket, type WebSocketEndpoint } from '../../../src/xmpp/c2s/websocket';
import { AUTH, FakeHub, removeCertificate, testEnv, type Logged } from './helpers';

const OPEN = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>";

let server: http.Server;
let endpoint: WebSocketEndpoint;
let hub: FakeHub;
let logs: Logged[];
let url: string;
const sockets: WebSocket[] = [];

beforeEach(async () => {
  hub = new FakeHub();
  logs = [];
  server = http.createServer((_req, res) => res.end('not here\n'));
  endpoint = attachWebSocket(server, '/ws', testEnv(hub, logs), { maxStanzaSize: 2000 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  endpoint.close();
  await new Promise((resolve) => server.close(resolve));
});
afterAll(() => removeCertificate());

/** A client that records each frame it gets. */
class Client {
  frames: string[] = [];
  closed: number | undefined;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => this.frames.push(d.toString()));
    ws.on('close', (code) => (this.closed = code));
  }
  static open(path = '/ws', protocol = 'xmpp'): Promise<Client> {
    const ws = new WebSocket(url + path, protocol);
    sockets.push(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new Client(ws)));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }
  async next(pattern: string | RegExp, ms = 3000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.frames.find((f) => (typeof pattern === 'string' ? f.includes(pattern) : pattern.test(f)));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no frame matching ${String(pattern)}; got ${JSON.stringify(this.frames)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  async closedWith(ms = 3000): Promise<number> {
    const deadline = Date.now() + ms;
    while (this.closed === undefined) {
      if (Date.now() > deadline) throw new Error(`not closed; got ${JSON.stringify(this.frames)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.closed;
  }
}

describe('XMPP over WebSocket', () => {
  test('open, PLAIN, restart, bind, a stanza each way, close: one element per frame, stanzas carry jabber:client', async () => {
    const c = await Client.open();
    expect(c.ws.protocol).toBe('xmpp');
    c.ws.send(OPEN);
    expect(await c.next('<open')).toMatch(
      /^<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' id='[0-9a-f]{16}' from='localhost' version='1.0' xml:lang='en'\/>$/,
    );
    const features = await c.next('<stream:features');
    expect(features).toBe(
      '<stream:features xmlns:stream="http://etherx.jabber.org/streams"><mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>PLAIN</mechanism></mechanisms></stream:features>',
    );
    c.ws.send(AUTH);
    await c.next('<success');
    c.frames = [];
    c.ws.send(OPEN);
    await c.next('<bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/>');
    c.ws.send("<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>web</resource></bind></iq>");
    expect(await c.next('id="b1"')).toBe(
      '<iq type="result" id="b1" xmlns="jabber:client"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><jid>alice@localhost/web</jid></bind></iq>',
    );
    c.ws.send("<iq xmlns='jabber:client' type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>");
    expect(await c.next('id="p1"')).toBe('<iq type="result" id="p1" xmlns="jabber:client"/>');
    expect(hub.sessions.map((s) => [s.connection, s.ip, s.jid.resource])).toEqual([['websocket', '127.0.0.1', 'web']]);
    c.ws.send("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
    expect(await c.next('<close')).toBe('<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>');
    expect(await c.closedWith()).toBe(1000);
    const deadline = Date.now() + 3000;
    while (hub.unbound.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(hub.unbound).toHaveLength(1);
  });

  test('a frame that is half an element, or a stream error, ends with <close/>', async () => {
    const c = await Client.open();
    c.ws.send(OPEN);
    await c.next('<stream:features');
    c.ws.send('<message><body>');
    expect(await c.next('stream:error')).toBe(
      '<stream:error xmlns:stream="http://etherx.jabber.org/streams"><not-well-formed xmlns="urn:ietf:params:xml:ns:xmpp-streams"/><text xmlns="urn:ietf:params:xml:ns:xmpp-streams" xml:lang="en">a WebSocket frame must hold one complete element</text></stream:error>',
    );
    await c.next('<close');
    await c.closedWith();
  });

  test('an unknown host gets host-unknown', async () => {
    const c = await Client.open();
    c.ws.send(OPEN.replace('localhost', 'example.net'));
    await c.next('<host-unknown');
    await c.closedWith();
  });

  test('without the xmpp subprotocol the upgrade is refused; other paths are left to other handlers', async () => {
    await expect(Client.open('/ws', 'chat')).rejects.toThrow();
    let other = false;
    server.on('upgrade', (req, socket) => {
      if (req.url === '/other') {
        other = true;
        socket.destroy();
      }
    });
    await expect(Client.open('/other')).rejects.toThrow();
    expect(other).toBe(true);
    expect(endpoint.count()).toBe(0);
  });
});

import type * as net from 'node:net';
import type { X509Certificate } from 'node:crypto';
import type * as tls from 'node:tls';
import type { C2sListener } from '../../../src/config/listen';
import { c2sConnectionCount, closeC2s, listenC2s, type C2sEnv, type C2sServer } from '../../../src/xmpp/c2s/listener';
import { AUTH, BIND, FakeHub, HEADER, RawClient, listenerOptions, removeCertificate, testEnv, type Logged } from './helpers';

let hub: FakeHub;
let logs: Logged[];
const servers: C2sServer[] = [];
const clients: RawClient[] = [];

beforeEach(() => {
  hub = new FakeHub();
  logs = [];
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(servers.splice(0).map((s) => closeC2s(s)));
});
afterAll(() => removeCertificate());

async function start(options: Partial<C2sListener> = {}, env: Partial<C2sEnv> = {}): Promise<number> {
  const server = await listenC2s(listenerOptions(options), testEnv(hub, logs, env));
  servers.push(server);
  return (server.address() as net.AddressInfo).port;
}

async function connect(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  clients.push(c);
  return c;
}

/** Logs in as alice over plain TCP and binds `phone`. */
async function bound(port: number): Promise<RawClient> {
  const c = await connect(port);
  await c.logIn();
  c.send(BIND);
  await c.waitFor("id='b1'".replace(/'/g, '"'));
  return c;
}

describe('c2s stream', () => {
  test('answers the header with its own and offers STARTTLS and the mechanisms', async () => {
    const c = await connect(await start());
    c.send(HEADER);
    const text = await c.waitFor('</stream:features>');
    expect(text).toMatch(
      /^<\?xml version='1.0'\?><stream:stream xmlns='jabber:client' xmlns:stream='http:\/\/etherx.jabber.org\/streams' id='[0-9a-f]{16}' from='localhost' version='1.0' xml:lang='en'>/,
    );
    expect(text).toContain(
      '<stream:features><starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/><mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>PLAIN</mechanism></mechanisms></stream:features>',
    );
  });

  test('with STARTTLS required only STARTTLS is offered, and SASL before it fails with encryption-required', async () => {
    const c = await connect(await start({ starttlsRequired: true }));
    c.send(HEADER);
    const text = await c.waitFor('</stream:features>');
    expect(text).toContain('<stream:features><starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"><required/></starttls></stream:features>');
    c.send(AUTH);
    await c.waitFor('<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><encryption-required/><text xml:lang="en">start TLS first</text></failure>');
  });

  test.each([
    ["to='example.net'", HEADER.replace("to='localhost'", "to='example.net'"), 'host-unknown'],
    ['no to', HEADER.replace(" to='localhost'", ''), 'host-unknown'],
    ['no version', HEADER.replace(" version='1.0'>", '>'), 'unsupported-version'],
    ['a wrong stream namespace', HEADER.replace('http://etherx.jabber.org/streams', 'urn:nope'), 'invalid-namespace'],
    ['jabber:server', HEADER.replace("xmlns='jabber:client'", "xmlns='jabber:server'"), 'invalid-namespace'],
  ])('a header with %s gets a stream error, after a header of ours', async (_what, header, condition) => {
    const c = await connect(await start());
    c.send(header);
    await c.waitClosed();
    expect(c.text).toMatch(/^<\?xml version='1.0'\?><stream:stream /);
    expect(c.text).toContain(`<stream:error><${condition} xmlns="urn:ietf:params:xml:ns:xmpp-streams"/>`);
    expect(c.text.endsWith('</stream:error></stream:stream>')).toBe(true);
  });

  test.each([
    ['a DOCTYPE', '<!DOCTYPE foo>', 'restricted-xml'],
    ['a comment', '<!-- hello -->', 'restricted-xml'],
    ['a processing instruction', '<?foo?>', 'restricted-xml'],
    ['bad XML', '<message><body></message>', 'not-well-formed'],
    ['a message before authentication', "<message to='bob@localhost'><body>hi</body></message>", 'not-authorized'],
  ])('%s is a stream error', async (_what, input, condition) => {
    const c = await connect(await start());
    c.send(HEADER);
    await c.waitFor('</stream:features>');
    c.send(input);
    await c.waitClosed();
    expect(c.text).toContain(`<stream:error><${condition} xmlns="urn:ietf:params:xml:ns:xmpp-streams"/>`);
  });

  test('a stanza over max_stanza_size closes the stream with policy-violation', async () => {
    const c = await bound(await start({ maxStanzaSize: 1000 }));
    c.send(`<message to='bob@localhost'><body>${'x'.repeat(5000)}</body></message>`);
    await c.waitClosed();
    expect(c.text).toContain('<stream:error><policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-streams"/>');
    expect(hub.received).toEqual([]);
    expect(hub.unbound.map((u) => u.error?.condition)).toEqual(['policy-violation']);
  });

  test('PLAIN, restart, bind: the result names the full JID; the legacy session gets an empty result', async () => {
    const port = await start();
    const c = await connect(port);
    c.send(HEADER);
    await c.waitFor('</stream:features>');
    c.send(AUTH);
    await c.waitFor('<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"></success>');
    c.reset();
    c.send(HEADER);
    const text = await c.waitFor('</stream:features>');
    expect(text).toContain(
      '<stream:features><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/><session xmlns="urn:ietf:params:xml:ns:xmpp-session"><optional/></session></stream:features>',
    );
    c.send(BIND);
    await c.waitFor('<iq type="result" id="b1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><jid>alice@localhost/phone</jid></bind></iq>');
    c.send("<iq type='set' id='s1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>");
    await c.waitFor('<iq type="result" id="s1"/>');
    expect(hub.sessions.map((s) => [s.jid.user, s.jid.resource, s.connection, s.ip])).toEqual([['alice', 'phone', 'c2s', '127.0.0.1']]);
  });

  test('after bind stanzas reach the hub; bad IQs get bad-request; what the hub sends carries no xmlns of its own', async () => {
    const c = await bound(await start());
    c.send("<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    await c.waitFor('<iq type="result" id="p1" from="localhost"/>');
    c.send("<iq type='get' id='p2'/>");
    await c.waitFor('<iq type="error" id="p2"><error type="modify"><bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/>');
    c.send("<iq type='fetch' id='p3'><ping xmlns='urn:xmpp:ping'/></iq>");
    await c.waitFor('id="p3"');
    c.send("<presence type='dance'/><message to='bob@localhost'><body>hi</body></message>");
    await c.waitFor('<presence type="error">');
    await new Promise((r) => setTimeout(r, 50));
    expect(hub.received.map((e) => e.toString())).toEqual([
      '<iq type="get" id="p1" to="localhost"><ping xmlns="urn:xmpp:ping"/></iq>',
      '<message to="bob@localhost"><body>hi</body></message>',
    ]);
    expect(c.text).not.toContain('xmlns="jabber:client"');
  });

  test('a failed login is logged and answered; after five the stream is closed; the server keeps serving', async () => {
    const port = await start();
    const bad = `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\u0000alice\u0000wrong').toString('base64')}</auth>`;
    const c = await connect(port);
    c.send(HEADER);
    await c.waitFor('</stream:features>');
    c.send(bad);
    await c.waitFor('<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><not-authorized/>');
    expect(logs).toContainEqual({
      level: 'warning',
      message: expect.stringMatching(/^auth failed: address=127\.0\.0\.1 port=\d+ via=c2s mechanism=PLAIN reason=bad-password user="alice@localhost"$/),
    });
    for (let i = 0; i < 4; i++) c.send(bad);
    await c.waitClosed();
    expect(c.text).toContain('<stream:error><policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-streams"/>');
    c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='X-NONE'>=</auth>`);
    const after = await bound(port);
    expect(after.text).toContain('alice@localhost/phone');
  });

  test('an unknown mechanism and bad base64 are SASL failures, not stream errors', async () => {
    const c = await connect(await start());
    c.send(HEADER);
    await c.waitFor('</stream:features>');
    c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='X-NONE'>=</auth>");
    await c.waitFor('<invalid-mechanism/>');
    c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>!!!</auth>");
    await c.waitFor('<incorrect-encoding/>');
    c.send(AUTH);
    await c.waitFor('<success');
  });

  test('STARTTLS: proceed, bytes sent after <starttls/> are dropped, TLS with the certificate, a fresh stream, c2s_tls', async () => {
    const c = await connect(await start({ starttlsRequired: true }));
    c.send(HEADER);
    await c.waitFor('</stream:features>');
    // An injected <auth/> in the same packet as <starttls/> must not count once TLS is up.
    c.send(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>${AUTH}`);
    await c.waitFor('<proceed xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>');
    expect(c.text).not.toContain('<success');
    await c.startTls();
    const cert = (c.socket as tls.TLSSocket).getPeerX509Certificate() as X509Certificate;
    expect(cert.subjectAltName).toBe('DNS:localhost');
    c.reset();
    c.send(HEADER);
    const text = await c.waitFor('</stream:features>');
    expect(text).not.toContain('starttls');
    expect(text).toContain('<mechanism>PLAIN</mechanism>');
    c.send(AUTH);
    await c.waitFor('<success');
    c.reset();
    c.send(HEADER + BIND);
    await c.waitFor('<jid>alice@localhost/phone</jid>');
    expect(hub.sessions.map((s) => s.connection)).toEqual(['c2s_tls']);
  });

  test('direct TLS: the handshake comes first', async () => {
    const port = await start({ tls: true, starttls: false });
    const c = await RawClient.connectTls(port);
    clients.push(c);
    c.send(HEADER);
    const text = await c.waitFor('</stream:features>');
    expect(text).not.toContain('starttls');
    c.send(AUTH);
    await c.waitFor('<success');
    c.reset();
    c.send(HEADER + BIND);
    await c.waitFor('<jid>alice@localhost/phone</jid>');
    expect(hub.sessions.map((s) => s.connection)).toEqual(['c2s_tls']);
  });

  test('a client vanishing mid-stanza: no crash, unbind once, the connection is forgotten', async () => {
    const port = await start();
    const c = await bound(port);
    c.send("<message to='bob@localhost'><body>half");
    await new Promise((r) => setTimeout(r, 50));
    c.destroy();
    const deadline = Date.now() + 3000;
    while (hub.unbound.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 50));
    expect(hub.unbound.map((u) => [u.session.jid.resource, u.error])).toEqual([['phone', undefined]]);
    expect(c2sConnectionCount(servers[0])).toBe(0);
  });

  test('closing the listener closes each stream with the given error', async () => {
    const port = await start();
    const c = await bound(port);
    const other = await connect(port);
    other.send(HEADER);
    await other.waitFor('</stream:features>');
    expect(c2sConnectionCount(servers[0])).toBe(2);
    await closeC2s(servers.splice(0)[0], { condition: 'system-shutdown' });
    await c.waitClosed();
    await other.waitClosed();
    expect(c.text).toContain('<stream:error><system-shutdown xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error></stream:stream>');
    const deadline = Date.now() + 3000;
    while (hub.unbound.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(hub.unbound.map((u) => u.error?.condition)).toEqual(['system-shutdown']);
  });

  test('the idle and authentication timeouts close with connection-timeout', async () => {
    const port = await start({}, { timeouts: { idle: 200, auth: 200 } });
    const idle = await connect(port);
    idle.send(HEADER);
    await idle.waitClosed();
    expect(idle.text).toContain(
      '<connection-timeout xmlns="urn:ietf:params:xml:ns:xmpp-streams"/><text xmlns="urn:ietf:params:xml:ns:xmpp-streams" xml:lang="en">authentication took too long</text>',
    );
    const c = await bound(port);
    await c.waitClosed();
    expect(c.text).toContain('no traffic from the client');
  });

  test('the client ending its stream gets ours in return', async () => {
    const c = await bound(await start());
    c.send('</stream:stream>');
    await c.waitClosed();
    expect(c.text.endsWith('</stream:stream>')).toBe(true);
    expect(c.text).not.toContain('stream:error');
  });

  test('a port in use is a plain error naming the address', async () => {
    const port = await start();
    await expect(listenC2s(listenerOptions({ port }), testEnv(hub, logs))).rejects.toThrow(`Cannot listen on 127.0.0.1 port ${port}: the port is in use`);
  });
});

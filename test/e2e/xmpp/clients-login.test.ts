/**
 * Real clients log in to a running node: slixmpp with each SASL mechanism over STARTTLS, direct
 * TLS and plain TCP; @xmpp/client over TCP and WebSocket; go-sendxmpp sending a message that
 * another client receives. A wrong password fails, and the node's log names the peer.
 */
import {
  eventsOf,
  expectClean,
  got,
  presentedCertificate,
  received,
  sendxmpp,
  slixmpp,
  slixmppLive,
  startXmppNode,
  xmppClient,
  xmppClientLive,
  type XmppNode,
} from '../../helpers/xmpp';

jest.setTimeout(60_000);

let x: XmppNode;
beforeAll(async () => {
  x = await startXmppNode({ users: { 'alice@localhost': 'wonder land', 'bob@localhost': 'pw', 'carol@localhost': 'pw' } });
});
afterAll(() => x?.stop());

const alice = (extra: Record<string, unknown> = {}) => ({ jid: 'alice@localhost/py', password: 'wonder land', ...extra });

test.each([
  ['SCRAM-SHA-256', 'starttls'],
  ['SCRAM-SHA-1', 'starttls'],
  ['PLAIN', 'starttls'],
  ['SCRAM-SHA-256', 'direct'],
])('slixmpp logs in with %s over %s, binds its resource and gets its roster', async (mech, tls) => {
  const port = tls === 'direct' ? x.ports.tls : x.ports.c2s;
  const run = expectClean(await slixmpp('steps', { server: { port }, clients: { a: alice({ mech, tls, resource: 'py' }) } }));
  const [online] = eventsOf(run, 'online');
  expect(online).toMatchObject({ jid: 'alice@localhost/py', mech });
  expect(online.tls).toMatch(/^TLSv1\.[23]$/);
  expect(received(run)[0]).toMatch(/^<iq [^>]*id='roster-1'[^>]*type='result'|^<iq [^>]*type='result'[^>]*id='roster-1'/);
});

test('slixmpp logs in without TLS with SCRAM on a loopback listener', async () => {
  const run = expectClean(await slixmpp('steps', { server: { port: x.ports.c2s }, clients: { a: alice({ tls: 'none', mech: 'SCRAM-SHA-1' }) } }));
  expect(eventsOf(run, 'online')[0]).toMatchObject({ jid: 'alice@localhost/py', mech: 'SCRAM-SHA-1', tls: null });
});

test('a wrong password fails with not-authorized, and the node logs the failure with the peer address', async () => {
  const run = await slixmpp('steps', { server: { port: x.ports.c2s }, clients: { a: { jid: 'bob@localhost/r', password: 'wrong', mech: 'SCRAM-SHA-256' } } });
  expect(eventsOf(run, 'online')).toEqual([]);
  const [failed] = eventsOf(run, 'auth_failed');
  expect(failed.xml).toContain('<not-authorized');
  expect(x.log()).toMatch(/ \[warning\] auth failed: address=127\.0\.0\.1 port=\d+ via=c2s mechanism=SCRAM-SHA-256 reason=bad-password user="bob@localhost"\n/);
});

test('@xmpp/client logs in over TCP with STARTTLS and pings the server', async () => {
  const run = expectClean(
    await xmppClient('xmpp-client', {
      client: { service: `xmpp://127.0.0.1:${x.ports.c2s}`, domain: 'localhost', username: 'bob', password: 'pw', resource: 'js' },
      steps: [{ iq: "<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>", label: 'ping' }],
    }),
  );
  expect(eventsOf(run, 'online')[0]).toMatchObject({ jid: 'bob@localhost/js', secure: true });
  expect(got(run, 'ping')).toMatch(/^<iq [^>]*type='result'/);
  expect(got(run, 'ping')).toContain("from='localhost'");
});

test('@xmpp/client logs in over WebSocket and gets its roster', async () => {
  const run = expectClean(
    await xmppClient('xmpp-client', {
      client: { service: `ws://127.0.0.1:${x.ports.http}/ws`, domain: 'localhost', username: 'bob', password: 'pw', resource: 'web' },
      steps: [{ iq: "<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>", label: 'roster' }],
    }),
  );
  expect(eventsOf(run, 'online')[0]).toMatchObject({ jid: 'bob@localhost/web' });
  expect(got(run, 'roster')).toMatch(/^<iq [^>]*type='result'[^>]*>.*<query[^>]*xmlns='jabber:iq:roster'/);
});

test('go-sendxmpp sends a message over STARTTLS and direct TLS that a logged-in client receives', async () => {
  const carol = slixmppLive('steps', {
    server: { port: x.ports.c2s },
    clients: { c: { jid: 'carol@localhost/desk', password: 'pw' } },
    steps: [
      { checkpoint: 'online' },
      { as: 'c', wait: ['<body>over starttls</body>'], timeout: 15, label: 'first' },
      { as: 'c', wait: ['<body>over direct tls</body>'], timeout: 15, label: 'second' },
    ],
  });
  // Carol is online before anything is sent: the messages are live, not offline.
  await carol.checkpoint('online');
  carol.resume();
  expect(await sendxmpp({ jid: 'bob@localhost', password: 'pw', port: x.ports.c2s, to: 'carol@localhost', message: 'over starttls' })).toMatchObject({
    status: 0,
  });
  expect(
    await sendxmpp({ jid: 'bob@localhost', password: 'pw', port: x.ports.tls, to: 'carol@localhost', message: 'over direct tls', directTls: true }),
  ).toMatchObject({
    status: 0,
  });
  const run = expectClean(await carol.done);
  expect(got(run, 'first')).toMatch(/from='bob@localhost\/[^']+'/);
  expect(got(run, 'second')).toContain("to='carol@localhost");
  expect(got(run, 'first')).not.toContain('urn:xmpp:delay');
});

test('go-sendxmpp with a wrong password fails and says so', async () => {
  const r = await sendxmpp({ jid: 'bob@localhost', password: 'nope', port: x.ports.c2s, to: 'carol@localhost', message: 'x' });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/auth failure|not-authorized/i);
});

test('a WebSocket client and a TCP client talk to each other; the session commands see the WebSocket session', async () => {
  const web = xmppClientLive('xmpp-client', {
    client: { service: `ws://127.0.0.1:${x.ports.http}/ws`, domain: 'localhost', username: 'bob', password: 'pw', resource: 'browser' },
    steps: [
      { checkpoint: 'online' },
      { wait: ['<body>to the browser</body>'], label: 'in' },
      { send: "<message to='carol@localhost/desk' type='chat'><body>from the browser</body></message>" },
    ],
  });
  const desk = slixmppLive('steps', {
    server: { port: x.ports.c2s },
    clients: { c: { jid: 'carol@localhost/desk', password: 'pw' } },
    steps: [
      { checkpoint: 'online' },
      { as: 'c', send: "<message to='bob@localhost/browser' type='chat'><body>to the browser</body></message>" },
      { as: 'c', wait: ['<body>from the browser</body>'], label: 'in' },
    ],
  });
  await Promise.all([web.checkpoint('online'), desk.checkpoint('online')]);
  const info = await x.ctl(['user_sessions_info', 'bob', 'localhost']);
  expect(info).toEqual({
    status: 0,
    stdout: expect.stringMatching(/^websocket\t127\.0\.0\.1\t\d+\t0\tctl@localhost\t\d+\tavailable\tbrowser\t\n$/),
    stderr: '',
  });
  web.resume();
  desk.resume();
  const [w, d] = [expectClean(await web.done), expectClean(await desk.done)];
  expect(got(w, 'in')).toContain("from='carol@localhost/desk'");
  expect(got(d, 'in')).toContain("from='bob@localhost/browser'");
});

test('openssl sees the certificate naming the host on the direct TLS port and after STARTTLS', async () => {
  const direct = await presentedCertificate(x.ports.tls);
  expect(direct).toMatch(/subject=.*localhost/);
  expect(direct).toMatch(/X509v3 Subject Alternative Name:\s*\n\s*DNS:localhost/);
  expect(await presentedCertificate(x.ports.c2s, { xmpphost: 'localhost' })).toBe(direct);
});

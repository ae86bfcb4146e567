/**
 * Bad input against a running node: malformed XML, a DOCTYPE with entities, an oversized stanza,
 * stanzas before authentication, a domain the node does not serve, a thousand failed logins, and
 * a client that vanishes mid-stanza. Each ends in the stream error RFC 6120 names, and the node
 * keeps serving the clients that behave.
 */
import { eventsOf, eventually, expectClean, got, rawStream, slixmpp, slixmppLive, startXmppNode, STREAM_HEADER, type XmppNode } from '../../helpers/xmpp';

jest.setTimeout(60_000);

let x: XmppNode;
beforeAll(async () => {
  // A thousand failures from one address would block it after five (auth-limit.test.ts covers that): here every one is checked.
  x = await startXmppNode({ users: { 'ada@localhost': 'pw', 'bo@localhost': 'pw' }, config: 'auth_failure_limit: false' });
});
afterAll(() => x?.stop());

const ada = { jid: 'ada@localhost/r', password: 'pw' };
/** A stream error's condition in what the node sent, then the closing tag. */
const streamError = (condition: string) =>
  new RegExp(`<stream:error><${condition} xmlns=['"]urn:ietf:params:xml:ns:xmpp-streams['"]/>.*</stream:error></stream:stream>`);

/** Behaving clients are still served: a login and a ping. */
async function stillServing(): Promise<void> {
  const r = expectClean(
    await slixmpp('steps', {
      server: { port: x.ports.c2s },
      clients: { a: ada },
      steps: [{ as: 'a', iq: "<iq type='get' id='p' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>", label: 'ping' }],
    }),
  );
  expect(got(r, 'ping')).toMatch(/type='result'/);
}

test.each([
  ['malformed XML', 'not-well-formed', STREAM_HEADER() + '<message><body>unclosed</message>'],
  ['an unbound prefix', 'not-well-formed', STREAM_HEADER() + '<foo:bar/>'],
  ['a DOCTYPE with an entity', 'restricted-xml', "<?xml version='1.0'?><!DOCTYPE lol [<!ENTITY lol 'lol'>]>" + STREAM_HEADER().slice(21)],
  ['a comment', 'restricted-xml', STREAM_HEADER() + '<!-- hello -->'],
  ['a processing instruction', 'restricted-xml', STREAM_HEADER() + "<?php echo 'x'; ?>"],
  ['a stanza before authentication', 'not-authorized', STREAM_HEADER() + "<message to='bo@localhost'><body>sneaky</body></message>"],
  ['a stream to a domain the node does not serve', 'host-unknown', STREAM_HEADER('example.net')],
])('%s ends the stream with %s', async (_what, condition, bytes) => {
  const s = rawStream(x.ports.c2s);
  s.send(bytes);
  const got = await s.closed();
  expect(got).toMatch(streamError(condition));
  expect(got).not.toContain('sneaky');
});

test('an oversized stanza ends the stream with policy-violation, after authentication as before it', async () => {
  const s = rawStream(x.ports.c2s);
  s.send(STREAM_HEADER());
  await s.until(/<\/stream:features>/);
  s.send(`<message to='bo@localhost'><body>${'x'.repeat(300_000)}</body></message>`);
  expect(await s.closed()).toMatch(streamError('policy-violation'));

  const live = slixmppLive('steps', {
    server: { port: x.ports.c2s },
    clients: { a: ada },
    steps: [
      { as: 'a', send: `<message to='bo@localhost'><body>${'y'.repeat(300_000)}</body></message>` },
      { as: 'a', wait_closed: true },
    ],
  });
  const r = expectClean(await live.done);
  expect(eventsOf(r, 'stream_error', 'a')).toMatchObject([{ condition: 'policy-violation' }]);
  await stillServing();
});

test('a stanza to a domain the node does not serve comes back as remote-server-not-found', async () => {
  const r = expectClean(
    await slixmpp('steps', {
      server: { port: x.ports.c2s },
      clients: { a: ada },
      steps: [
        { as: 'a', send: "<message to='someone@elsewhere.example' type='chat' id='far1'><body>hello?</body></message>" },
        { as: 'a', wait: ["id='far1'", "type='error'"], label: 'bounce' },
        { as: 'a', iq: "<iq type='get' id='far2' to='elsewhere.example'><ping xmlns='urn:xmpp:ping'/></iq>", label: 'iq-bounce' },
      ],
    }),
  );
  expect(got(r, 'bounce')).toMatch(/from='someone@elsewhere\.example'/);
  expect(got(r, 'bounce')).toContain('<remote-server-not-found');
  expect(got(r, 'iq-bounce')).toContain('<remote-server-not-found');
});

test('a thousand failed logins: each gets not-authorized, each is logged, and the node keeps serving', async () => {
  const failures = () =>
    (x.log().match(/auth failed: address=127\.0\.0\.1 port=\d+ via=c2s mechanism=PLAIN reason=bad-password user="ada@localhost"\n/g) ?? []).length;
  const before = failures();
  const attempt = async (i: number) => {
    const s = rawStream(x.ports.c2s);
    try {
      s.send(STREAM_HEADER());
      await s.until(/<mechanism>PLAIN<\/mechanism>[\s\S]*<\/stream:features>/, 10_000);
      s.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0ada\0wrong${i}`).toString('base64')}</auth>`);
      return /<failure xmlns=['"]urn:ietf:params:xml:ns:xmpp-sasl['"]><not-authorized\/>/.test(await s.until(/<\/failure>/, 10_000));
    } finally {
      s.destroy();
    }
  };
  const results: boolean[] = [];
  for (let batch = 0; batch < 1000; batch += 50) results.push(...(await Promise.all(Array.from({ length: 50 }, (_, i) => attempt(batch + i)))));
  expect(results.filter(Boolean)).toHaveLength(1000);
  const logged = await eventually(
    async () => failures() - before,
    (n) => n >= 1000,
  );
  expect(logged).toBe(1000);
  await stillServing();
});

test('a client that vanishes mid-stanza: its session is gone, the others are served', async () => {
  const r = expectClean(
    await slixmpp('steps', {
      server: { port: x.ports.c2s },
      clients: { a: { jid: 'bo@localhost/gone', password: 'pw' } },
      steps: [
        { as: 'a', send: "<message to='ada@localhost'><body>half a mess" },
        { as: 'a', abort: true },
      ],
    }),
  );
  expect(eventsOf(r, 'closed', 'a')).toHaveLength(1);
  expect(
    await eventually(
      () => x.ctl(['connected_users']),
      (c) => !c.stdout.includes('bo@localhost/gone'),
    ),
  ).toEqual({ status: 0, stdout: '', stderr: '' });
  await stillServing();
});

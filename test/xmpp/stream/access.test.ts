import * as net from 'node:net';
import { allowed } from '../../../src/config/access';
import { parseConfig, type Config } from '../../../src/config/config';
import { closeC2s, listenC2s, type C2sServer } from '../../../src/xmpp/c2s/listener';
import { AUTH, FakeHub, HEADER, RawClient, listenerOptions, plainAuth, removeCertificate, testEnv, type Logged } from './helpers';

const RULES = [
  'hosts: [localhost]',
  'acl:',
  '  blocked:',
  '    user: mallory',
  '  lab:',
  '    ip: 127.0.0.2/31',
  'access_rules:',
  '  c2s:',
  '    - deny: blocked',
  '    - deny: lab',
  '    - allow: all',
  '',
].join('\n');
const DENIED = '<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><not-authorized/><text xml:lang="en">Access denied by service policy</text></failure>';

let hub: FakeHub;
let logs: Logged[];
let config: Config;
let server: C2sServer;
let port: number;
const clients: RawClient[] = [];

beforeEach(async () => {
  hub = new FakeHub();
  logs = [];
  config = parseConfig(RULES, '/etc/ctl/ctl.yml');
  server = await listenC2s(listenerOptions({ access: 'c2s' }), testEnv(hub, logs, { allowed: (rule, who) => allowed(config, rule, who) }));
  port = (server.address() as net.AddressInfo).port;
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await closeC2s(server);
});
afterAll(() => removeCertificate());

/** A client from `from` (any 127/8 address reaches a loopback listener), its stream opened. */
async function opened(from = '127.0.0.1'): Promise<RawClient> {
  const c = await new Promise<RawClient>((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: from }, () => resolve(new RawClient(socket)));
    socket.once('error', reject);
  });
  clients.push(c);
  c.send(HEADER);
  await c.waitFor('</stream:features>');
  c.reset();
  return c;
}

const warnings = () => logs.filter((l) => l.level === 'warning').map((l) => l.message);

describe("a c2s listener's access rule", () => {
  test('lets in an account it allows', async () => {
    const c = await opened();
    c.send(AUTH);
    expect(await c.waitFor('</success>')).toBe('<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"></success>');
    expect(warnings()).toEqual([]);
  });

  test('refuses a denied user with right credentials: not-authorized, a warning, and the stream stays for another try', async () => {
    const c = await opened();
    const localPort = (c.socket as net.Socket).localPort;
    c.send(plainAuth('mallory'));
    expect(await c.waitFor('</failure>')).toBe(DENIED);
    expect(warnings()).toEqual([`login of mallory@localhost from 127.0.0.1:${localPort} refused by access rule c2s`]);
    c.reset();
    c.send(AUTH);
    expect(await c.waitFor('</success>')).toContain('<success');
    expect(c.closed).toBe(false);
  });

  test('checks the credentials first: a wrong password is refused as one, whoever the rule would deny', async () => {
    const c = await opened();
    c.send(plainAuth('mallory', 'wrong'));
    const text = await c.waitFor('</failure>');
    expect(text).toContain('<not-authorized/>');
    expect(text).not.toContain('service policy');
    expect(warnings()).toEqual([
      expect.stringMatching(/^auth failed: address=\S+ port=\d+ via=c2s mechanism=PLAIN reason=bad-password user="mallory@localhost"$/),
    ]);
  });

  test('refuses any account from a denied address range, and lets the same account in from elsewhere', async () => {
    for (const from of ['127.0.0.2', '127.0.0.3']) {
      const c = await opened(from);
      c.send(AUTH);
      expect(await c.waitFor('</failure>')).toBe(DENIED);
    }
    expect(warnings()).toEqual([
      expect.stringMatching(/^login of alice@localhost from 127\.0\.0\.2:\d+ refused by access rule c2s$/),
      expect.stringMatching(/^login of alice@localhost from 127\.0\.0\.3:\d+ refused by access rule c2s$/),
    ]);
    const ok = await opened('127.0.0.4');
    ok.send(AUTH);
    expect(await ok.waitFor('</success>')).toContain('<success');
  });

  test('a refusal counts as a failed attempt: the fifth closes the stream', async () => {
    const c = await opened('127.0.0.2');
    for (let i = 1; i <= 5; i++) {
      c.send(AUTH);
      await c.waitFor(new RegExp(`(${DENIED.replace(/[/.]/g, '\\$&')}.*){${i}}`));
    }
    await c.waitFor('too many failed authentication attempts');
    await c.waitClosed();
  });

  test('is read at each login: a reloaded configuration decides the next one', async () => {
    config = parseConfig(RULES.replace('user: mallory', 'user: alice'), '/etc/ctl/ctl.yml');
    const c = await opened();
    c.send(AUTH);
    expect(await c.waitFor('</failure>')).toBe(DENIED);
    config = parseConfig(RULES, '/etc/ctl/ctl.yml');
    c.reset();
    c.send(AUTH);
    expect(await c.waitFor('</success>')).toContain('<success');
  });

  test('without a way to ask, a listener with a rule lets no one in', async () => {
    const strict = await listenC2s(listenerOptions({ access: 'c2s' }), testEnv(hub, logs));
    try {
      const c = await RawClient.connect((strict.address() as net.AddressInfo).port);
      clients.push(c);
      c.send(HEADER);
      await c.waitFor('</stream:features>');
      c.reset();
      c.send(AUTH);
      expect(await c.waitFor('</failure>')).toBe(DENIED);
    } finally {
      await closeC2s(strict);
    }
  });
});

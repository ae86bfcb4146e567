/**
 * Behind a reverse proxy every request comes from the proxy's address: with `trusted_proxies`,
 * the client named by X-Forwarded-For is the one logged and limited, so one client's failures
 * block that client and not everyone behind the proxy; from any other peer the header is
 * ignored, so a client cannot pick its own address.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { curl, startHttpNode, type HttpNode } from '../../helpers/http-node';

jest.setTimeout(60_000);
let n: HttpNode;
beforeAll(async () => (n = await startHttpNode('auth_failure_limit: {failures: 2, window: 60, block: 60}\ntrusted_proxies: [127.0.0.9]\n')));
afterAll(() => n.stop());

const log = () => readFileSync(join(n.dir, 'log', 'ctl.log'), 'utf8');
const as = (from: string, forwarded: string, password: string) =>
  curl([
    '--interface',
    from,
    '-u',
    `admin@localhost:${password}`,
    '-H',
    `X-Forwarded-For: ${forwarded}`,
    '-H',
    'Content-Type: application/json',
    '--data-binary',
    '{"host":"localhost"}',
    `${n.url}/api/registered_users`,
  ]);

test('through a trusted proxy, the forwarded client is logged and blocked, and the proxy’s other clients are served', async () => {
  expect((await as('127.0.0.9', '203.0.113.5', 'wrong')).status).toBe(401);
  expect((await as('127.0.0.9', '203.0.113.5', 'wrong')).status).toBe(401);
  expect(log()).toMatch(/ auth failed: address=203\.0\.113\.5 port=0 via=http mechanism=basic reason=bad-password user="admin@localhost"\n/);
  expect((await as('127.0.0.9', '203.0.113.5', 'secret')).status).toBe(429);
  expect(await as('127.0.0.9', '203.0.113.6', 'secret')).toMatchObject({ status: 200, body: '["admin","bob"]' });
});

test('the last untrusted hop is the client: what it put before its own address is not believed', async () => {
  expect((await as('127.0.0.9', '203.0.113.5, 198.51.100.7', 'wrong')).status).toBe(401);
  expect(log()).toMatch(/ auth failed: address=198\.51\.100\.7 port=0 via=http /);
  // 203.0.113.5 is blocked, but a client naming it first is still let in as itself.
  expect((await as('127.0.0.9', '203.0.113.5, 198.51.100.8', 'secret')).status).toBe(200);
});

test('a forwarded value that is not an address leaves the proxy’s own', async () => {
  expect((await as('127.0.0.9', 'unknown', 'wrong')).status).toBe(401);
  expect(log()).toMatch(/ auth failed: address=127\.0\.0\.9 port=\d+ via=http /);
});

test('from a peer that is not a trusted proxy, X-Forwarded-For is ignored', async () => {
  expect((await as('127.0.0.8', '192.0.2.1', 'wrong')).status).toBe(401);
  expect(log()).toMatch(/ auth failed: address=127\.0\.0\.8 port=\d+ via=http /);
  expect(log()).not.toMatch(/address=192\.0\.2\.1/);
});

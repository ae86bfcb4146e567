/**
 * Failed logins over the JSON API and XML-RPC, through a real node, curl and Python's
 * xmlrpc.client: each is one log line naming the peer's address; after `failures` of them an
 * address is refused, right password or not, for the block time, while other addresses and
 * the control socket are served; a reload changes the limit, and `false` turns it off. The
 * clients connect from addresses of their own on the loopback network (curl --interface).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../helpers/cli';
import { curl, python, startHttpNode, type HttpNode } from '../../helpers/http-node';

jest.setTimeout(60_000);
let n: HttpNode;
const LIMIT = 'auth_failure_limit: {failures: 3, window: 60, block: 60}';
beforeAll(async () => (n = await startHttpNode(`${LIMIT}\n`)));
afterAll(() => n.stop());

const log = () => readFileSync(join(n.dir, 'log', 'ctl.log'), 'utf8');
const call = (from: string, auth: readonly string[]) =>
  curl(['--interface', from, ...auth, '-H', 'Content-Type: application/json', '--data-binary', '{"host":"localhost"}', `${n.url}/api/registered_users`]);
const as = (from: string, password: string) => call(from, ['-u', `admin@localhost:${password}`]);

async function reload(limit: string): Promise<void> {
  const file = join(n.dir, 'ctl.yml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^auth_failure_limit:.*$/m, limit));
  expect((await runCli(['reload_config', '--home', n.dir])).status).toBe(0);
}

/** The right password, tried until it is let in again (or 20 s passed). */
async function letInAgain(from: string): Promise<number> {
  const deadline = Date.now() + 20_000;
  let status = 0;
  while (Date.now() < deadline && (status = (await as(from, 'secret')).status) === 429) await new Promise((r) => setTimeout(r, 200));
  return status;
}

test('each failure is one line naming the address; the next attempt, right password or not, is refused on both APIs', async () => {
  for (const auth of [
    ['-u', 'admin@localhost:wrong'],
    ['-u', 'ghost@localhost:secret'],
    ['-u', 'admin@localhost:wrong2'],
  ]) {
    expect((await call('127.0.0.1', auth)).status).toBe(401);
  }
  expect(log()).toMatch(/ \[warning\] auth failed: address=127\.0\.0\.1 port=\d+ via=http mechanism=basic reason=bad-password user="admin@localhost"\n/);
  expect(log()).toMatch(/ \[warning\] auth failed: address=127\.0\.0\.1 port=\d+ via=http mechanism=basic reason=bad-password user="ghost@localhost"\n/);
  expect(log()).toMatch(/ \[warning\] auth blocked: address=127\.0\.0\.1 for 60 s after 3 failed logins within 60 s\n/);

  const refused = await as('127.0.0.1', 'secret');
  expect(refused.status).toBe(429);
  expect(refused.headers).toMatch(/^retry-after: (60|59)\r?$/im);
  expect(JSON.parse(refused.body)).toEqual({
    status: 'error',
    code: 'not_allowed',
    message: expect.stringMatching(/^Too many failed logins from this address: try again in (60|59) s$/),
  });
  expect(log()).toMatch(/ auth failed: address=127\.0\.0\.1 port=\d+ via=http mechanism=basic reason=rate-limited user="admin@localhost"\n/);
  // A token is refused as well: the address may not try anything for now.
  const token = (await runCli(['api_token_create', 'admin', 'localhost', '1', '--home', n.dir])).stdout.trim();
  expect((await call('127.0.0.1', ['-H', `Authorization: Bearer ${token}`])).status).toBe(429);

  const rpc = await python(
    `import json, xmlrpc.client\ntry:\n  xmlrpc.client.ServerProxy('${n.url}/rpc').registered_users({'user': 'admin', 'server': 'localhost', 'password': 'secret'}, {'host': 'localhost'})\nexcept xmlrpc.client.Fault as f:\n  print(json.dumps([f.faultCode, f.faultString]))`,
  );
  expect(JSON.parse(rpc)).toEqual([-118, expect.stringMatching(/^Too many failed logins from this address: try again in \d+ s$/)]);

  // Another address is served, and so is ctl, which does not log in.
  expect(await as('127.0.0.2', 'secret')).toMatchObject({ status: 200, body: '["admin","bob"]' });
  expect(await runCli(['registered_users', 'localhost', '--home', n.dir])).toEqual({ status: 0, stdout: 'admin\nbob\n', stderr: '' });
});

test('XML-RPC failures count as the JSON API’s do: they block the address on both', async () => {
  const out = await python(
    [
      'import http.client, json, xmlrpc.client',
      'class From(xmlrpc.client.Transport):',
      '  def make_connection(self, host):',
      "    return http.client.HTTPConnection(host, source_address=('127.0.0.6', 0))",
      `s = xmlrpc.client.ServerProxy('${n.url}/rpc', transport=From())`,
      'for pw in ["a", "b", "c", "secret"]:',
      '  try:',
      "    print(json.dumps(s.registered_users({'user': 'admin', 'server': 'localhost', 'password': pw}, {'host': 'localhost'})))",
      '  except xmlrpc.client.Fault as f:',
      '    print(json.dumps(f.faultString))',
    ].join('\n'),
  );
  expect(
    out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown),
  ).toEqual([
    'Invalid user name or password',
    'Invalid user name or password',
    'Invalid user name or password',
    expect.stringMatching(/^Too many failed logins from this address: try again in (60|59) s$/),
  ]);
  expect(log()).toMatch(/ auth failed: address=127\.0\.0\.6 port=\d+ via=xmlrpc mechanism=password reason=bad-password user="admin@localhost"\n/);
  expect((await as('127.0.0.6', 'secret')).status).toBe(429);
});

test('a user name cannot forge a line: controls, spaces and quotes are escaped, after the address', async () => {
  const forged = 'x\n2030-01-01T00:00:00.000Z [warning] auth failed: address=6.6.6.6 port=1 via=xmlrpc mechanism=password reason=bad-password user="y';
  await python(
    [
      'import http.client, json, xmlrpc.client',
      'class From(xmlrpc.client.Transport):',
      '  def make_connection(self, host):',
      "    return http.client.HTTPConnection(host, source_address=('127.0.0.5', 0))",
      `s = xmlrpc.client.ServerProxy('${n.url}/rpc', transport=From())`,
      'try:',
      `  s.registered_users({'user': ${JSON.stringify(forged)}, 'server': 'localhost', 'password': 'pw'}, {'host': 'localhost'})`,
      'except xmlrpc.client.Fault as f:',
      '  print(json.dumps(f.faultString))',
    ].join('\n'),
  );
  expect(log()).not.toMatch(/auth failed: address=6\.6\.6\.6/);
  expect(log()).toMatch(
    /\[warning\] auth failed: address=127\.0\.0\.5 port=\d+ via=xmlrpc mechanism=password reason=bad-password user="x\\x0a2030-01-01T00:00:00\.000Z\\x20\[warning\]\\x20auth\\x20failed:\\x20address=6\.6\.6\.6\\x20port=1\\x20via=xmlrpc\\x20mechanism=password\\x20reason=bad-password\\x20user=\\"y@localhost"\n/,
  );
});

test('with a short block, the address is let in again once it is over', async () => {
  await reload('auth_failure_limit: {failures: 2, window: 60, block: 2}');
  expect((await as('127.0.0.3', 'wrong')).status).toBe(401);
  expect((await as('127.0.0.3', 'wrong')).status).toBe(401);
  expect((await as('127.0.0.3', 'secret')).status).toBe(429);
  expect(await letInAgain('127.0.0.3')).toBe(200);
});

test('auth_failure_limit: false blocks nobody, and failures are still logged', async () => {
  await reload('auth_failure_limit: false');
  // The address blocked for a minute is let in at once.
  expect((await as('127.0.0.1', 'secret')).status).toBe(200);
  const before = (log().match(/auth failed: address=127\.0\.0\.4 /g) ?? []).length;
  for (let i = 0; i < 8; i++) expect((await as('127.0.0.4', `wrong${i}`)).status).toBe(401);
  expect((await as('127.0.0.4', 'secret')).status).toBe(200);
  expect((log().match(/auth failed: address=127\.0\.0\.4 port=\d+ via=http mechanism=basic reason=bad-password /g) ?? []).length - before).toBe(8);
  await reload(LIMIT);
});

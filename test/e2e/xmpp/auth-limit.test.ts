/**
 * Failed XMPP logins through a running node, over raw client streams: PLAIN and SCRAM failures
 * are one log line each naming the peer's address; after `failures` of them the address gets
 * temporary-auth-failure, right password or not, on its XMPP streams and on the HTTP API alike,
 * while ctl is served; after the block it logs in again; `auth_failure_limit: false` blocks no one.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { curl } from '../../helpers/http-node';
import { rawStream, startXmppNode, STREAM_HEADER, type XmppNode } from '../../helpers/xmpp';

jest.setTimeout(60_000);

let x: XmppNode;
beforeAll(async () => {
  x = await startXmppNode({ users: { 'ada@localhost': 'pw' }, config: 'auth_failure_limit: {failures: 2, window: 60, block: 3}' });
});
afterAll(() => x?.stop());

const SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const OUTCOME = /<success[^>]*(?:\/>|>[^<]*<\/success>)|<failure[\s\S]*?<\/failure>/;

/** A new stream, authenticated with `auth` (and, for SCRAM, a proof made of random bytes): the node's answer. */
async function login(mechanism: 'PLAIN' | 'SCRAM-SHA-1', user: string, password = ''): Promise<string> {
  const s = rawStream(x.ports.c2s);
  try {
    s.send(STREAM_HEADER());
    await s.until(/<\/stream:features>/);
    if (mechanism === 'PLAIN') {
      s.send(`<auth xmlns='${SASL}' mechanism='PLAIN'>${b64(`\0${user}\0${password}`)}</auth>`);
    } else {
      s.send(`<auth xmlns='${SASL}' mechanism='SCRAM-SHA-1'>${b64(`n,,n=${user},r=clientnonce`)}</auth>`);
      const text = await s.until(/<challenge[^>]*>[^<]*<\/challenge>|<\/failure>/);
      const challenge = /<challenge[^>]*>([^<]*)<\/challenge>/.exec(text);
      if (!challenge) return OUTCOME.exec(text)![0];
      const nonce = /r=([^,]+)/.exec(Buffer.from(challenge[1], 'base64').toString())![1];
      s.send(`<response xmlns='${SASL}'>${b64(`c=biws,r=${nonce},p=${randomBytes(20).toString('base64')}`)}</response>`);
    }
    return OUTCOME.exec(await s.until(OUTCOME))![0];
  } finally {
    s.destroy();
  }
}

const api = () => curl(['-u', 'ada@localhost:pw', `http://127.0.0.1:${x.ports.http}/api/get_offline_count`]);

async function reload(limit: string): Promise<void> {
  const file = join(x.home, 'ctl.yml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^auth_failure_limit:.*$/m, limit));
  expect((await x.ctl(['reload_config'])).status).toBe(0);
}

test('PLAIN and SCRAM failures are logged with the address; then the right password gets temporary-auth-failure, here and over HTTP', async () => {
  expect(await login('PLAIN', 'ada', 'wrong')).toBe(`<failure xmlns="${SASL}"><not-authorized/></failure>`);
  expect(x.log()).toMatch(/ \[warning\] auth failed: address=127\.0\.0\.1 port=\d+ via=c2s mechanism=PLAIN reason=bad-password user="ada@localhost"\n/);
  expect(await login('SCRAM-SHA-1', 'ghost')).toBe(`<failure xmlns="${SASL}"><not-authorized/></failure>`);
  expect(x.log()).toMatch(/ \[warning\] auth failed: address=127\.0\.0\.1 port=\d+ via=c2s mechanism=SCRAM-SHA-1 reason=bad-password user="ghost@localhost"\n/);
  expect(x.log()).toMatch(/ \[warning\] auth blocked: address=127\.0\.0\.1 for 3 s after 2 failed logins within 60 s\n/);

  expect(await login('PLAIN', 'ada', 'pw')).toMatch(
    new RegExp(
      `^<failure xmlns="${SASL}"><temporary-auth-failure/><text xml:lang="en">Too many failed logins from this address: try again in [1-3] s</text></failure>$`,
    ),
  );
  expect(x.log()).toMatch(/ \[warning\] auth failed: address=127\.0\.0\.1 port=\d+ via=c2s mechanism=PLAIN reason=rate-limited user="ada@localhost"\n/);
  expect((await api()).status).toBe(429);
  expect(await x.ctl(['check_password', 'ada', 'localhost', 'pw'])).toMatchObject({ status: 0 });

  // Once the block is over the same address logs in.
  const deadline = Date.now() + 20_000;
  let outcome = '';
  while (Date.now() < deadline && !(outcome = await login('PLAIN', 'ada', 'pw')).startsWith('<success')) await new Promise((r) => setTimeout(r, 200));
  expect(outcome).toBe(`<success xmlns="${SASL}"></success>`);
  expect((await api()).status).toBe(200);
});

test('auth_failure_limit: false: every failure is checked and logged, and the right password logs in after them', async () => {
  await reload('auth_failure_limit: false');
  for (let i = 0; i < 4; i++) expect(await login('PLAIN', 'ada', `wrong${i}`)).toContain('<not-authorized/>');
  expect(await login('PLAIN', 'ada', 'pw')).toBe(`<success xmlns="${SASL}"></success>`);
});

/**
 * The node applies a client listener's access rule to a real client: go-sendxmpp logs in over
 * STARTTLS with SCRAM, or is refused; a reload changes who may log in next.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allCommands } from '../../../../commands';
import { resolveHome } from '../../../../src/config/home';
import { createRegistry } from '../../../../src/core/registry';
import { startNode, type RunningNode } from '../../../../src/node/daemon';
import { runCli, tempHome } from '../../../helpers/cli';
import { freePort } from '../../../helpers/http-node';
import { sendxmpp } from '../../../helpers/xmpp';

jest.setTimeout(60_000);

let h: ReturnType<typeof tempHome>;
let node: RunningNode;
let port: number;

const config = (blocked: string) =>
  [
    'hosts: [localhost]',
    'acl:',
    '  blocked:',
    `    user: [${blocked}]`,
    'access_rules:',
    '  c2s:',
    '    deny: blocked',
    '    allow: all',
    'listen:',
    `  - port: ${port}`,
    '    ip: "127.0.0.1"',
    '    module: ejabberd_c2s',
    '    access: c2s',
    '',
  ].join('\n');

beforeAll(async () => {
  port = await freePort();
  h = tempHome('ctl-xmpp-access-');
  writeFileSync(join(h.dir, 'ctl.yml'), config('mallory'));
  for (const user of ['alice', 'mallory']) await runCli(['register', user, 'localhost', 'pw', '--home', h.dir]);
  node = await startNode({ home: resolveHome({ home: h.dir }), registry: createRegistry(allCommands), version: '9.9.9', lockTimeout: 5000, env: {} });
});
afterAll(async () => {
  await node?.control.stop();
  await node?.stopped;
  h?.cleanup();
});

const log = () => readFileSync(join(h.dir, 'log', 'ctl.log'), 'utf8');
const send = (user: string) => sendxmpp({ jid: `${user}@localhost`, password: 'pw', port, to: 'alice@localhost', message: `from ${user}` });

test('a user the rule allows logs in; a denied one with the right password fails, and the log says which rule refused whom', async () => {
  expect(await send('alice')).toMatchObject({ status: 0 });
  const refused = await send('mallory');
  expect(refused.status).not.toBe(0);
  expect(refused.stderr).toMatch(/not-authorized|auth failure/i);
  expect(log()).toMatch(/login of mallory@localhost from 127\.0\.0\.1:\d+ refused by access rule c2s/);
  expect(log()).not.toContain('login of alice@localhost');
});

test('after reload_config the changed rule decides the next login', async () => {
  writeFileSync(join(h.dir, 'ctl.yml'), config('alice'));
  expect(await h.ctl(['reload_config'])).toMatchObject({ status: 0 });
  expect((await send('alice')).status).not.toBe(0);
  expect(await send('mallory')).toMatchObject({ status: 0 });
  expect(log()).toMatch(/login of alice@localhost from 127\.0\.0\.1:\d+ refused by access rule c2s/);
});

/**
 * `ctl --url` against a ctl node's own JSON API: every call gives the same stdout, stderr and
 * exit status as the same call through the node's control socket.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';
import { startHttpNode, type HttpNode } from '../helpers/http-node';

let node: HttpNode;
let passwordFile: string;

beforeAll(async () => {
  node = await startHttpNode();
  passwordFile = join(node.dir, 'admin.pw');
  writeFileSync(passwordFile, 'secret\n');
}, 60_000);

afterAll(() => node?.stop(), 30_000);

const local = (args: readonly string[]) => runCli([...args, '--home', node.dir]);
const remote = (args: readonly string[], env: NodeJS.ProcessEnv = {}) =>
  runCli(['--url', `${node.url}/api`, '--user', 'admin@localhost', '--password-file', passwordFile, ...args], { env });

const SCRIPT: readonly string[] = [
  'register carol localhost pw',
  'register carol localhost pw',
  'register x nohost pw',
  'check_account carol localhost',
  'check_account nobody localhost',
  'registered_users localhost',
  'set_last carol localhost 1700000000 away',
  'get_last carol localhost',
  'add_rosteritem carol localhost bob localhost Bob Friends both',
  'get_roster carol localhost',
  '--format json get_roster carol localhost',
  '--format tsv get_roster carol localhost',
  'delete_rosteritem carol localhost nobody localhost',
  'set_vcard carol localhost FN Carol',
  'get_vcard carol localhost FN',
  'get_vcard bob localhost FN',
  'get_offline_count carol localhost',
  'srg_create team localhost Team Desc team',
  'srg_get_info team localhost',
  'srg_user_del nobody localhost team localhost',
  'srg_delete team localhost',
  'srg_delete team localhost',
  'stats registeredusers',
  'get_loglevel',
  'connected_users_number',
  'user_resources carol localhost',
  'num_active_users localhost 30',
  'echo_integer_list_string 3 a,b',
  'unregister nobody localhost',
  'unregister carol localhost',
  'join_cluster other@host',
];

test('every command of a script prints the same through --url as through the node, errors and exit statuses included', async () => {
  const seen: unknown[] = [];
  const want: unknown[] = [];
  // One after the other, as the script changes what the next line reads.
  for (const line of SCRIPT) {
    const args = line.split(' ');
    want.push({ line, ...(await local(args)) });
    // The local call changed the data; the remote one runs on the same data where the line is a pure read.
    seen.push({ line, ...(await remote(args)) });
  }
  const reads = (r: unknown[]) => r.filter((_, i) => !/^(register |add_|set_|srg_create|srg_delete|unregister|delete_)/.test(SCRIPT[i]));
  expect(reads(seen)).toEqual(reads(want));
}, 60_000);

test('writes through --url land in the node, with the statuses a local call gives', async () => {
  expect(await remote(['register', 'dora', 'localhost', 'pw'])).toEqual({ status: 0, stdout: 'User dora@localhost successfully registered\n', stderr: '' });
  expect(await remote(['register', 'dora', 'localhost', 'pw'])).toEqual(await local(['register', 'dora', 'localhost', 'pw']));
  expect(await local(['check_password', 'dora', 'localhost', 'pw'])).toEqual({ status: 0, stdout: '', stderr: '' });
  expect(await remote(['unregister', 'dora', 'localhost'])).toEqual({ status: 0, stdout: '', stderr: '' });
  expect(await local(['check_account', 'dora', 'localhost'])).toEqual({ status: 1, stdout: '', stderr: '' });
});

test('a bearer token from CTL_TOKEN or --token-file; a wrong one is refused with exit 1', async () => {
  const token = (await local(['api_token_create', 'admin', 'localhost', '1'])).stdout.trim();
  const url = `${node.url}/api`;
  expect(await runCli(['--url', url, 'registered_vhosts'], { env: { CTL_TOKEN: token } })).toEqual({ status: 0, stdout: 'localhost\n', stderr: '' });
  const file = join(node.dir, 'token');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  expect(await runCli(['--url', url, '--token-file', file, 'registered_vhosts'])).toEqual({ status: 0, stdout: 'localhost\n', stderr: '' });
  const wrong = await runCli(['--url', url, 'registered_vhosts'], { env: { CTL_TOKEN: 'not-a-token' } });
  expect(wrong).toMatchObject({ status: 1, stdout: '' });
  expect(wrong.stderr).toMatch(/^Error: .+\n$/);
  expect(await runCli(['--url', url, '--user', 'admin@localhost', '--token-file', file, 'registered_vhosts'])).toMatchObject({
    status: 2,
    stderr: expect.stringMatching(/--user and --token-file/),
  });
});

/**
 * reload_config tells the operator what it applied and what waits for the node's next start: a
 * line each on stderr and in the log, while stdout stays what ejabberdctl prints (nothing).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ctlProcess, ensureBuilt, killNodes, trackNodes } from '../helpers/proc';
import { freePort } from '../helpers/http-node';

jest.setTimeout(120_000);
beforeAll(ensureBuilt);

let home = '';
const ctl = (args: readonly string[]) => ctlProcess(home, args);
const write = (text: string) => writeFileSync(join(home, 'ctl.yml'), text);
const { pids, startNode } = trackNodes(() => home);

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'ctl-reload-'));
});
afterEach(async () => {
  if (existsSync(join(home, 'run', 'ctl.sock'))) await ctl(['stop']);
  await killNodes(pids, home);
  pids.clear();
  rmSync(home, { recursive: true, force: true });
});

test('the same file again: no change, said once', async () => {
  await startNode();
  expect(await ctl(['reload_config'])).toEqual({ status: 0, stdout: '', stderr: 'No change: the file says what the node already runs\n' });
});

test('every kind of change: applied at once, or waiting for a stop and a start; the same lines in the log', async () => {
  const [c2s, api] = [await freePort(), await freePort()];
  write('hosts: [localhost, old.example]\nloglevel: info\n');
  await startNode();
  write(
    [
      'hosts: [localhost, example.org]',
      'loglevel: debug',
      'auth_password_format: plain',
      'node_name: other@localhost',
      'ctl_socket_group: "0"',
      'acl:',
      '  admin:',
      '    user: [admin@localhost]',
      'access_rules:',
      '  local:',
      '    allow: all',
      'listen:',
      `  - port: ${c2s}`,
      '    ip: 127.0.0.1',
      '    module: ejabberd_c2s',
      '    starttls_required: true',
      `  - port: ${api}`,
      '    ip: 127.0.0.1',
      '    module: ejabberd_http',
      '    request_handlers:',
      '      /api: mod_http_api',
      'modules:',
      '  mod_muc:',
      '    history_size: 5',
      '    default_room_options:',
      '      persistent: true',
      '',
    ].join('\n'),
  );
  const report = [
    'Applied: hosts: added example.org; removed old.example',
    'Applied: loglevel: debug (was info)',
    'Applied: auth_password_format: plain, for passwords set from now on (stored ones keep their format)',
    'Applied: acl, access_rules: for every check from now on',
    'Applied: listen: the default XMPP client listener on 127.0.0.1 closed',
    `Applied: listen: XMPP client listener on 127.0.0.1 port ${c2s} (STARTTLS required) opened`,
    `Applied: listen: HTTP listener on 127.0.0.1 port ${api} (/api) opened`,
    'Applied: modules: mod_muc: default_room_options, history_size; default_room_options apply to rooms created from now on',
    'Not applied: node_name, ctl_socket_group: they take effect when the node is stopped and started again (ctl stop; ctl start), not with ctl restart',
  ];
  expect(await ctl(['reload_config'])).toEqual({ status: 0, stdout: '', stderr: `${report.join('\n')}\n` });
  const log = readFileSync(join(home, 'log', 'ctl.log'), 'utf8');
  const logged = log.slice(log.indexOf('configuration reloaded from')).split('\n').slice(1, -1);
  expect(logged.map((l) => l.replace(/^\S+ \[info\] /, ''))).toEqual(report);
  expect(await ctl(['get_loglevel'])).toEqual({ status: 0, stdout: '5\tdebug\tDebug\n', stderr: '' });

  // What waits for the next start is said again until then, and only that.
  expect(await ctl(['reload_config'])).toEqual({ status: 0, stdout: '', stderr: `${report[report.length - 1]}\n` });
});

test('mod_muc switched off and on again', async () => {
  await startNode();
  write('modules: {}\n');
  expect(await ctl(['reload_config'])).toEqual({
    status: 0,
    stdout: '',
    stderr: 'Applied: modules: mod_muc removed: the MUC service no longer answers (its rooms stay stored)\n',
  });
  write('modules:\n  mod_muc: {}\n');
  expect(await ctl(['reload_config'])).toEqual({ status: 0, stdout: '', stderr: 'Applied: modules: mod_muc: the MUC service answers from now on\n' });
});

test('certificate files that cannot be read fail the reload, naming them; the node serves on', async () => {
  await startNode();
  write('hosts: [localhost, example.org]\ncertfiles:\n  - /nonexistent/*.pem\n');
  const why = `No certificate file matches /nonexistent/*.pem; the rest of ${join(home, 'ctl.yml')} is applied, and the log says which listeners are open: run reload_config again once that is fixed`;
  expect(await ctl(['reload_config'])).toEqual({ status: 1, stdout: '', stderr: `Applied: hosts: added example.org\nError: ${why}\n` });
  expect(readFileSync(join(home, 'log', 'ctl.log'), 'utf8')).toContain(`[error] ${why}\n`);
  expect((await ctl(['status'])).status).toBe(0);
});

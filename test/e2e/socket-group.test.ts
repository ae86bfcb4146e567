/**
 * ctl_socket_group: a member of the group reaches the node's control socket, which means its
 * run directory too; anyone else is kept out by the modes.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allCommands } from '../../commands';
import { createRegistry } from '../../src/core/registry';
import { startNode, type RunningNode } from '../../src/node/daemon';
import { resolveHome } from '../../src/config/home';
import { tempHome } from '../helpers/cli';
import { cleanEnv, ensureBuilt, launcher, type ProcResult } from '../helpers/proc';

jest.setTimeout(180_000);

const isRoot = process.getuid?.() === 0;
const suffix = `${process.pid}`;
// As root (CI), a real group with one member and one outsider; otherwise the test's own group.
const GROUP = `ctlsock${suffix}`;
const MEMBER = `ctlmem${suffix}`;
const OUTSIDER = `ctlout${suffix}`;

let home: ReturnType<typeof tempHome>;
let node: RunningNode | undefined;
let gid: number;

beforeAll(() => {
  if (isRoot) {
    execFileSync('groupadd', [GROUP]);
    execFileSync('useradd', ['-M', '-N', '-g', 'nogroup', '-G', GROUP, '-s', '/usr/sbin/nologin', MEMBER]);
    execFileSync('useradd', ['-M', '-N', '-g', 'nogroup', '-s', '/usr/sbin/nologin', OUTSIDER]);
    gid = Number(execFileSync('getent', ['group', GROUP]).toString().split(':')[2]);
    ensureBuilt();
  } else {
    gid = process.getgid!();
  }
});

afterAll(() => {
  if (!isRoot) return;
  for (const user of [MEMBER, OUTSIDER]) execFileSync('userdel', [user]);
  execFileSync('groupdel', [GROUP]);
});

beforeEach(() => {
  home = tempHome('ctl-group-');
  // The home is the operator's to open (as /var/lib/ctl is, 0755); the node opens run/ itself.
  chmodSync(home.dir, 0o711);
});

afterEach(async () => {
  if (node) {
    await node.control.stop();
    await node.stopped;
    node = undefined;
  }
  home.cleanup();
});

async function start(config: string): Promise<void> {
  writeFileSync(join(home.dir, 'ctl.yml'), config);
  node = await startNode({ home: resolveHome({ home: home.dir }), registry: createRegistry(allCommands), version: '0.0.0-test', lockTimeout: 5000 });
}

/** `ctl ARGS` as another user, through runuser. */
function ctlAs(user: string, args: readonly string[]): Promise<ProcResult> {
  const child = spawn('runuser', ['-u', user, '--', process.execPath, launcher, ...args, '--home', home.dir], { env: cleanEnv(), cwd: '/', timeout: 90_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end();
  return new Promise((done) => child.on('close', (status) => done({ status, stdout, stderr })));
}

const modeAndGroup = (path: string) => {
  const st = statSync(path);
  return [st.mode & 0o777, st.gid];
};

test('the run directory is 0710 for the group and the socket 0660, so a member can use ctl', async () => {
  await start(`ctl_socket_group: ${isRoot ? GROUP : gid}\n`);
  expect(modeAndGroup(join(home.dir, 'run'))).toEqual([0o710, gid]);
  expect(modeAndGroup(join(home.dir, 'run', 'ctl.sock'))).toEqual([0o660, gid]);
  if (!isRoot) return;
  expect(await ctlAs(MEMBER, ['ping'])).toEqual({ status: 0, stdout: 'pong\n', stderr: '' });
  expect(await ctlAs(MEMBER, ['registered_vhosts'])).toEqual({ status: 0, stdout: 'localhost\n', stderr: '' });
  const outsider = await ctlAs(OUTSIDER, ['registered_vhosts']);
  expect(outsider.status).toBe(3);
  expect(outsider.stdout).toBe('');
});

test('without ctl_socket_group the run directory is the owner’s alone again', async () => {
  await start(`ctl_socket_group: ${isRoot ? GROUP : gid}\n`);
  await node!.control.stop();
  await node!.stopped;
  node = undefined;
  await start('hosts: [localhost]\n');
  expect(modeAndGroup(join(home.dir, 'run')).slice(0, 1)).toEqual([0o700]);
  expect(modeAndGroup(join(home.dir, 'run', 'ctl.sock')).slice(0, 1)).toEqual([0o600]);
  if (!isRoot) return;
  expect((await ctlAs(MEMBER, ['ping'])).status).not.toBe(0);
});

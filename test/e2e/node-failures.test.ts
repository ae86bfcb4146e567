/**
 * The node when things go wrong (DESIGN.md §4–5): a socket that accepts but never answers, a
 * caller the socket's permissions shut out, SIGTERM, and what a killed node leaves behind.
 *
 * Every test has its own home; afterEach stops the node (kill -9 by its pid when `ctl stop`
 * cannot) and any helper process, so that no process outlives the tests.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, cleanEnv, ctlProcess, ensureBuilt, killNodes, launcher, root, trackNodes, waitGone, type ProcResult } from '../helpers/proc';

jest.setTimeout(120_000);
beforeAll(ensureBuilt);

let home = ''; // set by beforeEach; empty when no test ran
const socketOf = () => join(home, 'run', 'ctl.sock');
const pidFileOf = () => join(home, 'run', 'ctl.pid');
const ctl = (args: readonly string[], stdin?: string) => ctlProcess(home, args, { stdin });
const ok = (stdout = ''): ProcResult => ({ status: 0, stdout, stderr: '' });
const notRunning = (): ProcResult => ({
  status: 3,
  stdout: '',
  stderr: `Error: status needs a running node, and none is running on ${home}: start it with 'ctl start'\n`,
});

/** Helper processes of the test: afterEach makes sure none survives. */
const helpers: ChildProcess[] = [];

const { pids: nodePids, nodePid, startNode } = trackNodes(() => home);

/** A node process listening on the home's socket path, answering nothing; prints what it sees. */
async function listenSilently(path: string): Promise<{ child: ChildProcess; seen: () => string }> {
  const script = `
    const net = require('node:net');
    net.createServer((s) => {
      process.stdout.write('connection\\n');
      s.on('data', () => process.stdout.write('request\\n'));
    }).listen(process.argv[1], () => process.stdout.write('ready\\n'));
  `;
  const child = spawn(process.execPath, ['-e', script, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  helpers.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  while (!out.includes('ready\n')) {
    if (child.exitCode !== null) throw new Error(`the silent listener exited (${child.exitCode})`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, seen: () => out };
}

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'ctl-fail-'));
  nodePids.clear();
});

afterEach(async () => {
  if (!home) return; // beforeAll failed: no test ran
  for (const child of helpers.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  if (existsSync(pidFileOf())) nodePid();
  if (existsSync(socketOf())) await ctl(['stop', '--timeout', '30']);
  await killNodes(nodePids, home);
  rmSync(home, { recursive: true, force: true });
  home = '';
});

test('a socket that accepts but never answers: --timeout 1 gives exit 3 within seconds, naming the socket', async () => {
  mkdirSync(join(home, 'run'), { mode: 0o700 });
  const hung = await listenSilently(socketOf());

  const started = Date.now();
  const r = await ctl(['check_account', 'a', 'localhost', '--timeout', '1']);
  const elapsed = Date.now() - started;

  expect(r.status).toBe(3);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(new RegExp(`^Error: Cannot reach the node at ${escape(socketOf())}: no answer within 1 s \\(is the node hung\\?\\)[^\\n]*\\n$`));
  expect(elapsed).toBeGreaterThanOrEqual(1_000);
  expect(elapsed).toBeLessThan(8_000);
  expect(hung.seen()).toMatch(/connection\n(.*\n)*request\n/); // it did ask the socket, and waited for it
});

test('a caller who may not open the socket gets exit 3 with the path and "permission denied"', async () => {
  // Permissions do not stop root: the caller runs as nobody. The home is in a directory nobody
  // may traverse, so what shuts nobody out is the node's own run/ (0700) and socket (0600).
  rmSync(home, { recursive: true, force: true });
  home = mkdtempSync(join('/tmp', 'ctl-perm-'));
  chmodSync(home, 0o755);
  const asNobody = (args: readonly string[]) => {
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...args], {
      env: cleanEnv(),
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { error: r.error?.message, status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  // This machine must be able to run the scenario: fail (not skip) and say why when it cannot.
  const probe = asNobody([
    '-e',
    `require('node:fs').accessSync(${JSON.stringify(home)}, require('node:fs').constants.X_OK); process.stdout.write(process.getuid() + ':' + process.getgid())`,
  ]);
  if (probe.error || probe.status !== 0 || probe.stdout !== '65534:65534') {
    throw new Error(
      `This test needs root, setpriv (util-linux) and uid/gid 65534 able to run node and traverse ${home}; ` +
        `\`setpriv --reuid=65534 --regid=65534 --clear-groups node\` gave: ${JSON.stringify(probe)} (running as uid ${process.getuid?.()})`,
    );
  }
  const help = asNobody([launcher, 'help']);
  if (help.status !== 0 || !help.stdout.includes('batch')) {
    throw new Error(`uid 65534 cannot run ${launcher} (is ${root} or dist/ unreadable for it?): ${JSON.stringify(help)}`);
  }

  await startNode();
  expect(await ctl(['register', 'alice', 'localhost', 'pw'])).toEqual(ok('User alice@localhost successfully registered\n'));
  expect(statSync(join(home, 'run')).mode & 0o777).toBe(0o700);
  expect(statSync(socketOf()).mode & 0o777).toBe(0o600);

  for (const args of [
    ['check_account', 'alice', 'localhost'],
    ['register', 'mallory', 'localhost', 'pw'],
  ]) {
    const r = asNobody([launcher, ...args, '--home', home, '--timeout', '10']);
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 3, stdout: '' });
    expect(r.stderr).toContain(socketOf());
    expect(r.stderr).toContain('permission denied');
    expect(r.stderr.trim().split('\n')).toHaveLength(1); // a message, not a stack trace
  }

  // Nothing changed, and the node still serves its own user.
  expect(await ctl(['registered_users', 'localhost'])).toEqual(ok('alice\n'));
});

test('SIGTERM stops the node cleanly: socket and pid file gone, "stopped" logged, the last write kept', async () => {
  const pid = await startNode();
  expect(await ctl(['register', 'before', 'localhost', 'pw-before'])).toEqual(ok('User before@localhost successfully registered\n'));
  expect(await ctl(['set_last', 'before', 'localhost', '1700000000', 'away'])).toEqual(ok());

  process.kill(pid, 'SIGTERM');
  expect(await waitGone(pid, 30_000)).toBe(true);
  expect(existsSync(socketOf())).toBe(false);
  expect(existsSync(pidFileOf())).toBe(false);
  expect(readFileSync(join(home, 'log', 'ctl.log'), 'utf8')).toMatch(/\[info\] stopping\n[^\n]*\[info\] stopped\n$/);
  expect(await ctl(['status'])).toEqual(notRunning());

  const again = await startNode();
  expect(again).not.toBe(pid);
  expect(await ctl(['check_password', 'before', 'localhost', 'pw-before'])).toEqual(ok());
  expect(await ctl(['get_last', 'before', 'localhost'])).toEqual(ok('2023-11-14 22:13:20 away\n'));
  expect(await ctl(['registered_users', 'localhost'])).toEqual(ok('before\n'));
  expect(await ctl(['stop'])).toEqual(ok());
});

test('a stale pid file naming a dead process and a stale socket: local calls work, ctl start cleans up', async () => {
  // What a kill -9 leaves behind: a socket file nobody listens on, the pid of a dead process.
  mkdirSync(join(home, 'run'), { mode: 0o700 });
  const { child } = await listenSilently(socketOf());
  const deadPid = child.pid!;
  writeFileSync(pidFileOf(), `${deadPid}\n`);
  child.kill('SIGKILL');
  await once(child, 'exit');
  expect(alive(deadPid)).toBe(false);
  expect(existsSync(socketOf())).toBe(true);

  expect(await ctl(['status'])).toEqual(notRunning());
  expect(await ctl(['register', 'early', 'localhost', 'pw'])).toEqual(ok('User early@localhost successfully registered\n'));

  const pid = await startNode();
  expect(pid).not.toBe(deadPid);
  expect(alive(pid)).toBe(true);
  const status = await ctl(['status']);
  expect(status).toMatchObject({ status: 0, stderr: '' });
  expect(status.stdout).toMatch(/^The node ctl@localhost is started with status: started\n/);
  expect(await ctl(['check_account', 'early', 'localhost'])).toEqual(ok());
  expect(await ctl(['stop'])).toEqual(ok());
  expect(existsSync(socketOf())).toBe(false);
  expect(existsSync(pidFileOf())).toBe(false);
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * What an operator meets when the machine is not as the node needs it: a port another program
 * holds, a file where a directory should be, a directory where a file should be. Each is a plain
 * sentence naming the path or the port, on stderr and in the node's log, never a crash.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, ctlProcess, ensureBuilt, killNodes, launcher, trackNodes, type ProcResult } from '../helpers/proc';
import { freePort } from '../helpers/http-node';

jest.setTimeout(120_000);
beforeAll(ensureBuilt);

let base = '';
let home = '';
let holder: Server | undefined;
const ctl = (args: readonly string[]) => ctlProcess(home, args);
const log = () => readFileSync(join(home, 'log', 'ctl.log'), 'utf8');
const { pids, startNode } = trackNodes(() => home);

/** A port another program holds. */
async function takenPort(): Promise<number> {
  const port = await freePort();
  holder = createServer();
  await new Promise<void>((resolve) => holder!.listen(port, '127.0.0.1', resolve));
  return port;
}

const c2s = (port: number) => `listen:\n  - port: ${port}\n    ip: 127.0.0.1\n    module: ejabberd_c2s\n`;
const http = (port: number) => `listen:\n  - port: ${port}\n    ip: 127.0.0.1\n    module: ejabberd_http\n    request_handlers:\n      /api: mod_http_api\n`;

/** No crash wording anywhere: what the operator reads is a sentence about the machine. */
function plain(r: ProcResult): ProcResult {
  expect(`${r.stdout}${r.stderr}`).not.toMatch(/internal error|crashed|--debug|\n\s+at /);
  return r;
}

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'ctl-operr-'));
  home = join(base, 'home');
  mkdirSync(home);
});
afterEach(async () => {
  if (existsSync(join(home, 'run', 'ctl.sock'))) await ctl(['stop']);
  await killNodes(pids, home);
  pids.clear();
  await new Promise((resolve) => (holder ? holder.close(resolve) : resolve(undefined)));
  holder = undefined;
  rmSync(base, { recursive: true, force: true });
});

describe('a listen port already taken', () => {
  test('ctl start: exit 1, the port named on stderr and in the log', async () => {
    const port = await takenPort();
    writeFileSync(join(home, 'ctl.yml'), c2s(port));
    const r = plain(await ctl(['start']));
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^Error: Cannot start the node on ${home}: the node exited \\(status 1\\)\\. `));
    expect(r.stderr).toContain(`[error] Cannot listen on 127.0.0.1 port ${port}: the port is in use\n`);
    expect(log()).toMatch(new RegExp(`\\[error\\] Cannot listen on 127\\.0\\.0\\.1 port ${port}: the port is in use\\n`));
    expect(existsSync(join(home, 'run', 'ctl.sock'))).toBe(false);
  });

  test('ctl foreground: exit 1, the log on stderr and then the error', async () => {
    const port = await takenPort();
    writeFileSync(join(home, 'ctl.yml'), http(port));
    const child = spawn(process.execPath, [launcher, 'foreground', '--home', home], { env: cleanEnv() });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const [status] = await once(child, 'exit');
    expect(status).toBe(1);
    expect(stderr).toMatch(
      new RegExp(
        `\\[error\\] Cannot listen on 127\\.0\\.0\\.1 port ${port}: the port is in use\\nError: Cannot listen on 127\\.0\\.0\\.1 port ${port}: the port is in use\\n$`,
      ),
    );
    expect(stderr).not.toMatch(/internal error|crashed/);
  });

  test('an HTTP listener on an address this machine does not have: said as plainly', async () => {
    // 192.0.2.0/24 is for documentation (RFC 5737): no machine has it.
    writeFileSync(join(home, 'ctl.yml'), http(await freePort()).replace('127.0.0.1', '192.0.2.1'));
    const r = plain(await ctl(['foreground']));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\nError: Cannot listen on 192\.0\.2\.1 port \d+: no such address on this machine\n$/);
  });

  test('ctl restart onto a taken port: exit 1, logged, the node still answers ctl, and a later restart recovers', async () => {
    await startNode();
    const port = await takenPort();
    writeFileSync(join(home, 'ctl.yml'), c2s(port));
    const why = `Cannot listen on 127.0.0.1 port ${port}: the port is in use; the node answers ctl, but serves no XMPP clients and no HTTP listener until a restart succeeds`;
    expect(plain(await ctl(['restart']))).toEqual({ status: 1, stdout: '', stderr: `Error: ${why}\n` });
    expect(log()).toContain(`[error] ${why}\n`);
    expect((await ctl(['status'])).status).toBe(0);
    await new Promise((resolve) => holder!.close(resolve));
    holder = undefined;
    expect(await ctl(['restart'])).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(log()).toMatch(new RegExp(`listening for XMPP clients on 127\\.0\\.0\\.1 port ${port} `));
  });

  test.each([
    ['an XMPP client listener', c2s, ''],
    // A listen without ejabberd_c2s has no client listener: the default one closes, as it should.
    ['an HTTP listener', http, 'Applied: listen: the default XMPP client listener on 127.0.0.1 closed\n'],
  ])('reload_config naming %s on it: exit 1, the rest applied, the node serving on', async (_what, listen, closed) => {
    await startNode();
    const port = await takenPort();
    writeFileSync(join(home, 'ctl.yml'), `hosts: [localhost, example.org]\n${listen(port)}`);
    const why = `Cannot listen on 127.0.0.1 port ${port}: the port is in use; the rest of ${join(home, 'ctl.yml')} is applied, and the log says which listeners are open: run reload_config again once that is fixed`;
    const r = plain(await ctl(['reload_config']));
    expect(r).toEqual({ status: 1, stdout: '', stderr: `Applied: hosts: added example.org\n${closed}Error: ${why}\n` });
    expect(log()).toContain(`[error] ${why}\n`);
    expect(await ctl(['registered_vhosts'])).toEqual({ status: 0, stdout: 'localhost\nexample.org\n', stderr: '' });
    expect((await ctl(['status'])).status).toBe(0);
  });
});

describe('files and directories that are not what the node needs', () => {
  test.each([
    [
      'the home is a file',
      () => rmSync(home, { recursive: true }) ?? writeFileSync(home, ''),
      () => `Cannot create the directory ${home}/run: a part of the path is not a directory`,
    ],
    ['db is a file', () => writeFileSync(join(home, 'db'), ''), () => `Cannot create the directory ${home}/db: a file of that name exists`],
    ['the log directory is a file', () => writeFileSync(join(home, 'log'), ''), () => `Cannot create the directory ${home}/log: a file of that name exists`],
    [
      'the log file is a directory',
      () => mkdirSync(join(home, 'log', 'ctl.log'), { recursive: true }),
      () => `Cannot open ${home}/log/ctl.log: it is a directory`,
    ],
    [
      'the pid file is a directory',
      () => mkdirSync(join(home, 'run', 'ctl.pid'), { recursive: true }),
      () => `Cannot remove ${home}/run/ctl.pid: it is a directory`,
    ],
    ['the cookie is a directory', () => mkdirSync(join(home, 'cookie')), () => `Cannot read ${home}/cookie: it is a directory`],
  ])('%s: ctl foreground says so, naming the path, exit 1', async (_what, make, message) => {
    make();
    const r = plain(await ctlProcess(home, ['foreground', '--timeout', '5']));
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.endsWith(`Error: ${message()}\n`)).toBe(true);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('Error:'))).toEqual([`Error: ${message()}`]);
  });

  test('a home whose socket path is too long for a Unix socket: said before anything listens', async () => {
    home = join(base, 'h'.repeat(120));
    mkdirSync(home);
    const socket = join(home, 'run', 'ctl.sock');
    const r = plain(await ctlProcess(home, ['foreground']));
    expect(r.status).toBe(1);
    expect(
      r.stderr.endsWith(
        `Error: Cannot listen on ${socket}: the path is ${Buffer.byteLength(socket)} bytes long, and a Unix socket's may be at most 107: choose a shorter home (--home)\n`,
      ),
    ).toBe(true);
  });

  test('the cookie is a directory: ctl start shows the logged error from the node', async () => {
    mkdirSync(join(home, 'cookie'));
    const r = plain(await ctl(['start']));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`[error] Cannot read ${home}/cookie: it is a directory\n`);
  });
});

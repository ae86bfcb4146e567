/**
 * The node's life, from the command line: start, status, forwarding, server commands, stop.
 */
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cleanEnv, ctlProcess, ensureBuilt, launcher, root, type ProcResult } from '../helpers/proc';

jest.setTimeout(120_000);
beforeAll(ensureBuilt);

let home: string;
const ctl = (args: readonly string[], stdin?: string) => ctlProcess(home, args, { stdin });
const ok = (stdout = ''): ProcResult => ({ status: 0, stdout, stderr: '' });

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'ctl-node-'));
});
afterEach(async () => {
  if (existsSync(join(home, 'run', 'ctl.sock'))) await ctl(['stop']);
  rmSync(home, { recursive: true, force: true });
});

test('start, status, a second start, ping, stop: the whole round trip', async () => {
  expect(await ctl(['status'])).toEqual({
    status: 3,
    stdout: '',
    stderr: `Error: status needs a running node, and none is running on ${home}: start it with 'ctl start'\n`,
  });
  expect(await ctl(['ping'])).toEqual({ status: 3, stdout: 'pang\n', stderr: '' });
  expect(await ctl(['start'])).toEqual(ok());
  expect(statSync(join(home, 'run', 'ctl.sock')).mode & 0o777).toBe(0o600);
  const pid = Number(readFileSync(join(home, 'run', 'ctl.pid'), 'utf8'));
  expect(() => process.kill(pid, 0)).not.toThrow();
  // The node runs with a small young generation: idle client sessions cost half the memory.
  expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toContain('--max-semi-space-size=1');
  const version = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')).version;
  expect(await ctl(['status'])).toEqual(ok(`The node ctl@localhost is started with status: started\nctl ${version} is running in that node\n`));
  expect(await ctl(['start'])).toEqual({ status: 1, stdout: '', stderr: `Error: A node is already running on ${home}\n` });
  expect(await ctl(['ping'])).toEqual(ok('pong\n'));
  expect(await ctl(['started'])).toEqual(ok());
  expect(await ctl(['stop'])).toEqual(ok());
  expect(existsSync(join(home, 'run', 'ctl.sock'))).toBe(false);
  expect(existsSync(join(home, 'run', 'ctl.pid'))).toBe(false);
  expect(await ctl(['stopped'])).toEqual(ok());
  expect(await ctl(['started', '--timeout', '0.3'])).toEqual({ status: 1, stdout: '', stderr: '' });
  const log = readFileSync(join(home, 'log', 'ctl.log'), 'utf8');
  expect(log).toMatch(/\[info\] node ctl@localhost started \(ctl [\d.]+, pid \d+, socket .*ctl\.sock\)\n/);
  expect(log).toMatch(/\[info\] stopped\n$/);
});

test('ctl foreground runs the node attached, logging to stderr, until SIGINT', async () => {
  const child = spawn(process.execPath, [launcher, 'foreground', '--home', home], { env: cleanEnv() });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = once(child, 'exit');
  try {
    while (!stderr.includes('started')) await new Promise((r) => setTimeout(r, 50));
    expect(await ctl(['register', 'fg', 'localhost', 'pw'])).toEqual(ok('User fg@localhost successfully registered\n'));
    child.kill('SIGINT');
    expect(await exited).toEqual([0, null]);
  } finally {
    child.kill('SIGKILL');
  }
  expect(stderr).toMatch(/\[info\] node ctl@localhost started .*\n.*\[info\] stopping\n.*\[info\] stopped\n$/);
  expect(readFileSync(join(home, 'log', 'ctl.log'), 'utf8')).toBe(stderr);
  expect(existsSync(join(home, 'run', 'ctl.sock'))).toBe(false);
  expect(await ctl(['check_account', 'fg', 'localhost'])).toEqual(ok());
});

test('a node that cannot start says why, with the last lines of its log', async () => {
  writeFileSync(join(home, 'ctl.yml'), 'hosts: []\n');
  const r = await ctl(['start']);
  expect(r.status).toBe(1);
  expect(r.stderr).toContain(`Error: Cannot start the node on ${home}: the node exited (status 1). Its log (${join(home, 'log', 'ctl.log')}) says:\n`);
  expect(r.stderr).toContain('Invalid configuration');
  expect(r.stderr).toContain("'hosts' must be a non-empty list of host names");
  expect(existsSync(join(home, 'run', 'ctl.sock'))).toBe(false);
});

test('ctl_socket_group opens the socket to a group; an unknown group stops the start', async () => {
  writeFileSync(join(home, 'ctl.yml'), 'ctl_socket_group: 0\n');
  expect(await ctl(['start'])).toEqual(ok());
  const st = statSync(join(home, 'run', 'ctl.sock'));
  expect([st.mode & 0o777, st.gid]).toEqual([0o660, 0]);
  await ctl(['stop']);
  writeFileSync(join(home, 'ctl.yml'), 'ctl_socket_group: no-such-group-here\n');
  const r = await ctl(['start']);
  expect(r.status).toBe(1);
  expect(r.stderr).toContain("ctl_socket_group: no group named 'no-such-group-here'");
});

test('commands run on the node and change what the node serves', async () => {
  await ctl(['start']);
  expect(await ctl(['register', 'alice', 'localhost', 's3cret'])).toEqual(ok('User alice@localhost successfully registered\n'));
  expect(await ctl(['register', 'alice', 'localhost', 'x'])).toEqual({ status: 1, stdout: '', stderr: 'Error: User alice@localhost already registered\n' });
  expect(await ctl(['--stdin', 'password', 'check_password', 'alice', 'localhost'], 's3cret\n')).toEqual(ok());
  expect(await ctl(['stats', 'registeredusers'])).toEqual(ok('1\n'));
  expect(await ctl(['stats_host', 'registeredusers', 'localhost'])).toEqual(ok('1\n'));
  expect(await ctl(['stats', 'onlineusers'])).toEqual(ok('0\n'));
  expect(Number((await ctl(['stats', 'uptimeseconds'])).stdout)).toBeGreaterThanOrEqual(0);
  expect(Number((await ctl(['stats', 'processes'])).stdout)).toBeGreaterThan(0);
  expect(await ctl(['stats', 'users'])).toEqual({
    status: 2,
    stdout: '',
    stderr: "Error: Unknown statistic 'users' (name): use registeredusers, onlineusers, onlineusersnode, uptimeseconds, processes\nUsage: ctl stats name\n",
  });
  expect((await ctl(['stats_host', 'processes', 'localhost'])).status).toBe(2);
  expect(await ctl(['incoming_s2s_number'])).toEqual(ok('0\n'));
  expect(await ctl(['outgoing_s2s_number'])).toEqual(ok('0\n'));
  expect(await ctl(['list_cluster'])).toEqual(ok('ctl@localhost\n'));
  const cookie = (await ctl(['get_cookie'])).stdout;
  expect(cookie).toMatch(/^[A-Z]{20}\n$/);
  expect(readFileSync(join(home, 'cookie'), 'utf8')).toBe(cookie);
  expect(statSync(join(home, 'cookie')).mode & 0o777).toBe(0o600);
  await ctl(['stop']);
  await ctl(['start']);
  expect((await ctl(['get_cookie'])).stdout).toBe(cookie);
  expect(await ctl(['registered_users', 'localhost'])).toEqual(ok('alice\n'));
});

test('log level, reopening and rotating the log', async () => {
  await ctl(['start']);
  expect(await ctl(['get_loglevel'])).toEqual(ok('4\tinfo\tInfo\n'));
  expect(await ctl(['set_loglevel', '5'])).toEqual(ok('debug\n'));
  expect(await ctl(['get_loglevel'])).toEqual(ok('5\tdebug\tDebug\n'));
  expect((await ctl(['set_loglevel', '6'])).stderr).toBe(
    'Error: The log level (loglevel) must be 0 to 5 or one of none, critical, error, warning, info, debug, got 6\nUsage: ctl set_loglevel loglevel\n',
  );
  expect((await ctl(['set_loglevel', 'high'])).status).toBe(2);
  const log = join(home, 'log', 'ctl.log');
  // logrotate's way: move the file, then ask the node to reopen it by name.
  renameSync(log, `${log}.moved`);
  expect(await ctl(['reopen_log'])).toEqual(ok());
  await ctl(['set_loglevel', '4']);
  expect(readFileSync(log, 'utf8')).toMatch(/\[info\] log level set to 4\n$/);
  expect(readFileSync(`${log}.moved`, 'utf8')).toContain('log level set to 5');
  expect(await ctl(['rotate_log'])).toEqual(ok());
  await ctl(['set_loglevel', '3']);
  await ctl(['set_loglevel', '4']);
  expect(readFileSync(`${log}.1`, 'utf8')).toMatch(/log level set to 4\n$/);
  expect(readFileSync(log, 'utf8')).toMatch(/^\S+ \[info\] log level set to 4\n$/);
});

test('reload_config applies a valid file and refuses an invalid one, keeping the running configuration', async () => {
  await ctl(['start']);
  writeFileSync(join(home, 'ctl.yml'), 'hosts: [localhost, example.org]\n');
  expect(await ctl(['reload_config'])).toEqual({ status: 0, stdout: '', stderr: 'Applied: hosts: added example.org\n' });
  expect(await ctl(['registered_vhosts'])).toEqual(ok('localhost\nexample.org\n'));
  expect((await ctl(['register', 'bob', 'example.org', 'pw'])).status).toBe(0);
  writeFileSync(join(home, 'ctl.yml'), 'hosts: [localhost\n');
  const bad = await ctl(['reload_config']);
  expect(bad.status).toBe(1);
  expect(bad.stderr).toMatch(/^Error: Invalid configuration .*ctl\.yml \(line \d\): /);
  expect(await ctl(['registered_vhosts'])).toEqual(ok('localhost\nexample.org\n'));
  expect(await ctl(['status'])).toMatchObject({ status: 0 });
});

test('restart re-reads the configuration and reopens the database in the same process', async () => {
  await ctl(['start']);
  const pid = readFileSync(join(home, 'run', 'ctl.pid'), 'utf8');
  await ctl(['register', 'alice', 'localhost', 'pw']);
  writeFileSync(join(home, 'ctl.yml'), 'hosts: [localhost, example.org]\n');
  expect(await ctl(['restart'])).toEqual(ok());
  expect(readFileSync(join(home, 'run', 'ctl.pid'), 'utf8')).toBe(pid);
  expect(await ctl(['registered_vhosts'])).toEqual(ok('localhost\nexample.org\n'));
  expect(await ctl(['registered_users', 'localhost'])).toEqual(ok('alice\n'));
  writeFileSync(join(home, 'ctl.yml'), 'frobs: 1\n');
  expect((await ctl(['restart'])).status).toBe(1);
  expect(await ctl(['registered_vhosts'])).toEqual(ok('localhost\nexample.org\n'));
});

test('stop_kindly reports each step on stderr, waits, and stops', async () => {
  await ctl(['start']);
  const started = Date.now();
  const r = await ctl(['stop_kindly', '1', 'Going down for maintenance']);
  expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  expect(r.status).toBe(0);
  expect(r.stdout).toBe('');
  expect(r.stderr.replace(/ \d+s\]/g, ' Ns]')).toBe(
    '[1/5 Ns] Stopping new client connections... ok\n' +
      '[2/5 Ns] Sending announcement to connected users: Going down for maintenance... 0 sessions\n' +
      '[3/5 Ns] Sending service message to MUC rooms... 0 rooms\n' +
      '[4/5 Ns] Waiting 1 seconds... ok\n' +
      '[5/5 Ns] Stopping the node... ok\n',
  );
  expect(existsSync(join(home, 'run', 'ctl.sock'))).toBe(false);
  expect((await ctl(['stop_kindly', '-1', 'x'])).status).toBe(3);
});

/** The same calls give the same bytes and statuses with and without a node. */
test('every result is identical whether the command ran locally or on the node', async () => {
  const table: string[][] = [
    ['register', 'alice', 'localhost', 'pw'],
    ['register', 'alice', 'localhost', 'pw'],
    ['register', 'bad user', 'localhost', 'pw'],
    ['register', 'bob', 'nowhere.example', 'pw'],
    ['register', 'bob', 'localhost'],
    ['check_account', 'alice', 'localhost'],
    ['check_account', 'nobody', 'localhost'],
    ['check_password_hash', 'alice', 'localhost', 'abc', 'md5'],
    ['set_last', 'alice', 'localhost', '1700000000', 'away'],
    ['get_last', 'alice', 'localhost'],
    ['registered_users', 'localhost'],
    ['--format', 'json', 'registered_users', 'localhost'],
    ['--format', 'tsv', 'tell_list_3tuple'],
    ['echo_isatils', '7', 'tab\there', 'atom', '2:a,b'],
    ['tell_rescode', '3'],
    ['tell_restuple', '2'],
    ['this_crashes', '1'],
    ['this_wrong_return'],
    ['this_wrong_args', '1', '2'],
    ['echo_integer', '12abc'],
    ['registerd_users', 'localhost'],
    ['delete_old_users', '-1'],
    ['ban_account', 'ghost', 'localhost', 'x'],
    ['unregister', 'alice', 'localhost'],
    ['registered_users', 'localhost'],
  ];
  const run = async () => {
    const out = [];
    for (const argv of table) out.push(await ctl(argv));
    return out;
  };
  const local = await run();
  rmSync(join(home, 'db'), { recursive: true });
  await ctl(['start']);
  const forwarded = await run();
  for (const [i, argv] of table.entries()) expect([argv, forwarded[i]]).toEqual([argv, local[i]]);
  expect(local.filter((r) => r.status === 0)).toHaveLength(10);
});

/**
 * The modules `bin/ctl ARGS` loads (the keys of require.cache when it exits), run from `code`
 * in a script of its own: with `node -e` the process would have options of its own.
 */
const loadedBy = (code: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  new Promise<string[]>((resolve) => {
    const out = join(home, 'modules.json');
    const script = join(home, 'loaded-by.js');
    writeFileSync(
      script,
      `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(Object.keys(require.cache))));\n${code}\n`,
    );
    const child = spawn(process.execPath, [script, ...args, '--home', home], { env: { ...cleanEnv(), ...env } });
    child.on('exit', () => resolve(JSON.parse(readFileSync(out, 'utf8')).filter((m: string) => m !== script)));
  });
const built = (path: string) => JSON.stringify(join(root, 'dist', path));

test('a forwarded call loads neither the storage layer, zod, the executor nor what only a terminal needs', async () => {
  await ctl(['register', 'alice', 'localhost', 'pw']);
  // From the modules, as a build without the bundle runs: the bundle runs its parts on the same terms, when first required.
  const modules = (args: string[]) => loadedBy(`require(${built('src/node/launch.js')}).launch(process.argv.slice(2))`, args);
  const heavy = (loaded: string[]) => loaded.filter((m) => /classic-level|abstract-level|[\\/]storage[\\/]level\.js|[\\/]zod[\\/]/.test(m));
  const localOnly = (loaded: string[]) => loaded.filter((m) => /[\\/](core[\\/]executor|schema[\\/]conforms|cli[\\/](spinner|stdin|new-home))\.js$/.test(m));
  // Without a node the same call opens the database and runs the command, so the checks can tell the two apart.
  const local = await modules(['check_account', 'alice', 'localhost']);
  expect(heavy(local).length).toBeGreaterThan(0);
  expect(localOnly(local).length).toBeGreaterThan(0);
  await ctl(['start']);
  const forwarded = await modules(['check_account', 'alice', 'localhost']);
  expect(heavy(forwarded)).toEqual([]);
  // The node checks the arguments; progress, prompts and the new-home note are for calls in this process.
  expect(localOnly(forwarded)).toEqual([]);
});

test('bin/ctl runs the command line from its bundle, whose code cache this Node accepts; given V8 options, from the modules', async () => {
  const loaded = await loadedBy(`require(${JSON.stringify(launcher)})`, ['check_account', 'alice', 'localhost']);
  // The bundle is compiled by the launcher, not required: of dist/, the launcher is the one module loaded.
  const fromDist = (modules: string[]) => modules.filter((m) => m.startsWith(join(root, 'dist')));
  expect(fromDist(loaded)).toEqual([join(root, 'dist', 'src', 'node', 'launcher.js')]);
  const child = spawn(process.execPath, [
    '-e',
    `process.stdout.write(String(require(${built('src/node/launcher.js')}).loadBundle().script.cachedDataRejected))`,
  ]);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await once(child, 'exit');
  expect(out).toBe('false');
  // V8 would refuse the cache, made without flags: the modules load faster than the bundle compiled anew.
  const given = await loadedBy(`require(${JSON.stringify(launcher)})`, ['check_account', 'alice', 'localhost'], { NODE_OPTIONS: '--max-old-space-size=512' });
  expect(fromDist(given)).toContain(join(root, 'dist', 'src', 'transports', 'cli', 'main.js'));
});

test("a relative file argument names a file in the caller's directory, also through the node", async () => {
  await ctl(['start']);
  const cwd = mkdtempSync(join(tmpdir(), 'ctl-cwd-'));
  try {
    const r = await ctlProcess(home, ['gen_markdown_doc_for_commands', 'api.md', '^register$', 'json'], { cwd });
    expect(r).toEqual(ok());
    expect(readFileSync(join(cwd, 'api.md'), 'utf8')).toContain('## *register* - Register a user');
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('ctl batch through the node: one connection, same output, failures by line', async () => {
  await ctl(['start']);
  const input = 'register a localhost pw\nregister a localhost pw\ncheck_account a localhost\nregistered_users localhost\n';
  const r = await ctl(['batch'], input);
  expect(r).toEqual({
    status: 1,
    stdout: 'User a@localhost successfully registered\na\n',
    stderr: 'line 2: Error: User a@localhost already registered\n',
  });
});

/**
 * `ctl --url` against the real ejabberd Debian ships: each row runs once through ejabberdctl and
 * once through ctl's JSON API client, on data of its own (users e1, e2 for ejabberdctl, c1, c2
 * for ctl, so that writes can be compared too), and both must print the same bytes on standard
 * output and exit with the same status. Rows marked `shared` read what both sides see alike.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';
import { ejabberdVersion, startEjabberd, type Ejabberd } from '../helpers/ejabberd';
import { freePort } from '../helpers/http-node';
import { cleanEnv, ensureBuilt, launcher, type ProcResult } from '../helpers/proc';

const VERSION = ejabberdVersion();

interface Row {
  /** Words with `{a}`, `{b}` (two users) and `{g}` (a group), filled in for each side; `{sp}` is a space within a word. */
  readonly args: string;
  /** The same words for both sides: what they read is the same for both (all users, stats). */
  readonly shared?: boolean;
  /**
   * ejabberdctl prints its error messages on standard output, ctl on standard error: only the
   * exit status is compared, and ctl's standard output must be empty.
   */
  readonly error?: true;
  /** Where ejabberdctl's own text and its HTTP answer differ: what each prints, and why. */
  readonly differs?: { readonly ejabberdctl: string; readonly ctl: string; readonly why: string };
}

const ROWS: readonly Row[] = [
  // accounts
  { args: 'register {a} localhost pw' },
  { args: 'register {b} localhost pw' },
  { args: 'register {a} localhost pw', error: true },
  { args: 'check_account {a} localhost' },
  { args: 'check_account nobody localhost', error: true },
  { args: 'check_password {a} localhost pw' },
  { args: 'check_password {a} localhost wrong', error: true },
  { args: 'change_password {a} localhost pw2' },
  { args: 'check_password {a} localhost pw2' },
  { args: 'change_password nobody localhost pw', error: true },
  { args: 'registered_users localhost', shared: true },
  { args: 'registered_vhosts', shared: true },
  { args: 'register x nohost pw', error: true },
  { args: 'set_last {a} localhost 1700000000 away' },
  { args: 'get_last {a} localhost' },
  // roster
  { args: 'add_rosteritem {a} localhost {b} localhost Bee Friends both' },
  { args: 'add_rosteritem {b} localhost {a} localhost Ay Work to' },
  { args: 'get_roster {a} localhost' },
  { args: 'get_roster {b} localhost' },
  { args: 'delete_rosteritem {a} localhost nobody localhost' },
  { args: 'delete_rosteritem {a} localhost {b} localhost' },
  { args: 'delete_rosteritem {a} localhost {b} localhost' },
  { args: 'get_roster {a} localhost' },
  // vCard
  { args: 'set_vcard {a} localhost FN Ay_Full' },
  { args: 'get_vcard {a} localhost FN' },
  { args: 'get_vcard {b} localhost FN', error: true },
  { args: 'set_vcard2 {a} localhost N FAMILY Smith' },
  { args: 'get_vcard2 {a} localhost N FAMILY' },
  { args: 'set_nickname {a} localhost Nick' },
  { args: 'get_vcard {a} localhost NICKNAME' },
  // offline and private storage
  { args: 'get_offline_count {a} localhost' },
  { args: 'private_set {a} localhost <note{sp}xmlns="x:notes">hi</note>' },
  { args: 'private_get {a} localhost note x:notes' },
  { args: 'private_get {a} localhost other x:other' },
  // shared roster groups
  { args: 'srg_create {g} localhost Label Desc {g}' },
  { args: 'srg_list localhost', shared: true },
  {
    args: 'srg_get_info {g} localhost',
    differs: {
      ejabberdctl: 'label\tLabel\ndisplayed_groups\t["{g}"]\ndescription\tDesc\n',
      ctl: 'label\tLabel\ndisplayed_groups\t{g}\ndescription\tDesc\n',
      why: 'ejabberdctl prints the list of displayed groups as an Erlang term; the HTTP API joins it',
    },
  },
  { args: 'srg_user_add {a} localhost {g} localhost' },
  { args: 'srg_get_members {g} localhost' },
  { args: 'srg_user_del nobody localhost {g} localhost' },
  { args: 'srg_user_del {b} localhost {g} localhost' },
  { args: 'srg_user_del {a} localhost {g} localhost' },
  { args: 'srg_get_members {g} localhost' },
  { args: 'srg_delete {g} localhost' },
  { args: 'srg_delete {g} localhost' },
  { args: 'srg_delete nogroup localhost' },
  // stats and sessions (nobody is connected)
  { args: 'stats registeredusers', shared: true },
  { args: 'stats onlineusers', shared: true },
  { args: 'stats_host registeredusers localhost', shared: true },
  { args: 'connected_users', shared: true },
  { args: 'connected_users_number', shared: true },
  { args: 'connected_users_info', shared: true },
  { args: 'user_resources {a} localhost' },
  { args: 'num_resources {a} localhost' },
  { args: 'user_sessions_info {a} localhost' },
  { args: 'kick_user {a} localhost' },
  { args: 'get_loglevel', shared: true },
  {
    args: 'status',
    shared: true,
    differs: {
      ejabberdctl: 'The node {node} is started with status: started\nejabberd {version} is running in that node\n',
      ctl: 'The node {node} is started. Status: startedejabberd {version} is running in that node\n',
      why: "ejabberdctl answers status itself; the HTTP API's status command joins the two lines without a newline",
    },
  },
  // deleting what is not there succeeds, silently
  { args: 'unregister nobody localhost' },
  { args: 'unregister {a} localhost' },
  { args: 'unregister {a} localhost' },
  { args: 'check_account {a} localhost', error: true },
];

const fill = (args: string, side: 'e' | 'c') =>
  args
    .replace(/\{a\}/g, `${side}1`)
    .replace(/\{b\}/g, `${side}2`)
    .replace(/\{g\}/g, `${side}group`)
    .split(' ')
    .map((word) => word.replace(/\{sp\}/g, ' '));

describe(`ctl --url against ejabberd ${VERSION}`, () => {
  let ej: Ejabberd;
  let passwordFile: string;
  let node = '';
  let version = '';

  beforeAll(async () => {
    ensureBuilt();
    ej = await startEjabberd();
    passwordFile = join(ej.dir, 'admin.pw');
    writeFileSync(passwordFile, `${ej.admin.password}\n`);
    const status = await ej.ejabberdctl(['status']);
    node = /The node (\S+) is/.exec(status.stdout)![1];
    version = /ejabberd (\S+) is running/.exec(status.stdout)![1];
  }, 120_000);

  afterAll(() => ej?.stop(), 60_000);

  const remote = (args: readonly string[], env: NodeJS.ProcessEnv = {}) =>
    runCli(['--url', ej.url, '--user', ej.admin.jid, '--password-file', passwordFile, ...args], { env });

  test(`the server runs ejabberd ${VERSION}`, () => {
    expect(version.startsWith(VERSION)).toBe(true);
  });

  test(`account, roster, vCard, offline, private, shared roster, stats and session commands print what ejabberdctl ${VERSION} prints`, async () => {
    const seen: string[] = [];
    const want: string[] = [];
    for (const row of ROWS) {
      const [e, c] = row.shared ? [fill(row.args, 'e'), fill(row.args, 'e')] : [fill(row.args, 'e'), fill(row.args, 'c')];
      const [byEjabberdctl, byCtl] = await Promise.all([ej.ejabberdctl(e), remote(c)]);
      const sub = (text: string, side: 'e' | 'c') =>
        text
          .replace(/\{g\}/g, `${side}group`)
          .replace(/\{node\}/g, node)
          .replace(/\{version\}/g, version);
      // Compared as one list, so that a failure shows every row that differs at once.
      const mine = row.shared ? byCtl.stdout : byCtl.stdout.replace(/\bc(1|2|group)\b/g, 'e$1');
      seen.push(`${row.args} -> ${byCtl.status} ${JSON.stringify(row.error ? byCtl.stdout : mine)}`);
      if (row.error) {
        want.push(`${row.args} -> ${byEjabberdctl.status} ""`);
        expect(byEjabberdctl.status).not.toBe(0);
      } else if (row.differs) {
        expect(byEjabberdctl.stdout).toBe(sub(row.differs.ejabberdctl, 'e'));
        want.push(`${row.args} -> ${byEjabberdctl.status} ${JSON.stringify(sub(row.differs.ctl, 'e'))}`);
      } else {
        want.push(`${row.args} -> ${byEjabberdctl.status} ${JSON.stringify(byEjabberdctl.stdout)}`);
      }
    }
    expect(seen).toEqual(want);
  }, 300_000);

  test(`errors from ejabberd ${VERSION}: bad credentials (401), no right (403), a command it does not have (404), a crash (500), as one line on stderr`, async () => {
    const badPw = join(ej.dir, 'bad.pw');
    writeFileSync(badPw, 'wrong\n');
    const denied = await runCli(['--url', ej.url, '--user', ej.admin.jid, '--password-file', badPw, 'registered_users', 'localhost']);
    expect(denied).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: You are not authorized to call this command. (HTTP 401 from ${ej.url}: check the credentials)\n`,
    });
    expect((await ej.ejabberdctl(['register', 'plain', 'localhost', 'pw'])).status).toBe(0);
    const plainPw = join(ej.dir, 'plain.pw');
    writeFileSync(plainPw, 'pw\n');
    expect(await runCli(['--url', ej.url, '--user', 'plain@localhost', '--password-file', plainPw, 'registered_users', 'localhost'])).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: AccessRules: Account does not have the right to perform the operation. (HTTP 403 from ${ej.url})\n`,
    });
    // A command of ctl that ejabberd does not have; a name neither knows is refused before any request.
    expect(await remote(['api_token_list'])).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: The server at ${ej.url} has no command 'api_token_list' (Endpoint not found.)\n`,
    });
    expect(await remote(['frobnicate'])).toMatchObject({ status: 1, stdout: '', stderr: expect.stringMatching(/^Error: Unknown command 'frobnicate'/) });
    // ejabberd answers this one with a 500 and no more than "internal_error"; ejabberdctl exits 1 too.
    expect((await ej.ejabberdctl(['resource_num', 'admin', 'localhost', '1'])).status).toBe(1);
    expect(await remote(['resource_num', 'admin', 'localhost', '1'])).toEqual({ status: 1, stdout: '', stderr: 'Error: internal_error\n' });
  }, 60_000);

  test('a server that does not answer is exit 3; commands of a local node and relative file paths are refused with exit 1', async () => {
    const nobody = `http://127.0.0.1:${await freePort()}/api`;
    expect(await runCli(['--url', nobody, 'registered_vhosts'])).toEqual({
      status: 3,
      stdout: '',
      stderr: `Error: Cannot reach ${nobody}: connection refused (is the server running, and listening there?)\n`,
    });
    for (const word of ['start', 'foreground', 'ping', 'started', 'stopped']) {
      expect(await remote([word])).toEqual({
        status: 1,
        stdout: '',
        stderr: `Error: '${word}' acts on a node of this machine, not on a server's API: it does not work with --url or CTL_URL (${ej.url})\n`,
      });
    }
    expect(await remote(['backup', 'here.bak'])).toEqual({
      status: 1,
      stdout: '',
      stderr: "Error: backup: with --url the file is a file on the server's disk, so it must be an absolute path, got 'here.bak'\n",
    });
    expect(await runCli(['--user', 'admin@localhost', 'registered_vhosts'])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/--user is for a server's API/),
    });
    expect(await runCli(['--url', ej.url, '--password-file', passwordFile, 'registered_vhosts'])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/--password-file needs --user/),
    });
  }, 30_000);

  test('--format json and text give what a local run gives', async () => {
    expect(await remote(['--format', 'json', 'check_account', 'nobody', 'localhost'])).toEqual({ status: 1, stdout: 'false\n', stderr: '' });
    expect(await remote(['--format', 'json', 'registered_vhosts'])).toEqual({ status: 0, stdout: '["localhost"]\n', stderr: '' });
    expect(await remote(['--format', 'json', 'stats', 'registeredusers'])).toMatchObject({ status: 0, stdout: expect.stringMatching(/^\{"stat":\d+\}\n$/) });
    expect(await remote(['--format', 'tsv', 'get_roster', 'nobody', 'localhost'])).toEqual({
      status: 0,
      stdout: 'jid\tnick\tsubscription\task\tgroup\n',
      stderr: '',
    });
  }, 30_000);

  test('bin/ctl batch sends every line over one connection; CTL_URL and a password on standard input work', async () => {
    const upstream = Number(new URL(ej.url).port);
    let connections = 0;
    const proxy: Server = createServer((client) => {
      connections++;
      const server = connect(upstream, '127.0.0.1');
      client.pipe(server).pipe(client);
      client.on('error', () => server.destroy());
      server.on('error', () => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(proxy.address() as { port: number }).port}/api`;
    try {
      const lines = [...Array(20).keys()].map((i) => `register batch${i} localhost pw${i}`);
      const r = await ctlProcess(
        ['--url', url, '--user', ej.admin.jid, '--password-file', passwordFile, 'batch'],
        `${lines.join('\n')}\ncheck_account batch19 localhost\ncheck_account batch20 localhost\n`,
      );
      const registered = [...Array(20).keys()].map((i) => `User batch${i}@localhost successfully registered\n`).join('');
      expect(r).toEqual({ status: 1, stdout: registered, stderr: 'line 22: Error: check_account answered false\n' });
      expect(connections).toBe(1);
      const piped = await ctlProcess(['--user', ej.admin.jid, 'check_password', 'batch3', 'localhost', 'pw3'], `${ej.admin.password}\n`, { CTL_URL: url });
      expect(piped).toEqual({ status: 0, stdout: '', stderr: '' });
    } finally {
      await new Promise((r) => proxy.close(r));
    }
  }, 60_000);
});

/** bin/ctl as its own process, with `stdin` and more of the environment; killed after 60 s. */
function ctlProcess(args: readonly string[], stdin: string, env: NodeJS.ProcessEnv = {}): Promise<ProcResult> {
  const child = spawn(process.execPath, [launcher, ...args], { env: { ...cleanEnv(), ...env }, timeout: 60_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(stdin);
  return new Promise((done) => child.on('close', (status) => done({ status, stdout, stderr })));
}

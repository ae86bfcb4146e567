import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allCommands } from '../../commands';
import { runCli, tempHome } from '../helpers/cli';

let home: ReturnType<typeof tempHome>;
beforeEach(() => (home = tempHome()));
afterEach(() => home.cleanup());

describe('usage and help', () => {
  test('no command prints the usage on stderr and exits 2', async () => {
    const r = await runCli([]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Usage: ctl \[OPTION \.\.\.\] COMMAND \[ARG \.\.\.\]\n/);
  });

  test('help lists every command by tag, every one of them implemented', async () => {
    const r = await runCli(['help']);
    expect(r.status).toBe(0);
    expect(allCommands.filter((c) => !c.handler).map((c) => c.name)).toEqual([]);
    expect(r.stdout).toContain("Commands of the Administration API, by tag (156 of ejabberd's and 3 of ctl's):\n");
    // No command is marked as not implemented.
    expect(r.stdout.match(/^ {3}\*/gm)).toBeNull();
    expect(r.stdout).toMatch(/Commands of ctl itself \(\d+\):\n {4}help \[COMMAND\|TAG\|PATTERN\]/);
    for (const word of ['batch', 'start', 'foreground', 'started', 'stopped', 'ping']) expect(r.stdout).toMatch(new RegExp(`^    ${word} `, 'm'));
    expect(r.stdout).toContain('\n  accounts\n');
    expect(r.stdout).toContain('    register user host password                  Register a user\n');
    expect(r.stdout).toContain('    join_cluster node ');
  });

  test('help COMMAND shows the signature, result, tags and an example', async () => {
    const r = await runCli(['help', 'register']);
    expect(r).toEqual({
      status: 0,
      stderr: '',
      stdout: [
        'register: Register a user',
        '',
        'Usage: ctl register user host password',
        '',
        'Arguments:',
        '  user      binary',
        '  host      binary',
        '  password  binary',
        '',
        'Result: res::restuple (a text; exit status 0 on success, 1 on failure)',
        '',
        'Tags: accounts    Policy: admin',
        '',
        'Example:',
        '  ctl register alice localhost s3cret',
        '',
        'Output:',
        '  User alice@localhost successfully registered',
        '',
      ].join('\n'),
    });
  });

  test('help explains list and tuple arguments and shows the long description', async () => {
    const r = await runCli(['help', 'echo_isatils']);
    expect(r.stdout).toContain('  thistuple    {listlen::integer, thislist::[contentstring::string]} (colon-separated listlen:thislist (or a JSON object))\n');
    expect((await runCli(['help', 'take_list_string'])).stdout).toContain('(comma-separated, e.g. a,b,c (or a JSON array))');
    expect((await runCli(['help', 'pow'])).stdout).toContain('This is an example command. The formula is:\n power = base ^ exponent\n');
  });

  test('help TAG, help with a glob, and dashes in names', async () => {
    const tag = await runCli(['help', 'last']);
    expect(tag.stdout).toBe(
      'Commands tagged last:\n' +
        '    get_last user host                           Get last activity information (timestamp and status)\n' +
        '    set_last user host timestamp status          Set last activity information\n',
    );
    const glob = await runCli(['help', 'check_pass*']);
    expect(glob.stdout.match(/^check_password(_hash)?: /gm)).toEqual(['check_password: ', 'check_password_hash: ']);
    expect((await runCli(['help', 'change-password'])).stdout).toMatch(/^change_password: /);
  });

  test('help for an unknown topic fails and suggests a name', async () => {
    expect(await runCli(['help', 'registerd_users'])).toEqual({
      status: 1,
      stdout: '',
      stderr: "Error: No command or tag matches 'registerd_users'. Did you mean 'registered_users'?\n",
    });
  });
});

describe('errors and exit statuses', () => {
  test('an unknown command suggests the nearest name and exits 1', async () => {
    expect(await runCli(['registerd_users', 'localhost'])).toEqual({
      status: 1,
      stdout: '',
      stderr: "Error: Unknown command 'registerd_users'. Did you mean 'registered_users'?\n",
    });
    expect((await runCli(['frobnicate'])).stderr).toBe("Error: Unknown command 'frobnicate'\n");
  });

  test('a cluster command without a running node says it needs one and exits 3', async () => {
    expect(await home.ctl(['join_cluster', 'other@host'])).toEqual({
      status: 3,
      stdout: '',
      stderr: `Error: join_cluster needs a running node, and none is running on ${home.dir}: start it with 'ctl start'\n`,
    });
  });

  test('global options work before and after the command', async () => {
    await runCli(['--home', home.dir, 'register', 'alice', 'localhost', 'pw']);
    expect((await runCli(['registered_users', '--home', home.dir, 'localhost'])).stdout).toBe('alice\n');
    expect((await runCli(['registered_users', 'localhost', `--home=${home.dir}`])).stdout).toBe('alice\n');
  });

  test('bad global option values are usage errors', async () => {
    expect(await home.ctl(['--format', 'xml', 'echo_string', 'x'])).toEqual({
      status: 2,
      stdout: '',
      stderr: "Error: --format must be one of text, table, tsv, json, got 'xml'\n",
    });
    expect((await home.ctl(['--timeout', 'soon', 'echo_string', 'x'])).stderr).toBe("Error: --timeout must be a number of seconds, got 'soon'\n");
    expect(await runCli(['--home'])).toEqual({ status: 2, stdout: '', stderr: "Error: option '--home <dir>' argument missing\n" });
  });

  test('--node accepts the node of this home and refuses any other with exit 3', async () => {
    expect((await home.ctl(['--node', 'ctl@localhost', 'echo_string', 'hi'])).stdout).toBe('hi\n');
    expect((await home.ctl(['--node', 'ctl', 'echo_string', 'hi'])).stdout).toBe('hi\n');
    const r = await home.ctl(['--node', 'ejabberd@otherhost', 'echo_string', 'hi']);
    expect(r).toEqual({
      status: 3,
      stdout: '',
      stderr: `Error: Node 'ejabberd@otherhost' is not the node of ${home.dir}, which is ctl@localhost: choose another home with --home\n`,
    });
    writeFileSync(join(home.dir, 'ctl.yml'), 'node_name: ejabberd@otherhost\n');
    expect((await home.ctl(['--node', 'ejabberd@otherhost', 'echo_string', 'hi'])).status).toBe(0);
  });

  test('--no-timeout and --timeout are accepted', async () => {
    expect((await home.ctl(['--no-timeout', 'register', 'a', 'localhost', 'pw'])).status).toBe(0);
    expect((await home.ctl(['--timeout', '2.5', 'check_account', 'a', 'localhost'])).status).toBe(0);
  });
});

describe('--stdin', () => {
  test('reads the named argument from standard input, keeping the others in order', async () => {
    const r = await home.ctl(['--stdin', 'password', 'register', 'alice', 'localhost'], { stdin: 'from stdin\n' });
    expect(r).toEqual({ status: 0, stdout: 'User alice@localhost successfully registered\n', stderr: '' });
    expect((await home.ctl(['check_password', 'alice', 'localhost', 'from stdin'])).status).toBe(0);
    expect((await home.ctl(['check_password', '--stdin', 'user', 'localhost', 'from stdin'], { stdin: 'alice' })).status).toBe(0);
  });

  test('keeps inner newlines and drops only one trailing newline', async () => {
    expect((await runCli(['echo_string', '--stdin', 'thisstring'], { stdin: 'a\nb\n\n' })).stdout).toBe('a\nb\n\n');
  });

  test('names an argument the command does not have', async () => {
    expect(await home.ctl(['--stdin', 'secret', 'register', 'alice', 'localhost'], { stdin: 'x' })).toEqual({
      status: 2,
      stdout: '',
      stderr: "Error: --stdin secret: register has no argument 'secret' (it takes: user host password)\n",
    });
  });
});

describe('configuration', () => {
  const write = (text: string) => writeFileSync(join(home.dir, 'ctl.yml'), text);

  test.each([
    ['hosts: [a.example\n', /^Error: Invalid configuration .*ctl\.yml \(line \d\): /],
    ['hosts: []\n', /^Error: Invalid configuration .*ctl\.yml \(line 1\): 'hosts' must be a non-empty list of host names\n$/],
    ['loglevel: 4\nfrobs: 1\n', /^Error: Invalid configuration .*ctl\.yml \(line 2\): unknown option 'frobs'\n$/],
    ['auth_password_format: md5\n', /^Error: Invalid configuration .*ctl\.yml \(line 1\): 'auth_password_format' must be scram or plain\n$/],
    [
      'loglevel: 9\n',
      /^Error: Invalid configuration .*ctl\.yml \(line 1\): 'loglevel' must be 0 to 5 or one of none, critical, error, warning, info, debug\n$/,
    ],
    [
      'listen:\n  - port: 5269\n    module: ejabberd_s2s_in\n',
      /\(line 2\): 'listen' item 1: module 'ejabberd_s2s_in' is not served by this node yet \(ejabberd_c2s, ejabberd_http and ejabberd_xmlrpc are\)\n$/,
    ],
    ['listen:\n  - port: 99999\n    module: ejabberd_xmlrpc\n', /'listen' item 1: 'port' must be a number from 0 to 65535\n$/],
    [
      'listen:\n  - port: 80\n    module: ejabberd_http\n    request_handlers:\n      /api: mod_bosh\n',
      /'listen' item 1: unknown request handler 'mod_bosh' for \/api/,
    ],
    ['acl:\n  admin:\n    user: ["not a jid@"]\n', /'acl: admin: user': /],
    ['hosts:\n  - "bad host"\n', /^Error: Invalid configuration .*ctl\.yml \(line 2\): 'hosts': Invalid host name 'bad host' \(hosts\)\n$/],
  ])('an invalid file (%j) is an error naming the line, and nothing is written', async (text, message) => {
    write(text);
    const r = await home.ctl(['register', 'alice', 'localhost', 'pw']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(message);
    write('');
    expect((await home.ctl(['check_account', 'alice', 'localhost'])).status).toBe(1);
  });

  test('an empty file means the defaults; ejabberd options we do not use yet are accepted', async () => {
    write('# nothing here\n');
    expect((await home.ctl(['registered_vhosts'])).stdout).toBe('localhost\n');
    write('hosts: [example.org]\nloglevel: info\nmodules:\n  mod_roster: {}\n');
    expect((await home.ctl(['registered_vhosts'])).stdout).toBe('example.org\n');
  });

  test('--config and CTL_CONFIG choose another file; CTL_HOME chooses the home', async () => {
    const other = join(home.dir, 'other.yml');
    writeFileSync(other, 'hosts: [other.example]\n');
    expect((await home.ctl(['--config', other, 'registered_vhosts'])).stdout).toBe('other.example\n');
    expect((await home.ctl(['registered_vhosts'], { env: { CTL_CONFIG: other } })).stdout).toBe('other.example\n');
    await home.ctl(['register', 'zoe', 'localhost', 'pw']);
    expect((await runCli(['registered_users', 'localhost'], { env: { CTL_HOME: home.dir } })).stdout).toBe('zoe\n');
  });
});

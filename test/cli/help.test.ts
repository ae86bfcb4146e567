import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allCommands } from '../../commands';
import { isDestructive } from '../../src/core/command';
import { createRegistry } from '../../src/core/registry';
import { allowedValues, exampleLine, exampleOutput, helpDescription } from '../../src/docs/cli-text';
import { BUILTINS, UNSUPPORTED } from '../../src/transports/cli/argv';
import { shellWords } from '../../src/transports/cli/shell-words';
import { runCli, tempHome } from '../helpers/cli';
import { cleanEnv, ensureBuilt, launcher, root } from '../helpers/proc';
import { spawnSync } from 'node:child_process';

const registry = createRegistry(allCommands);
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const byName = (name: string) => registry.get(name)!;

let home: ReturnType<typeof tempHome>;
beforeEach(() => (home = tempHome()));
afterEach(() => home.cleanup());

describe('help flags and the version', () => {
  test('--help, -h and help print the same usage on stdout and exit 0', async () => {
    const help = await runCli(['help']);
    expect(help.status).toBe(0);
    expect(help.stderr).toBe('');
    expect(help.stdout).toMatch(/^Usage: ctl \[OPTION \.\.\.\] COMMAND \[ARG \.\.\.\]\n/);
    expect(await runCli(['--help'])).toEqual(help);
    expect(await runCli(['-h'])).toEqual(help);
    expect(await runCli(['--home', home.dir, '-h'])).toEqual(help);
  });

  test('COMMAND --help is help COMMAND, wherever --help stands', async () => {
    const help = await runCli(['help', 'register']);
    expect(help).toEqual({ status: 0, stderr: '', stdout: expect.stringMatching(/^register: Register a user\n/) });
    expect(await runCli(['register', '--help'])).toEqual(help);
    expect(await runCli(['--help', 'register'])).toEqual(help);
    expect(await runCli(['register', 'alice', '--help', '--home', home.dir])).toEqual(help);
    expect(await runCli(['change-password', '--help'])).toEqual(await runCli(['help', 'change_password']));
    expect(await runCli(['help', '--help'])).toEqual(await runCli(['help', 'help']));
  });

  test('-h after the command is an argument, which may start with a dash', async () => {
    expect(await runCli(['echo_string', '-h'])).toEqual({ status: 0, stdout: '-h\n', stderr: '' });
  });

  test("--version and version print the version; ejabberdctl's --version N before a command is ignored", async () => {
    expect(await runCli(['--version'])).toEqual({ status: 0, stdout: `ctl ${version}\n`, stderr: '' });
    expect(await runCli(['version'])).toEqual({ status: 0, stdout: `ctl ${version}\n`, stderr: '' });
    expect(await runCli(['--home', home.dir, 'registered_users', '--version'])).toEqual({ status: 0, stdout: `ctl ${version}\n`, stderr: '' });
    expect(await runCli(['--version', '0', 'echo_string', 'hi'])).toEqual({ status: 0, stdout: 'hi\n', stderr: '' });
  });

  test('the launcher exits 0 with help and the version on stdout', () => {
    ensureBuilt();
    for (const args of [['--help'], ['-h'], ['ping', '--help'], ['--version'], ['version']]) {
      const r = spawnSync(process.execPath, [launcher, ...args], { env: cleanEnv(), encoding: 'utf8' });
      expect({ args, status: r.status, stderr: r.stderr }).toEqual({ args, status: 0, stderr: '' });
      expect(r.stdout).toMatch(args.includes('ping') ? /^ping: / : args.some((a) => a.includes('version')) ? /^ctl \d+\.\d+\.\d+\n$/ : /^Usage: ctl /);
    }
  });
});

describe('help for the words of ctl itself', () => {
  test('every builtin has its help', async () => {
    for (const b of BUILTINS) {
      const r = await runCli(['help', b.name]);
      expect({ name: b.name, status: r.status, stderr: r.stderr }).toEqual({ name: b.name, status: 0, stderr: '' });
      expect(r.stdout.startsWith(`${b.name}: ${b.desc}\n\nUsage: ctl ${b.usage}\n`)).toBe(true);
    }
  });

  test('help ping, byte for byte', async () => {
    expect(await runCli(['help', 'ping'])).toEqual({
      status: 0,
      stderr: '',
      stdout: 'ping: print pong and exit 0 if the node answers, else pang and exit 3\n\nUsage: ctl ping\n\nExample:\n  ctl ping\n',
    });
  });
});

describe('help COMMAND teaches', () => {
  test('add_rosteritem: the allowed subscriptions and a real example', async () => {
    const r = await runCli(['help', 'add_rosteritem']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('\n  subs         binary, one of: none, from, to, both\n');
    expect(r.stdout).toContain('\nExample:\n  ctl add_rosteritem alice localhost bob localhost Bob Friends both\n');
  });

  test('send_message, stats, set_room_affiliation, change_room_option and set_loglevel list their values', async () => {
    const send = (await runCli(['help', 'send_message'])).stdout;
    expect(send).toContain('\n  type     binary, one of: chat, normal, headline\n');
    expect(send).toContain('\nExample:\n  ctl send_message chat admin@localhost alice@localhost Hi Hello\n');
    expect((await runCli(['help', 'stats'])).stdout).toContain(
      '\n  name  binary, one of: registeredusers, onlineusers, onlineusersnode, uptimeseconds, processes\n',
    );
    expect((await runCli(['help', 'set_room_affiliation'])).stdout).toContain('  affiliation  binary, one of: owner, admin, member, outcast, none\n');
    expect((await runCli(['help', 'change_room_option'])).stdout).toMatch(
      /\n {2}option {3}binary, one of: title, description, .*, allow_subscription, .*, mam, .*\n/,
    );
    expect((await runCli(['help', 'set_loglevel'])).stdout).toContain(
      '  loglevel  integer, one of: 0 (none), 1 (critical), 2 (error), 3 (warning), 4 (info), 5 (debug)\n',
    );
  });

  test('a result without a recorded example output is described by its shape', async () => {
    expect((await runCli(['help', 'connected_users_vhost'])).stdout).toContain('\nOutput: one sessions per line; nothing when there is none\n');
    expect((await runCli(['help', 'srg_get_info'])).stdout).toContain('\nOutput: one line per information: key<TAB>value; nothing when there is none\n');
  });

  test('the examples run on the default configuration and print what help shows', async () => {
    await home.ctl(['register', 'bob', 'localhost', 'pw']);
    const sequence = ['register', 'registered_users', 'registered_vhosts', 'add_rosteritem', 'get_roster', 'set_last', 'get_last', 'set_vcard', 'get_vcard'];
    for (const name of [...sequence, 'set_vcard2', 'get_vcard2', 'send_message', 'get_offline_count', 'check_account', 'check_password']) {
      const words = shellWords(exampleLine(byName(name))).slice(1);
      const r = await home.ctl(words);
      const output = exampleOutput(byName(name));
      expect({ name, ...r }).toEqual({ name, status: 0, stderr: '', stdout: output ? `${output.join('\n')}\n` : '' });
    }
  });

  test('every value help lists for an enumerated argument is accepted', async () => {
    await home.ctl(['register', 'alice', 'localhost', 'pw']);
    for (const subs of allowedValues(byName('add_rosteritem'), 'subs')!) {
      expect((await home.ctl(['add_rosteritem', 'alice', 'localhost', 'bob', 'localhost', 'Bob', 'Friends', subs])).status).toBe(0);
    }
    for (const type of allowedValues(byName('send_message'), 'type')!) {
      expect((await home.ctl(['send_message', type, 'admin@localhost', 'alice@localhost', 'Hi', 'Hello'])).status).toBe(0);
    }
    expect((await home.ctl(['get_offline_count', 'alice', 'localhost'])).stdout).toBe('3\n');
    const bad = await home.ctl(['add_rosteritem', 'alice', 'localhost', 'bob', 'localhost', 'Bob', 'Friends', 'sometimes']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^Error: Unknown subscription 'sometimes' \(subs\): use none, from, to or both\n/);
  });

  test('every command has a description, and none names ejabberd for this node', () => {
    for (const c of allCommands) {
      const text = `${helpDescription(c)}\n${c.helpLongdesc ?? c.longdesc ?? ''}`;
      expect({ name: c.name, described: helpDescription(c) !== '', ejabberd: /ejabberd/i.test(text) }).toEqual({
        name: c.name,
        described: true,
        ejabberd: false,
      });
    }
  });

  test("module_check has a description in help; the API reference keeps ejabberd's (empty) one", async () => {
    expect((await runCli(['help', 'module_check'])).stdout).toMatch(/^module_check: Check that the extension MODULE [^\n]*installable\n/);
    expect(byName('module_check').desc).toBe('');
    expect((await runCli(['help', 'stop'])).stdout).toMatch(/^stop: Stop the node gracefully\n/);
    expect(byName('stop').desc).toBe('Stop ejabberd gracefully');
  });
});

describe('the command list', () => {
  test('counts the commands of ctl itself and of the API', async () => {
    const { stdout } = await runCli(['help']);
    const own = allCommands.filter((c) => c.origin === 'ctl').length;
    expect(stdout).toContain(`\nCommands of ctl itself (${BUILTINS.length}):\n`);
    const section = stdout.split(`Commands of ctl itself (${BUILTINS.length}):\n`)[1]!.split('\n\n')[0]!.split('\n');
    expect(section.map((line) => line.trim().split(' ')[0])).toEqual(BUILTINS.map((b) => b.name));
    expect(stdout).toContain(`\nCommands of the Administration API, by tag (${allCommands.length - own} of ejabberd's and ${own} of ctl's):\n`);
  });

  test('descriptions stay in one column; a long signature puts its description on the next line', async () => {
    const { stdout } = await runCli(['help']);
    const lines = stdout.split('\n');
    const list = lines.slice(
      lines.findIndex((l) => l.startsWith('Commands of ctl itself')) + 1,
      lines.findIndex((l) => l.startsWith("Run 'ctl help")),
    );
    const entries = list.filter((l) => l.startsWith('    ') || l.startsWith('   *'));
    expect(entries.length).toBeGreaterThan(160);
    for (const [i, line] of entries.entries()) {
      const fits = /^ {3}[ *]\S.{0,43} \S/.test(line) && line[48] === ' ' && line[49] !== ' ';
      const below = /^ {3}[ *]\S{1}.{44,}$/.test(line) && /^ {49}\S/.test(entries[i + 1] ?? '');
      const continuation = /^ {49}\S/.test(line);
      expect({ line, ok: fits || below || continuation }).toEqual({ line, ok: true });
    }
    expect(stdout).toContain(
      '\n    mnesia_change_nodename oldnodename newnodename oldbackup newbackup\n' + `${' '.repeat(49)}${helpDescription(byName('mnesia_change_nodename'))}\n`,
    );
  });
});

describe('unknown and unsupported commands', () => {
  test('ejabberdctl verbs with no meaning here say so, with what to use instead, and exit 2', async () => {
    expect(await runCli(['etop'])).toEqual({
      status: 2,
      stdout: '',
      stderr:
        "Error: 'etop' is not supported by ctl: there is no Erlang VM to watch; use 'ctl status', 'ctl stats onlineusers', 'ctl stats processes' and the log, HOME/log/ctl.log\n",
    });
    expect(await runCli(['live'])).toEqual({
      status: 2,
      stdout: '',
      stderr: "Error: 'live' is not supported by ctl: the node has no Erlang shell; 'ctl foreground' runs it attached, logging to standard error\n",
    });
    for (const verb of ['debug', 'iexdebug', 'iexlive', 'attach', 'mnesia']) {
      const r = await runCli([verb, 'info']);
      expect({ verb, ...r }).toEqual({ verb, status: 2, stdout: '', stderr: `Error: '${verb}' is not supported by ctl: ${UNSUPPORTED[verb]}\n` });
    }
  });

  test('the suggestion for a misspelt command is never a destructive one', async () => {
    expect(await runCli(['stpo'])).toEqual({ status: 1, stdout: '', stderr: "Error: Unknown command 'stpo'\n" });
    expect((await runCli(['unregiste', 'alice', 'localhost'])).stderr).toBe("Error: Unknown command 'unregiste'. Did you mean 'register'?\n");
    expect((await runCli(['registerd_users'])).stderr).toBe("Error: Unknown command 'registerd_users'. Did you mean 'registered_users'?\n");
    for (const c of allCommands.filter((c) => isDestructive(c.name))) {
      const near = registry.suggest(c.name.slice(0, -1));
      expect({ typo: c.name.slice(0, -1), destructive: near !== undefined && isDestructive(near) }).toEqual({ typo: c.name.slice(0, -1), destructive: false });
    }
  });

  test('stop, restart, unregister, delete_*, destroy_*, restore, kick_* and ban_account are destructive', () => {
    for (const name of [
      'stop',
      'restart',
      'unregister',
      'delete_old_users',
      'destroy_room',
      'restore',
      'kick_user',
      'ban_account',
      'srg_user_del',
      'api_token_revoke',
    ]) {
      expect({ name, destructive: isDestructive(name) }).toEqual({ name, destructive: true });
    }
    expect(isDestructive('status')).toBe(false);
  });
});

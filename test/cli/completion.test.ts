import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runCli } from '../helpers/cli';
import { cleanEnv, ctlProcess, ensureBuilt, killNodes, launcher, trackNodes } from '../helpers/proc';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ctl-completion-'));
  writeFileSync(join(dir, 'ctl.yml'), 'hosts:\n  - localhost\n  - example.org\n');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** `ctl __complete WORDS...` on the home `dir`: the candidates, one per line. */
const complete = (...words: string[]) => runCli(['__complete', ...words], { env: { CTL_HOME: dir } });

describe('ctl completion SHELL', () => {
  test('bash: a function that hands the typed words to ctl __complete, registered for ctl', async () => {
    const r = await runCli(['completion', 'bash']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^# bash completion for ctl, printed by `ctl completion bash`\.\n/);
    expect(r.stdout).toContain('# In this shell:    source <(ctl completion bash)\n');
    expect(r.stdout).toContain('\n_ctl() {\n');
    expect(r.stdout).toContain('    out=$(command ctl __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0\n');
    expect(r.stdout).toContain('        [[ -n $line ]] && COMPREPLY+=("${line%%$\'\\t\'*}")\n');
    expect(r.stdout.endsWith('\n}\ncomplete -F _ctl ctl\n')).toBe(true);
  });

  test('zsh: a #compdef file that also works when sourced, with descriptions through _describe', async () => {
    const r = await runCli(['completion', 'zsh']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^#compdef ctl\n/);
    expect(r.stdout).toContain('# In every shell:   ctl completion zsh > "${fpath[1]}/_ctl"   (then start a new shell)\n');
    expect(r.stdout).toContain('    lines=("${(@f)$(command ctl __complete "${(@Q)words[2,CURRENT]}" 2>/dev/null)}")\n');
    expect(r.stdout).toContain("            described+=(\"${${line%%$'\\t'*}//:/\\\\:}:${line#*$'\\t'}\")\n");
    expect(r.stdout).toContain("    (( ${#described} )) && _describe -t ctl 'ctl' described && ret=0\n");
    expect(r.stdout).toContain('    :files) _files; return ;;\n');
    expect(r.stdout.endsWith('if [[ ${funcstack[1]} == _ctl ]]; then\n    _ctl "$@"\nelse\n    compdef _ctl ctl\nfi\n')).toBe(true);
  });

  test('fish: a function whose lines fish reads as VALUE<TAB>DESCRIPTION', async () => {
    const r = await runCli(['completion', 'fish']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('# In every shell:   ctl completion fish > ~/.config/fish/completions/ctl.fish\n');
    expect(r.stdout).toContain('    set -l out (command ctl __complete $words "$cur" 2>/dev/null)\n');
    expect(r.stdout).toContain('        case :files\n            __fish_complete_path "$cur"\n');
    expect(r.stdout.endsWith("end\ncomplete -c ctl -f -a '(__ctl_complete)'\n")).toBe(true);
  });

  test('no shell, or one without a script, is a usage error', async () => {
    expect(await runCli(['completion'])).toEqual({ status: 2, stdout: '', stderr: 'Error: completion: name the shell: bash, zsh, fish\n' });
    expect(await runCli(['completion', 'tcsh'])).toEqual({
      status: 2,
      stdout: '',
      stderr: "Error: completion: no script for 'tcsh'; shells: bash, zsh, fish\n",
    });
  });

  test('ctl help lists the builtin', async () => {
    const r = await runCli(['help']);
    expect(r.stdout).toMatch(/^ {4}completion bash\|zsh\|fish +print the shell completion script for bash, zsh or fish$/m);
  });
});

describe('ctl __complete WORDS...', () => {
  test('command names with their descriptions, the old dashed spelling too', async () => {
    expect(await complete('reg')).toEqual({
      status: 0,
      stderr: '',
      stdout: 'register\tRegister a user\nregistered_users\tList all registered users in HOST\nregistered_vhosts\tList all registered vhosts in SERVER\n',
    });
    expect((await complete('change-pa')).stdout).toBe('change-password\tChange the password of an account\n');
    expect((await complete('compl')).stdout).toBe('completion\tprint the shell completion script for bash, zsh or fish\n');
  });

  test('the hidden word is never offered, and an empty word offers ctl builtins and every command', async () => {
    const lines = (await complete('')).stdout.split('\n');
    expect(lines[0]).toBe('help\tshow usage, one command, the commands of a tag, or those matching a glob');
    expect(lines).toContainEqual(expect.stringMatching(/^stats\t\S/));
    expect(lines).toContain('register\tRegister a user');
    expect(lines.some((l) => l.startsWith('__'))).toBe(false);
    expect(lines.length).toBeGreaterThan(160);
  });

  test('help completes commands and tags', async () => {
    expect((await complete('help', 'ros')).stdout).toBe('roster\ttag: 7 commands\n');
    expect((await complete('help', 'regist')).stdout.split('\n')[0]).toBe('register\tRegister a user');
    expect((await complete('completion', '')).stdout).toBe('bash\nzsh\nfish\n');
    expect((await complete('help', 'roster', '')).stdout).toBe('');
  });

  test('global options, with the values of --format and the arguments --stdin can name', async () => {
    expect((await complete('register', '--fo')).stdout).toBe('--format\toutput format: text, table, tsv or json (default: table on a terminal, else text)\n');
    expect((await complete('--he')).stdout).toMatch(/^--help\t\S/);
    expect((await complete('-')).stdout.split('\n').map((l) => l.split('\t')[0])).toEqual(expect.arrayContaining(['-h', '--home', '--no-timeout', '--debug']));
    expect((await complete('--format', '')).stdout).toBe('text\ntable\ntsv\njson\n');
    expect((await complete('--format', 't')).stdout).toBe('text\ntable\ntsv\n');
    expect((await complete('--format=j')).stdout).toBe('--format=json\n');
    // bash splits --format=j at the `=`.
    expect((await complete('--format', '=', 'j')).stdout).toBe('json\n');
    expect((await complete('change_password', '--stdin', '')).stdout).toBe('user\nhost\nnewpass\n');
    expect((await complete('--home', '')).stdout).toBe(':dirs\n');
    expect((await complete('--config', '')).stdout).toBe(':files\n');
  });

  test('host arguments offer the configured hosts, service arguments their MUC services', async () => {
    expect((await complete('register', 'alice', '')).stdout).toBe('localhost\nexample.org\n');
    expect((await complete('registered_users', 'ex')).stdout).toBe('example.org\n');
    expect((await complete('add_rosteritem', 'alice', 'l')).stdout).toBe('localhost\n');
    expect((await complete('srg_user_add', 'alice', 'localhost', 'friends', '')).stdout).toBe('localhost\nexample.org\n');
    expect((await complete('create_room', 'lobby', '')).stdout).toBe('conference.localhost\nconference.example.org\n');
    // Past the last argument, or on a password, there is nothing to offer.
    expect(await complete('register', 'alice', 'localhost', '')).toEqual({ status: 0, stdout: '', stderr: '' });
    expect((await complete('register', 'alice', 'localhost', 's3cret', '')).stdout).toBe('');
  });

  test('enumerated arguments offer the values their declaration lists', async () => {
    expect((await complete('add_rosteritem', 'alice', 'localhost', 'bob', 'localhost', 'Bob', 'Friends', '')).stdout).toBe('none\nfrom\nto\nboth\n');
    expect((await complete('stats', 'online')).stdout).toBe('onlineusers\nonlineusersnode\n');
    expect((await complete('send_message', '')).stdout).toBe('chat\nnormal\nheadline\n');
    expect((await complete('change_room_option', 'lobby', 'conference.localhost', 'allow_p')).stdout).toMatch(/^allow_private_messages\n/);
    // A value that explains itself is offered as its word, the explanation as its description.
    expect((await complete('set_loglevel', '')).stdout).toMatch(/^0\tnone\n1\tcritical\n/);
  });

  test('the home and configuration typed on the line are the ones read', async () => {
    const other = join(dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'ctl.yml'), 'hosts: [chat.example.net]\n');
    expect((await complete('--home', other, 'register', 'alice', '')).stdout).toBe('chat.example.net\n');
    expect((await complete('register', '--home=' + other, 'alice', '')).stdout).toBe('chat.example.net\n');
    expect((await complete('--config', join(other, 'ctl.yml'), 'registered_users', '')).stdout).toBe('chat.example.net\n');
  });

  test('--stdin takes its argument off the line: the next word is the next argument', async () => {
    expect((await complete('--stdin', 'user', 'register', '')).stdout).toBe('localhost\nexample.org\n');
    expect((await complete('--stdin', 'password', 'register', 'alice', 'localhost', '')).stdout).toBe('');
  });

  test('arguments that name files ask the shell for its file completion', async () => {
    expect((await complete('backup', '')).stdout).toBe(':files\n');
    expect((await complete('export_piefxis_host', '/tmp/x', '')).stdout).toBe('localhost\nexample.org\n');
  });

  test('without a node, user arguments offer nothing; nor do an unknown command or a broken configuration', async () => {
    expect(await complete('check_account', '')).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(await complete('no_such_command', '')).toEqual({ status: 0, stdout: '', stderr: '' });
    writeFileSync(join(dir, 'ctl.yml'), 'hosts: [\n');
    expect(await complete('register', 'alice', '')).toEqual({ status: 0, stdout: '', stderr: '' });
  });
});

/** Runs `script` in bash with the built ctl first on PATH and the home `dir`. */
function bash(script: string): Promise<{ status: number; stdout: string; stderr: string }> {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  symlinkSync(launcher, join(bin, 'ctl'));
  const env = { ...cleanEnv(), CTL_HOME: dir, PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin` };
  return new Promise((done) => {
    execFile('bash', ['--norc', '-c', script], { env, cwd: dir, timeout: 60_000 }, (err, stdout, stderr) =>
      done({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A bash script that loads the completion and prints COMPREPLY for each line of words as `[word]`. */
function completing(...lines: string[][]): string {
  const q = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`;
  return [
    'source <(ctl completion bash) || exit 9',
    't() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _ctl; printf "[%s]" "${COMPREPLY[@]}"; echo; }',
    ...lines.map((words) => `t ctl ${words.map(q).join(' ')}`),
  ].join('\n');
}

describe('the bash script in bash', () => {
  beforeAll(() => ensureBuilt(), 120_000);

  test('completes commands, hosts, option values and file names into COMPREPLY', async () => {
    writeFileSync(join(dir, 'other.txt'), '');
    writeFileSync(join(dir, 'dump 2.txt'), '');
    const r = await bash(
      completing(['regi'], ['register', 'alice', ''], ['--format', 'j'], ['help', 'ros'], ['dump', 'dump'], ['--home', 'bi'], ['check_account', '']),
    );
    expect(r).toEqual({
      status: 0,
      stderr: '',
      stdout: ['[register][registered_users][registered_vhosts]', '[localhost][example.org]', '[json]', '[roster]', '[dump 2.txt]', '[bin]', '[]', ''].join(
        '\n',
      ),
    });
  }, 60_000);
});

describe('user names from a running node', () => {
  const tracker = trackNodes(() => dir);
  beforeAll(() => ensureBuilt(), 120_000);
  afterEach(() => killNodes(tracker.pids, dir));

  test('user arguments offer the registered users of every configured host; a hung node offers nothing', async () => {
    const pid = await tracker.startNode();
    for (const [user, host] of [
      ['alice', 'localhost'],
      ['anna', 'example.org'],
      ['bob', 'example.org'],
    ]) {
      expect((await ctlProcess(dir, ['register', user, host, 'pw'])).status).toBe(0);
    }
    // Several hosts: each user is described by its host.
    expect(await complete('check_account', 'a')).toEqual({ status: 0, stderr: '', stdout: 'alice\tlocalhost\nanna\texample.org\n' });
    expect((await complete('add_rosteritem', 'alice', 'localhost', '')).stdout).toBe('alice\tlocalhost\nanna\texample.org\nbob\texample.org\n');
    expect((await complete('get_roster', 'b')).stdout).toBe('bob\texample.org\n');
    // Only user arguments ask the node.
    expect((await complete('get_vcard2', 'alice', 'localhost', '')).stdout).toBe('');

    const r = await bash(completing(['check_account', 'b'], ['delete_rosteritem', 'alice', 'localhost', '']));
    expect(r).toEqual({ status: 0, stderr: '', stdout: '[bob]\n[alice][anna][bob]\n' });

    process.kill(pid, 'SIGSTOP');
    try {
      const started = Date.now();
      expect(await complete('check_account', '')).toEqual({ status: 0, stdout: '', stderr: '' });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect((await ctlProcess(dir, ['stop'])).status).toBe(0);
  }, 90_000);
});

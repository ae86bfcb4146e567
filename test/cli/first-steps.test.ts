/**
 * A new user's first steps: a configuration file that is not there, a home that holds nothing
 * yet, and a password given on standard input, typed at a terminal or piped.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempHome } from '../helpers/cli';
import { cleanEnv, ensureBuilt, launcher } from '../helpers/proc';

let home: ReturnType<typeof tempHome>;
beforeEach(() => (home = tempHome()));
afterEach(() => home.cleanup());

describe('--config', () => {
  test('naming a file that does not exist is a usage error naming the path', async () => {
    const file = join(home.dir, 'etc', 'ctl.yml');
    expect(await home.ctl(['--config', file, 'registered_users', 'localhost'])).toEqual({
      status: 2,
      stdout: '',
      stderr: `Error: --config ${file}: no such file (only the default, ${home.dir}/ctl.yml, may be missing)\n`,
    });
  });

  test('a relative path is named as the absolute path it stands for, for ctl start as well', async () => {
    const r = await home.ctl(['start', '--config', 'no-such.yml']);
    expect(r).toEqual({
      status: 2,
      stdout: '',
      stderr: `Error: --config ${join(process.cwd(), 'no-such.yml')}: no such file (only the default, ${home.dir}/ctl.yml, may be missing)\n`,
    });
  });

  test('CTL_CONFIG naming a missing file is the same error, naming the variable', async () => {
    const file = join(home.dir, 'missing.yml');
    expect(await home.ctl(['registered_users', 'localhost'], { env: { CTL_CONFIG: file } })).toEqual({
      status: 2,
      stdout: '',
      stderr: `Error: CTL_CONFIG ${file}: no such file (only the default, ${home.dir}/ctl.yml, may be missing)\n`,
    });
  });

  test("the home's own ctl.yml may be missing, also when --config names it", async () => {
    expect(await home.ctl(['register', 'alice', 'localhost', 'pw'])).toEqual({
      status: 0,
      stdout: 'User alice@localhost successfully registered\n',
      stderr: '',
    });
    expect(await home.ctl(['registered_users', 'localhost', '--config', join(home.dir, 'ctl.yml')])).toEqual({ status: 0, stdout: 'alice\n', stderr: '' });
  });

  test('a file that exists is read', async () => {
    const file = join(home.dir, 'other.yml');
    writeFileSync(file, 'hosts: [example.org]\n');
    expect(await home.ctl(['register', 'bob', 'example.org', 'pw', '--config', file])).toEqual({
      status: 0,
      stdout: 'User bob@example.org successfully registered\n',
      stderr: '',
    });
  });

  test('help needs no configuration', async () => {
    const r = await home.ctl(['help', 'register', '--config', join(home.dir, 'missing.yml')]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });
});

describe('a home that holds no data yet', () => {
  const note = () => `Note: ${home.dir} holds no data yet (a new home)\n`;
  // The note is for the person at a terminal.
  const ctl = (argv: readonly string[], options?: Parameters<typeof home.ctl>[1]) => home.ctl(argv, { ...options, tty: true, env: { NO_COLOR: '1' } });

  test('a script on a pipe sees nothing extra, even with --verbose', async () => {
    expect(await home.ctl(['registered_users', 'localhost'])).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(await home.ctl(['check_account', 'alice', 'localhost', '--verbose'])).toEqual({ status: 1, stdout: '', stderr: '' });
  });

  test('a command that reads says so on stderr, once, with stdout and status unchanged', async () => {
    expect(await ctl(['registered_users', 'localhost'])).toEqual({ status: 0, stdout: '', stderr: note() });
    expect(await ctl(['num_active_users', 'localhost', '30'])).toEqual({ status: 0, stdout: '0\n', stderr: note() });
    expect(await ctl(['check_account', 'alice', 'localhost'])).toEqual({ status: 1, stdout: '', stderr: note() });
  });

  test('an empty directory is a new home too', async () => {
    mkdirSync(join(home.dir, 'db'));
    expect(await ctl(['registered_users', 'localhost'])).toEqual({ status: 0, stdout: '', stderr: note() });
  });

  test('a write that begins the home is not noted, nor is anything after it', async () => {
    expect(await ctl(['register', 'alice', 'localhost', 'pw'])).toEqual({
      status: 0,
      stdout: 'User alice@localhost successfully registered\n',
      stderr: '',
    });
    expect(await ctl(['registered_users', 'localhost'])).toEqual({ status: 0, stdout: 'alice\n', stderr: '' });
    expect(await ctl(['check_account', 'bob', 'localhost'])).toEqual({ status: 1, stdout: '', stderr: '' });
  });

  test('a write that failed leaves the home new, and says so after its error', async () => {
    expect(await ctl(['change_password', 'alice', 'localhost', 'pw'])).toEqual({
      status: 1,
      stdout: '',
      stderr: expect.stringMatching(new RegExp(`^Note: .*\\nError: .*alice@localhost`)),
    });
  });

  test('a batch of reads is noted once; commands that do not read the database are not', async () => {
    expect(await ctl(['batch'], { stdin: 'registered_users localhost\nnum_active_users localhost 30\n' })).toEqual({
      status: 0,
      stdout: '0\n',
      stderr: note(),
    });
    expect(await ctl(['echo_string', 'hi'])).toEqual({ status: 0, stdout: 'hi\n', stderr: '' });
    expect(await ctl(['registered_vhosts'])).toEqual({ status: 0, stdout: 'localhost\n', stderr: '' });
  });

  test('--format json gets no note: its stderr is for JSON', async () => {
    expect(await ctl(['registered_users', 'localhost', '--format', 'json'])).toEqual({ status: 0, stdout: '[]\n', stderr: '' });
  });
});

describe('--stdin password', () => {
  const register = (stdin: string) => home.ctl(['--stdin', 'password', 'register', 'alice', 'localhost'], { stdin });
  const check = (password: string) => home.ctl(['check_password', 'alice', 'localhost', password]).then((r) => r.status);

  test('on a pipe reads the first line only, without its newline', async () => {
    expect(await register('first line\nsecond line\n')).toEqual({ status: 0, stdout: 'User alice@localhost successfully registered\n', stderr: '' });
    expect(await check('first line')).toBe(0);
    expect(await check('first line\nsecond line')).toBe(1);
  });

  test('a CRLF line end and a missing last newline are not part of it', async () => {
    expect((await register('pw one\r\nrest')).status).toBe(0);
    expect(await check('pw one')).toBe(0);
    expect((await home.ctl(['--stdin', 'newpass', 'change_password', 'alice', 'localhost'], { stdin: 'pw two' })).status).toBe(0);
    expect(await check('pw two')).toBe(0);
  });

  test('other arguments still take all of standard input', async () => {
    expect(await runCli(['echo_string', '--stdin', 'thisstring'], { stdin: 'a\nb\n' })).toEqual({ status: 0, stdout: 'a\nb\n', stderr: '' });
  });
});

describe('--stdin password on a terminal (the built ctl under a pseudo-terminal)', () => {
  beforeAll(() => ensureBuilt(), 120_000);

  /** Runs ctl under util-linux's script; `typed` is sent once `prompt` has appeared. */
  function underTerminal(args: readonly string[], typed: string, prompt = 'Password: '): Promise<{ status: number | null; screen: string }> {
    const command = [process.execPath, launcher, ...args, '--home', home.dir].map((w) => `'${w}'`).join(' ');
    const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...cleanEnv(), NO_COLOR: '1' }, timeout: 30_000 });
    let screen = '';
    let sent = false;
    child.stdout.on('data', (d) => {
      screen += d;
      if (!sent && screen.includes(prompt)) {
        sent = true;
        child.stdin.write(typed);
      }
    });
    return new Promise((done) => child.on('close', (status) => done({ status, screen })));
  }

  test('prompts on stderr, reads one line with echo off, and takes backspace', async () => {
    const r = await underTerminal(['--stdin', 'password', 'register', 'alice', 'localhost'], 's3cX\u007fret\r');
    expect(r).toEqual({ status: 0, screen: 'Password: \r\nUser alice@localhost successfully registered\r\n' });
    expect((await home.ctl(['check_password', 'alice', 'localhost', 's3cret'])).status).toBe(0);
  }, 30_000);

  test('Ctrl-C cancels: nothing is registered', async () => {
    const r = await underTerminal(['--stdin', 'password', 'register', 'alice', 'localhost'], 'abc\u0003');
    expect(r).toEqual({ status: 1, screen: 'Password: \r\nError: --stdin password: cancelled\r\n' });
    expect((await home.ctl(['check_account', 'alice', 'localhost'])).status).toBe(1);
  }, 30_000);

  test('another argument says how to end it, and takes every line typed (echoed, as a terminal does)', async () => {
    const r = await underTerminal(['echo_string', '--stdin', 'thisstring'], 'one\rtwo\r\u0004', '(end with Ctrl-D)\r\n');
    expect(r).toEqual({ status: 0, screen: 'Reading thisstring from standard input (end with Ctrl-D)\r\none\r\ntwo\r\none\r\ntwo\r\n' });
  }, 30_000);
});

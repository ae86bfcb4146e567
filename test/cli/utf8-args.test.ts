import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, ensureBuilt, launcher } from '../helpers/proc';

/**
 * Bytes that are not UTF-8 reach Node's argv and stdin as U+FFFD: two different passwords would
 * become the same one. The words here are raw bytes, written the way a shell script writes them.
 */
function ctlBash(home: string, script: string): Promise<{ status: number; stdout: string; stderr: string }> {
  const env = { ...cleanEnv(), CTL: `${process.execPath} ${launcher} --home ${home}` };
  return new Promise((resolve) => {
    execFile('bash', ['-c', script], { env, timeout: 90_000 }, (err, stdout, stderr) =>
      resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let home: string;
beforeAll(() => ensureBuilt(), 120_000);
beforeEach(() => (home = mkdtempSync(join(tmpdir(), 'ctl-utf8-'))));
afterEach(() => rmSync(home, { recursive: true, force: true }));

test('a password argument that is not UTF-8 is refused, and nothing is registered', async () => {
  expect(await ctlBash(home, `$CTL register u localhost $'p\\xffw'`)).toEqual({
    status: 2,
    stdout: '',
    stderr:
      'Error: The password (password) is not valid UTF-8 (U+FFFD, what bytes that are not UTF-8 are read as, is refused)\nUsage: ctl register user host password\n',
  });
  expect(await ctlBash(home, `$CTL registered_users localhost`)).toEqual({ status: 0, stdout: '', stderr: '' });
});

test('two different invalid passwords never match each other', async () => {
  expect((await ctlBash(home, `$CTL register u localhost good`)).status).toBe(0);
  const r = await ctlBash(home, `$CTL check_password u localhost $'p\\xfew'`);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/^Error: The password \(password\) is not valid UTF-8/);
});

test('a user name that is not UTF-8 is refused with its name', async () => {
  const r = await ctlBash(home, `$CTL register $'\\xc3' localhost pw`);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/^Error: The user \(user\) is not valid UTF-8/);
});

test('a batch line with bytes that are not UTF-8 fails by its line number; the other lines run', async () => {
  const r = await ctlBash(
    home,
    `printf 'register v localhost p\\xffw\\nregister w localhost pw\\n' | $CTL batch; echo "rc=$?"; $CTL registered_users localhost`,
  );
  expect(r.stdout).toBe('User w@localhost successfully registered\nrc=1\nw\n');
  expect(r.stderr).toMatch(/line 1.*The password \(password\) is not valid UTF-8/);
});

test('--stdin password: bytes that are not UTF-8 are refused', async () => {
  const r = await ctlBash(home, `printf 'p\\xffw\\n' | $CTL register u localhost --stdin password; echo "rc=$?"; $CTL registered_users localhost`);
  expect(r.stdout).toBe('rc=2\n');
  expect(r.stderr).toMatch(/^Error: The password \(password\) is not valid UTF-8/);
});

test('--stdin: a character whose bytes arrive in two pieces is read whole', async () => {
  const r = await ctlBash(
    home,
    `{ printf 'p\\xc3'; sleep 0.3; printf '\\xa9w\\n'; } | $CTL register u localhost --stdin password && $CTL check_password u localhost 'péw'`,
  );
  expect(r).toEqual({ status: 0, stdout: 'User u@localhost successfully registered\n', stderr: '' });
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempHome } from '../helpers/cli';

/** A SCRAM record whose iteration count would make each login with its account cost seconds. */
const HEADER = '{"format":"ctl-dump","version":1,"node":"ctl@localhost","created":"2026-01-01T00:00:00.000Z","tables":["passwd"]}';
const keys = (iterations: number) => ({
  iterations,
  salt: 'H1oD5YZbkRfLUOpW7cVMJw==',
  storedKey: 'IzoJVk2cLl8OqR/TibQwE3vdfg4=',
  serverKey: '12zTeQZ0jzZcnFugmKD0ltYx+Tk=',
});
const record = (user: string, sha1: number, sha256 = 4096) =>
  JSON.stringify({
    table: 'passwd',
    key: ['localhost', user],
    value: { secret: { format: 'scram', hash: 'sha1', ...keys(sha1), sha256: keys(sha256) }, created: 1 },
  });

const home = tempHome();
afterAll(home.cleanup);

test.each([
  ['the SHA-1 keys', record('mallory', 50_000_000), 'secret.iterations'],
  ['the SHA-256 keys', record('mallory', 4096, 2_000_000), 'secret.sha256.iterations'],
])('load refuses a record whose %s have too many iterations, naming it, and loads nothing', async (_what, line, field) => {
  const file = join(home.dir, 'bad.dump');
  writeFileSync(file, `${HEADER}\n${record('alice', 4096)}\n${line}\n`);
  const r = await home.ctl(['load', file]);
  expect(r.status).toBe(1);
  expect(r.stderr).toContain(`(line 3): the account mallory@localhost: ${field} must be a whole number from 1 to 1000000`);
  expect(await home.ctl(['registered_users', 'localhost'])).toEqual({ status: 0, stdout: '', stderr: '' });
});

test('load takes a record within the bound', async () => {
  const file = join(home.dir, 'good.dump');
  writeFileSync(file, `${HEADER}\n${record('alice', 1_000_000)}\n`);
  expect((await home.ctl(['load', file])).status).toBe(0);
  expect((await home.ctl(['registered_users', 'localhost'])).stdout).toBe('alice\n');
});

test('load refuses a lone surrogate in a value', async () => {
  const file = join(home.dir, 'surrogate.dump');
  writeFileSync(file, `${HEADER}\n{"table":"passwd","key":["localhost","bob"],"value":{"secret":{"format":"plain","password":"p\\ud800w"},"created":1}}\n`);
  const r = await home.ctl(['load', file]);
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('(line 2): the value holds a lone surrogate at secret.password');
});

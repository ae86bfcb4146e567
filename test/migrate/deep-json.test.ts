/**
 * A dump or backup line nested 100 000 deep is refused before anything is written, with an
 * error naming the file and the line: JSON.parse reads it, but storing or writing the value
 * again would exhaust the stack.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempHome } from '../helpers/cli';
import { ctlOk, everything } from '../commands/backup-helpers';

jest.setTimeout(20_000);

const DEPTH = 100_000;
const nested = '['.repeat(DEPTH) + ']'.repeat(DEPTH);

let home: ReturnType<typeof tempHome>;
let before: Awaited<ReturnType<typeof everything>>;
beforeEach(async () => {
  home = tempHome();
  await ctlOk(home.ctl, 'register', 'zed', 'localhost', 'pw');
  before = await everything(home.dir);
});
afterEach(() => home.cleanup());

test('load refuses a record nested 100 000 deep, naming the file and the line', async () => {
  const file = join(home.dir, 'deep.dump');
  const header = '{"format":"ctl-dump","version":1,"node":"ctl@localhost","created":"2025-01-01T00:00:00.000Z","tables":["last"]}\n';
  writeFileSync(
    file,
    `${header}{"table":"last","key":["localhost","zed"],"value":{"timestamp":1,"status":""}}\n{"table":"last","key":["localhost","a"],"value":${nested}}\n`,
  );
  expect(await home.ctl(['load', file])).toEqual({
    status: 1,
    stdout: '',
    stderr: `Error: Invalid dump ${file} (line 3): nested deeper than 64 levels\n`,
  });
  expect(await everything(home.dir)).toEqual(before);
});

test('a deep string is only text: brackets inside strings do not count', async () => {
  const file = join(home.dir, 'text.dump');
  const header = '{"format":"ctl-dump","version":1,"node":"ctl@localhost","created":"2025-01-01T00:00:00.000Z","tables":["last"]}\n';
  const status = JSON.stringify(`\\"${'['.repeat(1000)}`);
  writeFileSync(file, `${header}{"table":"last","key":["localhost","zed"],"value":{"timestamp":1,"status":${status}}}\n`);
  expect(await home.ctl(['load', file])).toEqual({ status: 0, stdout: '', stderr: '' });
  const last = await home.ctl(['get_last', 'zed', 'localhost']);
  expect(last.status).toBe(0);
  expect(last.stdout).toContain(`"${'['.repeat(1000)}\n`);
});

test('restore refuses a record nested 100 000 deep, even with a matching checksum', async () => {
  const file = join(home.dir, 'deep.backup');
  const body = `{"format":"ctl-backup","version":1,"node":"ctl@localhost","created":"2025-01-01T00:00:00.000Z"}\n["last","localhost\\u0000a",${nested}]\n`;
  const sha256 = createHash('sha256').update(body).digest('hex');
  writeFileSync(file, `${body}${JSON.stringify({ end: 'ctl-backup', records: 1, tables: { last: 1 }, sha256 })}\n`);
  expect(await home.ctl(['restore', file])).toEqual({
    status: 1,
    stdout: '',
    stderr: `Error: Invalid backup ${file} (line 2): nested deeper than 64 levels\n`,
  });
  expect(await everything(home.dir)).toEqual(before);
});

test('a header nested 100 000 deep is refused too', async () => {
  const dump = join(home.dir, 'deep.dump');
  writeFileSync(dump, `{"format":"ctl-dump","version":${nested}}\n`);
  expect(await home.ctl(['load', dump])).toEqual({ status: 1, stdout: '', stderr: `Error: Invalid dump ${dump} (line 1): nested deeper than 64 levels\n` });
  const backup = join(home.dir, 'deep.backup');
  writeFileSync(backup, `{"format":"ctl-backup","version":${nested}}\n`);
  expect(await home.ctl(['restore', backup])).toEqual({
    status: 1,
    stdout: '',
    stderr: `Error: Invalid backup ${backup} (line 1): nested deeper than 64 levels\n`,
  });
  const out = join(home.dir, 'renamed.backup');
  const renamed = await home.ctl(['mnesia_change_nodename', 'ctl@localhost', 'other@localhost', backup, out]);
  expect(renamed).toEqual({ status: 1, stdout: '', stderr: `Error: Invalid backup ${backup} (line 1): nested deeper than 64 levels\n` });
  expect(await everything(home.dir)).toEqual(before);
});

/**
 * backup and restore without a node: the file, the round trip of every table, and restore
 * replacing the whole database.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ok, summary, tempHome } from '../helpers/cli';
import { ctlOk, everything, FILLED_BY_COMMANDS, fillEveryTable } from './backup-helpers';

let home: ReturnType<typeof tempHome>;
beforeEach(() => (home = tempHome()));
afterEach(() => home.cleanup());

const NOW = Date.UTC(2025, 0, 2, 3, 4, 5, 6);
const ctl = (...argv: string[]) => home.ctl(argv, { clock: () => NOW });

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('backup', () => {
  test('writes the documented format: header, one line per record, end line with counts and checksum', async () => {
    await ctlOk(home.ctl, 'register', 'alice', 'localhost', 'pw');
    await ctlOk(home.ctl, 'set_last', 'alice', 'localhost', '1700000000', 'gone');
    const file = join(home.dir, 'b.backup');
    expect(await ctl('backup', file, '--verbose')).toEqual(summary(`Backed up 2 records to ${file}\n`));

    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[4]).toBe('');
    expect(lines[0]).toBe('{"format":"ctl-backup","version":1,"node":"ctl@localhost","created":"2025-01-02T03:04:05.006Z"}');
    expect(lines[1]).toBe('["last","localhost\\u0000alice",{"timestamp":1700000000,"status":"gone"}]');
    expect(JSON.parse(lines[2])).toEqual(['passwd', 'localhost\u0000alice', expect.objectContaining({})]);
    const body = `${lines.slice(0, 3).join('\n')}\n`;
    expect(JSON.parse(lines[3])).toEqual({ end: 'ctl-backup', records: 2, tables: { last: 1, passwd: 1 }, sha256: sha(body) });
  });

  test('an empty database gives a backup of no records, which restores to an empty database', async () => {
    const file = join(home.dir, 'empty.backup');
    expect(await ctl('backup', file, '--verbose')).toEqual(summary(`Backed up 0 records to ${file}\n`));
    const [header, end] = readFileSync(file, 'utf8').split('\n');
    expect(JSON.parse(end)).toEqual({ end: 'ctl-backup', records: 0, tables: {}, sha256: sha(`${header}\n`) });
    await ctlOk(home.ctl, 'register', 'alice', 'localhost', 'pw');
    expect(await ctl('restore', file, '--verbose')).toEqual(summary(`Restored 0 records from ${file}\n`));
    expect(await everything(home.dir)).toEqual({});
  });

  test('names the node of the configuration', async () => {
    writeFileSync(join(home.dir, 'ctl.yml'), 'node_name: ejabberd@example\n');
    await ctlOk(home.ctl, 'backup', join(home.dir, 'b'));
    expect(JSON.parse(readFileSync(join(home.dir, 'b'), 'utf8').split('\n')[0]).node).toBe('ejabberd@example');
  });

  test('a relative path is written in the current directory and reported absolute', async () => {
    const cwd = process.cwd();
    process.chdir(home.dir);
    try {
      expect(await ctl('backup', 'rel.backup', '--verbose')).toEqual(summary(`Backed up 0 records to ${join(home.dir, 'rel.backup')}\n`));
    } finally {
      process.chdir(cwd);
    }
    expect(statSync(join(home.dir, 'rel.backup')).isFile()).toBe(true);
  });

  test('is readable by its owner only, holding password hashes, and leaves no temporary file', async () => {
    await ctlOk(home.ctl, 'register', 'alice', 'localhost', 'pw');
    await ctlOk(home.ctl, 'backup', join(home.dir, 'b.backup'));
    expect(statSync(join(home.dir, 'b.backup')).mode & 0o777).toBe(0o600);
    expect(readdirSync(home.dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  test('replaces an existing file', async () => {
    const file = join(home.dir, 'b.backup');
    writeFileSync(file, 'old contents\n');
    await ctlOk(home.ctl, 'backup', file);
    expect(readFileSync(file, 'utf8')).toMatch(/^\{"format":"ctl-backup"/);
  });

  test('an unwritable place is an error naming the file, and writes nothing', async () => {
    const file = join(home.dir, 'no', 'such', 'b.backup');
    expect(await ctl('backup', file)).toEqual({ status: 1, stdout: '', stderr: `Error: Cannot write ${file}: the directory does not exist\n` });
    expect(await ctl('backup', home.dir)).toEqual({ status: 1, stdout: '', stderr: `Error: Cannot write ${home.dir}: it is a directory\n` });
  });

  test('takes exactly one argument', async () => {
    expect((await ctl('backup')).status).toBe(2);
    expect((await ctl('backup', 'a', 'b')).status).toBe(2);
  });
});

describe('backup and restore', () => {
  test('reproduce every table exactly, on a fresh home', async () => {
    await fillEveryTable(home.dir, home.ctl);
    const before = await everything(home.dir);
    expect(Object.keys(before)).toEqual(expect.arrayContaining(FILLED_BY_COMMANDS));
    const file = join(home.dir, 'all.backup');
    const records = Object.values(before).reduce((n, rows) => n + rows.length, 0);
    expect(await ctl('backup', file, '--verbose')).toEqual(summary(`Backed up ${records} records to ${file}\n`));

    const fresh = tempHome();
    try {
      expect(await fresh.ctl(['restore', file, '--verbose'])).toEqual(summary(`Restored ${records} records from ${file}\n`));
      expect(await everything(fresh.dir)).toEqual(before);
      // The services read what was restored.
      expect(await fresh.ctl(['check_password', 'alice', 'localhost', 'pw-alice'])).toEqual(ok(''));
      expect(await fresh.ctl(['get_vcard', 'bob', 'localhost', 'FN'])).toEqual(ok('bob Liddell\n'));
      expect(await fresh.ctl(['get_offline_count', 'alice', 'localhost'])).toEqual(ok('2\n'));
    } finally {
      fresh.cleanup();
    }
  });

  test("restore over a database with other data leaves exactly the backup's data", async () => {
    await fillEveryTable(home.dir, home.ctl);
    const before = await everything(home.dir);
    const file = join(home.dir, 'all.backup');
    await ctlOk(home.ctl, 'backup', file);

    await ctlOk(home.ctl, 'unregister', 'alice', 'localhost');
    await ctlOk(home.ctl, 'change_password', 'bob', 'localhost', 'changed');
    await fillEveryTable(home.dir, home.ctl, ['carol', 'dave']);
    expect(await everything(home.dir)).not.toEqual(before);

    await ctlOk(home.ctl, 'restore', file);
    expect(await everything(home.dir)).toEqual(before);
    expect((await home.ctl(['registered_users', 'localhost'])).stdout).toBe('alice\nbob\n');
  });

  test('restore says when the backup was made by another node, on standard error', async () => {
    await ctlOk(home.ctl, 'register', 'alice', 'localhost', 'pw');
    const file = join(home.dir, 'b');
    await ctlOk(home.ctl, 'backup', file);
    writeFileSync(join(home.dir, 'ctl.yml'), 'node_name: other@host\n');
    expect(await ctl('restore', file)).toEqual({
      status: 0,
      stdout: '',
      stderr: 'Note: the backup was made by node ctl@localhost, this node is other@host\n',
    });
    expect((await ctl('restore', file, '--verbose')).stderr).toBe(
      `Note: the backup was made by node ctl@localhost, this node is other@host\nRestored 1 records from ${file}\n`,
    );
  });
});

/**
 * dump and dump_table: the text dump's exact lines, and dump → load reproducing every table.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ok, summary, tempHome } from '../helpers/cli';
import { lastKey } from '../../src/features/last/records';
import { ctlOk, everything, FILLED_BY_COMMANDS, fillEveryTable } from './backup-helpers';

let home: ReturnType<typeof tempHome>;
beforeEach(() => {
  home = tempHome();
  writeFileSync(join(home.dir, 'ctl.yml'), 'auth_password_format: plain\n');
});
afterEach(() => home.cleanup());

const NOW = Date.UTC(2025, 0, 2, 3, 4, 5, 6);
const ctl = (...argv: string[]) => home.ctl(argv, { clock: () => NOW });
const at = (argv: readonly string[]) => home.ctl(argv, { clock: () => NOW });
const TABLE_LIST =
  'api_tokens, api_tokens_by_account, last, mam, mam_by_time, muc_registered, muc_registered_nick, muc_room, offline, offline_by_expiry, offline_by_time, passwd, privacy, private, roster, srg, srg_member, srg_user, vcard';

async function two() {
  await ctlOk(at, 'register', 'bob', 'localhost', 'pw');
  await ctlOk(at, 'register', 'alice', 'localhost', 'p\tw');
  await ctlOk(at, 'set_last', 'alice', 'localhost', '1700000000', 'tab\there, "quoted", 😀');
}

describe('dump', () => {
  test('writes a header line, then one JSON record per line, by table then key', async () => {
    await two();
    const file = join(home.dir, 'all.dump');
    expect(await ctl('dump', file, '--verbose')).toEqual(summary(`Dumped 3 records to ${file}\n`));
    const created = Math.floor(NOW / 1000);
    expect(readFileSync(file, 'utf8')).toBe(
      '{"format":"ctl-dump","version":1,"node":"ctl@localhost","created":"2025-01-02T03:04:05.006Z","tables":["last","passwd"]}\n' +
        '{"table":"last","key":["localhost","alice"],"value":{"timestamp":1700000000,"status":"tab\\there, \\"quoted\\", 😀"}}\n' +
        `{"table":"passwd","key":["localhost","alice"],"value":{"secret":{"format":"plain","password":"p\\tw"},"created":${created}}}\n` +
        `{"table":"passwd","key":["localhost","bob"],"value":{"secret":{"format":"plain","password":"pw"},"created":${created}}}\n`,
    );
  });

  test('of an empty database is the header alone', async () => {
    const file = join(home.dir, 'empty.dump');
    expect(await ctl('dump', file, '--verbose')).toEqual(summary(`Dumped 0 records to ${file}\n`));
    expect(readFileSync(file, 'utf8')).toBe('{"format":"ctl-dump","version":1,"node":"ctl@localhost","created":"2025-01-02T03:04:05.006Z","tables":[]}\n');
  });

  test('splits every key into its parts', async () => {
    await fillEveryTable(home.dir, home.ctl);
    const file = join(home.dir, 'all.dump');
    await ctlOk(home.ctl, 'dump', file);
    const records = readFileSync(file, 'utf8')
      .split('\n')
      .slice(1, -1)
      .map((l) => JSON.parse(l));
    const roster = records.find((r) => r.table === 'roster');
    expect(roster.key).toEqual(['localhost', 'alice', 'bob@localhost']);
    const expiry = records.find((r) => r.table === 'offline_by_expiry');
    expect(expiry.key).toEqual([expect.stringMatching(/^\d{15}$/), 'localhost', 'alice', expect.stringMatching(/^\d{15}-\d{6}$/)]);
    expect(new Set(records.map((r) => r.table))).toEqual(new Set(Object.keys(await everything(home.dir))));
  });

  test('is readable by its owner only', async () => {
    await ctlOk(at, 'dump', join(home.dir, 'd'));
    expect(statSync(join(home.dir, 'd')).mode & 0o777).toBe(0o600);
  });

  test('an unwritable place is an error naming the file', async () => {
    const file = join(home.dir, 'missing-dir', 'd');
    expect(await ctl('dump', file)).toEqual({ status: 1, stdout: '', stderr: `Error: Cannot write ${file}: the directory does not exist\n` });
  });
});

describe('dump_table', () => {
  test('writes the records of one table, with the same header', async () => {
    await two();
    const file = join(home.dir, 'last.dump');
    expect(await ctl('dump_table', file, 'last', '--verbose')).toEqual(summary(`Dumped 1 records of table last to ${file}\n`));
    expect(readFileSync(file, 'utf8')).toBe(
      '{"format":"ctl-dump","version":1,"node":"ctl@localhost","created":"2025-01-02T03:04:05.006Z","tables":["last"]}\n' +
        '{"table":"last","key":["localhost","alice"],"value":{"timestamp":1700000000,"status":"tab\\there, \\"quoted\\", 😀"}}\n',
    );
  });

  test('of a known table without records is the header alone', async () => {
    const file = join(home.dir, 'srg.dump');
    expect(await ctl('dump_table', file, 'srg', '--verbose')).toEqual(summary(`Dumped 0 records of table srg to ${file}\n`));
    expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(2);
  });

  test('an unknown table is a usage error listing the tables, and writes nothing', async () => {
    const file = join(home.dir, 'x.dump');
    expect(await ctl('dump_table', file, 'users')).toEqual({
      status: 2,
      stdout: '',
      stderr: `Error: Unknown table 'users' (table): the tables are ${TABLE_LIST}\nUsage: ctl dump_table file table\n`,
    });
    expect(() => statSync(file)).toThrow();
  });
});

describe('dump and load', () => {
  test('reproduce every table exactly, on a fresh home', async () => {
    await fillEveryTable(home.dir, home.ctl);
    const before = await everything(home.dir);
    expect(Object.keys(before)).toEqual(expect.arrayContaining(FILLED_BY_COMMANDS));
    const n = Object.values(before).reduce((sum, rows) => sum + rows.length, 0);
    const file = join(home.dir, 'all.dump');
    expect(await ctl('dump', file, '--verbose')).toEqual(summary(`Dumped ${n} records to ${file}\n`));
    const fresh = tempHome();
    try {
      expect(await fresh.ctl(['load', file, '--verbose'])).toEqual(summary(`Loaded ${n} records from ${file}\n`));
      expect(await everything(fresh.dir)).toEqual(before);
      expect(await fresh.ctl(['get_roster', 'alice', 'localhost'])).toEqual(
        ok('bob@localhost\tbob Ünïcødé\tboth\tnone\tFriends\nbob@localhost\tbob Ünïcødé\tboth\tnone\tWork\n'),
      );
    } finally {
      fresh.cleanup();
    }
  });

  test('the tables dumped one by one load back to the whole database', async () => {
    await fillEveryTable(home.dir, home.ctl);
    const before = await everything(home.dir);
    const fresh = tempHome();
    try {
      for (const table of Object.keys(before)) {
        const file = join(home.dir, `${table}.dump`);
        await ctlOk(home.ctl, 'dump_table', file, table);
        await ctlOk(fresh.ctl, 'load', file);
      }
      expect(await everything(fresh.dir)).toEqual(before);
    } finally {
      fresh.cleanup();
    }
  });

  test("load merges: the dump's records overwrite the same keys, the others stay", async () => {
    await two();
    const file = join(home.dir, 'all.dump');
    await ctlOk(at, 'dump', file);
    await ctlOk(at, 'change_password', 'alice', 'localhost', 'changed');
    await ctlOk(at, 'register', 'carol', 'localhost', 'pw');
    await ctlOk(at, 'unregister', 'bob', 'localhost');
    expect(await ctl('load', file, '--verbose')).toEqual(summary(`Loaded 3 records from ${file}\n`));
    expect((await ctl('registered_users', 'localhost')).stdout).toBe('alice\nbob\ncarol\n');
    expect((await ctl('check_password', 'alice', 'localhost', 'p\tw')).status).toBe(0);
    expect((await ctl('check_password', 'bob', 'localhost', 'pw')).status).toBe(0);
  });

  test('load skips blank lines and takes a last line without its newline', async () => {
    const file = join(home.dir, 'hand.dump');
    writeFileSync(
      file,
      '{"format":"ctl-dump","version":1}\n\n   \n' +
        '{"table":"passwd","key":["localhost","zoe"],"value":{"secret":{"format":"plain","password":"z"},"created":1}}\n\n' +
        '{ "value": {"timestamp": 5, "status": ""}, "key": ["localhost", "zoe"], "table": "last" }',
    );
    expect(await ctl('load', file, '--verbose')).toEqual(summary(`Loaded 2 records from ${file}\n`));
    expect((await ctl('check_password', 'zoe', 'localhost', 'z')).status).toBe(0);
    const all = await everything(home.dir);
    expect(all.last).toEqual([[lastKey({ host: 'localhost', user: 'zoe' }), '{"timestamp":5,"status":""}']]);
  });
});

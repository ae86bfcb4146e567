import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fails, ok, tempHome } from '../helpers/cli';
import { openLevelStore } from '../../src/storage/level';
import { vcardOps } from '../../src/features/vcard/records';

let home: ReturnType<typeof tempHome>;
beforeEach(() => {
  home = tempHome();
  writeFileSync(join(home.dir, 'ctl.yml'), 'hosts:\n  - example.org\n  - localhost\nauth_password_format: plain\n');
});
afterEach(() => home.cleanup());

async function ctl(...argv: string[]) {
  const r = await home.ctl(argv);
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
}

const HEADER = (host: string) =>
  `-- ejabberd SQL data of host ${host}, written by ctl export_odbc.\n` +
  "-- Schema: pg, ejabberd's single-host schema, sql/pg.sql.\n" +
  "-- Load it into a database made with ejabberd's pg.sql: psql -v ON_ERROR_STOP=1 -1 -f FILE\n" +
  "SET standard_conforming_strings = on;\nSET client_encoding = 'UTF8';\n";

describe('export_odbc and export2odbc', () => {
  test('DELETE then INSERT per record, under the Mnesia table headers; only the host asked for', async () => {
    await ctl('register', 'alice', 'example.org', "pa'ss\\");
    await ctl('register', 'other', 'localhost', 'pw');
    await ctl('add_rosteritem', 'alice', 'example.org', 'bob', 'example.org', "Bob 'B'", 'Friends;Work', 'to');
    await ctl('set_last', 'alice', 'example.org', '1700000000', 'away\nback soon');
    await ctl('srg_create', 'team', 'example.org', 'Tëam "A"', 'Desc\\', 'team\\nothers');
    await ctl('srg_user_add', 'alice', 'example.org', 'team', 'example.org');
    await ctl('srg_user_add', '@all@', 'example.org', 'team', 'example.org');
    const file = join(home.dir, 'out.sql');
    expect(await home.ctl(['export_odbc', 'example.org', file])).toEqual(ok());
    expect(readFileSync(file, 'utf8')).toBe(
      HEADER('example.org') +
        '-- \n-- Mnesia table: passwd\n--\n' +
        "DELETE FROM users WHERE username='alice';\n" +
        "INSERT INTO users(username, password) VALUES ('alice', 'pa''ss\\');\n" +
        '-- \n-- Mnesia table: last_activity\n--\n' +
        "DELETE FROM last WHERE username='alice';\n" +
        "INSERT INTO last(username, seconds, state) VALUES ('alice', '1700000000', 'away\nback soon');\n" +
        '-- \n-- Mnesia table: roster\n--\n' +
        "DELETE FROM rosterusers WHERE username='alice' AND jid='bob@example.org';\n" +
        "INSERT INTO rosterusers(username, jid, nick, subscription, ask, askmessage, server, subscribe, type) VALUES ('alice', 'bob@example.org', 'Bob ''B''', 'T', 'N', '', 'N', '', 'item');\n" +
        "DELETE FROM rostergroups WHERE username='alice' AND jid='bob@example.org';\n" +
        "INSERT INTO rostergroups(username, jid, grp) VALUES ('alice', 'bob@example.org', 'Friends');\n" +
        "INSERT INTO rostergroups(username, jid, grp) VALUES ('alice', 'bob@example.org', 'Work');\n" +
        '-- \n-- Mnesia table: sr_group\n--\n' +
        "DELETE FROM sr_group WHERE name='team';\n" +
        // Erlang text, as ejabberd reads sr_group.opts back: UTF-8 bytes as octal escapes.
        'INSERT INTO sr_group(name, opts) VALUES (\'team\', \'[{name,<<"T\\303\\253am \\"A\\"">>},{description,<<"Desc\\\\">>},{displayed_groups,[<<"team">>,<<"others">>]},{all_users,true}]\');\n' +
        '-- \n-- Mnesia table: sr_user\n--\n' +
        "DELETE FROM sr_user WHERE jid='alice@example.org' AND grp='team';\n" +
        "INSERT INTO sr_user(jid, grp) VALUES ('alice@example.org', 'team');\n",
    );
  });

  test('export2odbc is the same function: its second argument is the output file', async () => {
    await ctl('register', 'alice', 'example.org', 'pw');
    const a = join(home.dir, 'a.sql');
    const b = join(home.dir, 'b.sql');
    expect(await home.ctl(['export_odbc', 'example.org', a])).toEqual(ok());
    expect(await home.ctl(['export2odbc', 'example.org', b])).toEqual(ok());
    expect(readFileSync(b, 'utf8')).toBe(readFileSync(a, 'utf8'));
    expect(readFileSync(a, 'utf8')).toContain("INSERT INTO users(username, password) VALUES ('alice', 'pw');\n");
  });

  test('a host without data: the header and nothing else; an existing file is replaced', async () => {
    const file = join(home.dir, 'out.sql');
    writeFileSync(file, 'old content');
    expect(await home.ctl(['export_odbc', 'localhost', file])).toEqual(ok());
    expect(readFileSync(file, 'utf8')).toBe(HEADER('localhost'));
  });

  test('a relative path is taken from the current directory', async () => {
    const cwd = process.cwd();
    process.chdir(home.dir);
    try {
      expect(await home.ctl(['export_odbc', 'LOCALHOST', 'rel.sql'])).toEqual(ok());
    } finally {
      process.chdir(cwd);
    }
    expect(readFileSync(join(home.dir, 'rel.sql'), 'utf8')).toBe(HEADER('localhost'));
  });

  test('an unknown host names the configured ones, and no file is written', async () => {
    const file = join(home.dir, 'out.sql');
    expect(await home.ctl(['export_odbc', 'jabber.example.net', file])).toEqual(
      fails(1, `Error: Unknown host 'jabber.example.net': this node serves example.org, localhost (hosts in ${join(home.dir, 'ctl.yml')})\n`),
    );
    expect(() => readFileSync(file)).toThrow(/ENOENT/);
  });

  test('the output must be a file in an existing directory', async () => {
    const missing = join(home.dir, 'no', 'out.sql');
    expect(await home.ctl(['export_odbc', 'localhost', missing])).toEqual(fails(1, `Error: Cannot write ${missing}: the directory does not exist\n`));
    const dir = join(home.dir, 'outdir');
    mkdirSync(dir);
    expect(await home.ctl(['export2odbc', 'localhost', dir])).toEqual(fails(1, `Error: Cannot write ${dir}: it is a directory\n`));
    expect(await home.ctl(['export_odbc', 'localhost'])).toEqual(fails(2, "Error: missing argument 'file'\nUsage: ctl export_odbc host file\n"));
  });

  test('a value PostgreSQL cannot hold (NUL) fails the export, and no file is left', async () => {
    await ctl('register', 'alice', 'example.org', 'pw');
    await ctl('set_last', 'alice', 'example.org', '1', 'a\u0000b');
    const file = join(home.dir, 'out.sql');
    expect(await home.ctl(['export_odbc', 'example.org', file])).toEqual(
      fails(1, `Error: Cannot export example.org to ${file}: a value for the last table contains a NUL character, which PostgreSQL text cannot hold\n`),
    );
    expect(() => readFileSync(file)).toThrow(/ENOENT/);
  });

  test('--sql-schema pg-new: every row and every WHERE carries server_host, as ejabberd with new_sql_schema writes and finds them', async () => {
    await ctl('register', 'alice', 'example.org', 'pw');
    await ctl('add_rosteritem', 'alice', 'example.org', 'bob', 'example.org', 'Bob', 'Friends', 'to');
    await ctl('srg_create', 'team', 'example.org', 'Team', '', '');
    await ctl('srg_user_add', 'alice', 'example.org', 'team', 'example.org');
    const file = join(home.dir, 'out.sql');
    expect(await home.ctl(['--sql-schema', 'pg-new', 'export_odbc', 'example.org', file])).toEqual(ok());
    expect(readFileSync(file, 'utf8')).toBe(
      '-- ejabberd SQL data of host example.org, written by ctl export_odbc.\n' +
        "-- Schema: pg-new, ejabberd's multi-host schema, sql/pg.new.sql (new_sql_schema: true).\n" +
        "-- Load it into a database made with ejabberd's pg.new.sql: psql -v ON_ERROR_STOP=1 -1 -f FILE\n" +
        "SET standard_conforming_strings = on;\nSET client_encoding = 'UTF8';\n" +
        '-- \n-- Mnesia table: passwd\n--\n' +
        "DELETE FROM users WHERE username='alice' AND server_host='example.org';\n" +
        "INSERT INTO users(username, server_host, password) VALUES ('alice', 'example.org', 'pw');\n" +
        '-- \n-- Mnesia table: roster\n--\n' +
        "DELETE FROM rosterusers WHERE username='alice' AND server_host='example.org' AND jid='bob@example.org';\n" +
        "INSERT INTO rosterusers(username, server_host, jid, nick, subscription, ask, askmessage, server, subscribe, type) VALUES ('alice', 'example.org', 'bob@example.org', 'Bob', 'T', 'N', '', 'N', '', 'item');\n" +
        "DELETE FROM rostergroups WHERE username='alice' AND server_host='example.org' AND jid='bob@example.org';\n" +
        "INSERT INTO rostergroups(username, server_host, jid, grp) VALUES ('alice', 'example.org', 'bob@example.org', 'Friends');\n" +
        '-- \n-- Mnesia table: sr_group\n--\n' +
        "DELETE FROM sr_group WHERE name='team' AND server_host='example.org';\n" +
        "INSERT INTO sr_group(name, server_host, opts) VALUES ('team', 'example.org', '[{name,<<\"Team\">>},{description,<<\"\">>},{displayed_groups,[]}]');\n" +
        '-- \n-- Mnesia table: sr_user\n--\n' +
        "DELETE FROM sr_user WHERE jid='alice@example.org' AND server_host='example.org' AND grp='team';\n" +
        "INSERT INTO sr_user(jid, server_host, grp) VALUES ('alice@example.org', 'example.org', 'team');\n",
    );
  });

  test('--sql-schema pg-25: a plain password is the users row of type 1; the header names the schema', async () => {
    await ctl('register', 'alice', 'example.org', 'pw');
    const file = join(home.dir, 'out.sql');
    expect(await home.ctl(['export_odbc', 'example.org', file, '--sql-schema', 'pg-25'])).toEqual(ok());
    const text = readFileSync(file, 'utf8');
    expect(text).toContain("-- Schema: pg-25, ejabberd 25.03 or later's multi-host schema, sql/pg.new.sql with users.type (one row per stored hash).\n");
    expect(text).toContain(
      "DELETE FROM users WHERE username='alice' AND server_host='example.org';\nINSERT INTO users(username, server_host, type, password) VALUES ('alice', 'example.org', 1, 'pw');\n",
    );
  });

  test('an unknown --sql-schema is a usage error naming the layouts, and no file is written', async () => {
    const file = join(home.dir, 'out.sql');
    expect(await home.ctl(['--sql-schema', 'mysql', 'export2odbc', 'localhost', file])).toEqual(
      fails(2, "Error: --sql-schema must be one of pg, pg-new, pg-25, got 'mysql'\nUsage: ctl export2odbc host directory\n"),
    );
    expect(() => readFileSync(file)).toThrow(/ENOENT/);
  });

  test('a stored vCard that is not XML is a failure naming its user', async () => {
    await ctl('register', 'alice', 'example.org', 'pw');
    const store = await openLevelStore(join(home.dir, 'db'));
    await store.batch(vcardOps({ host: 'example.org', user: 'alice' }, { xml: '<vCard xmlns="vcard-temp"><FN>' }));
    await store.close();
    const r = await home.ctl(['export_odbc', 'example.org', join(home.dir, 'out.sql')]);
    expect(r).toEqual(fails(1, 'Error: Malformed XML in the stored vCard of alice@example.org (line 1, column 30): unclosed tag: FN\n'));
  });
});

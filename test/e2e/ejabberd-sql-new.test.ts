/**
 * export_odbc for ejabberd's newer PostgreSQL layouts. `--sql-schema pg-new`: loaded with
 * `psql -v ON_ERROR_STOP=1 -1` into a database made from the installed
 * /usr/share/ejabberd/sql/pg.new.sql, which the real ejabberd 23.01 Debian ships serves with
 * `new_sql_schema: true`, both hosts in the one database, answering as ctl did.
 * `--sql-schema pg-25`: no ejabberd 25.03 here, so the file is loaded into the same pg.new.sql
 * with the changes ejabberd 25.03's published sql/pg.new.sql makes to the users table (written
 * out below), and its rows are checked as ejabberd 25.03's ejabberd_auth_sql reads them.
 * One PostgreSQL and one ejabberd for the file.
 */
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempHome } from '../helpers/cli';
import { rosterFields, startEjabberd, type Ejabberd } from '../helpers/ejabberd';
import { startPostgres, type Postgres } from './sql-export-pg';

const SCHEMA = readFileSync('/usr/share/ejabberd/sql/pg.new.sql', 'utf8');
/**
 * What ejabberd 25.03's sql/pg.new.sql has in users beyond 23.01's: `"type" smallint NOT NULL`
 * and the primary key (server_host, username, "type"), one row per stored hash
 * (ejabberd_auth_sql: 1 plain, 2 SCRAM-SHA-1, 3 SCRAM-SHA-256, 4 SCRAM-SHA-512). Its other
 * changes to the tables export_odbc fills (BIGSERIAL ids, a unique index instead of the primary
 * key of private_storage, sr_group and sr_user) change no row an INSERT may hold.
 */
const USERS_25 = `ALTER TABLE users ADD COLUMN "type" smallint NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_pkey;
ALTER TABLE users ADD PRIMARY KEY (server_host, username, "type");
`;
const DB = 'ej_new';
const PASSWORDS = { alice: "pw 'a' 李", bob: 'bobpw', pat: 'plain pw' } as const;

let pg: Postgres;
let ej: Ejabberd;
/** SCRAM accounts on localhost; plain ones on plain.test (ctl's password format is one per home). */
let scramHome: ReturnType<typeof tempHome>;
let plainHome: ReturnType<typeof tempHome>;

async function ctl(home: ReturnType<typeof tempHome>, ...args: string[]): Promise<string> {
  const r = await home.ctl(args);
  if (r.status !== 0) throw new Error(`ctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** The file of `host` for `schema`, written by ctl. */
async function exported(home: ReturnType<typeof tempHome>, host: string, schema: string): Promise<string> {
  const file = join(home.dir, `${host}.${schema}.sql`);
  await ctl(home, '--sql-schema', schema, 'export_odbc', host, file);
  return readFileSync(file, 'utf8');
}

beforeAll(async () => {
  scramHome = tempHome();
  writeFileSync(join(scramHome.dir, 'ctl.yml'), 'hosts:\n  - localhost\n');
  plainHome = tempHome();
  writeFileSync(join(plainHome.dir, 'ctl.yml'), 'hosts:\n  - plain.test\nauth_password_format: plain\n');
  await ctl(scramHome, 'register', 'admin', 'localhost', 'secret');
  await ctl(scramHome, 'register', 'alice', 'localhost', PASSWORDS.alice);
  await ctl(scramHome, 'register', 'bob', 'localhost', PASSWORDS.bob);
  await ctl(scramHome, 'add_rosteritem', 'alice', 'localhost', 'bob', 'localhost', "Bob 'B'", 'Friends;Work', 'both');
  await ctl(scramHome, 'add_rosteritem', 'alice', 'localhost', 'carol', 'example.net', 'Carol', 'Friends', 'to');
  await ctl(scramHome, 'set_vcard', 'alice', 'localhost', 'FN', 'Alice Ä "A"');
  await ctl(plainHome, 'register', 'pat', 'plain.test', PASSWORDS.pat);
  await ctl(plainHome, 'add_rosteritem', 'pat', 'plain.test', 'alice', 'localhost', 'Alice', 'G', 'from');
  await ctl(plainHome, 'set_vcard', 'pat', 'plain.test', 'FN', 'Pat');

  pg = await startPostgres({ tcp: true });
  await pg.psql('postgres', `CREATE DATABASE ${DB};`);
  await pg.psql(DB, SCHEMA);
  // ejabberd registers its admin at start; ctl's export replaces that row with its own.
  ej = await startEjabberd({
    sql: {
      port: pg.port,
      user: 'postgres',
      newSchema: true,
      hosts: [
        { host: 'localhost', database: DB, passwordFormat: 'scram' },
        { host: 'plain.test', database: DB, passwordFormat: 'plain' },
      ],
    },
  });
}, 180_000);

afterAll(async () => {
  await ej?.stop();
  await pg?.stop();
  scramHome?.cleanup();
  plainHome?.cleanup();
}, 60_000);

describe('--sql-schema pg-new, served by ejabberd 23.01 with new_sql_schema: true', () => {
  beforeAll(async () => {
    for (const [home, host] of [
      [scramHome, 'localhost'],
      [plainHome, 'plain.test'],
    ] as const) {
      const sql = await exported(home, host, 'pg-new');
      expect(sql).toContain("-- Schema: pg-new, ejabberd's multi-host schema, sql/pg.new.sql (new_sql_schema: true).\n");
      await pg.psql(DB, sql, { singleTransaction: true });
    }
  }, 60_000);

  test('both hosts in one database, each row under its server_host', async () => {
    expect(await pg.rows(DB, 'SELECT server_host, username, iterationcount FROM users ORDER BY server_host, username')).toEqual([
      { server_host: 'localhost', username: 'admin', iterationcount: 4096 },
      { server_host: 'localhost', username: 'alice', iterationcount: 4096 },
      { server_host: 'localhost', username: 'bob', iterationcount: 4096 },
      { server_host: 'plain.test', username: 'pat', iterationcount: 0 },
    ]);
    expect(await pg.rows(DB, 'SELECT DISTINCT server_host, username FROM rosterusers ORDER BY 1')).toEqual([
      { server_host: 'localhost', username: 'alice' },
      { server_host: 'plain.test', username: 'pat' },
    ]);
  });

  test('check_password (SCRAM and plain), get_roster and get_vcard answer as ctl did', async () => {
    const ejabberdctl = async (...args: string[]) => {
      const r = await ej.ejabberdctl(args);
      return { status: r.status, stdout: r.stdout };
    };
    expect(await ejabberdctl('check_password', 'alice', 'localhost', PASSWORDS.alice)).toEqual({ status: 0, stdout: '' });
    expect(await ejabberdctl('check_password', 'bob', 'localhost', PASSWORDS.bob)).toEqual({ status: 0, stdout: '' });
    expect(await ejabberdctl('check_password', 'pat', 'plain.test', PASSWORDS.pat)).toEqual({ status: 0, stdout: '' });
    expect((await ejabberdctl('check_password', 'alice', 'localhost', 'wrong')).status).toBe(1);
    expect((await ejabberdctl('check_password', 'pat', 'plain.test', 'wrong')).status).toBe(1);
    // The same user name on the other host is another account.
    expect((await ejabberdctl('check_password', 'pat', 'localhost', PASSWORDS.pat)).status).toBe(1);
    for (const [home, user, host] of [
      [scramHome, 'alice', 'localhost'],
      [plainHome, 'pat', 'plain.test'],
    ] as const) {
      const theirs = await ejabberdctl('get_roster', user, host);
      expect(theirs.status).toBe(0);
      expect(rosterFields(theirs.stdout)).toEqual(rosterFields(await ctl(home, 'get_roster', user, host)));
      expect(await ejabberdctl('get_vcard', user, host, 'FN')).toEqual({ status: 0, stdout: await ctl(home, 'get_vcard', user, host, 'FN') });
    }
    expect(rosterFields((await ejabberdctl('get_roster', 'alice', 'localhost')).stdout)).toEqual([
      "bob@localhost\tBob 'B'\tboth\tFriends",
      "bob@localhost\tBob 'B'\tboth\tWork",
      'carol@example.net\tCarol\tto\tFriends',
    ]);
  }, 60_000);

  test('loading the file again changes nothing: every INSERT follows the DELETE of its row', async () => {
    const before = await pg.rows(DB, 'SELECT server_host, username, jid, nick FROM rosterusers ORDER BY 1, 2, 3');
    await pg.psql(DB, await exported(scramHome, 'localhost', 'pg-new'), { singleTransaction: true });
    expect(await pg.rows(DB, 'SELECT server_host, username, jid, nick FROM rosterusers ORDER BY 1, 2, 3')).toEqual(before);
    expect(await pg.rows(DB, "SELECT count(*)::int AS n FROM rostergroups WHERE server_host = 'localhost'")).toEqual([{ n: 3 }]);
  });
});

/** A SCRAM stored key and server key of `password` (RFC 5802, RFC 7677). */
function scram(hash: 'sha1' | 'sha256', password: string, salt: string, iterations: number) {
  const salted = pbkdf2Sync(password, Buffer.from(salt, 'base64'), iterations, hash === 'sha1' ? 20 : 32, hash);
  const clientKey = createHmac(hash, salted).update('Client Key').digest();
  return { password: createHash(hash).update(clientKey).digest('base64'), serverkey: createHmac(hash, salted).update('Server Key').digest('base64') };
}

describe("--sql-schema pg-25: ejabberd 25.03's users, one row per stored hash", () => {
  const DB25 = 'ej_25';
  beforeAll(async () => {
    await pg.psql('postgres', `CREATE DATABASE ${DB25};`);
    await pg.psql(DB25, SCHEMA + USERS_25);
    for (const [home, host] of [
      [scramHome, 'localhost'],
      [plainHome, 'plain.test'],
    ] as const) {
      const sql = await exported(home, host, 'pg-25');
      expect(sql).toContain("-- Schema: pg-25, ejabberd 25.03 or later's multi-host schema, sql/pg.new.sql with users.type (one row per stored hash).\n");
      await pg.psql(DB25, sql, { singleTransaction: true });
    }
  }, 60_000);

  test('SCRAM accounts: a type 2 row of SCRAM-SHA-1 keys and a type 3 row of SCRAM-SHA-256 keys, without a prefix; plain: one row of type 1', async () => {
    type Row = { server_host: string; username: string; type: number; password: string; serverkey: string; salt: string; iterationcount: number };
    const rows = await pg.rows<Row>(DB25, 'SELECT server_host, username, type, password, serverkey, salt, iterationcount FROM users ORDER BY 1, 2, 3');
    expect(rows.map((r) => [r.server_host, r.username, r.type])).toEqual([
      ['localhost', 'admin', 2],
      ['localhost', 'admin', 3],
      ['localhost', 'alice', 2],
      ['localhost', 'alice', 3],
      ['localhost', 'bob', 2],
      ['localhost', 'bob', 3],
      ['plain.test', 'pat', 1],
    ]);
    const passwords: Record<string, string> = { ...PASSWORDS, admin: 'secret' };
    for (const r of rows.filter((row) => row.type !== 1)) {
      const hash = r.type === 2 ? 'sha1' : 'sha256';
      expect(r.iterationcount).toBe(4096);
      expect(scram(hash, passwords[r.username], r.salt, r.iterationcount)).toEqual({ password: r.password, serverkey: r.serverkey });
      expect(scram(hash, 'wrong', r.salt, r.iterationcount).password).not.toBe(r.password);
    }
    expect(rows.find((r) => r.type === 1)).toEqual({
      server_host: 'plain.test',
      username: 'pat',
      type: 1,
      password: PASSWORDS.pat,
      serverkey: '',
      salt: '',
      iterationcount: 0,
    });
  });

  test("loading it again replaces each account's rows, and the other tables carry server_host", async () => {
    await pg.psql(DB25, await exported(scramHome, 'localhost', 'pg-25'), { singleTransaction: true });
    expect(await pg.rows(DB25, "SELECT count(*)::int AS n FROM users WHERE server_host = 'localhost'")).toEqual([{ n: 6 }]);
    expect(await pg.rows(DB25, 'SELECT server_host, username FROM vcard ORDER BY 1, 2')).toEqual([
      { server_host: 'localhost', username: 'alice' },
      { server_host: 'plain.test', username: 'pat' },
    ]);
  });
});

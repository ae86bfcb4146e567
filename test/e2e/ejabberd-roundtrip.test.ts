/**
 * Data round trips with the real ejabberd Debian ships (23.01), kept in PostgreSQL: data made
 * with ejabberdctl (SCRAM on one host, plain passwords on another, and odd data ejabberd
 * accepts), its `export_piefxis` imported by ctl, then ctl's `export_odbc` loaded into databases
 * made from the installed /usr/share/ejabberd/sql/pg.sql, which the same ejabberd then serves.
 * One PostgreSQL and one ejabberd for the file.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempHome } from '../helpers/cli';
import { rosterFields, startEjabberd, type Ejabberd } from '../helpers/ejabberd';
import { startPostgres, type Postgres } from './sql-export-pg';

const SCHEMA = '/usr/share/ejabberd/sql/pg.sql';
const DB = { localhost: 'ej_scram', 'plain.test': 'ej_plain' } as const;
const LONG_NICK = 'n'.repeat(3000);

let pg: Postgres;
let ej: Ejabberd;
let home: ReturnType<typeof tempHome>;
let imported: { status: number | null; stdout: string; stderr: string };
let exportFile: string;

async function ejabberdctl(...args: string[]): Promise<string> {
  const r = await ej.ejabberdctl(args);
  if (r.status !== 0) throw new Error(`ejabberdctl ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

async function ctl(...args: string[]): Promise<string> {
  const r = await home.ctl(args);
  if (r.status !== 0) throw new Error(`ctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** The tables of pg.sql, emptied so that what ejabberd serves afterwards can only come from ctl's export. */
async function emptyDatabase(db: string): Promise<void> {
  const tables = await pg.rows<{ tablename: string }>(db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
  await pg.psql(db, `TRUNCATE ${tables.map((t) => `"${t.tablename}"`).join(', ')};`);
}

beforeAll(async () => {
  pg = await startPostgres({ tcp: true });
  for (const db of Object.values(DB)) {
    await pg.psql('postgres', `CREATE DATABASE ${db};`);
    await pg.psql(db, readFileSync(SCHEMA, 'utf8'));
  }
  ej = await startEjabberd({
    sql: {
      port: pg.port,
      user: 'postgres',
      hosts: [
        { host: 'localhost', database: DB.localhost, passwordFormat: 'scram' },
        { host: 'plain.test', database: DB['plain.test'], passwordFormat: 'plain' },
      ],
    },
  });
  // Made in ejabberd.
  await ejabberdctl('register', 'alice', 'localhost', "pw 'a' 李");
  await ejabberdctl('register', 'bob', 'localhost', 'bobpw');
  await ejabberdctl('register', 'pat', 'plain.test', 'plain pw');
  await ejabberdctl('register', 'quinn', 'plain.test', 'qpw');
  await ejabberdctl('add_rosteritem', 'alice', 'localhost', 'carol', 'example.net', LONG_NICK, 'Friends', 'from');
  await ejabberdctl('add_rosteritem', 'alice', 'localhost', 'dave', 'example.net', 'Dave', 'Work', 'both');
  await ejabberdctl('add_rosteritem', 'pat', 'plain.test', 'quinn', 'plain.test', 'Q', 'G', 'to');
  await ejabberdctl('set_vcard', 'alice', 'localhost', 'FN', 'Alice Ä');
  await ejabberdctl('set_vcard', 'pat', 'plain.test', 'FN', 'Pat');
  await ejabberdctl('private_set', 'alice', 'localhost', '<note xmlns="x:notes">hi &amp; bye</note>');
  // No namespace of its own: ejabberd keeps it under jabber:iq:private, which ctl refuses.
  await ejabberdctl('private_set', 'alice', 'localhost', '<bare>no ns</bare>');
  await ejabberdctl('send_message', 'chat', 'bob@localhost', 'alice@localhost', 'Subj', 'hello offline');
  await ejabberdctl('send_message', 'normal', 'bob@localhost', 'pat@plain.test', '', 'to pat');
  await ejabberdctl('set_last', 'alice', 'localhost', '1700000000', 'gone fishing');
  await ejabberdctl('srg_create', 'team', 'localhost', 'Team', 'The team', 'team');
  await ejabberdctl('srg_user_add', 'bob', 'localhost', 'team', 'localhost');
  // What ejabberd's SQL store holds and its commands cannot make: a request pending both ways, a contact with a resource.
  await pg.psql(
    DB.localhost,
    "INSERT INTO rosterusers(username, jid, nick, subscription, ask, askmessage, server, subscribe, type) VALUES ('alice', 'erin@example.net', 'Erin', 'N', 'B', '', 'N', '', 'item'), ('alice', 'res@example.net/phone', 'Res', 'B', 'N', '', 'N', '', 'item');",
  );

  const dir = join(ej.dir, 'piefxis');
  mkdirSync(dir);
  if (process.getuid?.() === 0) chownSync(dir, Number(execFileSync('id', ['-u', 'ejabberd']).toString()), 0);
  await ejabberdctl('export_piefxis', dir);
  const main = readdirSync(dir).find((f) => /^\d{8}-\d{6}\.xml$/.test(f))!;

  home = tempHome();
  // Plain storage keeps plain passwords plain; SCRAM credentials are stored as given.
  writeFileSync(join(home.dir, 'ctl.yml'), 'hosts:\n  - localhost\n  - plain.test\nauth_password_format: plain\n');
  imported = await home.ctl(['--verbose', 'import_piefxis', join(dir, main)]);
  exportFile = join(home.dir, 'export');
}, 180_000);

afterAll(async () => {
  await ej?.stop();
  await pg?.stop();
  home?.cleanup();
}, 60_000);

describe("ctl imports ejabberd 23.01's export_piefxis", () => {
  test('what ctl cannot store is skipped with a warning naming file, line, user and element; the rest goes in, exit 0', () => {
    expect(imported.status).toBe(0);
    expect(imported.stdout).toBe('');
    const warnings = imported.stderr.split('\n').filter((l) => l.startsWith('Warning: '));
    const file = /in (\S+_localhost\.xml) \(line 1\)/.exec(warnings[0] ?? '')?.[1];
    expect(warnings).toEqual([
      `Warning: skipped <item> of alice@localhost in ${file} (line 1): the roster <item> jid 'res@example.net/phone' has a resource: a roster holds bare JIDs`,
      `Warning: skipped <bare> of alice@localhost in ${file} (line 1): <bare> is in the reserved namespace jabber:iq:private: private storage refuses it (the element has no namespace of its own)`,
      `Warning: skipped <presence type='subscribe' from='erin@example.net'> of alice@localhost in ${file} (line 1): erin@example.net asks to subscribe while alice@localhost asks erin@example.net too: this node keeps one pending request per contact, and keeps the outgoing one`,
    ]);
    expect(imported.stderr).toContain('Imported 5 users (passwords: 3 SCRAM, 2 plain)');
    expect(imported.stderr).toContain('Skipped 3 elements this node cannot store, each named in a warning');
  });

  test('passwords, rosters, vCards, private storage and offline messages answer as in ejabberd', async () => {
    expect(await ctl('check_password', 'alice', 'localhost', "pw 'a' 李")).toBe('');
    expect((await home.ctl(['check_password', 'alice', 'localhost', 'wrong'])).status).toBe(1);
    expect(await ctl('check_password', 'pat', 'plain.test', 'plain pw')).toBe('');
    for (const [user, host] of [
      ['alice', 'localhost'],
      ['pat', 'plain.test'],
    ]) {
      const theirs = rosterFields(await ejabberdctl('get_roster', user, host)).filter((l) => !l.startsWith('res@'));
      expect(rosterFields(await ctl('get_roster', user, host))).toEqual(theirs);
      expect(await ctl('get_vcard', user, host, 'FN')).toBe(await ejabberdctl('get_vcard', user, host, 'FN'));
      expect(await ctl('get_offline_count', user, host)).toBe(await ejabberdctl('get_offline_count', user, host));
    }
    expect(await ctl('get_roster', 'alice', 'localhost')).toContain(`carol@example.net\t${LONG_NICK}\tfrom\tnone\tFriends\n`);
    expect(await ctl('get_roster', 'alice', 'localhost')).toContain('erin@example.net\tErin\tnone\tout\t\n');
    // ejabberdctl wraps the element in its query; ctl prints the element.
    expect(await ejabberdctl('private_get', 'alice', 'localhost', 'note', 'x:notes')).toBe(
      "<query xmlns='jabber:iq:private'><note xmlns='x:notes'>hi &amp; bye</note></query>\n",
    );
    expect(await ctl('private_get', 'alice', 'localhost', 'note', 'x:notes')).toBe('<note xmlns="x:notes">hi &amp; bye</note>\n');
  }, 60_000);
});

describe('ejabberd 23.01 serves what ctl export_odbc wrote into its pg.sql schema', () => {
  let before: Record<string, string>;
  const QUERIES: readonly (readonly string[])[] = [
    ['check_password', 'alice', 'localhost', "pw 'a' 李"],
    ['check_password', 'alice', 'localhost', 'wrong'],
    ['check_password', 'pat', 'plain.test', 'plain pw'],
    ['check_password', 'pat', 'plain.test', 'wrong'],
    ['registered_users', 'localhost'],
    ['registered_users', 'plain.test'],
    ['get_roster', 'alice', 'localhost'],
    ['get_roster', 'pat', 'plain.test'],
    ['get_vcard', 'alice', 'localhost', 'FN'],
    ['get_vcard', 'pat', 'plain.test', 'FN'],
    ['get_offline_count', 'alice', 'localhost'],
    ['get_offline_count', 'pat', 'plain.test'],
    ['private_get', 'alice', 'localhost', 'note', 'x:notes'],
    ['get_last', 'alice', 'localhost'],
    ['srg_get_members', 'team', 'localhost'],
  ];
  const answers = async () => {
    const out: Record<string, string> = {};
    for (const q of QUERIES) {
      const r = await ej.ejabberdctl(q);
      out[q.join(' ')] = `${r.status} ${r.stdout}`;
    }
    return out;
  };

  beforeAll(async () => {
    // What ejabberd answers from ctl's export, minus what ctl skipped: the same as from its own data.
    await pg.psql(
      DB.localhost,
      "DELETE FROM rosterusers WHERE jid = 'res@example.net/phone'; DELETE FROM private_storage WHERE namespace = 'jabber:iq:private';",
    );
    await pg.psql(DB.localhost, "UPDATE rosterusers SET ask = 'O' WHERE jid = 'erin@example.net';");
    before = await answers();
    // Shared roster groups and last activity are not in XEP-0227: they are made in ctl as in ejabberd.
    await ctl('srg_create', 'team', 'localhost', 'Team', 'The team', 'team');
    await ctl('srg_user_add', 'bob', 'localhost', 'team', 'localhost');
    await ctl('set_last', 'alice', 'localhost', '1700000000', 'gone fishing');
    for (const [host, db] of Object.entries(DB)) {
      await emptyDatabase(db);
      await ctl('export_odbc', host, `${exportFile}-${host}.sql`);
      await pg.psql(db, readFileSync(`${exportFile}-${host}.sql`, 'utf8'), { singleTransaction: true });
    }
  }, 120_000);

  test('check_password (SCRAM and plain), get_roster, get_vcard, get_offline_count, private_get, get_last, srg_get_members', async () => {
    expect(before['check_password alice localhost wrong']).toBe('1 Error: false\n');
    expect(before['registered_users localhost']).toBe('0 admin\nalice\nbob\n');
    expect(await answers()).toEqual(before);
    const users = await pg.rows<{ username: string; iterationcount: number }>(DB.localhost, 'SELECT username, iterationcount FROM users ORDER BY username');
    expect(users).toEqual([
      { username: 'admin', iterationcount: 4096 },
      { username: 'alice', iterationcount: 4096 },
      { username: 'bob', iterationcount: 4096 },
    ]);
    expect(await pg.rows(DB['plain.test'], 'SELECT username, password, salt FROM users ORDER BY username')).toEqual([
      { username: 'pat', password: 'plain pw', salt: '' },
      { username: 'quinn', password: 'qpw', salt: '' },
    ]);
  }, 60_000);
});

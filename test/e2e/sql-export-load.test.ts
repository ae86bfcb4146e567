import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/config/config';
import { DEFAULT_ROOM_OPTIONS } from '../../src/config/muc';
import { createFeatures } from '../../src/features';
import { featureDeps } from '../../src/features/deps';
import { openLevelStore } from '../../src/storage/level';
import { tempHome } from '../helpers/cli';
import { startPostgres, type Postgres } from './sql-export-pg';

/**
 * The export loaded into a real PostgreSQL with the ejabberd schema, and read back: what a
 * migration to ejabberd would do. Data comes from a jabberd14 spool (import_dir) plus commands.
 */

const FIXTURES = resolve(__dirname, '../fixtures');
const SCHEMA = readFileSync(join(FIXTURES, 'ejabberd-pg.sql'), 'utf8');
const NOW = Date.UTC(2024, 0, 2, 3, 4, 5);

let pg: Postgres;
let home: ReturnType<typeof tempHome>;
let exported: string;
let db = 0;

beforeAll(async () => {
  pg = await startPostgres();
  home = tempHome();
  writeFileSync(join(home.dir, 'ctl.yml'), 'hosts:\n  - example.org\n  - localhost\n');
  const spool = join(home.dir, 'example.org');
  mkdirSync(spool);
  cpSync(join(FIXTURES, 'jabberd14', 'example.org'), spool, { recursive: true });
  const ctl = async (...argv: string[]) => {
    const r = await home.ctl(argv, { clock: () => NOW });
    if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  };
  await ctl('import_dir', spool);
  await ctl('register', '李', 'example.org', 'pw 李');
  await ctl('register', 'nobody', 'localhost', 'pw');
  await ctl('set_vcard', '李', 'example.org', 'FN', '李 "Lǐ" \\ O\'Neil');
  await ctl('send_message', 'chat', 'bob@example.org', '李@example.org', "Sub'ject", "'); DROP TABLE spool; --\nline2\ttab \\ 🦊");
  await ctl('srg_create', "o'team", 'example.org', 'Tëam "A"', "it's\nmultiline", "o'team\\nother");
  await ctl('srg_user_add', 'alice', 'example.org', "o'team", 'example.org');
  await ctl('srg_user_add', '李', 'example.org', "o'team", 'example.org');
  await ctl('srg_create', 'everyone', 'example.org', 'All', '', '');
  await ctl('srg_user_add', '@all@', 'example.org', 'everyone', 'example.org');
  await ctl(
    'privacy_set',
    'alice',
    'example.org',
    "<query xmlns='jabber:iq:privacy'><list name=\"it's\"><item type='group' value='Friends' action='allow' order='5'><iq/><presence-in/></item><item action='deny' order='10'/></list><default name=\"it's\"/></query>",
  );
  const store = await openLevelStore(join(home.dir, 'db'));
  try {
    const { muc } = createFeatures(featureDeps({ store, config: loadConfig(join(home.dir, 'ctl.yml')), clock: () => NOW }));
    await muc.saveRoom('conference.example.org', 'tea', {
      options: { ...DEFAULT_ROOM_OPTIONS, persistent: true, title: "Tea & 'cake' 李", password: 'p"w\\', presence_broadcast: ['moderator'] },
      affiliations: [{ jid: 'alice@example.org', affiliation: 'owner', reason: "it's hers" }],
      subject: "'); DROP TABLE muc_room; --",
      subjectAuthor: 'alice',
      createdAt: NOW,
      lastActivity: NOW,
    });
    await muc.registerNick('conference.example.org', { user: '李', host: 'example.org' }, "Lǐ 'the' nick");
    await muc.registerNick('conference.localhost', { user: 'nobody', host: 'localhost' }, 'elsewhere');
  } finally {
    await store.close();
  }
  exported = join(home.dir, 'example.org.sql');
  await ctl('export_odbc', 'example.org', exported);
}, 120_000);

afterAll(async () => {
  home?.cleanup();
  await pg?.stop();
});

/** A fresh database with ejabberd's schema and the export loaded into it. */
async function loaded(): Promise<string> {
  const name = `ejabberd${++db}`;
  await pg.psql('postgres', `CREATE DATABASE ${name};`);
  await pg.psql(name, SCHEMA);
  await pg.psql(name, readFileSync(exported, 'utf8'), { singleTransaction: true });
  return name;
}

/** What ejabberd checks a SCRAM-SHA-1 password against (RFC 5802). */
function scram(password: string, salt: string, iterations: number) {
  const salted = pbkdf2Sync(password, Buffer.from(salt, 'base64'), iterations, 20, 'sha1');
  const clientKey = createHmac('sha1', salted).update('Client Key').digest();
  return {
    stored: createHash('sha1').update(clientKey).digest('base64'),
    server: createHmac('sha1', salted).update('Server Key').digest('base64'),
  };
}

describe("export_odbc loaded into PostgreSQL with ejabberd's schema", () => {
  test('users: SCRAM keys that ejabberd can check passwords against; only this host', async () => {
    const d = await loaded();
    const users = await pg.rows<{ username: string; password: string; serverkey: string; salt: string; iterationcount: number }>(
      d,
      'SELECT username, password, serverkey, salt, iterationcount FROM users ORDER BY username',
    );
    expect(users.map((u) => u.username)).toEqual(['alice', 'bob', '李']);
    const passwords: Record<string, string> = { alice: "s3cr&t 'pw' <李>", bob: 'bobpw', 李: 'pw 李' };
    for (const u of users) {
      expect(u.iterationcount).toBe(4096);
      expect(scram(passwords[u.username], u.salt, u.iterationcount)).toEqual({ stored: u.password, server: u.serverkey });
      expect(scram('wrong', u.salt, u.iterationcount).stored).not.toBe(u.password);
    }
    expect(await pg.rows(d, 'SELECT username, seconds, state FROM last')).toEqual([{ username: 'alice', seconds: '1030121345', state: 'Gone fishing' }]);
  });

  test('rosters with their groups, subscriptions and pending requests', async () => {
    const d = await loaded();
    expect(await pg.rows(d, 'SELECT username, jid, nick, subscription, ask, askmessage, server, subscribe, type FROM rosterusers ORDER BY jid')).toEqual([
      {
        username: 'alice',
        jid: 'bob@example.org',
        nick: 'Bob "the" Builder',
        subscription: 'B',
        ask: 'N',
        askmessage: '',
        server: 'N',
        subscribe: '',
        type: 'item',
      },
      { username: 'alice', jid: 'carol@example.org', nick: '', subscription: 'N', ask: 'O', askmessage: '', server: 'N', subscribe: '', type: 'item' },
      { username: 'alice', jid: 'dave@elsewhere.net', nick: '', subscription: 'F', ask: 'I', askmessage: '', server: 'N', subscribe: '', type: 'item' },
      {
        username: 'alice',
        jid: 'icq.example.org',
        nick: 'ICQ transport',
        subscription: 'B',
        ask: 'N',
        askmessage: '',
        server: 'N',
        subscribe: '',
        type: 'item',
      },
    ]);
    expect(await pg.rows(d, 'SELECT username, jid, grp FROM rostergroups ORDER BY jid, grp')).toEqual([
      { username: 'alice', jid: 'bob@example.org', grp: 'Friends' },
      { username: 'alice', jid: 'bob@example.org', grp: 'Work' },
      { username: 'alice', jid: 'dave@elsewhere.net', grp: 'Friends' },
    ]);
  });

  test('offline messages, in order, with hostile text intact', async () => {
    const d = await loaded();
    const spool = await pg.rows<{ username: string; xml: string }>(d, 'SELECT username, xml FROM spool ORDER BY seq');
    expect(spool.map((s) => s.username)).toEqual(['alice', 'alice', '李']);
    expect(spool[0].xml).toBe(
      '<message from="bob@example.org/home" to="alice@example.org" type="chat"><body>Hi \'Alice\' \\n</body>' +
        '<x xmlns="jabber:x:delay" from="alice@example.org" stamp="20020910T23:41:07">Offline Storage</x>' +
        '<delay xmlns="urn:xmpp:delay" from="example.org" stamp="2002-09-10T23:41:07.000Z"/></message>',
    );
    expect(spool[1].xml).toBe(
      '<message to="alice@example.org" from="example.org"><body>no sender</body><delay xmlns="urn:xmpp:delay" from="example.org" stamp="2024-01-02T03:04:05.000Z"/></message>',
    );
    expect(spool[2].xml).toMatch(
      /^<message type="chat" from="bob@example.org" to="李@example.org" id="[0-9a-f-]{36}"><subject>Sub'ject<\/subject><body>'\); DROP TABLE spool; --\nline2\ttab \\ 🦊<\/body><delay xmlns="urn:xmpp:delay" from="example.org" stamp="2024-01-02T03:04:05.000Z"\/><\/message>$/,
    );
  });

  test('vCards and their search rows, private storage', async () => {
    const d = await loaded();
    const cards = await pg.rows<{ username: string; vcard: string }>(d, 'SELECT username, vcard FROM vcard ORDER BY username');
    expect(cards).toEqual([
      {
        username: 'alice',
        vcard:
          '<vCard xmlns="vcard-temp" version="2.0"><FN>Alice O\'Hara</FN><N><FAMILY>O\'Hara</FAMILY><GIVEN>Alice</GIVEN></N><NICKNAME>al</NICKNAME>' +
          "<DESC>Line one\nLine two'); DROP TABLE users; -- \\ 李 🦊</DESC><EMAIL><INTERNET/><USERID>Alice@Example.org</USERID></EMAIL></vCard>",
      },
      { username: '李', vcard: '<vCard xmlns="vcard-temp"><FN>李 "Lǐ" \\ O\'Neil</FN></vCard>' },
    ]);
    const search = await pg.rows(
      d,
      'SELECT username, lusername, fn, lfn, family, lfamily, given, lgiven, nickname, email, lemail, orgname FROM vcard_search ORDER BY username',
    );
    expect(search).toEqual([
      {
        username: 'alice',
        lusername: 'alice',
        fn: "Alice O'Hara",
        lfn: "alice o'hara",
        family: "O'Hara",
        lfamily: "o'hara",
        given: 'Alice',
        lgiven: 'alice',
        nickname: 'al',
        email: 'Alice@Example.org',
        lemail: 'alice@example.org',
        orgname: '',
      },
      {
        username: '李',
        lusername: '李',
        fn: '李 "Lǐ" \\ O\'Neil',
        lfn: '李 "lǐ" \\ o\'neil',
        family: '',
        lfamily: '',
        given: '',
        lgiven: '',
        nickname: '',
        email: '',
        lemail: '',
        orgname: '',
      },
    ]);
    expect(await pg.rows(d, 'SELECT username, namespace, data FROM private_storage')).toEqual([
      {
        username: 'alice',
        namespace: 'storage:bookmarks',
        data: '<storage xmlns="storage:bookmarks"><conference jid="tea@conference.example.org" name="Tea &amp; cake"/></storage>',
      },
    ]);
  });

  test('shared roster groups: options as Erlang terms, members, @all@ as all_users', async () => {
    const d = await loaded();
    expect(await pg.rows(d, 'SELECT name, opts FROM sr_group ORDER BY name')).toEqual([
      { name: 'everyone', opts: '[{name,<<"All">>},{description,<<"">>},{displayed_groups,[]},{all_users,true}]' },
      { name: "o'team", opts: '[{name,<<"T\\303\\253am \\"A\\"">>},{description,<<"it\'s\\012multiline">>},{displayed_groups,[<<"o\'team">>,<<"other">>]}]' },
    ]);
    expect(await pg.rows(d, 'SELECT jid, grp FROM sr_user ORDER BY jid')).toEqual([
      { jid: 'alice@example.org', grp: "o'team" },
      { jid: '李@example.org', grp: "o'team" },
    ]);
  });

  test('privacy lists with their items and the default list', async () => {
    const d = await loaded();
    expect(await pg.rows(d, 'SELECT username, name FROM privacy_default_list')).toEqual([{ username: 'alice', name: "it's" }]);
    expect(
      await pg.rows(
        d,
        'SELECT l.username, l.name, t, value, action, ord::int, match_all, match_iq, match_message, match_presence_in, match_presence_out ' +
          'FROM privacy_list l JOIN privacy_list_data USING (id) ORDER BY ord',
      ),
    ).toEqual([
      {
        username: 'alice',
        name: "it's",
        t: 'g',
        value: 'Friends',
        action: 'a',
        ord: 5,
        match_all: false,
        match_iq: true,
        match_message: false,
        match_presence_in: true,
        match_presence_out: false,
      },
      {
        username: 'alice',
        name: "it's",
        t: 'n',
        value: '',
        action: 'd',
        ord: 10,
        match_all: true,
        match_iq: false,
        match_message: false,
        match_presence_in: false,
        match_presence_out: false,
      },
    ]);
  });

  test("rooms with their options as the Erlang term ejabberd reads back, and registered nicks; only this host's service", async () => {
    const d = await loaded();
    const rooms = await pg.rows<{ name: string; host: string; opts: string }>(d, 'SELECT name, host, opts FROM muc_room');
    expect(rooms.map((r) => [r.name, r.host])).toEqual([['tea', 'conference.example.org']]);
    const { opts } = rooms[0];
    expect(opts).toMatch(/^\[\{title,<<"Tea & 'cake' \\346\\235\\216">>\},\{description,<<"">>\},/);
    expect(opts).toContain('{persistent,true}');
    expect(opts).toContain('{password,<<"p\\"w\\\\">>}');
    expect(opts).toContain('{presence_broadcast,[moderator]}');
    expect(opts).toContain(`{affiliations,[{{<<"alice">>,<<"example.org">>,<<>>},{owner,<<"it's hers">>}}]}`);
    expect(opts).toContain(`{subject,[{text,<<>>,<<"'); DROP TABLE muc_room; --">>}]},{subject_author,<<"alice">>}`);
    expect(await pg.rows(d, 'SELECT jid, host, nick FROM muc_registered')).toEqual([
      { jid: '李@example.org', host: 'conference.example.org', nick: "Lǐ 'the' nick" },
    ]);
  });

  test('loading the file a second time replaces the rows instead of doubling them', async () => {
    const d = await loaded();
    const count = `SELECT (SELECT count(*) FROM users) u, (SELECT count(*) FROM rosterusers) r, (SELECT count(*) FROM rostergroups) g,
      (SELECT count(*) FROM spool) s, (SELECT count(*) FROM privacy_list_data) p, (SELECT count(*) FROM sr_user) m, (SELECT count(*) FROM vcard_search) v,
      (SELECT count(*) FROM muc_room) mr, (SELECT count(*) FROM muc_registered) mn`;
    const before = await pg.rows(d, count);
    expect(before).toEqual([{ u: 3, r: 4, g: 3, s: 3, p: 2, m: 2, v: 2, mr: 1, mn: 1 }]);
    await pg.psql(d, readFileSync(exported, 'utf8'), { singleTransaction: true });
    expect(await pg.rows(d, count)).toEqual(before);
  });
});

describe("--sql-schema pg-new loaded into ejabberd's installed pg.new.sql", () => {
  test('every table export_odbc fills takes the rows, each under the host, and a second load replaces them', async () => {
    const file = join(home.dir, 'example.org.pg-new.sql');
    const r = await home.ctl(['--sql-schema', 'pg-new', 'export_odbc', 'example.org', file], { clock: () => NOW });
    expect(r.status).toBe(0);
    const d = `ejabberd${++db}`;
    await pg.psql('postgres', `CREATE DATABASE ${d};`);
    await pg.psql(d, readFileSync('/usr/share/ejabberd/sql/pg.new.sql', 'utf8'));
    const tables = [
      'users',
      'last',
      'rosterusers',
      'rostergroups',
      'spool',
      'vcard',
      'vcard_search',
      'private_storage',
      'privacy_list',
      'privacy_default_list',
      'sr_group',
      'sr_user',
      'muc_room',
      'muc_registered',
    ];
    const count = `SELECT ${tables.map((t) => `(SELECT count(*) FROM ${t}) ${t}`).join(', ')}, (SELECT count(*) FROM privacy_list_data) privacy_list_data`;
    const hosts = tables.map((t) => `SELECT DISTINCT server_host FROM ${t}`).join(' UNION ');
    await pg.psql(d, readFileSync(file, 'utf8'), { singleTransaction: true });
    const before = await pg.rows(d, count);
    expect(before).toEqual([
      {
        users: 3,
        last: 1,
        rosterusers: 4,
        rostergroups: 3,
        spool: 3,
        vcard: 2,
        vcard_search: 2,
        private_storage: 1,
        privacy_list: 1,
        privacy_default_list: 1,
        sr_group: 2,
        sr_user: 2,
        muc_room: 1,
        muc_registered: 1,
        privacy_list_data: 2,
      },
    ]);
    expect(await pg.rows(d, hosts)).toEqual([{ server_host: 'example.org' }]);
    await pg.psql(d, readFileSync(file, 'utf8'), { singleTransaction: true });
    expect(await pg.rows(d, count)).toEqual(before);
  });
});

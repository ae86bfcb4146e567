import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fails, ok, summary, tempHome } from '../helpers/cli';
import { openLevelStore } from '../../src/storage/level';
import { PASSWD } from '../../src/features/accounts/records';
import { LAST } from '../../src/features/last/records';
import { OFFLINE, readOffline, type OfflineMessage } from '../../src/features/offline/records';
import { PRIVATE } from '../../src/features/private/records';
import { ROSTER } from '../../src/features/roster/records';
import { VCARD } from '../../src/features/vcard/records';

const FIXTURES = resolve(__dirname, '../fixtures/jabberd14/example.org');
const NOW = Date.UTC(2024, 0, 2, 3, 4, 5);

let home: ReturnType<typeof tempHome>;
let spool: string;
beforeEach(() => {
  home = tempHome();
  writeFileSync(join(home.dir, 'ctl.yml'), 'hosts:\n  - localhost\n  - example.org\n');
  spool = join(home.dir, 'spool', 'example.org');
  mkdirSync(spool, { recursive: true });
});
afterEach(() => home.cleanup());

const ctl = (...argv: string[]) => home.ctl(argv, { clock: () => NOW });
const HOSTS = () => `localhost, example.org (hosts in ${join(home.dir, 'ctl.yml')})`;

async function offline(host: string, user: string): Promise<OfflineMessage[]> {
  const store = await openLevelStore(join(home.dir, 'db'));
  try {
    return await readOffline(store, { host, user });
  } finally {
    await store.close();
  }
}

/** Every key of every table an import writes (and of the offline archive's index): to show that a failed import wrote nothing. */
async function allKeys(): Promise<string[]> {
  const store = await openLevelStore(join(home.dir, 'db'));
  try {
    const out: string[] = [];
    for (const t of [PASSWD, LAST, ROSTER, VCARD, PRIVATE, OFFLINE, `${OFFLINE}_by_time`]) {
      for await (const k of store.keys(t)) out.push(`${t}:${k.join('|')}`);
    }
    return out;
  } finally {
    await store.close();
  }
}

describe('import_file', () => {
  test('imports every part of a jabberd14 spool file, routed by xmlns', async () => {
    const file = join(FIXTURES, 'alice.xml');
    cpSync(file, join(spool, 'alice.xml'));
    const path = join(spool, 'alice.xml');
    expect(await ctl('import_file', path, '--verbose')).toEqual(
      summary(`Imported alice@example.org from ${path}: 4 roster items, 2 offline messages, 1 private element, vCard, last activity\n`),
    );

    expect(await ctl('check_password', 'alice', 'example.org', "s3cr&t 'pw' <李>")).toEqual(ok());
    expect((await ctl('check_password', 'alice', 'example.org', 'wrong')).status).toBe(1);
    // Carol's JID is normalised; the removed item is left out; a gateway has no user part.
    expect(await ctl('get_roster', 'alice', 'example.org')).toEqual(
      ok(
        'bob@example.org\tBob "the" Builder\tboth\tnone\tFriends\n' +
          'bob@example.org\tBob "the" Builder\tboth\tnone\tWork\n' +
          'carol@example.org\t\tnone\tout\t\n' +
          'dave@elsewhere.net\t\tfrom\tin\tFriends\n' +
          'icq.example.org\tICQ transport\tboth\tnone\t\n',
      ),
    );
    expect(await ctl('get_last', 'alice', 'example.org')).toEqual(ok('2002-08-23 16:49:05 Gone fishing\n'));
    expect(await ctl('get_vcard', 'alice', 'example.org', 'FN')).toEqual(ok("Alice O'Hara\n"));
    expect(await ctl('get_vcard', 'alice', 'example.org', 'DESC')).toEqual(ok("Line one\nLine two'); DROP TABLE users; -- \\ 李 🦊\n"));
    // The xdb bookkeeping attributes are not part of the data.
    expect(await ctl('private_get', 'alice', 'example.org', 'storage', 'storage:bookmarks')).toEqual(
      ok('<storage xmlns="storage:bookmarks"><conference jid="tea@conference.example.org" name="Tea &amp; cake"/></storage>\n'),
    );
    expect(await ctl('get_offline_count', 'alice', 'example.org')).toEqual(ok('2\n'));
    const messages = await offline('example.org', 'alice');
    // Kept at the time jabberd14 received it (its jabber:x:delay stamp); the other one now.
    expect(messages.map((m) => [m.from, m.to, m.timestamp])).toEqual([
      ['bob@example.org/home', 'alice@example.org', Date.UTC(2002, 8, 10, 23, 41, 7)],
      ['example.org', 'alice@example.org', NOW],
    ]);
    expect(messages[0].xml).toBe(
      '<message from="bob@example.org/home" to="alice@example.org" type="chat"><body>Hi \'Alice\' \\n</body>' +
        '<x xmlns="jabber:x:delay" from="alice@example.org" stamp="20020910T23:41:07">Offline Storage</x>' +
        '<delay xmlns="urn:xmpp:delay" from="example.org" stamp="2002-09-10T23:41:07.000Z"/></message>',
    );
    expect(messages[1].xml).toBe(
      '<message to="alice@example.org" from="example.org"><body>no sender</body><delay xmlns="urn:xmpp:delay" from="example.org" stamp="2024-01-02T03:04:05.000Z"/></message>',
    );
  });

  test('a minimal file: a password and nothing else', async () => {
    cpSync(join(FIXTURES, 'bob.xml'), join(spool, 'bob.xml'));
    expect(await ctl('import_file', join(spool, 'bob.xml'), '--verbose')).toEqual(summary(`Imported bob@example.org from ${join(spool, 'bob.xml')}\n`));
    expect(await ctl('check_password', 'bob', 'example.org', 'bobpw')).toEqual(ok());
    expect(await ctl('get_roster', 'bob', 'example.org')).toEqual(ok());
    expect(await ctl('get_last', 'bob', 'example.org')).toEqual(ok('Never\n'));
  });

  test('a relative path names a file in the current directory; the user name is normalised', async () => {
    writeFileSync(join(spool, 'Eve.xml'), "<xdb><password xmlns='jabber:iq:auth'>pw</password></xdb>");
    const cwd = process.cwd();
    process.chdir(join(home.dir, 'spool'));
    try {
      expect(await ctl('import_file', 'example.org/Eve.xml', '--verbose')).toEqual(summary(`Imported eve@example.org from ${join(spool, 'Eve.xml')}\n`));
    } finally {
      process.chdir(cwd);
    }
    expect(await ctl('check_account', 'eve', 'example.org')).toEqual(ok());
  });

  test('an existing user is an error, and the account is left as it was', async () => {
    expect((await ctl('register', 'bob', 'example.org', 'original')).status).toBe(0);
    cpSync(join(FIXTURES, 'bob.xml'), join(spool, 'bob.xml'));
    const path = join(spool, 'bob.xml');
    expect(await ctl('import_file', path)).toEqual(
      fails(1, `Error: Cannot import ${path}: user bob@example.org already exists (an import never merges into an account: unregister it first)\n`),
    );
    expect(await ctl('check_password', 'bob', 'example.org', 'original')).toEqual(ok());
  });

  test.each([
    [
      'a last activity past the year 9999',
      "<query xmlns='jabber:iq:last' last='999999999999'>gone</query>",
      'the last activity of zoe@example.org: timestamp must be seconds since 1970, at most 253402300799 (9999-12-31 23:59:59 UTC)',
    ],
    [
      'an offline message stamped past what a time can hold',
      "<foo xmlns='jabber:x:offline'><message to='zoe@example.org'><body>hi</body><delay xmlns='urn:xmpp:delay' stamp='+275760-09-13T00:00:00Z'/></message></foo>",
      /^the offline message \d{15}-\d{6} of zoe@example\.org: timestamp must be ms since 1970$/,
    ],
  ])('%s is refused as a dump would refuse it, naming the file, and nothing is written', async (_what, element, why) => {
    const path = join(spool, 'zoe.xml');
    writeFileSync(path, `<xdb><password xmlns='jabber:iq:auth'>pw</password>${element}</xdb>`);
    const r = await ctl('import_file', path);
    expect([r.status, r.stdout]).toEqual([1, '']);
    const prefix = `Error: Invalid jabberd14 spool file ${path}: `;
    expect(r.stderr.startsWith(prefix) && r.stderr.endsWith('\n')).toBe(true);
    expect(r.stderr.slice(prefix.length, -1)).toMatch(why);
    expect(await allKeys()).toEqual([]);
  });

  test('the spool directory must be a configured host', async () => {
    const dir = join(home.dir, 'spool', 'jabber.example.net');
    mkdirSync(dir);
    writeFileSync(join(dir, 'bob.xml'), "<xdb><password xmlns='jabber:iq:auth'>pw</password></xdb>");
    expect(await ctl('import_file', join(dir, 'bob.xml'))).toEqual(
      fails(
        1,
        `Error: Cannot import ${join(dir, 'bob.xml')}: the spool directory ${dir} stands for the server jabber.example.net, which is not a host of this node: it serves ${HOSTS()}\n`,
      ),
    );
    const bad = join(home.dir, 'spool', 'not a host');
    mkdirSync(bad);
    writeFileSync(join(bad, 'bob.xml'), '<xdb/>');
    expect(await ctl('import_file', join(bad, 'bob.xml'))).toEqual(
      fails(
        2,
        `Error: Cannot import ${join(bad, 'bob.xml')}: the spool directory ${bad} stands for the server, but 'not a host' is not a host name\nUsage: ctl import_file file\n`,
      ),
    );
  });

  test('the file name must be USER.xml with a valid user name', async () => {
    const txt = join(spool, 'bob.txt');
    writeFileSync(txt, '<xdb/>');
    expect(await ctl('import_file', txt)).toEqual(
      fails(2, `Error: Cannot import ${txt}: a jabberd14 spool file is named USER.xml, in a directory named after the server\nUsage: ctl import_file file\n`),
    );
    const at = join(spool, 'a@b.xml');
    writeFileSync(at, '<xdb/>');
    expect(await ctl('import_file', at)).toEqual(
      fails(
        2,
        `Error: Cannot import ${at}: the file name gives the user, and 'a@b' is not a user name: a user name cannot contain spaces, control characters or any of "&'/:<>@\nUsage: ctl import_file file\n`,
      ),
    );
  });

  test('missing, unreadable and special files are errors naming the file', async () => {
    const missing = join(spool, 'nobody.xml');
    expect(await ctl('import_file', missing)).toEqual(fails(1, `Error: Cannot read the jabberd14 spool file ${missing}: it does not exist\n`));
    mkdirSync(join(spool, 'dir.xml'));
    expect(await ctl('import_file', join(spool, 'dir.xml'))).toEqual(
      fails(1, `Error: Cannot read the jabberd14 spool file ${join(spool, 'dir.xml')}: it is a directory\n`),
    );
    expect(await allKeys()).toEqual([]);
  });
});

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config';
import { DEFAULT_ROOM_OPTIONS } from '../../src/config/muc';
import { createFeatures } from '../../src/features';
import { featureDeps } from '../../src/features/deps';
import type { RoomRecord } from '../../src/features/muc/types';
import { mucRoomOpts } from '../../src/migrate/sql-export';
import { openLevelStore } from '../../src/storage/level';
import { ok, tempHome } from '../helpers/cli';

const ROOM: RoomRecord = {
  options: {
    ...DEFAULT_ROOM_OPTIONS,
    persistent: true,
    title: "Tea & 'cake' ☕",
    password_protected: true,
    password: 'p"w\\',
    presence_broadcast: ['moderator', 'participant'],
    captcha_whitelist: ['bob@example.org'],
    max_users: 50,
    allow_private_messages_from_visitors: 'moderators',
  },
  affiliations: [
    { jid: 'alice@example.org', affiliation: 'owner', reason: '' },
    { jid: 'example.net', affiliation: 'outcast', reason: 'spam' },
  ],
  subject: 'Hello',
  subjectAuthor: 'alice',
  createdAt: 1_700_000_000_000,
  lastActivity: 1_700_000_100_000,
};

// The term ejabberd's mod_muc_room:make_opts gives for ROOM, as mod_muc_sql's export writes it (binaries' bytes in octal).
const ROOM_OPTS =
  '[{title,<<"Tea & \'cake\' \\342\\230\\225">>},{description,<<"">>},{allow_change_subj,true},{allow_query_users,true},' +
  '{allow_private_messages,true},{allow_private_messages_from_visitors,moderators},{allow_visitor_status,true},' +
  '{allow_visitor_nickchange,true},{public,true},{public_list,true},{persistent,true},{moderated,true},' +
  '{members_by_default,true},{members_only,false},{allow_user_invites,false},{password_protected,true},' +
  '{captcha_protected,false},{password,<<"p\\"w\\\\">>},{anonymous,true},{logging,false},{max_users,50},' +
  '{allow_voice_requests,true},{allow_subscription,false},{mam,false},{presence_broadcast,[moderator,participant]},' +
  '{voice_request_min_interval,1800},{vcard,<<"">>},{vcard_xupdate,undefined},{pubsub,<<"">>},{enable_hats,false},' +
  '{lang,<<"en">>},{captcha_whitelist,[{<<"bob">>,<<"example.org">>,<<>>}]},' +
  '{affiliations,[{{<<"alice">>,<<"example.org">>,<<>>},{owner,<<"">>}},{{<<"">>,<<"example.net">>,<<>>},{outcast,<<"spam">>}}]},' +
  '{roles,[]},{subject,[{text,<<>>,<<"Hello">>}]},{subject_author,<<"alice">>},{hats_users,[]},{hibernation_time,undefined}]';

test("a room's opts: every option, its affiliations and subject, as ejabberd keeps them", () => {
  expect(mucRoomOpts(ROOM)).toBe(ROOM_OPTS);
  const plain = mucRoomOpts({ ...ROOM, options: DEFAULT_ROOM_OPTIONS, affiliations: [], subject: '', subjectAuthor: '' });
  expect(plain).toContain('{presence_broadcast,[moderator,participant,visitor]}');
  expect(plain).toContain('{captcha_whitelist,[]},{affiliations,[]},{roles,[]},{subject,[]},{subject_author,<<"">>}');
  expect(mucRoomOpts({ ...ROOM, options: { ...DEFAULT_ROOM_OPTIONS, vcard_xupdate: '5a3f' } })).toContain('{vcard_xupdate,<<"5a3f">>}');
});

describe('export_odbc of MUC data', () => {
  let home: ReturnType<typeof tempHome>;
  beforeEach(() => {
    home = tempHome();
    writeFileSync(join(home.dir, 'ctl.yml'), 'hosts:\n  - example.org\n  - localhost\n');
  });
  afterEach(() => home.cleanup());

  test("the rooms and registered nicks of the host's services, as ejabberd exports them", async () => {
    const store = await openLevelStore(join(home.dir, 'db'));
    try {
      const { muc } = createFeatures(featureDeps({ store, config: loadConfig(join(home.dir, 'ctl.yml')), clock: Date.now }));
      await muc.saveRoom('conference.example.org', 'café', ROOM);
      await muc.saveRoom('conference.example.org', 'plain', { ...ROOM, affiliations: [], subject: '' });
      await muc.saveRoom('conference.localhost', 'elsewhere', ROOM);
      await muc.registerNick('conference.example.org', { user: 'alice', host: 'example.org' }, "Al'ice");
      await muc.registerNick('conference.example.org', { user: 'carol', host: 'example.net' }, 'Carol');
      await muc.registerNick('conference.localhost', { user: 'alice', host: 'example.org' }, 'other');
    } finally {
      await store.close();
    }
    const file = join(home.dir, 'out.sql');
    expect(await home.ctl(['export_odbc', 'example.org', file])).toEqual(ok());
    const sql = readFileSync(file, 'utf8');
    const plainOpts = mucRoomOpts({ ...ROOM, affiliations: [], subject: '' }).replace(/'/g, "''");
    expect(sql.slice(sql.indexOf('-- \n-- Mnesia table: muc_room'))).toBe(
      '-- \n-- Mnesia table: muc_room\n--\n' +
        "DELETE FROM muc_room WHERE name='café' AND host='conference.example.org';\n" +
        `INSERT INTO muc_room(name, host, opts) VALUES ('café', 'conference.example.org', '${ROOM_OPTS.replace(/'/g, "''")}');\n` +
        "DELETE FROM muc_room WHERE name='plain' AND host='conference.example.org';\n" +
        `INSERT INTO muc_room(name, host, opts) VALUES ('plain', 'conference.example.org', '${plainOpts}');\n` +
        '-- \n-- Mnesia table: muc_registered\n--\n' +
        "DELETE FROM muc_registered WHERE jid='alice@example.org' AND host='conference.example.org';\n" +
        "INSERT INTO muc_registered(jid, host, nick) VALUES ('alice@example.org', 'conference.example.org', 'Al''ice');\n" +
        "DELETE FROM muc_registered WHERE jid='carol@example.net' AND host='conference.example.org';\n" +
        "INSERT INTO muc_registered(jid, host, nick) VALUES ('carol@example.net', 'conference.example.org', 'Carol');\n",
    );
    const other = join(home.dir, 'localhost.sql');
    expect(await home.ctl(['export_odbc', 'localhost', other])).toEqual(ok());
    const local = readFileSync(other, 'utf8');
    expect(local).toContain("INSERT INTO muc_room(name, host, opts) VALUES ('elsewhere', 'conference.localhost', ");
    expect(local).toContain("INSERT INTO muc_registered(jid, host, nick) VALUES ('alice@example.org', 'conference.localhost', 'other');\n");
    expect(local).not.toContain('conference.example.org');
  });
});

/**
 * What unregister removes and ban_account keeps, across every table a user owns records in.
 */
import { join } from 'node:path';
import { tempHome } from '../helpers/cli';
import { openLevelStore } from '../../src/storage/level';
import { createServices } from '../../src/node/services';
import { featureDeps } from '../../src/features/deps';
import { defaultConfig } from '../../src/config/config';

let home: ReturnType<typeof tempHome>;
beforeEach(() => (home = tempHome()));
afterEach(() => home.cleanup());

/** Every row of every table, whatever the table, keys with their parts joined by `|`. */
async function dump(): Promise<Record<string, string[]>> {
  const store = await openLevelStore(join(home.dir, 'db'));
  const snapshot = await store.snapshot();
  const out: Record<string, string[]> = {};
  try {
    for (const table of await snapshot.tables()) {
      const keys: string[] = [];
      for await (const [k] of snapshot.entriesJson(table)) keys.push(k.join('|').replace(/\d{15}-\d{6}/g, 'STAMP'));
      if (keys.length) out[table] = keys;
    }
  } finally {
    await snapshot.close();
    await store.close();
  }
  return out;
}

async function ctlOk(...argv: string[]) {
  const r = await home.ctl(argv);
  expect([argv.join(' '), r.status, r.stderr]).toEqual([argv.join(' '), 0, '']);
}

/** alice and bob with data in every table, each naming the other where a table allows it. */
async function fill() {
  for (const u of ['alice', 'bob']) {
    const other = u === 'alice' ? 'bob' : 'alice';
    await ctlOk('register', u, 'localhost', 'pw');
    await ctlOk('set_last', u, 'localhost', '1700000000', 'away');
    await ctlOk('add_rosteritem', u, 'localhost', other, 'localhost', other, 'Friends', 'both');
    await ctlOk('set_vcard', u, 'localhost', 'FN', `${u} Liddell`);
    await ctlOk('private_set', u, 'localhost', '<storage xmlns="storage:bookmarks"/>');
    await ctlOk(
      'privacy_set',
      u,
      'localhost',
      "<query xmlns='jabber:iq:privacy'><list name='l'><item action='allow' order='1'/></list><default name='l'/></query>",
    );
    await ctlOk('send_message', 'chat', `${other}@localhost`, `${u}@localhost`, '', 'hello');
    await ctlOk('srg_user_add', u, 'localhost', 'team', 'localhost');
  }
  const store = await openLevelStore(join(home.dir, 'db'));
  try {
    const services = createServices(featureDeps({ store, config: defaultConfig(join(home.dir, 'ctl.yml')), clock: Date.now }));
    for (const user of ['alice', 'bob'])
      await services.mam.archive({ user, host: 'localhost' }, 'chat', 'carol@example.org', '<message><body>hi</body></message>');
  } finally {
    await store.close();
  }
}

const BOTH = {
  passwd: ['localhost|alice', 'localhost|bob'],
  last: ['localhost|alice', 'localhost|bob'],
  roster: ['localhost|alice|bob@localhost', 'localhost|bob|alice@localhost'],
  vcard: ['localhost|alice', 'localhost|bob'],
  private: ['localhost|alice|storage:bookmarks', 'localhost|bob|storage:bookmarks'],
  privacy: ['localhost|alice|default', 'localhost|alice|list|l', 'localhost|bob|default', 'localhost|bob|list|l'],
  offline: ['localhost|alice|STAMP', 'localhost|bob|STAMP'],
  offline_by_time: expect.arrayContaining(['STAMP|localhost|alice', 'STAMP|localhost|bob']),
  mam: ['localhost|alice|STAMP', 'localhost|bob|STAMP'],
  mam_by_time: expect.arrayContaining(['STAMP|localhost|alice', 'STAMP|localhost|bob']),
  srg: ['localhost|team'],
  srg_member: ['localhost|team|alice@localhost', 'localhost|team|bob@localhost'],
  srg_user: ['localhost|alice|localhost|team', 'localhost|bob|localhost|team'],
};

beforeEach(async () => {
  await ctlOk('srg_create', 'team', 'localhost', 'Team', '', '');
  await fill();
  expect(await dump()).toEqual(BOTH);
});

const WITHOUT_ALICE = {
  passwd: ['localhost|bob'],
  last: ['localhost|bob'],
  // bob's roster still names alice, as in ejabberd: contacts belong to the roster's owner.
  roster: ['localhost|bob|alice@localhost'],
  vcard: ['localhost|bob'],
  private: ['localhost|bob|storage:bookmarks'],
  privacy: ['localhost|bob|default', 'localhost|bob|list|l'],
  offline: ['localhost|bob|STAMP'],
  offline_by_time: ['STAMP|localhost|bob'],
  mam: ['localhost|bob|STAMP'],
  mam_by_time: ['STAMP|localhost|bob'],
  srg: ['localhost|team'],
  srg_member: ['localhost|team|bob@localhost'],
  srg_user: ['localhost|bob|localhost|team'],
};

test("unregister removes every record the user owns, and nobody else's", async () => {
  await ctlOk('unregister', 'alice', 'localhost');
  expect(await dump()).toEqual(WITHOUT_ALICE);
});

test('delete_old_users removes the same records as unregister', async () => {
  await ctlOk('set_last', 'bob', 'localhost', String(Math.floor(Date.now() / 1000)), '');
  expect((await home.ctl(['delete_old_users', '30'])).stdout).toBe('Deleted 1 users: alice@localhost\n');
  expect(await dump()).toEqual(WITHOUT_ALICE);
});

test('ban_account keeps every record and changes only the password', async () => {
  await ctlOk('ban_account', 'alice', 'localhost', 'spam');
  expect(await dump()).toEqual(BOTH);
  expect((await home.ctl(['check_password', 'alice', 'localhost', 'pw'])).status).toBe(1);
  expect((await home.ctl(['get_vcard', 'alice', 'localhost', 'FN'])).stdout).toBe('alice Liddell\n');
  expect((await home.ctl(['get_offline_count', 'alice', 'localhost'])).stdout).toBe('1\n');
});

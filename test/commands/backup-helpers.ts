/**
 * What the backup and dump tests share: a database with records in every table, and a full
 * listing of it to compare before and after.
 */
import { join } from 'node:path';
import { openLevelStore } from '../../src/storage/level';
import type { Key } from '../../src/storage/types';
import { createFeatures } from '../../src/features';
import { featureDeps } from '../../src/features/deps';
import { databaseTables } from '../../src/migrate/tables';
import { defaultConfig } from '../../src/config/config';
import { DEFAULT_ROOM_OPTIONS } from '../../src/config/muc';
import { parseXml } from '../../src/lib/xml';
import type { CliResult, RunOptions } from '../helpers/cli';

export type Ctl = (argv: readonly string[], options?: RunOptions) => Promise<CliResult>;

/** Every record of every table, values as stored (JSON text): what a round trip must keep. */
export async function everything(homeDir: string): Promise<Record<string, [Key, string][]>> {
  const store = await openLevelStore(join(homeDir, 'db'));
  const out: Record<string, [Key, string][]> = {};
  try {
    const snap = await store.snapshot();
    try {
      for (const table of await snap.tables()) {
        out[table] = [];
        for await (const row of snap.entriesJson(table)) out[table].push(row);
      }
    } finally {
      await snap.close();
    }
  } finally {
    await store.close();
  }
  return out;
}

export async function ctlOk(ctl: Ctl, ...argv: string[]): Promise<string> {
  const r = await ctl(argv);
  expect([argv.join(' '), r.status, r.stderr]).toEqual([argv.join(' '), 0, '']);
  return r.stdout;
}

const expiring = (to: string, body: string) =>
  `<message to='${to}' from='carol@example.org' type='chat'><body>${body}</body><x xmlns='jabber:x:expire' seconds='999999'/></message>`;

/**
 * Users of `users` with records in every table, through the commands and the services, as an
 * operator's database would have them; a table that the fill cannot reach (one added after
 * this test was written) gets a record put directly, so that the round trip still covers it.
 */
export async function fillEveryTable(homeDir: string, ctl: Ctl, users: readonly string[] = ['alice', 'bob']): Promise<void> {
  await ctlOk(ctl, 'srg_create', 'team', 'localhost', 'Team ✓', 'the "team"\twith\ttabs', 'team');
  for (const [i, u] of users.entries()) {
    const other = users[(i + 1) % users.length];
    await ctlOk(ctl, 'register', u, 'localhost', `pw-${u}`);
    await ctlOk(ctl, 'set_last', u, 'localhost', String(1700000000 + i), 'away: 😀');
    await ctlOk(ctl, 'add_rosteritem', u, 'localhost', other, 'localhost', `${other} Ünïcødé`, 'Friends;Work', 'both');
    await ctlOk(ctl, 'set_vcard', u, 'localhost', 'FN', `${u} Liddell`);
    await ctlOk(ctl, 'set_vcard2', u, 'localhost', 'N', 'GIVEN', u.toUpperCase());
    await ctlOk(ctl, 'private_set', u, 'localhost', `<storage xmlns="storage:bookmarks"><url name="${u}" url="https://example.org/?a=1&amp;b=2"/></storage>`);
    await ctlOk(
      ctl,
      'privacy_set',
      u,
      'localhost',
      "<query xmlns='jabber:iq:privacy'><list name='l'><item action='allow' order='1'/></list><default name='l'/></query>",
    );
    await ctlOk(ctl, 'send_message', 'chat', `${other}@localhost`, `${u}@localhost`, 'subject', 'hello\nworld');
    await ctlOk(ctl, 'srg_user_add', u, 'localhost', 'team', 'localhost');
  }
  const store = await openLevelStore(join(homeDir, 'db'));
  try {
    const features = createFeatures(featureDeps({ store, config: defaultConfig(join(homeDir, 'ctl.yml')), clock: Date.now }));
    for (const u of users) {
      const jid = { host: 'localhost', user: u };
      await features.mam.archive(jid, 'chat', 'carol@example.org', '<message><body>hi</body></message>');
      await features.offline.store(jid, parseXml(expiring(`${u}@localhost`, 'expires'), 'a message'));
      await features.tokens.create(jid, 30);
      await features.muc.registerNick('conference.localhost', jid, `${u} ☕`);
      await features.muc.saveRoom('conference.localhost', `${u}-room`, {
        options: { ...DEFAULT_ROOM_OPTIONS, persistent: true, title: `${u}'s "room"\twith tabs`, presence_broadcast: ['moderator'] },
        affiliations: [{ jid: `${u}@localhost`, affiliation: 'owner', reason: 'made it' }],
        subject: 'Tea ☕',
        subjectAuthor: u,
        createdAt: 1700000000000,
        lastActivity: 1700000100000,
      });
    }
    const filled = new Set<string>();
    const snap = await store.snapshot();
    for (const t of await snap.tables()) filled.add(t);
    await snap.close();
    for (const table of databaseTables()) {
      if (!filled.has(table)) await store.put(table, ['synthetic', table], { table, note: 'put by the test' });
    }
  } finally {
    await store.close();
  }
}

/** The tables a fill reaches through commands and services: it must keep reaching them. */
export const FILLED_BY_COMMANDS = [
  'last',
  'mam',
  'mam_by_time',
  'muc_registered',
  'muc_registered_nick',
  'muc_room',
  'offline',
  'offline_by_expiry',
  'offline_by_time',
  'passwd',
  'privacy',
  'private',
  'roster',
  'srg',
  'srg_member',
  'srg_user',
  'vcard',
];

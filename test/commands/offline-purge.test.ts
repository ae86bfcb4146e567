import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { tempHome } from '../helpers/cli';
import { createMemoryStore } from '../../src/storage/memory';
import { timeKey } from '../../src/storage/archive';
import type { Store } from '../../src/storage/types';
import { defaultConfig } from '../../src/config/config';
import { createFeatures, type Features } from '../../src/features';
import { featureDeps, type FeatureDeps } from '../../src/features/deps';
import { offlineRecord, queuedMessages, writeOffline } from '../../src/features/offline/records';
import type { BareJid } from '../../src/lib/jid';
import { parseXml, type Element } from '../../src/lib/xml';
import { deleteExpiredMessages, deleteOldMessages, sendMessage } from '../../commands/support/offline';
import { hearPages } from '../helpers/archive';
import * as helpers from '../helpers/services';

let home: ReturnType<typeof tempHome>;
beforeEach(() => (home = tempHome()));
afterEach(() => home.cleanup());

const DAY = 86_400_000;
const NOW = 1_700_000_000_000; // 2023-11-14T22:13:20Z
const ctl = (argv: string[], now = NOW) => home.ctl(argv, { clock: () => now });
const ok = { status: 0, stdout: '', stderr: '' };

beforeEach(async () => {
  writeFileSync(join(home.dir, 'ctl.yml'), 'auth_password_format: plain\n');
  for (const user of ['alice', 'bob']) expect((await ctl(['register', user, 'localhost', 'pw'])).status).toBe(0);
});

const jid = (user: string): BareJid => ({ user, host: 'localhost' });

const withStore = <T>(fn: (store: Store) => Promise<T>) => helpers.withStore(home.dir, fn);

/** Runs `fn` with the features over the home's database, at a time `fn` may move. */
const withFeatures = <T>(fn: (f: Features, at: (ms: number) => void) => Promise<T>) => helpers.withServices(home.dir, NOW, fn);

/** Features over a fresh memory store, with alice registered. */
async function memoryFeatures(parts: Partial<FeatureDeps> = {}): Promise<Features> {
  const f = createFeatures(featureDeps({ store: createMemoryStore(), config: defaultConfig('/nonexistent/ctl.yml'), clock: () => NOW, ...parts }));
  await f.accounts.register(jid('alice'), 'pw');
  return f;
}

const message = (body: string, extra = '') => `<message from='x@example.org' to='alice@localhost' type='chat'><body>${body}</body>${extra}</message>`;
/** Stores a message for `user`, parsing it first when it is text. */
const add = async (f: Features, user: string, stanza: Element | string) =>
  f.offline.store(jid(user), typeof stanza === 'string' ? parseXml(stanza, 'the offline message') : stanza);

/**
 * The offline archive as its rows are keyed: the messages (`host|user|stamp`) and their indexes
 * by time (`stamp|host|user`) and by expiry (`expiry|host|user|stamp`).
 */
async function tables(): Promise<Record<string, string[]>> {
  return withStore(async (store) => {
    const out: Record<string, string[]> = { offline: [], offline_by_time: [], offline_by_expiry: [] };
    for (const user of ['alice', 'bob']) {
      for await (const { id, message: m } of queuedMessages(store, jid(user))) {
        out.offline.push(`localhost|${user}|${id}`);
        out.offline_by_time.push(`${id}|localhost|${user}`);
        if (m.expires !== undefined) out.offline_by_expiry.push(`${timeKey(m.expires)}|localhost|${user}|${id}`);
      }
    }
    out.offline_by_time.sort();
    out.offline_by_expiry.sort();
    return out;
  });
}

const bodies = (f: Features, user = 'alice') =>
  f.offline.messages(jid(user)).then((rows) => rows.map((r) => parseXml(r.message.xml, 'm').getChildText('body')));

describe('delete_old_messages', () => {
  test('removes messages stored more than DAYS days ago with their index rows; the one at the cut-off stays', async () => {
    await withFeatures(async (s, at) => {
      for (const [body, age] of [
        ['ten days', 10 * DAY],
        ['three days', 3 * DAY],
        ['exactly two days', 2 * DAY],
        ['one day', DAY],
      ] as const) {
        at(NOW - age);
        await add(s, 'alice', message(body, age === 3 * DAY ? "<x xmlns='jabber:x:expire' seconds='999999999'/>" : ''));
      }
      at(NOW - 5 * DAY);
      await add(s, 'bob', message('bob, five days'));
    });
    expect(await ctl(['delete_old_messages', '2'])).toEqual(ok);
    await withFeatures(async (s) => {
      expect(await bodies(s)).toEqual(['exactly two days', 'one day']);
      expect(await bodies(s, 'bob')).toEqual([]);
    });
    expect(await tables()).toEqual({
      offline: ['localhost|alice|001699827200000-000000', 'localhost|alice|001699913600000-000000'],
      offline_by_time: ['001699827200000-000000|localhost|alice', '001699913600000-000000|localhost|alice'],
      offline_by_expiry: [],
    });
    expect(await ctl(['delete_old_messages', '0'])).toEqual(ok);
    expect(await tables()).toEqual({ offline: [], offline_by_time: [], offline_by_expiry: [] });
  });

  test('removes thousands of messages in atomic batches of whole messages, at most 1000 per batch', async () => {
    const store = createMemoryStore();
    const pages: number[] = [];
    const spy: Store = { ...store, archive: (name, o) => hearPages(store.archive(name, o), pages) };
    const s = await memoryFeatures({ store: spy });
    const records = Array.from({ length: 2500 }, (_, i) =>
      offlineRecord(parseXml(message(`m${i}`, i % 2 ? "<x xmlns='jabber:x:expire' seconds='86400'/>" : ''), 'm'), 'localhost', NOW - 3 * DAY - i),
    );
    await writeOffline(store, jid('alice'), records);
    expect(await deleteOldMessages(s.offline, 1)).toBe(true);
    // Each step removes whole messages with their index rows: the archive's promise.
    expect(pages).toEqual([1000, 1000, 500]);
    expect(await s.offline.count(jid('alice'))).toBe(0);
    expect(await s.offline.deleteExpired()).toBe(0);
  });

  test.each([
    ['-1', 2, 'Error: The number of days (days) must not be negative, got -1\n'],
    ['1.5', 2, "Error: Bad value for argument 'days': expected a whole number, got '1.5'\n"],
    ['two', 2, "Error: Bad value for argument 'days': expected a whole number, got 'two'\n"],
  ])('refuses %j days as a usage error', async (days, status, message) => {
    const r = await ctl(['delete_old_messages', days]);
    expect(r).toEqual({ status, stdout: '', stderr: `${message}Usage: ctl delete_old_messages days\n` });
  });
});

describe('delete_expired_messages', () => {
  test('computes expiry from XEP-0023 seconds and XEP-0079 expire-at, the earliest winning; bad values are ignored', async () => {
    const stored = await withFeatures(async (s) => {
      await add(s, 'alice', message('x-expire', "<x xmlns='jabber:x:expire' seconds='60'/>"));
      await add(
        s,
        'alice',
        message(
          'amp',
          "<amp xmlns='http://jabber.org/protocol/amp'><rule condition='deliver' action='drop' value='direct'/><rule condition='expire-at' action='drop' value='2023-11-15T00:00:00Z'/></amp>",
        ),
      );
      await add(
        s,
        'alice',
        message(
          'both',
          "<x xmlns='jabber:x:expire' seconds='7200'/><amp xmlns='http://jabber.org/protocol/amp'><rule condition='expire-at' action='error' value='2023-11-14T23:00:00Z'/></amp>",
        ),
      );
      await add(
        s,
        'alice',
        message(
          'bad values',
          "<x xmlns='jabber:x:expire' seconds='soon'/><amp xmlns='http://jabber.org/protocol/amp'><rule condition='expire-at' action='drop' value='tomorrow'/></amp>",
        ),
      );
      await add(s, 'alice', message('wrong namespace', "<x xmlns='jabber:x:oob' seconds='1'/>"));
      return (await s.offline.messages(jid('alice'))).map((r) => r.message.expires);
    });
    expect(stored).toEqual([NOW + 60_000, Date.parse('2023-11-15T00:00:00Z'), Date.parse('2023-11-14T23:00:00Z'), undefined, undefined]);
    expect((await tables()).offline_by_expiry).toEqual([
      '001700000060000|localhost|alice|001700000000000-000000',
      '001700002800000|localhost|alice|001700000000000-000002',
      '001700006400000|localhost|alice|001700000000000-000001',
    ]);
  });

  test('removes a message once its expiry is reached, with its index rows, and nothing else', async () => {
    await withFeatures(async (s, at) => {
      at(NOW - 30 * DAY);
      await add(s, 'alice', message('old but never expires'));
      at(NOW);
      await add(s, 'alice', message('one minute', "<x xmlns='jabber:x:expire' seconds='60'/>"));
      await add(s, 'bob', message('one hour', "<x xmlns='jabber:x:expire' seconds='3600'/>"));
    });
    expect(await ctl(['delete_expired_messages'], NOW + 59_999)).toEqual(ok);
    expect((await tables()).offline).toHaveLength(3);
    expect(await ctl(['delete_expired_messages'], NOW + 60_000)).toEqual(ok);
    expect(await tables()).toEqual({
      offline: ['localhost|alice|001697408000000-000000', 'localhost|bob|001700000000000-000001'],
      offline_by_time: ['001697408000000-000000|localhost|alice', '001700000000000-000001|localhost|bob'],
      offline_by_expiry: ['001700003600000|localhost|bob|001700000000000-000001'],
    });
    expect(await ctl(['delete_expired_messages'], NOW + DAY)).toEqual(ok);
    expect((await tables()).offline).toEqual(['localhost|alice|001697408000000-000000']);
  });

  test('asks the archive for the expired messages only, and reads no table itself', async () => {
    const store = createMemoryStore();
    const scanned: string[] = [];
    const spy: Store = {
      ...store,
      entries: (t, r) => (scanned.push(t), store.entries(t, r)),
      keys: (t, r) => (scanned.push(t), store.keys(t, r)),
      get: (t, k) => (scanned.push(t), store.get(t, k)),
      getMany: (t, k) => (scanned.push(t), store.getMany(t, k)),
      archive: (name, o) => {
        const a = store.archive(name, o);
        return { ...hearPages(a, []), purge: (which, po) => (scanned.push(`${name} purge ${JSON.stringify(which)}`), a.purge(which, po)) };
      },
    };
    const s = await memoryFeatures({ store: spy });
    for (let i = 0; i < 5; i++) await add(s, 'alice', message(`m${i}`));
    scanned.length = 0;
    expect(await deleteExpiredMessages(s.offline)).toBe(true);
    expect(scanned).toEqual([`offline purge {"expiredAtMs":${NOW}}`]);
    expect(await s.offline.count(jid('alice'))).toBe(5);
  });

  test('takes no arguments', async () => {
    expect(await ctl(['delete_expired_messages', 'now'])).toEqual({
      status: 2,
      stdout: '',
      stderr: 'Error: too many arguments for delete_expired_messages: it takes 0, got 1\nUsage: ctl delete_expired_messages\n',
    });
  });
});

describe('the offline service', () => {
  test('unregister removes the expiry index rows of the user too', async () => {
    await withFeatures(async (s) => {
      await add(s, 'alice', message('a', "<x xmlns='jabber:x:expire' seconds='60'/>"));
      await add(s, 'bob', message('b', "<x xmlns='jabber:x:expire' seconds='60'/>"));
    });
    expect((await ctl(['unregister', 'alice', 'localhost'])).status).toBe(0);
    expect(await tables()).toEqual({
      offline: ['localhost|bob|001700000000000-000001'],
      offline_by_time: ['001700000000000-000001|localhost|bob'],
      offline_by_expiry: ['001700000060000|localhost|bob|001700000000000-000001'],
    });
  });

  test("stores only messages, only for existing users, and leaves the caller's element alone", async () => {
    await withFeatures(async (s) => {
      await expect(add(s, 'alice', '<presence/>')).rejects.toThrow('Only <message/> stanzas can be stored offline, not <presence/>');
      await expect(add(s, 'carol', message('x'))).rejects.toThrow('User carol@localhost does not exist');
      await expect(add(s, 'alice', '<message>')).rejects.toThrow(/^Malformed XML in the offline message/);
      const el = parseXml(message('kept'), 'm');
      const stamp = await add(s, 'alice', el);
      expect(stamp).toBe('001700000000000-000000');
      expect(el.toString()).toBe('<message from="x@example.org" to="alice@localhost" type="chat"><body>kept</body></message>');
    });
  });

  test('send_message to a connected user is refused until the node can deliver to sessions', async () => {
    const store = createMemoryStore();
    const s = await memoryFeatures({ store, isOnline: (j) => j.user === 'alice' });
    const args = { type: 'chat', from: 'x@example.org', to: 'alice@localhost', subject: '', body: 'hi' };
    await expect(sendMessage(s.offline, defaultConfig('/nonexistent/ctl.yml'), args)).rejects.toThrow(
      'alice@localhost is connected, and delivery to connected sessions is not implemented yet',
    );
    expect(await s.offline.count(jid('alice'))).toBe(0);
  });

  test('concurrent stores in the same millisecond get distinct, ordered stamps', async () => {
    const s = await memoryFeatures();
    const stamps = await Promise.all(Array.from({ length: 20 }, (_, i) => add(s, 'alice', message(`m${i}`))));
    expect(new Set(stamps).size).toBe(20);
    expect(await s.offline.count(jid('alice'))).toBe(20);
    expect(await bodies(s)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
  });
});

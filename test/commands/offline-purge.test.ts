import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { tempHome } from '../helpers/cli';
import { openLevelStore } from '../../src/storage/level';
import { createMemoryStore } from '../../src/storage/memory';
import { splitKey } from '../../src/storage/keys';
import type { BatchOp, Store } from '../../src/storage/types';
import { createServices, type Services } from '../../src/services';
import { defaultConfig } from '../../src/config/config';
import { offlineRecord, offlineRows, stampOf } from '../../src/services/offline';
import { parseXml } from '../../src/lib/xml';
import { withServices as withServicesAt } from '../helpers/services';

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

/** Runs `fn` with the services over the home's database, at a time `fn` may move. */
const withServices = <T>(fn: (s: Services, at: (ms: number) => void) => Promise<T>) => withServicesAt(home.dir, NOW, fn);

const message = (body: string, extra = '') => `<message from='x@example.org' to='alice@localhost' type='chat'><body>${body}</body>${extra}</message>`;

/** Every table of the offline store as `table: [key parts joined by |]`. */
async function tables(): Promise<Record<string, string[]>> {
  const store = await openLevelStore(join(home.dir, 'db'));
  try {
    const out: Record<string, string[]> = {};
    for (const t of ['offline', 'offline_by_time', 'offline_by_expiry']) {
      out[t] = [];
      for await (const k of store.keys(t)) out[t].push(splitKey(k).join('|'));
    }
    return out;
  } finally {
    await store.close();
  }
}

const bodies = (s: Services, user = 'alice') =>
  s.offline.messages(user, 'localhost').then((rows) => rows.map((r) => parseXml(r.message.xml, 'm').getChildText('body')));

describe('delete_old_messages', () => {
  test('removes messages stored more than DAYS days ago with their index rows; the one at the cut-off stays', async () => {
    await withServices(async (s, at) => {
      for (const [body, age] of [['ten days', 10 * DAY], ['three days', 3 * DAY], ['exactly two days', 2 * DAY], ['one day', DAY]] as const) {
        at(NOW - age);
        await s.offline.add('alice', 'localhost', message(body, age === 3 * DAY ? "<x xmlns='jabber:x:expire' seconds='999999999'/>" : ''));
      }
      at(NOW - 5 * DAY);
      await s.offline.add('bob', 'localhost', message('bob, five days'));
    });
    expect(await ctl(['delete_old_messages', '2'])).toEqual(ok);
    await withServices(async (s) => {
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
    const batches: BatchOp[][] = [];
    const spy: Store = { ...store, batch: (ops, o) => (batches.push([...ops]), store.batch(ops, o)) };
    const s = createServices({ store: spy, config: defaultConfig('/nonexistent/ctl.yml'), clock: () => NOW });
    await s.accounts.register('alice', 'localhost', 'pw');
    const ops: BatchOp[] = [];
    for (let i = 0; i < 2500; i++) {
      const record = offlineRecord(parseXml(message(`m${i}`, i % 2 ? "<x xmlns='jabber:x:expire' seconds='86400'/>" : ''), 'm'), 'localhost', NOW - 3 * DAY);
      ops.push(...offlineRows('localhost', 'alice', stampOf(NOW - 3 * DAY - i, i % 3), record));
    }
    await store.batch(ops);
    batches.length = 0;
    expect(await s.offline.deleteOld(1)).toBe(true);
    expect(batches.map((b) => b.filter((op) => op.table === 'offline').length)).toEqual([1000, 1000, 500]);
    for (const batch of batches) {
      // Every message deleted in a batch takes its index rows with it in the same batch.
      const messages = batch.filter((op) => op.table === 'offline').map((op) => splitKey(op.key)[2]);
      expect(batch.filter((op) => op.table === 'offline_by_time').map((op) => splitKey(op.key)[0]).sort()).toEqual([...messages].sort());
      expect(batch.every((op) => op.type === 'del')).toBe(true);
    }
    expect(await s.offline.count('alice', 'localhost')).toBe(0);
    for (const t of ['offline_by_time', 'offline_by_expiry']) for await (const k of store.keys(t)) throw new Error(`left ${t} ${k}`);
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
    const stored = await withServices(async (s) => {
      await s.offline.add('alice', 'localhost', message('x-expire', "<x xmlns='jabber:x:expire' seconds='60'/>"));
      await s.offline.add(
        'alice',
        'localhost',
        message('amp', "<amp xmlns='http://jabber.org/protocol/amp'><rule condition='deliver' action='drop' value='direct'/><rule condition='expire-at' action='drop' value='2023-11-15T00:00:00Z'/></amp>"),
      );
      await s.offline.add('alice', 'localhost', message('both', "<x xmlns='jabber:x:expire' seconds='7200'/><amp xmlns='http://jabber.org/protocol/amp'><rule condition='expire-at' action='error' value='2023-11-14T23:00:00Z'/></amp>"));
      await s.offline.add('alice', 'localhost', message('bad values', "<x xmlns='jabber:x:expire' seconds='soon'/><amp xmlns='http://jabber.org/protocol/amp'><rule condition='expire-at' action='drop' value='tomorrow'/></amp>"));
      await s.offline.add('alice', 'localhost', message('wrong namespace', "<x xmlns='jabber:x:oob' seconds='1'/>"));
      return (await s.offline.messages('alice', 'localhost')).map((r) => r.message.expires);
    });
    expect(stored).toEqual([NOW + 60_000, Date.parse('2023-11-15T00:00:00Z'), Date.parse('2023-11-14T23:00:00Z'), undefined, undefined]);
    expect((await tables()).offline_by_expiry).toEqual([
      '001700000060000|localhost|alice|001700000000000-000000',
      '001700002800000|localhost|alice|001700000000000-000002',
      '001700006400000|localhost|alice|001700000000000-000001',
    ]);
  });

  test('removes a message once its expiry is reached, with its index rows, and nothing else', async () => {
    await withServices(async (s, at) => {
      at(NOW - 30 * DAY);
      await s.offline.add('alice', 'localhost', message('old but never expires'));
      at(NOW);
      await s.offline.add('alice', 'localhost', message('one minute', "<x xmlns='jabber:x:expire' seconds='60'/>"));
      await s.offline.add('bob', 'localhost', message('one hour', "<x xmlns='jabber:x:expire' seconds='3600'/>"));
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

  test('reads only the expiry index, never the messages', async () => {
    const store = createMemoryStore();
    const scanned: string[] = [];
    const spy: Store = {
      ...store,
      entries: (t, r) => (scanned.push(t), store.entries(t, r)),
      keys: (t, r) => (scanned.push(t), store.keys(t, r)),
      get: (t, k) => (scanned.push(t), store.get(t, k)),
      getMany: (t, k) => (scanned.push(t), store.getMany(t, k)),
    };
    const s = createServices({ store: spy, config: defaultConfig('/nonexistent/ctl.yml'), clock: () => NOW });
    await s.accounts.register('alice', 'localhost', 'pw');
    for (let i = 0; i < 5; i++) await s.offline.add('alice', 'localhost', message(`m${i}`));
    scanned.length = 0;
    expect(await s.offline.deleteExpired()).toBe(true);
    expect(scanned).toEqual(['offline_by_expiry']);
    expect(await s.offline.count('alice', 'localhost')).toBe(5);
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
    await withServices(async (s) => {
      await s.offline.add('alice', 'localhost', message('a', "<x xmlns='jabber:x:expire' seconds='60'/>"));
      await s.offline.add('bob', 'localhost', message('b', "<x xmlns='jabber:x:expire' seconds='60'/>"));
    });
    expect((await ctl(['unregister', 'alice', 'localhost'])).status).toBe(0);
    expect(await tables()).toEqual({
      offline: ['localhost|bob|001700000000000-000001'],
      offline_by_time: ['001700000000000-000001|localhost|bob'],
      offline_by_expiry: ['001700000060000|localhost|bob|001700000000000-000001'],
    });
  });

  test('stores only messages, only for existing users, and leaves the caller\'s element alone', async () => {
    await withServices(async (s) => {
      await expect(s.offline.add('alice', 'localhost', '<presence/>')).rejects.toThrow('Only <message/> stanzas can be stored offline, not <presence/>');
      await expect(s.offline.add('carol', 'localhost', message('x'))).rejects.toThrow('User carol@localhost does not exist');
      await expect(s.offline.add('alice', 'localhost', '<message>')).rejects.toThrow(/^Malformed XML in the offline message/);
      const el = parseXml(message('kept'), 'm');
      const stamp = await s.offline.add('alice', 'localhost', el);
      expect(stamp).toBe('001700000000000-000000');
      expect(el.toString()).toBe('<message from="x@example.org" to="alice@localhost" type="chat"><body>kept</body></message>');
    });
  });

  test('send_message to a connected user is refused until the node can deliver to sessions', async () => {
    const store = createMemoryStore();
    const s = createServices({ store, config: defaultConfig('/nonexistent/ctl.yml'), clock: () => NOW, isOnline: (u) => u === 'alice' });
    await s.accounts.register('alice', 'localhost', 'pw');
    await expect(s.offline.sendMessage('chat', 'x@example.org', 'alice@localhost', '', 'hi')).rejects.toThrow(
      'alice@localhost is connected, and delivery to connected sessions is not implemented yet',
    );
    expect(await s.offline.count('alice', 'localhost')).toBe(0);
  });

  test('concurrent stores in the same millisecond get distinct, ordered stamps', async () => {
    const s = createServices({ store: createMemoryStore(), config: defaultConfig('/nonexistent/ctl.yml'), clock: () => NOW });
    await s.accounts.register('alice', 'localhost', 'pw');
    const stamps = await Promise.all(Array.from({ length: 20 }, (_, i) => s.offline.add('alice', 'localhost', message(`m${i}`))));
    expect(new Set(stamps).size).toBe(20);
    expect(await s.offline.count('alice', 'localhost')).toBe(20);
    expect(await bodies(s)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
  });
});

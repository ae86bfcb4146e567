/**
 * Archives kept as plain records (the LevelDB and memory drivers) use the tables and keys that
 * offline queues and message archives have always had, so existing databases and backups keep
 * working: rows written by earlier versions are found, continued, deleted and purged.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archiveId, archiveIdMs, recordArchives, timeKey, type RecordStore } from '../../src/storage/archive';
import { openLevelStore } from '../../src/storage/level';
import { createMemoryStore } from '../../src/storage/memory';
import type { BatchOp, Key, Range, Store } from '../../src/storage/types';

const root = mkdtempSync(join(tmpdir(), 'ctl-archive-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

interface Offline {
  readonly xml: string;
  readonly timestamp: number;
  readonly expires?: number;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const drivers: [string, () => Promise<Store>][] = [
  ['memory', async () => createMemoryStore()],
  ['level', () => openLevelStore(join(root, `db${n++}`), { lockTimeout: 5_000 })],
];

test('timeKey and ids are fixed-width texts whose order is time order', () => {
  expect(timeKey(1_700_000_000_123)).toBe('001700000000123');
  expect(timeKey(-5)).toBe('000000000000000');
  expect(timeKey(1e20)).toBe('999999999999999');
  expect(archiveId(1_700_000_000_123, 7)).toBe('001700000000123-000007');
  expect(archiveIdMs('001700000000123-000007')).toBe(1_700_000_000_123);
});

describe.each(drivers)('archive layout: %s', (_name, open) => {
  let store: Store;
  beforeEach(async () => {
    store = await open();
  });
  afterEach(() => store.close());

  const rows = async (table: string) => collect(store.entries(table));
  const offline = () => store.archive<Offline>('offline', { expiresOf: (m) => m.expires });
  const owner = ['localhost', 'alice'];

  test("an item lies in the archive's table, its time and expiry index rows beside it", async () => {
    const value = { xml: '<message/>', timestamp: 1_700_000_000_123, expires: 1_700_000_060_000 };
    const id = await offline().append(owner, { atMs: value.timestamp, expiresMs: value.expires, value });
    expect(id).toBe('001700000000123-000000');
    await expect(rows('offline')).resolves.toEqual([[['localhost', 'alice', id], value]]);
    await expect(rows('offline_by_time')).resolves.toEqual([[[id, 'localhost', 'alice'], 1]]);
    await expect(rows('offline_by_expiry')).resolves.toEqual([[['001700000060000', 'localhost', 'alice', id], 1]]);
  });

  test('an item with a kind has it in its time index row; one that never expires has no expiry row', async () => {
    const id = await store.archive('mam').append(owner, { atMs: 5, kind: 'chat', value: { xml: '<m/>' } });
    await store.archive('mam').append(['conference.localhost', 'room'], { atMs: 6, kind: 'groupchat', value: { xml: '<g/>' } });
    await expect(rows('mam_by_time')).resolves.toEqual([
      [[id, 'localhost', 'alice'], { type: 'chat' }],
      [['000000000000006-000000', 'conference.localhost', 'room'], { type: 'groupchat' }],
    ]);
    await expect(rows('mam_by_expiry')).resolves.toEqual([]);
  });

  /** An offline message as earlier versions wrote it, with its index rows. */
  const legacy = (user: string, stamp: string, expires?: number): BatchOp[] => [
    {
      type: 'put',
      table: 'offline',
      key: ['localhost', user, stamp],
      value: { xml: `<message id='${stamp}'/>`, timestamp: archiveIdMs(stamp), ...(expires !== undefined && { expires }) },
    },
    { type: 'put', table: 'offline_by_time', key: [stamp, 'localhost', user], value: 1 },
    ...(expires === undefined ? [] : [{ type: 'put', table: 'offline_by_expiry', key: [timeKey(expires), 'localhost', user, stamp], value: 1 } as const]),
  ];

  test('items written by earlier versions are found, counted, and followed by larger ids', async () => {
    await store.batch([
      ...legacy('alice', '000000000001000-000000'),
      ...legacy('alice', '000000000001000-000004', 9000),
      ...legacy('bob', '000000000000500-000000'),
    ]);
    const found = await collect(offline().find(owner));
    expect(found.map((i) => [i.id, i.atMs])).toEqual([
      ['000000000001000-000000', 1000],
      ['000000000001000-000004', 1000],
    ]);
    await expect(offline().count(owner)).resolves.toBe(2);
    await expect(offline().append(owner, { atMs: 1000, value: { xml: '<new/>', timestamp: 1000 } })).resolves.toBe('000000000001000-000005');
  });

  test('replaceOps numbers the items of each ms from 0, one by one, as it always has', async () => {
    const entry = (atMs: number) => ({ atMs, value: { xml: '<message/>', timestamp: atMs } });
    const { ids } = await offline().replaceOps(owner, [entry(1000), entry(1000), entry(3000)]);
    expect(ids).toEqual(['000000000001000-000000', '000000000001000-000001', '000000000003000-000000']);
  });

  test('deleting such items removes their index rows, the expiry row found from the value', async () => {
    await store.batch([
      ...legacy('alice', '000000000001000-000000', 9000),
      ...legacy('alice', '000000000002000-000000'),
      ...legacy('bob', '000000000000500-000000', 9000),
    ]);
    await expect(offline().delete(owner, ['000000000001000-000000'])).resolves.toBe(1);
    await expect(rows('offline_by_expiry')).resolves.toEqual([[['000000000009000', 'localhost', 'bob', '000000000000500-000000'], 1]]);
    const ops = await offline().deleteOps(['localhost', 'bob']);
    expect(ops).toEqual(
      expect.arrayContaining<BatchOp>([
        { type: 'del', table: 'offline', key: ['localhost', 'bob', '000000000000500-000000'] },
        { type: 'del', table: 'offline_by_time', key: ['000000000000500-000000', 'localhost', 'bob'] },
        { type: 'del', table: 'offline_by_expiry', key: ['000000000009000', 'localhost', 'bob', '000000000000500-000000'] },
      ]),
    );
    await store.batch(ops);
    await expect(rows('offline_by_time')).resolves.toEqual([[['000000000002000-000000', 'localhost', 'alice'], 1]]);
    await expect(rows('offline_by_expiry')).resolves.toEqual([]);
  });

  test('purges remove such items with every index row', async () => {
    await store.batch([
      ...legacy('alice', '000000000001000-000000', 9000),
      ...legacy('alice', '000000000002000-000000'),
      ...legacy('bob', '000000000003000-000000', 2500),
    ]);
    await expect(offline().purge({ beforeMs: 1500 })).resolves.toBe(1);
    await expect(offline().purge({ expiredAtMs: 2500 })).resolves.toBe(1);
    const left: Key[] = [['localhost', 'alice', '000000000002000-000000']];
    await expect(collect(store.keys('offline'))).resolves.toEqual(left);
    await expect(collect(store.keys('offline_by_time'))).resolves.toEqual([['000000000002000-000000', 'localhost', 'alice']]);
    await expect(rows('offline_by_expiry')).resolves.toEqual([]);
  });
});

test('a purge reads the index range it removes and the items it removes, nothing more', async () => {
  const mem = createMemoryStore();
  const reads = new Map<string, number>();
  const read = (table: string, rows: number) => reads.set(table, (reads.get(table) ?? 0) + rows);
  const counted: RecordStore = {
    get: (table, key) => (read(table, 1), mem.get(table, key)),
    getMany: (table, keys) => (read(table, keys.length), mem.getMany(table, keys)),
    batch: (ops, options) => mem.batch(ops, options),
    keys: (table, range) => mem.keys(table, range),
    async *entries<T>(table: string, range?: Range) {
      for await (const row of mem.entries<T>(table, range)) {
        read(table, 1);
        yield row;
      }
    },
  };
  const archive = recordArchives(counted)<Offline>('offline', { expiresOf: (m) => m.expires });
  for (let i = 0; i < 100; i++) {
    const expires = i % 25 === 0 ? 5000 : undefined;
    await archive.append(['localhost', `u${i % 7}`], {
      atMs: 1000 + i,
      ...(expires && { expiresMs: expires }),
      value: { xml: '<m/>', timestamp: 1000 + i, ...(expires && { expires }) },
    });
  }
  reads.clear();
  await expect(archive.purge({ expiredAtMs: 5000 })).resolves.toBe(4);
  expect(Object.fromEntries(reads)).toEqual({ offline_by_expiry: 4 });
  reads.clear();
  await expect(archive.purge({ beforeMs: 1010 })).resolves.toBe(9);
  expect(Object.fromEntries(reads)).toEqual({ offline_by_time: 9, offline: 9 });
  reads.clear();
  await expect(archive.purge({ beforeMs: 1020 }, { pageSize: 4 })).resolves.toBe(10);
  expect(Object.fromEntries(reads)).toEqual({ offline_by_time: 10, offline: 10 });
});

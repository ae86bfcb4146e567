import { createMemoryStore } from '../../src/storage/memory';
import { ownersRows } from '../../src/storage/owners';
import type { BatchOp, Key, Range, Store } from '../../src/storage/types';

const user = (i: number) => `u${String(i).padStart(4, '0')}`;

/** Users 0..n-1 of localhost with `rows(i)` rows each in table `t`, and reads counted. */
async function filled(n: number, rows: (i: number) => number) {
  const store = createMemoryStore();
  const ops: BatchOp[] = [];
  for (let i = 0; i < n; i++) for (let r = 0; r < rows(i); r++) ops.push({ type: 'put', table: 't', key: ['localhost', user(i), `item${r}`], value: i });
  ops.push({ type: 'put', table: 't', key: ['other.example', 'zed', 'x'], value: -1 });
  await store.batch(ops);
  const reads: Range[] = [];
  const counted: Store = Object.assign(Object.create(store) as Store, {
    keys: (table: string, range?: Range) => (reads.push(range ?? {}), store.keys(table, range)),
    entries: <T>(table: string, range?: Range) => (reads.push(range ?? {}), store.entries<T>(table, range)),
  });
  return { store: counted, reads };
}

async function collect(it: AsyncIterable<[Key, unknown]>): Promise<[Key, unknown][]> {
  const out: [Key, unknown][] = [];
  for await (const row of it) out.push(row);
  return out;
}

test('yields the rows of the owners asked for, in key order, with values when asked', async () => {
  const { store } = await filled(10, (i) => i % 3);
  const owners = [5, 1, 2, 8].map((i) => ['localhost', user(i)]);
  const rows = await collect(ownersRows(store, 't', owners, true));
  expect(rows.map(([k, v]) => [k.join('/'), v])).toEqual([
    ['localhost/u0001/item0', 1],
    ['localhost/u0002/item0', 2],
    ['localhost/u0002/item1', 2],
    ['localhost/u0005/item0', 5],
    ['localhost/u0005/item1', 5],
    ['localhost/u0008/item0', 8],
    ['localhost/u0008/item1', 8],
  ]);
  expect((await collect(ownersRows(store, 't', owners))).every(([, v]) => v === undefined)).toBe(true);
  expect(await collect(ownersRows(store, 't', []))).toEqual([]);
});

test('reads through neighbours with few rows, and jumps over those with many', async () => {
  const few = await filled(2000, () => 1);
  const everyTenth = Array.from({ length: 200 }, (_, i) => ['localhost', user(i * 10)]);
  expect(await collect(ownersRows(few.store, 't', everyTenth))).toHaveLength(200);
  expect(few.reads).toHaveLength(1);

  const many = await filled(50, (i) => (i % 2 ? 100 : 1));
  const even = Array.from({ length: 25 }, (_, i) => ['localhost', user(i * 2)]);
  expect((await collect(ownersRows(many.store, 't', even))).map(([k]) => k[1])).toEqual(even.map((o) => o[1]));
  expect(many.reads.length).toBeGreaterThan(20);
  expect(many.reads.length).toBeLessThanOrEqual(25);
});

test("an archive's deletions for many owners are those of each owner", async () => {
  const store = createMemoryStore();
  const archive = store.archive<{ n: number; expires?: number }>('box', { expiresOf: (v) => v.expires });
  const owners = Array.from({ length: 30 }, (_, i) => ['localhost', user(i)]);
  for (const [i, owner] of owners.entries()) {
    for (let m = 0; m < i % 4; m++)
      await archive.append(owner, { atMs: 1000 + m, ...(m === 1 ? { expiresMs: 9000 } : {}), value: { n: m, ...(m === 1 ? { expires: 9000 } : {}) } });
  }
  const some = owners.filter((_, i) => i % 3 === 0);
  const one: BatchOp[] = [];
  for (const owner of some) one.push(...(await archive.deleteOps(owner)));
  const many = await archive.deleteOps(...some);
  const text = (ops: BatchOp[]) => ops.map((op) => `${op.type} ${op.table} ${op.key.join('/')}`).sort();
  expect(text(many)).toEqual(text(one));
  expect(many.length).toBeGreaterThan(0);
  expect(await archive.deleteOps()).toEqual([]);
});

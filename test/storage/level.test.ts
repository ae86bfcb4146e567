import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLevelStore } from '../../src/storage/level';
import type { Store } from '../../src/storage/types';
import { runStoreConformance } from './conformance';

// Each test gets its own database directory under one temporary root, removed at the end.
const root = mkdtempSync(join(tmpdir(), 'ctl-level-'));
const dirs = new Map<Store, string>();
let n = 0;

async function openAt(dir: string): Promise<Store> {
  const store = await openLevelStore(dir, { lockTimeout: 5_000 });
  dirs.set(store, dir);
  return store;
}

afterAll(() => rmSync(root, { recursive: true, force: true }));

runStoreConformance(
  'level',
  () => openAt(join(root, `db${n++}`)),
  async (previous) => {
    const dir = dirs.get(previous);
    if (dir === undefined) throw new Error('reopen: not a store this file opened');
    await previous.close();
    return openAt(dir);
  },
);

describe('level: records on disk', () => {
  /** The root's keys and value texts, as LevelDB holds them. */
  async function raw(dir: string): Promise<[string, string][]> {
    const { Level } = await import('level');
    const db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
    try {
      const out: [string, string][] = [];
      for await (const entry of db.iterator({ gte: '!', lt: '"' })) out.push(entry);
      return out;
    } finally {
      await db.close();
    }
  }

  test('keys are the parts joined with NUL under the table prefix, values their JSON text', async () => {
    const dir = join(root, `db${n++}`);
    const store = await openAt(dir);
    await store.put('roster', ['localhost', 'alice', 'bob@localhost'], { subscription: 'both' });
    await store.batch([{ type: 'put', table: 'passwd', key: ['localhost', 'alice'], value: { pw: 'x' } }]);
    await store.update('last', ['localhost', 'alice'], () => ({ ts: 1 }));
    await store.close();
    await expect(raw(dir)).resolves.toEqual([
      ['!last!localhost\u0000alice', '{"ts":1}'],
      ['!passwd!localhost\u0000alice', '{"pw":"x"}'],
      ['!roster!localhost\u0000alice\u0000bob@localhost', '{"subscription":"both"}'],
    ]);
  });

  test('records written by earlier versions, under NUL-joined string keys, read as tuples', async () => {
    const dir = join(root, `db${n++}`);
    const { Level } = await import('level');
    const db = new Level<string, unknown>(dir, { valueEncoding: 'json' });
    await db.sublevel<string, unknown>('roster', { valueEncoding: 'json' }).put('localhost\u0000alice\u0000bob@localhost', ['both']);
    await db.sublevel<string, unknown>('passwd', { valueEncoding: 'json' }).put('localhost\u0000alice', { pw: 'x' });
    await db.close();
    const store = await openAt(dir);
    try {
      await expect(store.get('passwd', ['localhost', 'alice'])).resolves.toEqual({ pw: 'x' });
      const roster: unknown[] = [];
      for await (const entry of store.entries('roster', { prefix: ['localhost', 'alice'] })) roster.push(entry);
      expect(roster).toEqual([[['localhost', 'alice', 'bob@localhost'], ['both']]]);
    } finally {
      await store.close();
    }
  });
});

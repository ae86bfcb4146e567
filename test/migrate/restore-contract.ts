/**
 * What `restore` promises on every driver: the backup's records replace the database's all at
 * once, and a backup found faulty anywhere, even at its very end, changes nothing; readers see
 * the old records until the end. A driver's test file calls `runRestoreChecks` with a factory
 * for a fresh, empty store.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restoreBackup, writeBackup } from '../../src/migrate/backup';
import { createMemoryStore } from '../../src/storage/memory';
import type { Key, Replacement, Store } from '../../src/storage/types';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Every record of every table, as [table, key, value]. */
async function everything(store: Store): Promise<[string, Key, unknown][]> {
  const snap = await store.snapshot();
  try {
    const out: [string, Key, unknown][] = [];
    for (const table of await snap.tables()) for await (const [k, json] of snap.entriesJson(table)) out.push([table, k, JSON.parse(json)]);
    return out;
  } finally {
    await snap.close();
  }
}

/** Records larger than what a driver writes at once (a few MB). */
const USERS = 400;
const pad = 'p'.repeat(30_000);

export function runRestoreChecks(name: string, open: () => Promise<Store>): void {
  describe(`restore: ${name}`, () => {
    let store: Store;
    let dir: string;
    let backup: string;
    let fresh: [string, Key, unknown][];

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ctl-restore-'));
      backup = join(dir, 'new.backup');
      const source = createMemoryStore();
      for (let i = 0; i < USERS; i++) {
        const user = `user${String(i).padStart(4, '0')}`;
        // Tables no feature owns, whose values a backup copies as they are.
        await source.put('notes', ['localhost', user], { note: `note ${i}` });
        await source.put('pads', ['localhost', user], { pad, i });
      }
      await writeBackup(source, backup, 'ctl@localhost', Date.UTC(2025, 0, 1), () => undefined);
      fresh = await everything(source);
      await source.close();
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    beforeEach(async () => {
      store = await open();
      await store.put('passwd', ['localhost', 'old'], { password: 'old' });
      await store.put('last', ['localhost', 'old'], { ts: 1, status: '' });
    });
    afterEach(async () => {
      await store.close();
    });

    const old = (): [string, Key, unknown][] => [
      ['last', ['localhost', 'old'], { ts: 1, status: '' }],
      ['passwd', ['localhost', 'old'], { password: 'old' }],
    ];

    /** The backup with its text changed by `edit`, in a file of its own. */
    const altered = (edit: (text: string) => string) => {
      const path = join(dir, `altered-${Math.random().toString(36).slice(2)}.backup`);
      writeFileSync(path, edit(readFileSync(backup, 'utf8')));
      return path;
    };

    test('a valid backup replaces every record', async () => {
      const summary = await restoreBackup(store, backup);
      expect(summary.records).toBe(USERS * 2);
      await expect(everything(store)).resolves.toEqual(fresh);
    });

    test('a backup whose checksum at its very end does not match changes nothing', async () => {
      const path = altered((text) => text.replace(/"sha256":"(.)/, (_, c: string) => `"sha256":"${c === '0' ? '1' : '0'}`));
      await expect(restoreBackup(store, path)).rejects.toThrow(/checksum does not match/);
      await expect(everything(store)).resolves.toEqual(old());
    });

    test('a backup that is cut before its end line, or has a bad last record, changes nothing', async () => {
      const lines = readFileSync(backup, 'utf8').split('\n');
      const cut = altered(() => `${lines.slice(0, -2).join('\n')}\n`);
      await expect(restoreBackup(store, cut)).rejects.toThrow(/truncated/);
      const bad = altered(() => [...lines.slice(0, -3), '["notes","localhost\\u0000zz",', ...lines.slice(-2)].join('\n'));
      await expect(restoreBackup(store, bad)).rejects.toThrow(/not valid JSON/);
      await expect(everything(store)).resolves.toEqual(old());
      // And the store still takes a restore afterwards.
      await restoreBackup(store, backup);
      await expect(everything(store)).resolves.toEqual(fresh);
    });

    test('readers see the old records while a restore runs, the new ones once it is done', async () => {
      const seen: [string, Key, unknown][][] = [];
      let n = 0;
      // The same store, whose replacement reads the database halfway through the backup.
      const watched: Store = {
        ...store,
        replaceAll: async (): Promise<Replacement> => {
          const r = await store.replaceAll();
          return {
            put: (table, key, json) =>
              (async () => {
                await r.put(table, key, json);
                if (++n === USERS) {
                  seen.push(await everything(store));
                  seen.push([['notes', ['localhost', 'user0000'], await store.get('notes', ['localhost', 'user0000'])]]);
                }
              })(),
            commit: () => r.commit(),
            abort: () => r.abort(),
          };
        },
      };
      await restoreBackup(watched, backup);
      expect(seen).toEqual([old(), [['notes', ['localhost', 'user0000'], undefined]]]);
      await expect(everything(store)).resolves.toEqual(fresh);
      await expect(collect(store.keys('last'))).resolves.toEqual([]);
    });
  });
}

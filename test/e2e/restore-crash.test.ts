/**
 * `ctl restore` killed at any moment, as a machine or an operator may: the database then
 * holds the records it had before or those of the backup, never a mix, and what the restore
 * had written aside is gone once the database is opened again.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBackup } from '../../src/migrate/backup';
import { openLevelStore } from '../../src/storage/level';
import { createMemoryStore } from '../../src/storage/memory';
import type { Store } from '../../src/storage/types';
import { ensureBuilt, launcher } from '../helpers/proc';

jest.setTimeout(120_000);

const RECORDS = 20_000;
let dir: string;
let backup: string;

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'ctl-restore-crash-'));
  backup = join(dir, 'new.backup');
  const source = createMemoryStore();
  const ops = Array.from({ length: RECORDS }, (_, i) => ({
    type: 'put' as const,
    table: 'notes',
    key: ['localhost', `user${String(i).padStart(5, '0')}`],
    value: { i, pad: 'n'.repeat(1000) },
  }));
  await source.batch(ops);
  await writeBackup(source, backup, 'ctl@localhost', Date.UTC(2025, 0, 1), () => undefined);
  await source.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the database holds, in a form to compare: the count per table and the records of a few keys. */
async function contents(dbDir: string): Promise<string> {
  const store: Store = await openLevelStore(dbDir);
  try {
    const snap = await store.snapshot();
    const counts: Record<string, number> = {};
    try {
      for (const t of await snap.tables()) {
        counts[t] = 0;
        for await (const _ of snap.entriesJson(t)) counts[t]++;
      }
    } finally {
      await snap.close();
    }
    const some = await store.getMany('notes', [
      ['localhost', 'user00000'],
      ['localhost', `user${RECORDS - 1}`],
      ['localhost', 'old'],
    ]);
    return JSON.stringify({ counts, some, old: await store.get('passwd', ['localhost', 'old']) });
  } finally {
    await store.close();
  }
}

/** Every key of the database, as LevelDB holds it, but the one `sync()` rewrites. */
async function rootKeys(dbDir: string): Promise<string[]> {
  const { Level } = await import('level');
  const db = new Level<string, string>(dbDir, { valueEncoding: 'utf8' });
  try {
    const out: string[] = [];
    for await (const k of db.keys()) if (k !== 'sync-marker') out.push(k);
    return out;
  } finally {
    await db.close();
  }
}

async function oldDatabase(home: string): Promise<void> {
  const store = await openLevelStore(join(home, 'db'));
  await store.put('passwd', ['localhost', 'old'], { secret: 'old' });
  await store.put('notes', ['localhost', 'old'], { old: true });
  await store.close();
}

/** `ctl restore` in `home`, killed after `ms` (or left to finish when undefined); its wall time. */
function restore(home: string, ms?: number): Promise<{ ms: number; code: number | null }> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [launcher, 'restore', backup, '--home', home], { stdio: 'ignore' });
  const timer = ms === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), ms);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ ms: Date.now() - t0, code });
    }),
  );
}

test('a restore killed at any moment leaves the old records or the new ones, and nothing of it aside', async () => {
  const home = (name: string) => mkdtempSync(join(dir, `${name}-`));
  const before = home('before');
  await oldDatabase(before);
  const old = await contents(join(before, 'db'));
  const after = home('after');
  await oldDatabase(after);
  const whole = await restore(after);
  expect(whole.code).toBe(0);
  const fresh = await contents(join(after, 'db'));
  expect(fresh).not.toEqual(old);
  expect(JSON.parse(fresh).counts).toEqual({ notes: RECORDS });

  const seen = new Set<string>();
  // Most kills fall late, where the restore puts the backup's records in place.
  for (const [i, share] of [0.1, 0.3, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95].entries()) {
    const h = home(`killed${i}`);
    await oldDatabase(h);
    const run = await restore(h, Math.round(whole.ms * share));
    const now = await contents(join(h, 'db'));
    expect([old, fresh]).toContain(now);
    seen.add(now === old ? 'old' : 'new');
    expect((await rootKeys(join(h, 'db'))).filter((k) => !k.startsWith('!'))).toEqual([]);
    expect(run.code).not.toBe(1);
  }
  // Early kills find the old records; the last ones, or the unkilled run, the new.
  expect(seen.has('old')).toBe(true);
});

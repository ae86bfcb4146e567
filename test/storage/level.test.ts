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

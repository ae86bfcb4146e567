import { join } from 'node:path';
import { loadConfig } from '../../src/config/config';
import { featureDeps } from '../../src/features/deps';
import { createServices, type Services } from '../../src/node/services';
import { openLevelStore } from '../../src/storage/level';
import type { Store } from '../../src/storage/types';

/** Runs `fn` over a home's database, opened as `ctl` opens it, and closes it afterwards. */
export async function withStore<T>(dir: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openLevelStore(join(dir, 'db'));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/**
 * Runs `fn` with the services over a home's database, as the node would, at a time that
 * starts at `start` (ms) and that `fn` may move with `at`.
 */
export function withServices<T>(dir: string, start: number, fn: (s: Services, at: (ms: number) => void) => Promise<T>): Promise<T> {
  return withStore(dir, (store) => {
    let now = start;
    return fn(createServices(featureDeps({ store, config: loadConfig(join(dir, 'ctl.yml')), clock: () => now })), (ms) => (now = ms));
  });
}

import { join } from 'node:path';
import { loadConfig } from '../../src/config/config';
import { featureDeps } from '../../src/features/deps';
import { createServices, type Services } from '../../src/node/services';
import { openLevelStore } from '../../src/storage/level';

/**
 * Runs `fn` with the services over a home's database, as the node would, at a time that
 * starts at `start` (ms) and that `fn` may move with `at`.
 */
export async function withServices<T>(dir: string, start: number, fn: (s: Services, at: (ms: number) => void) => Promise<T>): Promise<T> {
  const store = await openLevelStore(join(dir, 'db'));
  let now = start;
  try {
    return await fn(createServices(featureDeps({ store, config: loadConfig(join(dir, 'ctl.yml')), clock: () => now })), (ms) => (now = ms));
  } finally {
    await store.close();
  }
}

import { createKeyedLock } from '../lib/keyed-lock';
import { encodeKey, SEP } from './keys';
import type { BatchOp, Key, Store, UpdateOptions, Updated } from './types';

/**
 * `Store.update` for drivers whose only writer is this process (LevelDB admits one): updates
 * of one key queue behind each other, so each reads what the one before it wrote.
 */
export function lockedUpdate(store: Pick<Store, 'get' | 'batch'>): Store['update'] {
  const lock = createKeyedLock();
  return async <T>(table: string, key: Key, fn: (current: T | undefined) => Updated<T> | Promise<Updated<T>>, options?: UpdateOptions<T>) =>
    lock.run(table + SEP + encodeKey(key), async () => {
      const current = await store.get<T>(table, key);
      const next = await fn(current);
      if (next === undefined) return current;
      const op: BatchOp = next === null ? { type: 'del', table, key } : { type: 'put', table, key, value: next };
      const also = options?.also?.(next) ?? [];
      await store.batch(also.length === 0 ? [op] : [op, ...also], options);
      return next === null ? undefined : next;
    });
}

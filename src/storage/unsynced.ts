import type { Store } from './types';

/** The same store, with writes that do not wait for the disk unless asked: for bulk work. */
export function unsynced(store: Store): Store {
  return {
    ...store,
    put: (table, key, value, options) => store.put(table, key, value, { sync: false, ...options }),
    del: (table, key, options) => store.del(table, key, { sync: false, ...options }),
    batch: (ops, options) => store.batch(ops, { sync: false, ...options }),
  };
}

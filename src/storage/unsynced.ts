import type { Archive, Store, WriteOptions } from './types';

const QUIET: WriteOptions = { sync: false };

/** The same store, with writes that do not wait for the disk unless asked: for bulk work. */
export function unsynced(store: Store): Store {
  return {
    ...store,
    put: (table, key, value, options) => store.put(table, key, value, { ...QUIET, ...options }),
    del: (table, key, options) => store.del(table, key, { ...QUIET, ...options }),
    batch: (ops, options) => store.batch(ops, { ...QUIET, ...options }),
    update: (table, key, fn, options) => store.update(table, key, fn, { ...QUIET, ...options }),
    archive: (name, options) => unsyncedArchive(store.archive(name, options)),
  };
}

function unsyncedArchive<T>(archive: Archive<T>): Archive<T> {
  return {
    ...archive,
    append: (owner, entry, options) => archive.append(owner, entry, { ...QUIET, ...options }),
    delete: (owner, ids, options) => archive.delete(owner, ids, { ...QUIET, ...options }),
    purge: (which, options) => archive.purge(which, { ...QUIET, ...options }),
  };
}

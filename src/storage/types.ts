/**
 * The storage contract that features talk to. Drivers (LevelDB, in-memory, later PostgreSQL)
 * keep tables of JSON values under keys that are tuples of text parts, ordered part by part
 * (each part by its UTF-8 bytes, a tuple before its extensions), and pass one conformance
 * suite. Each driver encodes keys its own way: LevelDB joins the parts with NUL; a SQL driver
 * uses columns or escaped text. Values are what a SQL `json` or `text` column holds (not
 * `jsonb`: values may carry U+0000 and lone surrogates), so nothing may query inside a value:
 * what must be found by something else than its key is a key part, or an archive.
 */

/**
 * A key: its parts, from the most general (a host) to the most particular. A key has at least
 * one part; a part is well-formed Unicode text without NUL (U+0000), which no JID part and no
 * PostgreSQL text holds. Drivers refuse other keys with a TypeError before writing anything.
 */
export type Key = readonly string[];

/** Ordered key range within one table. A missing bound is open. */
export interface Range {
  /**
   * Only keys whose first parts are these (the key equal to them included): `['a']` selects
   * `['a']` and `['a', ...]`, not `['ab']`; `[]` selects the whole table. Other bounds narrow
   * the range further, never widen it.
   */
  readonly prefix?: Key;
  readonly gte?: Key;
  readonly gt?: Key;
  readonly lte?: Key;
  readonly lt?: Key;
  readonly limit?: number;
  readonly reverse?: boolean;
}

export type BatchOp =
  | { readonly type: 'put'; readonly table: string; readonly key: Key; readonly value: unknown }
  | { readonly type: 'del'; readonly table: string; readonly key: Key };

export interface WriteOptions {
  /** Wait until the write reached the disk; the default is the store's (see `sync()`). */
  readonly sync?: boolean;
}

/**
 * What `update` writes: a new value, `null` to delete the record, or `undefined` to leave it
 * as it is (the update then writes nothing).
 */
export type Updated<T> = T | null | undefined;

/**
 * A read-only view of the whole database as it was at one moment: writes made after it was
 * taken are not seen, so a backup of a node under load is a point-in-time copy.
 */
export interface StoreSnapshot {
  /** The tables that hold at least one record, in byte order of their names. */
  tables(): Promise<string[]>;
  /**
   * The records of a table in key order, each value as its JSON text: bulk copies to and from
   * files need not decode and re-encode every value.
   */
  entriesJson(table: string, range?: Range): AsyncIterable<[Key, string]>;
  /** Releases the snapshot; closing twice is not an error. */
  close(): Promise<void>;
}

/**
 * New contents for the whole database, written while the database stays as it is, then put
 * in place at once. `commit` removes the records that existed when the replacement began and
 * makes the added ones the contents, in one atomic, synced step: a crash leaves either the old
 * contents or the new, and readers see the old ones until the commit. A driver that keeps
 * its records on disk does not hold the added ones until then: it writes them aside as they
 * come, so that a replacement of any size takes a bounded amount of memory (a restore of a
 * backup larger than the memory). Writes made by others while a replacement is
 * prepared are not guaranteed to be removed: callers keep other writers away (a node pauses
 * its other work, a local `ctl` holds the database lock).
 */
export interface Replacement {
  /**
   * Adds a record. `json` is the value's JSON text, not `null`; the caller has checked it, the
   * driver stores it as it is. A later record with the same table and key wins. A bad key
   * throws at once. When the driver has as much on its way as it takes, `put` returns a
   * promise to wait for before the next record; it never rejects: a failed write is thrown by
   * the next `put` or by `commit`.
   */
  put(table: string, key: Key, json: string): Promise<void> | void;
  commit(): Promise<void>;
  /** Drops what was added; the database keeps its contents. */
  abort(): Promise<void>;
}

export interface Store {
  /** The directory the database lives in; undefined for a store that keeps nothing on disk. */
  readonly location?: string;
  /** A missing key resolves to `undefined`: the feature decides whether that is an error. */
  get<T>(table: string, key: Key): Promise<T | undefined>;
  getMany<T>(table: string, keys: readonly Key[]): Promise<(T | undefined)[]>;
  /**
   * `value` is any JSON value but `null`, or its JSON text as a `JsonText`; null, undefined and
   * what JSON cannot encode are refused.
   */
  put(table: string, key: Key, value: unknown, options?: WriteOptions): Promise<void>;
  del(table: string, key: Key, options?: WriteOptions): Promise<void>;
  /** All operations apply together or not at all, whatever tables they touch. */
  batch(ops: readonly BatchOp[], options?: WriteOptions): Promise<void>;
  /**
   * Read-modify-write of one record: `fn` gets the current value and says what to write (see
   * `Updated`); its result, and the `ops` it adds, are written in one atomic step. Updates of
   * one key never interleave: a second update of the key sees what the first one wrote. `fn`
   * may run again when the driver detects a conflict, so it must not have other effects. When
   * `fn` throws, nothing is written and the update rejects with its error.
   * Resolves to the value the record has afterwards.
   */
  update<T>(table: string, key: Key, fn: (current: T | undefined) => Updated<T> | Promise<Updated<T>>, options?: UpdateOptions<T>): Promise<T | undefined>;
  entries<T>(table: string, range?: Range): AsyncIterable<[Key, T]>;
  keys(table: string, range?: Range): AsyncIterable<Key>;
  /** An archive: time-ordered items per owner (offline messages, message archives). */
  archive<T>(name: string, options?: ArchiveOptions<T>): Archive<T>;
  /**
   * Makes every write so far durable. A store opened for bulk work writes without waiting for
   * the disk (a crash of the process loses nothing, a crash of the machine may) and is synced
   * once, at the end of the batch.
   */
  sync(): Promise<void>;
  /** A consistent view of every table at this moment; close it when done. */
  snapshot(): Promise<StoreSnapshot>;
  /** Starts replacing the contents of every table (see `Replacement`). */
  replaceAll(): Promise<Replacement>;
  close(): Promise<void>;
}

export interface UpdateOptions<T = unknown> extends WriteOptions {
  /**
   * More operations written in the same atomic step as the update, when it writes; it gets the
   * new value, `null` when the update deletes the record.
   */
  readonly also?: (value: T | null) => readonly BatchOp[];
}

/**
 * One item of an archive. Its kind and expiry select items for purges but are not returned:
 * a feature that needs them back keeps them in the value.
 */
export interface ArchiveItem<T> {
  /**
   * Unique within the owner's archive and increasing with time, even within one ms: the
   * paging cursor. Ids compare as texts.
   */
  readonly id: string;
  /** When it was archived, in whole ms since the epoch. */
  readonly atMs: number;
  readonly value: T;
}

export interface ArchiveEntry<T> {
  readonly atMs: number;
  /** A short class of the item that purges can select (a message type); text as a key part is. */
  readonly kind?: string;
  /**
   * When it expires, in ms since the epoch; absent: never. An archive whose entries expire is
   * opened with `expiresOf`, and this must be what `expiresOf` reads from the value.
   */
  readonly expiresMs?: number;
  readonly value: T;
}

export interface ArchiveOptions<T> {
  /**
   * Reads an item's expiry back from its value. Drivers that index archives with records of
   * their own (LevelDB, memory) key the expiry index by the expiry, and need it again to remove
   * an item with its index rows; without `expiresOf`, an entry with `expiresMs` is refused.
   */
  readonly expiresOf?: (value: T) => number | undefined;
}

/** Which items of one owner. Bounds on time are in ms; `after`/`before` are item ids. */
export interface ArchiveQuery {
  /** Items archived at or after this time. */
  readonly startMs?: number;
  /** Items archived before this time. */
  readonly endMs?: number;
  /** Items whose id is after this one (the next page). */
  readonly after?: string;
  /** Items whose id is before this one (the previous page, with `reverse`). */
  readonly before?: string;
  readonly limit?: number;
  /** Newest first. */
  readonly reverse?: boolean;
}

/** Which items, over every owner, a purge removes: those that meet every condition given. */
export interface ArchivePurge {
  /** Items archived before this time, in ms. */
  readonly beforeMs?: number;
  /** Items whose expiry is at or before this time, in ms. */
  readonly expiredAtMs?: number;
  /** Only items of this kind. */
  readonly kind?: string;
}

/**
 * Time-ordered items per owner (Prosody's archive store): what offline queues and message
 * archives are. The owner is a key (host and user; later a room); the owners of one archive
 * have the same number of parts. Items are written and removed with what indexes them in one
 * atomic step.
 */
export interface Archive<T> {
  /** Adds an item; resolves to its id. */
  append(owner: Key, entry: ArchiveEntry<T>, options?: WriteOptions): Promise<string>;
  /**
   * The writes that would append `entries`, in their order, to join a larger atomic batch (an
   * import writes a whole account at once); resolves to their ids and the operations.
   */
  appendOps(owner: Key, entries: readonly ArchiveEntry<T>[]): Promise<{ readonly ids: string[]; readonly ops: BatchOp[] }>;
  /**
   * The writes that replace all of the owner's items by `entries`, in their order, to join a
   * larger atomic batch (an import writes a whole account at once). The ids count anew in
   * each ms, as the owner's queue starts anew: from 0 where the store is its database's only
   * writer, else from the first number its process may hand out.
   */
  replaceOps(owner: Key, entries: readonly ArchiveEntry<T>[]): Promise<{ readonly ids: string[]; readonly ops: BatchOp[] }>;
  find(owner: Key, query?: ArchiveQuery): AsyncIterable<ArchiveItem<T>>;
  /** The items of every owner whose first parts are `ownerPrefix` (a host), by owner, then by id. */
  items(ownerPrefix: Key): AsyncIterable<{ readonly owner: Key; readonly item: ArchiveItem<T> }>;
  count(owner: Key): Promise<number>;
  /** Removes the owner's items, or those of `ids`, in one atomic step; resolves to how many went. */
  delete(owner: Key, ids?: readonly string[], options?: WriteOptions): Promise<number>;
  /**
   * The operations that remove all items of these owners, to join a larger batch; for many
   * owners at once, a few reads of the range they span rather than one read per owner.
   */
  deleteOps(...owners: Key[]): Promise<BatchOp[]>;
  /**
   * Removes the items a purge selects, over every owner, in atomic steps of at most
   * `pageSize` items; `onPage` hears of each step. Resolves to how many went.
   */
  purge(which: ArchivePurge, options?: PurgeOptions): Promise<number>;
}

export interface PurgeOptions extends WriteOptions {
  /** At most this many items per atomic step; 1000 unless told. */
  readonly pageSize?: number;
  readonly onPage?: (removed: number) => void;
}

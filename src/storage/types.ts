/**
 * The storage contract that services talk to. Drivers (LevelDB, in-memory, later SQL) keep
 * tables of JSON values under string keys, ordered by key, and pass one conformance suite.
 */

/** Ordered key range within one table. A missing bound is open. */
export interface Range {
  /** Only keys that start with this; other bounds narrow the range further, never widen it. */
  readonly prefix?: string;
  readonly gte?: string;
  readonly gt?: string;
  readonly lte?: string;
  readonly lt?: string;
  readonly limit?: number;
  readonly reverse?: boolean;
}

export type BatchOp =
  | { readonly type: 'put'; readonly table: string; readonly key: string; readonly value: unknown }
  | { readonly type: 'del'; readonly table: string; readonly key: string };

export interface WriteOptions {
  /** Wait until the write reached the disk; the default is the store's (see `sync()`). */
  readonly sync?: boolean;
}

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
  entriesJson(table: string, range?: Range): AsyncIterable<[string, string]>;
  /** Releases the snapshot; closing twice is not an error. */
  close(): Promise<void>;
}

/**
 * New contents for the whole database, gathered while the database stays as it is, then put
 * in place at once. `commit` removes the records that existed when the replacement began and
 * writes the added ones, in one atomic, synced step: a crash leaves either the old contents
 * or the new. Writes made by others while a replacement is prepared are not guaranteed to be
 * removed: callers keep other writers away (a node runs database commands one at a time, a
 * local `ctl` holds the database lock).
 */
export interface Replacement {
  /**
   * Adds a record. `json` is the value's JSON text, not `null`; the caller has checked it, the
   * driver stores it as it is. A later record with the same table and key wins.
   */
  put(table: string, key: string, json: string): void;
  commit(): Promise<void>;
  /** Drops what was added; the database keeps its contents. */
  abort(): Promise<void>;
}

export interface Store {
  /** The directory the database lives in; undefined for a store that keeps nothing on disk. */
  readonly location?: string;
  /** A missing key resolves to `undefined`: the service decides whether that is an error. */
  get<T>(table: string, key: string): Promise<T | undefined>;
  getMany<T>(table: string, keys: readonly string[]): Promise<(T | undefined)[]>;
  /** `value` is any JSON value but `null`; null, undefined and what JSON cannot encode are refused. */
  put(table: string, key: string, value: unknown, options?: WriteOptions): Promise<void>;
  del(table: string, key: string, options?: WriteOptions): Promise<void>;
  /** All operations apply together or not at all, whatever tables they touch. */
  batch(ops: readonly BatchOp[], options?: WriteOptions): Promise<void>;
  entries<T>(table: string, range?: Range): AsyncIterable<[string, T]>;
  keys(table: string, range?: Range): AsyncIterable<string>;
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

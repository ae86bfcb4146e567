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

export interface Store {
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
  close(): Promise<void>;
}

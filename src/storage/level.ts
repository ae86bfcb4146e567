import { readdirSync, readlinkSync, readFileSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Level } from 'level';
import { CommandError } from '../lib/errors';
import type { recordArchives } from './archive';
import { toJson } from './json';
import { compareEncoded, decodeKey, encodeKey, rangeBounds } from './keys';
import type { BatchOp, Key, Range, Replacement, Store, StoreSnapshot, WriteOptions } from './types';
import { lockedUpdate } from './update';
import { writeBehind } from './write-behind';

/** The part of a sublevel we use. */
interface Sub {
  iterator(range: object): AsyncIterable<[string, unknown]> & Batched<[string, unknown]>;
  keys(range: object): AsyncIterable<string>;
}

/** The part of the root we use; classic-level's `sync` option is missing from the shared typings. */
interface Root {
  get(key: string): Promise<string | undefined>;
  getSync(key: string): string | undefined;
  getMany(keys: string[]): Promise<(string | undefined)[]>;
  put(key: string, value: string, options: { sync: boolean }): Promise<void>;
  del(key: string, options: { sync: boolean }): Promise<void>;
}

/** An iterator read many entries at a time, for whole-table copies. */
interface Batched<T> {
  nextv(size: number): Promise<T[]>;
  close(): Promise<void>;
}

/** The root's key iterator, which can jump ahead. */
interface Seekable extends Batched<string> {
  next(): Promise<string | undefined>;
  seek(target: string): void;
}

/** A record as the root stores it: its key and JSON text, or undefined to delete it. */
type Entry = readonly [string, string | undefined];

/** Batches written as one (see `grouped`). */
interface Group {
  readonly entries: Entry[];
  sync: boolean;
  done: Promise<void>;
}

/** What a chained batch takes; the shared typings do not know the `sync` option. */
interface Chained {
  put(key: string, value: string): void;
  del(key: string): void;
  write(options: { sync: boolean }): Promise<void>;
  close(): Promise<void>;
}

/**
 * Every table is a sublevel whose keys, seen from the root, are `!table!key`; sublevel names
 * use the characters `#`..`~`, so `!table"` is just above every key of the table.
 */
const TABLE_KEYS = { gte: '!', lt: '"' };

export interface LevelOptions {
  /** How long to wait for another process to release the database, in ms; 0 waits forever. */
  readonly lockTimeout?: number;
  /** Whether writes wait for the disk unless told otherwise: true, except for bulk work. */
  readonly sync?: boolean;
  /**
   * Point reads on this thread, without the trip to the thread pool: for a process that serves
   * nobody else while it waits, such as the command line without a node.
   */
  readonly syncReads?: boolean;
}

/** A key outside every table: rewriting it synchronously flushes the log for `sync()`. */
const SYNC_MARKER = 'sync-marker';

/**
 * A replacement (a restore) writes its records under this prefix, before the root key each
 * will have: outside every table, so that no read of a table and no list of tables sees them.
 */
const STAGED = 'staged';
const STAGED_KEYS = { gte: STAGED + TABLE_KEYS.gte, lt: STAGED + TABLE_KEYS.lt };
/**
 * Says where a replacement stands, so that opening the database finishes what a crash
 * interrupted: `staging` (the staged records, if any, are not the contents: they go) or
 * `switching` (they are: they replace the tables' records). Absent: no replacement.
 */
const REPLACE_MARKER = 'replace-marker';
const STAGING = 'staging';
const SWITCHING = 'switching';
/** A replacement's writes go in batches of about this many bytes: its memory, whatever its size. */
const BATCH_BYTES = 1 << 20;

type Op = { readonly type: 'put'; readonly key: string; readonly value: string } | { readonly type: 'del'; readonly key: string };

/**
 * Writes operations as one batch, unsynced: a replacement's records, staged and put in place.
 * Not a chained batch: its native buffer is only freed when the collector finds its small
 * wrapper, which a copy that makes little garbage rarely runs, so megabytes of them pile up.
 * Not the public array form either, which costs five times the write in checks per
 * operation: the driver's own `_batch` takes the keys and texts as they are, and frees its
 * buffer once written. It would write to a closed database, so that is checked here; a close
 * asked for afterwards waits for the write.
 */
function writeOps(db: Level<string, unknown>, ops: readonly Op[]): Promise<void> {
  if (ops.length === 0) return Promise.resolve();
  if (db.status !== 'open') return Promise.reject(new Error(`The database is ${db.status}`));
  return (db as unknown as { _batch(ops: readonly Op[], o: { sync: boolean }): Promise<void> })._batch(ops, { sync: false });
}

/**
 * Opens the LevelDB database at `dir`. LevelDB admits one process at a time, so while another
 * process holds it we retry with a bounded back-off instead of failing at once.
 */
export async function openLevelStore(dir: string, options: LevelOptions = {}): Promise<Store> {
  // Every table is a sublevel with JSON values. The root's own values are text: batches write
  // through the root, prefixed keys and JSON texts, because a chained batch's put with
  // per-record options (a `sublevel`, an encoding) costs several times more in abstract-level.
  const db = new Level<string, unknown>(dir, { valueEncoding: 'utf8' });
  const timeout = options.lockTimeout ?? 10_000;
  const deadline = Date.now() + timeout;
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    try {
      await db.open();
      break;
    } catch (err) {
      if (!isLocked(err)) {
        throw new CommandError('unavailable', `Cannot open the database ${dir}: ${describe(err)}`, { cause: err });
      }
      if (timeout > 0 && Date.now() >= deadline) {
        throw new CommandError('unavailable', lockedMessage(dir, timeout), { cause: err });
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  try {
    await finishReplacement(db);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw new CommandError('failed', `Cannot finish the restore that was interrupted in the database ${dir}: ${describe(err)}`, { cause: err });
  }
  return levelStore(db, dir, options.sync ?? true, options.syncReads === true);
}

/**
 * Completes a replacement that a crash (or a close) interrupted, before anyone reads: one
 * point read when there is none. Switching is redone from its start, which is safe as long as
 * the marker stands, since the staged records stay until the marker says they are spent; so
 * a crash during this too leaves the next open to do it again.
 */
async function finishReplacement(db: Level<string, unknown>): Promise<void> {
  const root = db as unknown as Root;
  const state = await root.get(REPLACE_MARKER);
  if (state === undefined) return;
  // Which records were there before the replacement is not known any more: every record goes
  // that the backup does not have, even one written while it was prepared (the contract allows both).
  if (state === SWITCHING) await placeStaged(db);
  await dropStaged(db);
}

/**
 * Puts the staged records in place of the tables' records (as `snapshot` saw them; it is let
 * go once read), then marks them spent.
 */
async function placeStaged(db: Level<string, unknown>, snapshot?: { close(): Promise<void> }): Promise<void> {
  await removeUnstaged(db, snapshot);
  await snapshot?.close();
  await copyStaged(db);
  await (db as unknown as Root).put(REPLACE_MARKER, STAGING, { sync: true });
}

/** Removes the staged records and the marker: LevelDB clears in small batches of its own, unsynced. */
async function dropStaged(db: Level<string, unknown>): Promise<void> {
  await db.clear(STAGED_KEYS);
  await (db as unknown as Root).del(REPLACE_MARKER, { sync: false });
}

/**
 * Removes the tables' records (as `snapshot` saw them) that no staged record replaces: the
 * others are rewritten anyway, and a restore over the same data then writes no deletion.
 * Both are read in key order, the staged keys being the tables' keys behind one prefix.
 */
async function removeUnstaged(db: Level<string, unknown>, snapshot?: unknown): Promise<void> {
  const live = db.keys({ ...TABLE_KEYS, ...(snapshot !== undefined && { snapshot }) } as never) as unknown as Batched<string>;
  const staged = db.keys(STAGED_KEYS as never) as unknown as Batched<string>;
  try {
    let page: string[] = [];
    let at = 0;
    let more = true;
    for (let keys = await live.nextv(1000); keys.length > 0; keys = await live.nextv(1000)) {
      const ops: Op[] = [];
      for (const k of keys) {
        const wanted = STAGED + k;
        for (;;) {
          if (at === page.length) {
            if (!more) break;
            page = await staged.nextv(1000);
            at = 0;
            more = page.length > 0;
            if (!more) break;
          }
          if (compareEncoded(page[at], wanted) >= 0) break;
          at++;
        }
        if (at === page.length || page[at] !== wanted) ops.push({ type: 'del', key: k });
      }
      await writeOps(db, ops);
    }
  } finally {
    await live.close();
    await staged.close();
  }
}

/** Writes every staged record under its own key, in batches of about BATCH_BYTES, unsynced. */
async function copyStaged(db: Level<string, unknown>): Promise<void> {
  const it = db.iterator({ ...STAGED_KEYS, highWaterMarkBytes: 1 << 20 } as never) as unknown as Batched<[string, string]>;
  try {
    let ops: Op[] = [];
    let size = 0;
    // One batch is written while the next is read.
    let writing = Promise.resolve();
    for (let page = await it.nextv(1000); page.length > 0; page = await it.nextv(1000)) {
      for (const [k, json] of page) {
        ops.push({ type: 'put', key: k.slice(STAGED.length), value: json });
        size += k.length + json.length;
      }
      if (size >= BATCH_BYTES) {
        await writing;
        writing = writeOps(db, ops);
        // Heard by the next wait, after a read that may take a while.
        writing.catch(() => undefined);
        ops = [];
        size = 0;
      }
    }
    await writing;
    await writeOps(db, ops);
  } finally {
    await it.close();
  }
}

function levelStore(db: Level<string, unknown>, dir: string, syncByDefault: boolean, syncReads: boolean): Store {
  const root = db as unknown as Root;
  const subs = new Map<string, Sub>();
  /**
   * A range's items, once a switch under way is done, read a page at a time: one step of
   * LevelDB's iterator per item costs several times the item. Pages start small, for a caller
   * that wants the first few only. The iterator opens on the first read.
   */
  async function* scan<T, U>(range: Range | undefined, open: (r: Record<string, unknown>) => Batched<T>, as: (item: T) => U): AsyncIterable<U> {
    if (switching) await switching;
    const r = levelRange(range);
    if (r === undefined) return;
    const it = open(r);
    try {
      for (let size = 16, page = await it.nextv(size); page.length > 0; page = await it.nextv((size = Math.min(size * 4, 1000)))) {
        for (const item of page) yield as(item);
      }
    } finally {
      await it.close();
    }
  }
  const sub = (table: string): Sub => {
    let s = subs.get(table);
    if (!s) subs.set(table, (s = db.sublevel(table, { valueEncoding: 'json' }) as unknown as Sub));
    return s;
  };
  const sync = (o?: WriteOptions) => ({ sync: o?.sync ?? syncByDefault });
  /** The root's key prefix of a table, the sublevel's own; sub() checks the name once. */
  const prefixes = new Map<string, string>();
  const prefixOf = (table: string): string => {
    let p = prefixes.get(table);
    if (p === undefined) {
      sub(table);
      prefixes.set(table, (p = `!${table}!`));
    }
    return p;
  };

  // Point reads and writes go through the root too: a sublevel adds its prefix and transcodes
  // on every call, which costs more than doing it here.
  const rootKey = (table: string, k: Key) => prefixOf(table) + encodeKey(k);
  const parse = (json: string | undefined) => (json === undefined ? undefined : JSON.parse(json));

  /**
   * Batches asked for in one turn of the event loop are written as one, in the order asked, at
   * its end: a node runs many commands side by side, and each write costs the loop far more than
   * its records. Each caller still waits for its own records to be written (synced if any of the
   * group asked for it).
   */
  let group: Group | undefined;
  const grouped = (entries: readonly Entry[], wantsSync: boolean): Promise<void> => {
    let g = group;
    if (!g) {
      const fresh: Group = { entries: [], sync: false, done: Promise.resolve() };
      fresh.done = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        if (group === fresh) group = undefined;
        const batch = db.batch() as unknown as Chained;
        for (const [k, json] of fresh.entries) {
          if (json === undefined) batch.del(k);
          else batch.put(k, json);
        }
        return batch.write({ sync: fresh.sync });
      });
      g = group = fresh;
    }
    g.entries.push(...entries);
    if (wantsSync) g.sync = true;
    return g.done;
  };
  /** Once the batches asked for so far are written (or have failed, which their callers hear). */
  const written = async () => {
    await group?.done.catch(() => undefined);
  };

  /**
   * While a committed replacement is put in place, reads and writes wait for it: the tables
   * hold a mix until it ends. Iterators opened before it read their own snapshot, the old
   * records. When putting it in place fails, they fail from then on: only reopening the
   * database finishes it (see `finishReplacement`).
   */
  let switching: Promise<void> | undefined;
  /** Whether a replacement is being prepared: the staged records have one place, so one at a time. */
  let replacing = false;
  /** What closing the store does to the replacement being prepared, if any. */
  let leave: (() => Promise<void>) | undefined;

  const store: Store = {
    location: dir,
    async get<T>(table: string, k: Key) {
      if (switching) await switching;
      const key = rootKey(table, k);
      return parse(syncReads ? root.getSync(key) : await root.get(key)) as T | undefined;
    },
    async getMany<T>(table: string, ks: readonly Key[]) {
      if (ks.length === 0) return [];
      if (switching) await switching;
      return (await root.getMany(ks.map((k) => rootKey(table, k)))).map(parse) as (T | undefined)[];
    },
    async put(table: string, k: Key, value: unknown, o?: WriteOptions) {
      if (switching) await switching;
      await root.put(rootKey(table, k), toJson(value), sync(o));
    },
    async del(table: string, k: Key, o?: WriteOptions) {
      if (switching) await switching;
      await root.del(rootKey(table, k), sync(o));
    },
    async batch(ops: readonly BatchOp[], o?: WriteOptions) {
      if (ops.length === 0) return;
      // Made here, so that a record that cannot be stored fails this batch alone.
      const entries = ops.map((op): Entry => [rootKey(op.table, op.key), op.type === 'put' ? toJson(op.value) : undefined]);
      if (switching) await switching;
      await grouped(entries, sync(o).sync);
    },
    update: (table, key, fn, options) => update(table, key, fn, options),
    // Each returns scan's own generator: a generator more per item would cost as much as the
    // reading, in scans of a whole table.
    entries: <T>(table: string, range?: Range): AsyncIterable<[Key, T]> =>
      scan(
        range,
        (r) => sub(table).iterator(r),
        ([k, v]: [string, unknown]) => [decodeKey(k), v as T],
      ),
    keys: (table: string, range?: Range): AsyncIterable<Key> => scan(range, (r) => sub(table).keys(r) as unknown as Batched<string>, decodeKey),
    archive: (name, options) => archives()(name, options),
    async sync() {
      if (switching) await switching;
      await written();
      await db.put(SYNC_MARKER, String(Date.now()), { sync: true } as never);
    },
    async snapshot(): Promise<StoreSnapshot> {
      if (switching) await switching;
      await written();
      const snapshot = db.snapshot();
      return {
        tables: () => tableNames(db, snapshot),
        async *entriesJson(table: string, range?: Range): AsyncIterable<[Key, string]> {
          const r = levelRange(range);
          if (r === undefined) return;
          const it = sub(table).iterator({ ...r, snapshot, valueEncoding: 'utf8' });
          try {
            for (let page = await it.nextv(1000); page.length > 0; page = await it.nextv(1000)) {
              for (const [k, json] of page) yield [decodeKey(k), json as string];
            }
          } finally {
            await it.close();
          }
        },
        close: () => snapshot.close(),
      };
    },
    async replaceAll(): Promise<Replacement> {
      if (switching) await switching;
      if (replacing) throw new CommandError('failed', `Another restore of the database ${dir} is under way: wait for it to end`);
      replacing = true;
      // The records to remove at the commit are the ones there now.
      let before: { close(): Promise<void> } | undefined;
      try {
        await written();
        // A replacement that could not clean up after itself left its records.
        if ((await root.get(REPLACE_MARKER)) === STAGING) await db.clear(STAGED_KEYS);
        // Written before any staged record, so that a crash from here on leaves the marker
        // to say they go: LevelDB's log keeps writes in their order.
        await root.put(REPLACE_MARKER, STAGING, { sync: false });
        before = db.snapshot() as unknown as { close(): Promise<void> };
      } catch (err) {
        replacing = false;
        throw err;
      }
      let batch: Op[] = [];
      let size = 0;
      const writes = writeBehind<Op[]>((ops) => writeOps(db, ops));
      /** Set once the commit began: from then on it cleans up, or the staged records must stay. */
      let finished = false;
      const unfinished = () => {
        if (finished) throw new Error('replacement is already committed or aborted');
      };
      const send = (): Promise<void> => {
        const ops = batch;
        batch = [];
        size = 0;
        return writes.send(ops);
      };
      /** Waits for the writes on their way and lets go of what the replacement holds. */
      let settled: Promise<void> | undefined;
      const settle = () =>
        (settled ??= (async () => {
          finished = true;
          await writes.drain();
          batch = [];
          await before?.close().catch(() => undefined);
          before = undefined;
        })());
      /** Removes the staged records, spent or unwanted; a failure leaves them to the next open. */
      const clearStaged = async () => {
        try {
          await dropStaged(db);
        } finally {
          replacing = false;
          if (leave === settle) leave = undefined;
        }
      };
      let discarded: Promise<void> | undefined;
      const discard = async () => {
        await settle();
        await (discarded ??= clearStaged());
      };
      // Closing the store leaves the staged records as a crash would, for the next open.
      leave = settle;
      // Putting the staged records in place rewrites every record once more, in batches,
      // while readers wait (see `switching`): LevelDB cannot rename a set of keys in one step,
      // and writing the new records straight into the tables would show them, or leave a
      // mix after a crash, before the checksum at the end of the backup is known.
      const putInPlace = async () => {
        // The commit point: once this synced write is on disk, so is every staged record
        // before it (LevelDB syncs its log in order), and an open finishes the switch.
        await root.put(REPLACE_MARKER, SWITCHING, { sync: true });
        await placeStaged(db, before);
        before = undefined;
      };
      return {
        put(table: string, k: Key, json: string) {
          unfinished();
          if (writes.failed !== undefined) throw writes.failed;
          const key = STAGED + rootKey(table, k);
          batch.push({ type: 'put', key, value: json });
          size += key.length + json.length;
          return size >= BATCH_BYTES ? send() : undefined;
        },
        async commit() {
          unfinished();
          if (size > 0) void send();
          finished = true;
          await writes.drain();
          if (writes.failed !== undefined) {
            await discard().catch(() => undefined);
            throw writes.failed;
          }
          const placed = (async () => {
            await written();
            await putInPlace();
          })().catch((err: unknown) => {
            // Whether the marker reached the disk is not known: the staged records stay for
            // the next open to decide, and this store serves nothing meanwhile.
            throw new CommandError(
              'failed',
              `The restore of the database ${dir} could not be put in place (${describe(err)}): it is finished when the database is opened again`,
              { cause: err },
            );
          });
          placed.catch(() => undefined);
          switching = placed;
          await placed;
          switching = undefined;
          archived?.forget();
          await settle();
          await (discarded ??= clearStaged()).catch(() => undefined);
        },
        async abort() {
          if (!finished) await discard();
        },
      };
    },
    async close() {
      await switching?.catch(() => undefined);
      await leave?.();
      await written();
      await db.close();
    },
  };
  const update = lockedUpdate(store);
  // Archives (MAM, MUC history) are built on their first use: most commands never touch one.
  let archived: ReturnType<typeof recordArchives> | undefined;
  const archives = () => (archived ??= (require('./archive') as typeof import('./archive')).recordArchives(store));
  return store;
}

/** The tables holding records: one step per table, jumping over each table's keys. */
async function tableNames(db: Level<string, unknown>, snapshot: unknown): Promise<string[]> {
  const names: string[] = [];
  const it = db.keys({ ...TABLE_KEYS, snapshot } as never) as unknown as Seekable;
  try {
    for (let k = await it.next(); k !== undefined; k = await it.next()) {
      const end = k.indexOf('!', 1);
      if (end > 1) {
        names.push(k.slice(1, end));
        it.seek(`${k.slice(0, end)}"`);
      }
    }
  } finally {
    await it.close();
  }
  return names;
}

/**
 * LevelDB honours one lower and one upper bound, so a prefix and bounds are merged first;
 * undefined when the range selects nothing.
 */
function levelRange(range: Range = {}): Record<string, unknown> | undefined {
  const bounds = rangeBounds(range);
  if (bounds === undefined) return undefined;
  const r: Record<string, unknown> = { ...bounds };
  if (range.limit !== undefined) r.limit = range.limit;
  if (range.reverse !== undefined) r.reverse = range.reverse;
  return r;
}

function isLocked(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.code === 'LEVEL_LOCKED' || e?.cause?.code === 'LEVEL_LOCKED';
}

function describe(err: unknown): string {
  const e = err as { message?: string; cause?: NodeJS.ErrnoException };
  // A file where the directory should be, or a directory we may not enter: said in words.
  if (typeof e?.cause?.code === 'string' && typeof e.cause.syscall === 'string') {
    return (require('../lib/files') as typeof import('../lib/files')).fsReason(e.cause);
  }
  return e?.cause?.message ?? e?.message ?? String(err);
}

function lockedMessage(dir: string, timeout: number): string {
  const holder = lockHolder(canonical(join(dir, 'LOCK')));
  const who = holder ? `process ${holder.pid} (${holder.command})` : 'another process';
  return `The database ${dir} is held by ${who}; gave up after ${timeout / 1000} s (raise --timeout, or stop that process)`;
}

/** /proc shows open files by their real path, without symbolic links or relative parts. */
function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** Finds which process has the LOCK file open, on systems with /proc; only asked on failure. */
export function lockHolder(lockFile: string): { pid: number; command: string } | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid);
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== lockFile) continue;
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
        const command = describeProcess(argv);
        return { pid: Number(pid), command };
      } catch {
        continue;
      }
    }
  }
  return undefined;
}

/**
 * The program and its first argument (`ctl register`, `node server.js`): enough to recognise
 * the holder, while the rest of its command line, which may hold a password, is not repeated.
 */
function describeProcess(argv: readonly string[]): string {
  const words = argv.length > 1 && /^node(js)?$/.test(basename(argv[0])) ? argv.slice(1) : argv;
  return words
    .slice(0, 2)
    .map((w, i) => (i === 0 ? basename(w) : w).replace(/\s+/g, ' ').slice(0, 40))
    .join(' ');
}

import { readdirSync, readlinkSync, readFileSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Level } from 'level';
import { CommandError } from '../lib/errors';
import type { recordArchives } from './archive';
import { toJson } from './json';
import { decodeKey, encodeKey, rangeBounds } from './keys';
import type { BatchOp, Key, Range, Replacement, Store, StoreSnapshot, WriteOptions } from './types';
import { lockedUpdate } from './update';

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

/**
 * The items of an iterator, read a page at a time: one step of LevelDB's iterator per item costs
 * several times the item. Pages start small, for a caller that wants the first few only.
 */
async function* pages<T>(it: Batched<T>): AsyncIterable<T> {
  try {
    for (let size = 16, page = await it.nextv(size); page.length > 0; page = await it.nextv((size = Math.min(size * 4, 1000)))) yield* page;
  } finally {
    await it.close();
  }
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
  return levelStore(db, dir, options.sync ?? true, options.syncReads === true);
}

function levelStore(db: Level<string, unknown>, dir: string, syncByDefault: boolean, syncReads: boolean): Store {
  const root = db as unknown as Root;
  const subs = new Map<string, Sub>();
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

  const store: Store = {
    location: dir,
    async get<T>(table: string, k: Key) {
      const key = rootKey(table, k);
      return parse(syncReads ? root.getSync(key) : await root.get(key)) as T | undefined;
    },
    async getMany<T>(table: string, ks: readonly Key[]) {
      if (ks.length === 0) return [];
      return (await root.getMany(ks.map((k) => rootKey(table, k)))).map(parse) as (T | undefined)[];
    },
    async put(table: string, k: Key, value: unknown, o?: WriteOptions) {
      await root.put(rootKey(table, k), toJson(value), sync(o));
    },
    async del(table: string, k: Key, o?: WriteOptions) {
      await root.del(rootKey(table, k), sync(o));
    },
    async batch(ops: readonly BatchOp[], o?: WriteOptions) {
      if (ops.length === 0) return;
      // Made here, so that a record that cannot be stored fails this batch alone.
      const entries = ops.map((op): Entry => [rootKey(op.table, op.key), op.type === 'put' ? toJson(op.value) : undefined]);
      await grouped(entries, sync(o).sync);
    },
    update: (table, key, fn, options) => update(table, key, fn, options),
    async *entries<T>(table: string, range?: Range): AsyncIterable<[Key, T]> {
      const r = levelRange(range);
      if (r === undefined) return;
      for await (const [k, v] of pages(sub(table).iterator(r))) yield [decodeKey(k), v as T];
    },
    async *keys(table: string, range?: Range): AsyncIterable<Key> {
      const r = levelRange(range);
      if (r === undefined) return;
      for await (const k of pages(sub(table).keys(r) as unknown as Batched<string>)) yield decodeKey(k);
    },
    archive: (name, options) => archives()(name, options),
    async sync() {
      await written();
      await db.put(SYNC_MARKER, String(Date.now()), { sync: true } as never);
    },
    async snapshot(): Promise<StoreSnapshot> {
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
      await written();
      // A chained batch is built in native memory and written in one atomic step; its
      // deletions come first, so a record both removed and added ends up added.
      const batch = db.batch() as unknown as Chained;
      const it = db.keys(TABLE_KEYS) as unknown as Batched<string>;
      try {
        for (let page = await it.nextv(1000); page.length > 0; page = await it.nextv(1000)) {
          for (const k of page) batch.del(k);
        }
      } catch (err) {
        await batch.close();
        throw err;
      } finally {
        await it.close();
      }
      return {
        put(table: string, k: Key, json: string) {
          batch.put(rootKey(table, k), json);
        },
        async commit() {
          await batch.write({ sync: true });
          archived?.forget();
        },
        abort: () => batch.close(),
      };
    },
    async close() {
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

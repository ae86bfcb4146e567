import { CommandError } from '../lib/errors';
import { compareEncoded, encodeKey } from './keys';
import { ownersRows } from './owners';
import type {
  Archive,
  ArchiveEntry,
  ArchiveItem,
  ArchiveOptions,
  ArchivePurge,
  ArchiveQuery,
  BatchOp,
  Key,
  PurgeOptions,
  Range,
  Store,
  WriteOptions,
} from './types';

/**
 * Archives kept as plain records, for drivers without an archive of their own (LevelDB,
 * memory). For archive `N` (the layout databases and backups have always had):
 * - `N`: `[...owner, id]` → the value;
 * - `N_by_time`: `[id, ...owner]` → `1`, or `{ type: kind }` for an entry with a kind;
 * - `N_by_expiry`: `[timeKey(expiresMs), ...owner, id]` → `1`, for an entry that expires.
 * An id is `timeKey(atMs)-seq`, so ids sort by time, and the time index by time over all owners.
 */

/** Purges and removals write at most this many items per atomic step unless told otherwise. */
export const PAGE_SIZE = 1000;

const TIME_DIGITS = 15;
const SEQ_DIGITS = 6;
const MAX_TIME = 10 ** TIME_DIGITS - 1;
const MAX_SEQ = 10 ** SEQ_DIGITS - 1;

/** A time in ms as a fixed-width key part: byte order is time order (until the year 33658). */
export function timeKey(ms: number): string {
  return String(Math.min(MAX_TIME, Math.max(0, Math.floor(ms)))).padStart(TIME_DIGITS, '0');
}

/** The id of the `seq`th item archived in ms `ms`. */
export function archiveId(ms: number, seq: number): string {
  return `${timeKey(ms)}-${String(seq).padStart(SEQ_DIGITS, '0')}`;
}

/** The time, in ms, an id was handed out for. */
export function archiveIdMs(id: string): number {
  return Number(id.slice(0, TIME_DIGITS));
}

/** What the archives use of a store: its records. */
export type RecordStore = Pick<Store, 'get' | 'getMany' | 'batch' | 'entries' | 'keys'>;

/**
 * The sequence numbers a process may hand out: those that are `slot` modulo `stride`, for as
 * long as it holds the slot. Processes that write one database at once hold distinct slots of
 * one stride, so the ids they hand out differ even for one owner in one ms.
 */
export interface WriterSlot {
  readonly slot: number;
  readonly stride: number;
  /** False once the slot may be another process's: numbers are then taken under a new one. */
  readonly held: boolean;
}

/** The slot to number under: the one held, or a new one taken if there is none. */
export type Writer = () => Promise<WriterSlot>;

/** The only writer of its database (LevelDB's lock, memory): every number is its own. */
const SOLE: WriterSlot = { slot: 0, stride: 1, held: true };
const sole: Writer = () => Promise.resolve(SOLE);

/** The smallest sequence number above `floor` that the slot may hand out. */
function above(floor: number, w: WriterSlot): number {
  const n = floor + 1;
  return n + ((((w.slot - n) % w.stride) + w.stride) % w.stride);
}

/**
 * `Store.archive` over `store`'s records. One per store: it keeps, per archive, the sequence
 * numbers it handed out, so that two handles on one archive never hand out one id twice; the
 * driver calls `forget` when a replacement of the whole database commits. A driver whose
 * database other processes write at the same time passes the `writer` that gives this one its slot.
 */
export function recordArchives(store: RecordStore, writer: Writer = sole): Store['archive'] & { forget(): void } {
  const sequences = new Map<string, Sequence>();
  const archive = <T>(name: string, options: ArchiveOptions<T> = {}) => {
    let sequence = sequences.get(name);
    if (!sequence) sequences.set(name, (sequence = createSequence(store, name, writer)));
    return recordArchive<T>(store, name, sequence, options);
  };
  // Once the whole database is replaced (restore), the newest ids it knew are no longer the stored ones.
  return Object.assign(archive, { forget: () => sequences.clear() });
}

interface Sequence {
  /** The ids of entries archived in ms `atMs`, in their order, for `owner`. */
  (owner: Key, atMs: readonly number[]): Promise<string[]>;
  /** Ids up to `seq` in the ms of time key `t` are taken for `owner`. */
  reserve(owner: Key, t: string, seq: number): void;
  /** The slot ids are numbered under. */
  readonly writer: Writer;
}

/** How many recent ms the sequence remembers, so a clock that steps back a little reuses no id. */
const RECENT_MS = 64;

/** How many owners' newest ids the sequence keeps; an owner it forgot is read again. */
const OWNERS_KEPT = 10_000;

/** An id as its time key and sequence number; time keys compare as texts. */
interface Place {
  readonly t: string;
  readonly seq: number;
}

const NOTHING: Place = { t: '', seq: -1 };
const ID = /^(\d{15})-(\d{6})$/;

/**
 * Hands out ids, strictly increasing per owner. Each owner's newest id is read once (the
 * first time it archives, after a restart too) and then counted on in memory, with no await
 * between reading and updating the count, so concurrent appends get distinct ids and an
 * archive under load reads nothing per item. An item of an ms older than the owner's newest
 * (a clock that stepped back) is numbered after what is stored in that ms, read then. One
 * count per ms serves every owner of the archive, so items archived in the same ms are
 * numbered in the order they came, whoever owns them.
 *
 * Under a writer slot of stride above 1, each number is the next the slot may hand out. The
 * stored newest ids are read again after a new slot is taken: numbers of that slot may have
 * been handed out by the process that held it before; the ms counts, which only raise the
 * floor, stay, so ids stay increasing.
 */
function createSequence(store: RecordStore, table: string, writer: Writer): Sequence {
  const recent = new Map<string, number>();
  const newest = new Map<string, Place>();
  const remember = (t: string, seq: number) => {
    if (!recent.has(t) && recent.size >= RECENT_MS) recent.delete(recent.keys().next().value as string);
    recent.set(t, Math.max(seq, recent.get(t) ?? -1));
  };
  const keep = (owner: string, place: Place) => {
    const known = newest.get(owner);
    newest.delete(owner);
    if (newest.size >= OWNERS_KEPT) newest.delete(newest.keys().next().value as string);
    newest.set(owner, known && later(known, place) ? known : place);
  };
  /** The newest id stored in `range` of the owner's items. */
  const stored = async (owner: Key, range: Range): Promise<Place> => {
    for await (const k of store.keys(table, { ...range, prefix: owner, reverse: true, limit: 1 })) {
      const m = ID.exec(k[owner.length] ?? '');
      if (m) return { t: m[1], seq: Number(m[2]) };
    }
    return NOTHING;
  };
  const inMs = (owner: Key, t: string) => stored(owner, { gte: [...owner, `${t}-`], lt: [...owner, `${t}.`] });

  /** The slot `newest` was read under. */
  let readUnder: WriterSlot | undefined;

  const next = async (owner: Key, atMs: readonly number[]): Promise<string[]> => {
    const w = await writer();
    if (w !== readUnder) {
      readUnder = w;
      newest.clear();
    }
    const name = owner.join('\u0000');
    if (!newest.has(name)) keep(name, await stored(owner, {}));
    // What this call knows even if many other owners push this one out of memory meanwhile.
    let known = newest.get(name) ?? NOTHING;
    const ids: string[] = [];
    for (const ms of atMs) {
      const t = timeKey(ms);
      const past = t < known.t ? await inMs(owner, t) : undefined;
      // Nothing awaits from here until the number is counted.
      if (!w.held) return next(owner, atMs);
      const now = newest.get(name);
      if (now && later(now, known)) known = now;
      const here = past?.seq ?? (t === known.t ? known.seq : -1);
      const seq = above(Math.max(here, recent.get(t) ?? -1), w);
      if (seq > MAX_SEQ) throw tooMany(owner, table, w);
      remember(t, seq);
      keep(name, { t, seq });
      if (later({ t, seq }, known)) known = { t, seq };
      ids.push(archiveId(ms, seq));
    }
    return ids;
  };
  return Object.assign(next, {
    writer,
    reserve(owner: Key, t: string, seq: number) {
      remember(t, seq);
      const name = owner.join('\u0000');
      if (newest.has(name)) keep(name, { t, seq });
    },
  });
}

function tooMany(owner: Key, table: string, w: WriterSlot): CommandError {
  const whose = owner.join(' ');
  if (w.stride === 1) return new CommandError('failed', `More than ${MAX_SEQ + 1} items in one millisecond for ${whose} in ${table}`);
  return new CommandError(
    'failed',
    `No archive id left in one millisecond for ${whose} in ${table}: each process that shares the database numbers every ${w.stride}th of its ${MAX_SEQ + 1} ids, and those of this one (writer slot ${w.slot}) are used up`,
  );
}

function later(a: Place, b: Place): boolean {
  return a.t > b.t || (a.t === b.t && a.seq > b.seq);
}

function recordArchive<T>(store: RecordStore, name: string, sequence: Sequence, options: ArchiveOptions<T>): Archive<T> {
  const byTime = `${name}_by_time`;
  const byExpiry = `${name}_by_expiry`;
  const expiresOf = options.expiresOf;

  /** The deletions of one item and its index rows; `expires` as the expiry index has it. */
  const removal = (owner: Key, id: string, expires: number | undefined): BatchOp[] => {
    const ops: BatchOp[] = [
      { type: 'del', table: name, key: [...owner, id] },
      { type: 'del', table: byTime, key: [id, ...owner] },
    ];
    if (expires !== undefined) ops.push({ type: 'del', table: byExpiry, key: [timeKey(expires), ...owner, id] });
    return ops;
  };
  const expiryIn = (value: T | undefined): number | undefined => {
    if (value === undefined || !expiresOf) return undefined;
    const ms = expiresOf(value);
    return typeof ms === 'number' && Number.isFinite(ms) ? ms : undefined;
  };

  const rows = (owner: Key, id: string, entry: ArchiveEntry<T>): BatchOp[] => {
    const ops: BatchOp[] = [
      { type: 'put', table: name, key: [...owner, id], value: entry.value },
      { type: 'put', table: byTime, key: [id, ...owner], value: entry.kind === undefined ? 1 : { type: entry.kind } },
    ];
    if (entry.expiresMs !== undefined) ops.push({ type: 'put', table: byExpiry, key: [timeKey(entry.expiresMs), ...owner, id], value: 1 });
    return ops;
  };

  const checkEntry = (entry: ArchiveEntry<T>) => {
    checkMs(entry.atMs, 'atMs');
    // A kind is what a SQL driver indexes, so it is held to what a key part may hold.
    if (entry.kind !== undefined) encodeKey([entry.kind]);
    if (entry.expiresMs !== undefined) {
      checkMs(entry.expiresMs, 'expiresMs');
      if (!expiresOf) throw new TypeError(`Archive ${name} has no expiresOf to read an expiry back: open it with one to archive entries that expire`);
    }
    if (expiresOf && expiresOf(entry.value) !== entry.expiresMs) {
      throw new TypeError(`Archive ${name}: the entry's expiresMs (${entry.expiresMs}) is not what expiresOf reads from its value (${expiresOf(entry.value)})`);
    }
  };

  async function ownerOps(owner: Key): Promise<{ ops: BatchOp[]; count: number }> {
    const ops: BatchOp[] = [];
    let count = 0;
    const all = { prefix: owner };
    if (expiresOf) {
      for await (const [k, value] of store.entries<T>(name, all)) {
        if (k.length !== owner.length + 1) continue;
        ops.push(...removal(owner, k[owner.length], expiryIn(value)));
        count++;
      }
    } else {
      for await (const k of store.keys(name, all)) {
        if (k.length !== owner.length + 1) continue;
        ops.push(...removal(owner, k[owner.length], undefined));
        count++;
      }
    }
    return { ops, count };
  }

  async function idsOps(owner: Key, ids: readonly string[]): Promise<{ ops: BatchOp[]; count: number }> {
    const unique = [...new Set(ids)];
    const values = await store.getMany<T>(
      name,
      unique.map((id) => [...owner, id]),
    );
    const ops: BatchOp[] = [];
    let count = 0;
    unique.forEach((id, i) => {
      if (values[i] === undefined) return;
      ops.push(...removal(owner, id, expiryIn(values[i])));
      count++;
    });
    return { ops, count };
  }

  /** The removals a page of the expiry index selects. */
  async function expiredPage(page: [Key, unknown][], which: ArchivePurge): Promise<BatchOp[][]> {
    const items = page
      .filter(([k]) => k.length >= 2)
      .map(([k]) => ({ expiry: k[0], owner: k.slice(1, -1), id: k[k.length - 1] }))
      .filter((x) => which.beforeMs === undefined || archiveIdMs(x.id) < Math.ceil(which.beforeMs));
    let kinds: (string | undefined)[] | undefined;
    if (which.kind !== undefined)
      kinds = (
        await store.getMany(
          byTime,
          items.map((x) => [x.id, ...x.owner]),
        )
      ).map(kindOf);
    return items
      .filter((_, i) => kinds === undefined || kinds[i] === which.kind)
      .map(({ expiry, owner, id }) => [...removal(owner, id, undefined), { type: 'del', table: byExpiry, key: [expiry, ...owner, id] }]);
  }

  /** The removals a page of the time index selects. */
  async function timedPage(page: [Key, unknown][], which: ArchivePurge): Promise<BatchOp[][]> {
    const items = page
      .filter(([k, v]) => k.length >= 1 && (which.kind === undefined || kindOf(v) === which.kind))
      .map(([k]) => ({ id: k[0], owner: k.slice(1) }));
    const values = expiresOf
      ? await store.getMany<T>(
          name,
          items.map((x) => [...x.owner, x.id]),
        )
      : [];
    return items.map(({ id, owner }, i) => removal(owner, id, expiryIn(values[i])));
  }

  return {
    async append(owner, entry, o) {
      checkOwner(owner);
      checkEntry(entry);
      const [id] = await sequence(owner, [entry.atMs]);
      await store.batch(rows(owner, id, entry), o);
      return id;
    },

    async appendOps(owner, entries) {
      checkOwner(owner);
      entries.forEach(checkEntry);
      const ids = await sequence(
        owner,
        entries.map((e) => e.atMs),
      );
      const ops: BatchOp[] = [];
      entries.forEach((entry, i) => ops.push(...rows(owner, ids[i], entry)));
      return { ids, ops };
    },

    async replaceOps(owner, entries) {
      checkOwner(owner);
      entries.forEach(checkEntry);
      // Taken before the owner's items are read: what the slot's previous holder wrote is among them.
      const w = await sequence.writer();
      const { ops } = await ownerOps(owner);
      const ids: string[] = [];
      const seqs = new Map<string, number>();
      for (const entry of entries) {
        const t = timeKey(entry.atMs);
        const seq = above(seqs.get(t) ?? -1, w);
        if (seq > MAX_SEQ) throw tooMany(owner, name, w);
        seqs.set(t, seq);
        const id = archiveId(entry.atMs, seq);
        ids.push(id);
        ops.push(...rows(owner, id, entry));
      }
      // Later appends of the same ms to this owner must not reuse these ids.
      for (const [t, seq] of seqs) sequence.reserve(owner, t, seq);
      return { ids, ops };
    },

    async *items(ownerPrefix) {
      checkOwner(ownerPrefix);
      for await (const [k, value] of store.entries<T>(name, { prefix: ownerPrefix })) {
        if (k.length < ownerPrefix.length + 1) continue;
        const id = k[k.length - 1];
        yield { owner: k.slice(0, -1), item: { id, atMs: archiveIdMs(id), value } };
      }
    },

    async *find(owner, query = {}): AsyncIterable<ArchiveItem<T>> {
      checkOwner(owner);
      for await (const [k, value] of store.entries<T>(name, findRange(owner, query))) {
        if (k.length !== owner.length + 1) continue;
        const id = k[owner.length];
        yield { id, atMs: archiveIdMs(id), value };
      }
    },

    async count(owner) {
      checkOwner(owner);
      let n = 0;
      for await (const k of store.keys(name, { prefix: owner })) if (k.length === owner.length + 1) n++;
      return n;
    },

    async delete(owner, ids, o?: WriteOptions) {
      checkOwner(owner);
      const { ops, count } = ids === undefined ? await ownerOps(owner) : await idsOps(owner, ids);
      if (ops.length > 0) await store.batch(ops, o);
      return count;
    },

    async deleteOps(...owners) {
      owners.forEach(checkOwner);
      if (owners.length === 0) return [];
      if (owners.length === 1) return (await ownerOps(owners[0])).ops;
      const ops: BatchOp[] = [];
      const width = owners[0].length;
      for await (const [k, value] of ownersRows<T>(store, name, owners, expiresOf !== undefined)) {
        if (k.length === width + 1) ops.push(...removal(k.slice(0, width), k[width], expiryIn(value)));
      }
      return ops;
    },

    async purge(which, o: PurgeOptions = {}) {
      const pageSize = o.pageSize ?? PAGE_SIZE;
      if (!Number.isInteger(pageSize) || pageSize < 1) throw new TypeError(`A purge's page size is a whole number above 0, not ${pageSize}`);
      for (const field of ['beforeMs', 'expiredAtMs'] as const) if (which[field] !== undefined) checkMs(which[field], field);
      // Expiring items are few: when the expiry selects, its index is the one to read.
      const [table, bounds, select] =
        which.expiredAtMs !== undefined
          ? [byExpiry, { lt: [timeKey(Math.floor(which.expiredAtMs) + 1)] }, expiredPage]
          : [byTime, which.beforeMs === undefined ? {} : { lt: [timeKey(Math.ceil(which.beforeMs))] }, timedPage];
      let removed = 0;
      let after: Key | undefined;
      for (;;) {
        const page: [Key, unknown][] = [];
        for await (const row of store.entries(table, { ...bounds, ...(after && { gt: after }), limit: pageSize })) page.push(row);
        if (page.length === 0) break;
        after = page[page.length - 1][0];
        const items = await select(page, which);
        if (items.length > 0) {
          await store.batch(items.flat(), { sync: o.sync });
          removed += items.length;
          o.onPage?.(items.length);
        }
        if (page.length < pageSize) break;
      }
      return removed;
    },
  };
}

/** The owner's items the query selects, as a range of the items table. */
function findRange(owner: Key, q: ArchiveQuery): Range {
  if (q.startMs !== undefined) checkMs(q.startMs, 'startMs');
  if (q.endMs !== undefined) checkMs(q.endMs, 'endMs');
  const uppers = [q.endMs === undefined ? undefined : timeKey(Math.ceil(q.endMs)), q.before].filter((x): x is string => x !== undefined);
  const upper = uppers.sort(compareEncoded)[0];
  return {
    prefix: owner,
    ...(q.startMs !== undefined && { gte: [...owner, timeKey(Math.ceil(q.startMs))] }),
    ...(q.after !== undefined && { gt: [...owner, q.after] }),
    ...(upper !== undefined && { lt: [...owner, upper] }),
    ...(q.limit !== undefined && { limit: q.limit }),
    ...(q.reverse !== undefined && { reverse: q.reverse }),
  };
}

function kindOf(indexValue: unknown): string | undefined {
  const type = (indexValue as { type?: unknown } | null | undefined)?.type;
  return typeof type === 'string' ? type : undefined;
}

function checkOwner(owner: Key): void {
  if (!Array.isArray(owner)) throw new TypeError(`An archive's owner is a key, an array of text parts, not ${typeof owner}`);
}

function checkMs(ms: unknown, field: string): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new TypeError(`${field} is a time in ms, not ${String(ms)}`);
}

/**
 * The tables an archive kept as records occupies, as `recordArchives` names them; the expiry
 * index only for an archive whose entries expire (one opened with `expiresOf`).
 */
export function recordArchiveTables(name: string, expiring: boolean): string[] {
  return expiring ? [name, `${name}_by_time`, `${name}_by_expiry`] : [name, `${name}_by_time`];
}

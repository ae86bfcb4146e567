import { recordArchives } from './archive';
import { toJson } from './json';
import { compareEncoded, decodeKey, encodeKey, rangeBounds, type Bounds } from './keys';
import type { BatchOp, Key, Range, Replacement, Store, StoreSnapshot } from './types';
import { lockedUpdate } from './update';

/** A change of one record: its new JSON text, or undefined to remove it. */
type Change = readonly [key: string, json: string | undefined];

/** Beyond this many keys added or removed at once, the order is merged rather than spliced. */
const SPLICES = 16;

/**
 * One table: JSON texts by encoded key, and the keys in order, kept sorted on every write so
 * that a range costs what it returns, as in LevelDB.
 */
class Table {
  readonly values = new Map<string, string>();
  order: string[] = [];

  /** Applies changes in their order (a later change of a key wins), then puts the order right. */
  write(changes: readonly Change[]): void {
    const had = new Map<string, boolean>();
    for (const [k, json] of changes) {
      if (!had.has(k)) had.set(k, this.values.has(k));
      if (json === undefined) this.values.delete(k);
      else this.values.set(k, json);
    }
    const added: string[] = [];
    const removed = new Set<string>();
    for (const [k, was] of had) {
      const is = this.values.has(k);
      if (is && !was) added.push(k);
      else if (was && !is) removed.add(k);
    }
    if (added.length + removed.size <= SPLICES) {
      for (const k of removed) this.order.splice(this.lowest(k), 1);
      for (const k of added) this.order.splice(this.lowest(k), 0, k);
    } else {
      this.order = merge(removed.size === 0 ? this.order : this.order.filter((k) => !removed.has(k)), added.sort(compareEncoded));
    }
  }

  copy(): Table {
    const t = new Table();
    for (const [k, v] of this.values) t.values.set(k, v);
    t.order = [...this.order];
    return t;
  }

  /** The records of a range, taken at once, so that writes made while the caller reads do not show. */
  scan(range: Range = {}): [string, string][] {
    const b = rangeBounds(range);
    const limit = range.limit === undefined || range.limit < 0 ? Infinity : range.limit;
    if (b === undefined || limit === 0) return [];
    const [from, to] = this.span(b);
    const out: [string, string][] = [];
    if (range.reverse) for (let i = to - 1; i >= from && out.length < limit; i--) out.push(this.entry(i));
    else for (let i = from; i < to && out.length < limit; i++) out.push(this.entry(i));
    return out;
  }

  private entry(i: number): [string, string] {
    const k = this.order[i];
    return [k, this.values.get(k) as string];
  }

  /** The positions [from, to) of the keys within the bounds. */
  private span(b: Bounds): [number, number] {
    const from = b.gte !== undefined ? this.lowest(b.gte) : b.gt !== undefined ? this.above(b.gt) : 0;
    const to = b.lt !== undefined ? this.lowest(b.lt) : b.lte !== undefined ? this.above(b.lte) : this.order.length;
    return [from, Math.max(from, to)];
  }

  /** The position of the first key at or above `k`. */
  private lowest(k: string): number {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareEncoded(this.order[mid], k) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The position of the first key above `k`. */
  private above(k: string): number {
    const i = this.lowest(k);
    return i < this.order.length && this.order[i] === k ? i + 1 : i;
  }
}

function byTable(changes: readonly [string, Change][]): Map<string, Change[]> {
  const out = new Map<string, Change[]>();
  for (const [name, change] of changes) {
    const list = out.get(name);
    if (list) list.push(change);
    else out.set(name, [change]);
  }
  return out;
}

/** Two sorted lists of distinct keys as one. */
function merge(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  for (let n = 0; n < out.length; n++) out[n] = j >= b.length || (i < a.length && compareEncoded(a[i], b[j]) < 0) ? a[i++] : b[j++];
  return out;
}

/** An in-memory driver for tests and throwaway nodes; it copies values like a real store would. */
export function createMemoryStore(): Store {
  const tables = new Map<string, Table>();
  let closed = false;

  const open = () => {
    if (closed) throw new Error('store is closed');
  };
  const table = (name: string) => {
    open();
    let t = tables.get(name);
    if (!t) tables.set(name, (t = new Table()));
    return t;
  };
  const read = (name: string, k: Key) => {
    const json = table(name).values.get(encodeKey(k));
    return json === undefined ? undefined : JSON.parse(json);
  };

  const apply = (ops: readonly BatchOp[]) => {
    // Encode everything first so a bad key or value fails the whole batch before anything changes.
    const changes = ops.map((op): [string, Change] => [op.table, [encodeKey(op.key), op.type === 'put' ? toJson(op.value) : undefined]]);
    for (const [name, list] of byTable(changes)) table(name).write(list);
  };

  const nonEmpty = () => [...tables].filter(([, t]) => t.order.length > 0);

  const store: Store = {
    async get<T>(name: string, k: Key) {
      return read(name, k) as T | undefined;
    },
    async getMany<T>(name: string, ks: readonly Key[]) {
      return ks.map((k) => read(name, k) as T | undefined);
    },
    async put(name, k, value) {
      apply([{ type: 'put', table: name, key: k, value }]);
    },
    async del(name, k) {
      apply([{ type: 'del', table: name, key: k }]);
    },
    async batch(ops) {
      apply(ops);
    },
    update: (table, key, fn, options) => update(table, key, fn, options),
    async *entries<T>(name: string, range?: Range): AsyncIterable<[Key, T]> {
      for (const [k, v] of table(name).scan(range)) yield [decodeKey(k), JSON.parse(v) as T];
    },
    async *keys(name: string, range?: Range): AsyncIterable<Key> {
      for (const [k] of table(name).scan(range)) yield decodeKey(k);
    },
    archive: (name, options) => archives(name, options),
    async sync() {},
    async snapshot(): Promise<StoreSnapshot> {
      open();
      const copy = new Map(nonEmpty().map(([name, t]) => [name, t.copy()]));
      let released = false;
      const live = () => {
        if (released || closed) throw new Error('snapshot is closed');
      };
      return {
        async tables() {
          live();
          return [...copy.keys()].sort(compareEncoded);
        },
        async *entriesJson(name: string, range?: Range): AsyncIterable<[Key, string]> {
          live();
          for (const [k, json] of copy.get(name)?.scan(range) ?? []) yield [decodeKey(k), json];
        },
        async close() {
          released = true;
        },
      };
    },
    async replaceAll(): Promise<Replacement> {
      open();
      // As LevelDB's driver does, the records to remove are the ones present now.
      const existing = nonEmpty().map(([name, t]) => [name, [...t.order]] as const);
      const added: [string, Change][] = [];
      let finished = false;
      const unfinished = () => {
        if (finished) throw new Error('replacement is already committed or aborted');
      };
      return {
        put(name: string, k: Key, json: string) {
          unfinished();
          added.push([name, [encodeKey(k), json]]);
        },
        async commit() {
          unfinished();
          finished = true;
          const removals = existing.flatMap(([name, ks]) => ks.map((k): [string, Change] => [name, [k, undefined]]));
          for (const [name, list] of byTable([...removals, ...added])) table(name).write(list);
          archives.forget();
        },
        async abort() {
          finished = true;
        },
      };
    },
    async close() {
      closed = true;
    },
  };
  const update = lockedUpdate(store);
  const archives = recordArchives(store);
  return store;
}

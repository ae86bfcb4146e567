import type { BatchOp, Range, Replacement, Store, StoreSnapshot, WriteOptions } from './types';
import { compareBytes, rangeBounds } from './keys';


/** An in-memory driver for tests and throwaway nodes; it copies values like a real store would. */
export function createMemoryStore(): Store {
  const tables = new Map<string, Map<string, string>>();
  let closed = false;

  const table = (name: string) => {
    if (closed) throw new Error('store is closed');
    let t = tables.get(name);
    if (!t) tables.set(name, (t = new Map()));
    return t;
  };

  const apply = (ops: readonly BatchOp[]) => {
    // Encode everything first so a bad value fails the whole batch before anything changes.
    // LevelDB refuses null and undefined values; so does this driver, or tests would pass here
    // and fail in production.
    const encoded = ops.map((op) => {
      if (op.type === 'del') return undefined;
      if (op.value === null || op.value === undefined) throw new TypeError('Value cannot be null or undefined');
      const json = JSON.stringify(op.value);
      if (json === undefined) throw new TypeError(`Value cannot be encoded as JSON: ${typeof op.value}`);
      return json;
    });
    ops.forEach((op, i) => {
      if (op.type === 'put') table(op.table).set(op.key, encoded[i] as string);
      else table(op.table).delete(op.key);
    });
  };

  function* scan(name: string, range: Range = {}, from = table(name)): Generator<[string, string]> {
    const r = rangeBounds(range);
    const keys = [...from.keys()].filter(
      (k) =>
        (r.gte === undefined || compareBytes(k, r.gte) >= 0) &&
        (r.gt === undefined || compareBytes(k, r.gt) > 0) &&
        (r.lte === undefined || compareBytes(k, r.lte) <= 0) &&
        (r.lt === undefined || compareBytes(k, r.lt) < 0),
    );
    keys.sort(compareBytes);
    if (range.reverse) keys.reverse();
    const limit = range.limit === undefined || range.limit < 0 ? Infinity : range.limit;
    for (let i = 0; i < keys.length && i < limit; i++) yield [keys[i], from.get(keys[i]) as string];
  }

  const nonEmpty = () => [...tables].filter(([, t]) => t.size > 0);

  return {
    async get<T>(name: string, k: string) {
      const v = table(name).get(k);
      return v === undefined ? undefined : (JSON.parse(v) as T);
    },
    async getMany<T>(name: string, ks: readonly string[]) {
      return ks.map((k) => {
        const v = table(name).get(k);
        return v === undefined ? undefined : (JSON.parse(v) as T);
      });
    },
    async put(name: string, k: string, value: unknown, _o?: WriteOptions) {
      apply([{ type: 'put', table: name, key: k, value }]);
    },
    async del(name: string, k: string, _o?: WriteOptions) {
      apply([{ type: 'del', table: name, key: k }]);
    },
    async batch(ops: readonly BatchOp[], _o?: WriteOptions) {
      apply(ops);
    },
    async *entries<T>(name: string, range?: Range): AsyncIterable<[string, T]> {
      for (const [k, v] of scan(name, range)) yield [k, JSON.parse(v) as T];
    },
    async *keys(name: string, range?: Range): AsyncIterable<string> {
      for (const [k] of scan(name, range)) yield k;
    },
    async sync() {},
    async snapshot(): Promise<StoreSnapshot> {
      if (closed) throw new Error('store is closed');
      const copy = new Map(nonEmpty().map(([name, t]) => [name, new Map(t)]));
      let released = false;
      const open = () => {
        if (released || closed) throw new Error('snapshot is closed');
      };
      return {
        async tables() {
          open();
          return [...copy.keys()].sort(compareBytes);
        },
        async *entriesJson(name: string, range?: Range): AsyncIterable<[string, string]> {
          open();
          yield* scan(name, range, copy.get(name) ?? new Map());
        },
        async close() {
          released = true;
        },
      };
    },
    async replaceAll(): Promise<Replacement> {
      if (closed) throw new Error('store is closed');
      // As LevelDB's driver does, the records to remove are the ones present now.
      const existing = nonEmpty().map(([name, t]) => [name, [...t.keys()]] as const);
      const added: [string, string, string][] = [];
      let finished = false;
      const unfinished = () => {
        if (finished) throw new Error('replacement is already committed or aborted');
      };
      return {
        put(name: string, k: string, json: string) {
          unfinished();
          added.push([name, k, json]);
        },
        async commit() {
          unfinished();
          finished = true;
          for (const [name, ks] of existing) for (const k of ks) table(name).delete(k);
          for (const [name, k, json] of added) table(name).set(k, json);
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
}

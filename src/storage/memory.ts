import type { BatchOp, Range, Store, WriteOptions } from './types';
import { compareBytes, rangeBounds } from './keys';

export { compareBytes };

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

  function* scan(name: string, range: Range = {}): Generator<[string, string]> {
    const r = rangeBounds(range);
    const keys = [...table(name).keys()].filter(
      (k) =>
        (r.gte === undefined || compareBytes(k, r.gte) >= 0) &&
        (r.gt === undefined || compareBytes(k, r.gt) > 0) &&
        (r.lte === undefined || compareBytes(k, r.lte) <= 0) &&
        (r.lt === undefined || compareBytes(k, r.lt) < 0),
    );
    keys.sort(compareBytes);
    if (range.reverse) keys.reverse();
    const limit = range.limit === undefined || range.limit < 0 ? Infinity : range.limit;
    for (let i = 0; i < keys.length && i < limit; i++) yield [keys[i], table(name).get(keys[i]) as string];
  }

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
    async close() {
      closed = true;
    },
  };
}

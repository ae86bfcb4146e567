import type { BatchOp, Range, Store, WriteOptions } from './types';
import { prefixBounds } from './keys';

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
    const encoded = ops.map((op) => (op.type === 'put' ? JSON.stringify(op.value) : undefined));
    ops.forEach((op, i) => {
      if (op.type === 'put') table(op.table).set(op.key, encoded[i] as string);
      else table(op.table).delete(op.key);
    });
  };

  function* scan(name: string, range: Range = {}): Generator<[string, string]> {
    const r = range.prefix === undefined ? range : { ...prefixBounds(range.prefix), ...range };
    const keys = [...table(name).keys()].filter(
      (k) =>
        (r.gte === undefined || compareBytes(k, r.gte) >= 0) &&
        (r.gt === undefined || compareBytes(k, r.gt) > 0) &&
        (r.lte === undefined || compareBytes(k, r.lte) <= 0) &&
        (r.lt === undefined || compareBytes(k, r.lt) < 0),
    );
    keys.sort(compareBytes);
    if (r.reverse) keys.reverse();
    const limit = r.limit === undefined || r.limit < 0 ? Infinity : r.limit;
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
    async close() {
      closed = true;
    },
  };
}

/** LevelDB orders keys by their UTF-8 bytes; JavaScript compares UTF-16 units. Match LevelDB. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

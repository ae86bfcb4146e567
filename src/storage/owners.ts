import { compareEncoded, decodeKey, encodeKey, SEP } from './keys';
import type { Key, Store } from './types';

/** How many rows of other owners a read goes through before it jumps over the rest of them. */
const JUMP_AFTER = 64;

/**
 * The rows of `table` whose keys start with one of `owners` (keys of one length), in key
 * order, `value` undefined unless `values`. One read goes through the range the owners span
 * and jumps, with a new read, over other owners' rows where there are many: removing thousands
 * of accounts costs what they hold plus a few reads, not a read per account.
 */
export async function* ownersRows<T>(
  store: Pick<Store, 'entries' | 'keys'>,
  table: string,
  owners: readonly Key[],
  values = false,
): AsyncIterable<[Key, T | undefined]> {
  if (owners.length === 0) return;
  const width = owners[0].length;
  const sorted = [...new Set(owners.map(encodeKey))].sort(compareEncoded);
  const wanted = new Set(sorted);
  const last = sorted[sorted.length - 1];
  let from = 0;
  while (from < sorted.length) {
    const start = decodeKey(sorted[from]);
    let foreign = 0;
    let next = -1;
    const rows = values ? store.entries<T>(table, { gte: start }) : keysOnly(store, table, start);
    for await (const [k, v] of rows) {
      const owner = k.slice(0, width).join(SEP);
      if (wanted.has(owner)) {
        foreign = 0;
        yield [k, v];
        continue;
      }
      if (compareEncoded(owner, last) > 0) return;
      if (++foreign > JUMP_AFTER) {
        next = sorted.findIndex((o, i) => i > from && compareEncoded(o, owner) > 0);
        break;
      }
    }
    if (next < 0) return;
    from = next;
  }
}

async function* keysOnly(store: Pick<Store, 'keys'>, table: string, start: Key): AsyncIterable<[Key, undefined]> {
  for await (const k of store.keys(table, { gte: start })) yield [k, undefined];
}

import type { Range } from './types';

/**
 * Key layout shared by every driver. Parts are joined with NUL, which no JID part can hold
 * (stringprep forbids control characters), so `host␀user␀` is a prefix of exactly one
 * user's records and byte order sorts users of a host together.
 */

export const SEP = '\u0000';

export function key(...parts: readonly string[]): string {
  return parts.join(SEP);
}

/** The prefix of every key that starts with these parts. */
export function prefix(...parts: readonly string[]): string {
  return parts.join(SEP) + SEP;
}

export function splitKey(k: string): string[] {
  return k.split(SEP);
}

/** The bounds that select exactly the keys starting with `p`. */
export function prefixBounds(p: string): { gte: string; lt: string } {
  // U+10FFFF is the largest code point, so its UTF-8 form sorts after any other continuation.
  return { gte: p, lt: p + '\u{10ffff}' };
}

/** LevelDB orders keys by their UTF-8 bytes; JavaScript compares UTF-16 units. Match LevelDB. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** At most one lower and one upper bound, the form LevelDB takes (it ignores `gt` beside `gte`). */
export interface Bounds {
  gt?: string;
  gte?: string;
  lt?: string;
  lte?: string;
}

/**
 * The bounds of a range: the intersection of its prefix and all of its bounds, so that paging
 * inside a prefix (`{ prefix, gt: cursor }`) neither repeats the cursor nor leaves the prefix.
 */
export function rangeBounds(range: Range = {}): Bounds {
  let lower: { key: string; inclusive: boolean } | undefined;
  let upper: { key: string; inclusive: boolean } | undefined;
  const raise = (k: string | undefined, inclusive: boolean) => {
    if (k === undefined) return;
    const c = lower === undefined ? 1 : compareBytes(k, lower.key);
    if (c > 0 || (c === 0 && !inclusive)) lower = { key: k, inclusive };
  };
  const cap = (k: string | undefined, inclusive: boolean) => {
    if (k === undefined) return;
    const c = upper === undefined ? -1 : compareBytes(k, upper.key);
    if (c < 0 || (c === 0 && !inclusive)) upper = { key: k, inclusive };
  };
  if (range.prefix !== undefined) {
    const p = prefixBounds(range.prefix);
    raise(p.gte, true);
    cap(p.lt, false);
  }
  raise(range.gte, true);
  raise(range.gt, false);
  cap(range.lte, true);
  cap(range.lt, false);
  const b: Bounds = {};
  if (lower) b[lower.inclusive ? 'gte' : 'gt'] = lower.key;
  if (upper) b[upper.inclusive ? 'lte' : 'lt'] = upper.key;
  return b;
}

import type { Key, Range } from './types';

/**
 * How the LevelDB and in-memory drivers encode tuple keys: the parts joined with NUL, the bytes
 * databases and backup files have always held (`host␀user␀contact`). NUL is below every other
 * character and no part may hold it, so byte order of the joined text is the contract's order:
 * part by part, a tuple before its extensions (`a` < `a␀b` < `a\u0001`). These helpers are
 * the drivers' own: features speak in tuples and never see an encoded key.
 */

export const SEP = '\u0000';

/**
 * The encoded form of a key, refusing what would not read back as the same tuple: no parts,
 * a part that is not text, holds NUL, or is not well-formed Unicode (LevelDB would store a lone
 * surrogate as U+FFFD, merging two keys).
 */
export function encodeKey(key: Key): string {
  if (!Array.isArray(key)) throw new TypeError(`A key is an array of text parts, not ${describe(key)}`);
  if (key.length === 0) throw new TypeError('A key has at least one part');
  checkParts(key);
  return key.join(SEP);
}

export function decodeKey(encoded: string): string[] {
  // Faster than split, which counts for scans of a whole table.
  const parts: string[] = [];
  let from = 0;
  for (let at = encoded.indexOf(SEP); at >= 0; at = encoded.indexOf(SEP, from)) {
    parts.push(encoded.slice(from, at));
    from = at + 1;
  }
  parts.push(from === 0 ? encoded : encoded.slice(from));
  return parts;
}

function checkParts(parts: readonly unknown[]): void {
  for (const part of parts) {
    if (typeof part !== 'string') throw new TypeError(`A key part is text, not ${describe(part)}`);
    if (part.includes(SEP)) throw new TypeError(`A key part cannot hold NUL (U+0000): ${JSON.stringify(part)}`);
    if (!(part as string & { isWellFormed(): boolean }).isWellFormed()) {
      throw new TypeError(`A key part cannot hold a lone surrogate: ${JSON.stringify(part)}`);
    }
  }
}

function describe(x: unknown): string {
  return x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x === 'string' ? `the text ${JSON.stringify(x)}` : typeof x;
}

/**
 * UTF-8 byte order of well-formed texts (LevelDB's order) without encoding them: it is code
 * point order, and code units compare as code points once surrogates, which stand for code
 * points above U+FFFF, are moved above U+E000..U+FFFF.
 */
export function compareEncoded(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codeOrder(x) - codeOrder(y);
  }
  return a.length - b.length;
}

function codeOrder(unit: number): number {
  return unit < 0xd800 ? unit : unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
}

/** LevelDB orders keys by their UTF-8 bytes; JavaScript compares UTF-16 units. Match LevelDB. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** At most one lower and one upper bound on encoded keys, the form LevelDB takes. */
export interface Bounds {
  gt?: string;
  gte?: string;
  lt?: string;
  lte?: string;
}

interface Bound {
  key: string;
  inclusive: boolean;
}

/**
 * The encoded bounds of a range: the intersection of its prefix and all of its bounds, so that
 * paging inside a prefix (`{ prefix, gt: cursor }`) neither repeats the cursor nor leaves the
 * prefix. Undefined when the range selects nothing.
 */
export function rangeBounds(range: Range = {}): Bounds | undefined {
  let lower: Bound | undefined;
  let upper: Bound | undefined;
  let empty = false;
  const raise = (k: string, inclusive: boolean) => {
    const c = lower === undefined ? 1 : compareEncoded(k, lower.key);
    if (c > 0 || (c === 0 && !inclusive)) lower = { key: k, inclusive };
  };
  const cap = (k: string, inclusive: boolean) => {
    const c = upper === undefined ? -1 : compareEncoded(k, upper.key);
    if (c < 0 || (c === 0 && !inclusive)) upper = { key: k, inclusive };
  };
  // The empty tuple is below every key: as a lower bound it drops nothing, as an upper one it keeps nothing.
  const below = (k: Key | undefined, inclusive: boolean) => {
    if (k !== undefined && checked(k).length > 0) raise(encodeKey(k), inclusive);
  };
  const above = (k: Key | undefined, inclusive: boolean) => {
    if (k === undefined) return;
    if (checked(k).length === 0) empty = true;
    else cap(encodeKey(k), inclusive);
  };
  if (range.prefix !== undefined && checked(range.prefix).length > 0) {
    const p = encodeKey(range.prefix);
    raise(p, true);
    // Extensions continue with NUL, so the next character up ends the prefix.
    cap(p + '\u0001', false);
  }
  below(range.gte, true);
  below(range.gt, false);
  above(range.lte, true);
  above(range.lt, false);
  if (empty) return undefined;
  if (lower && upper) {
    const c = compareEncoded(lower.key, upper.key);
    if (c > 0 || (c === 0 && !(lower.inclusive && upper.inclusive))) return undefined;
  }
  const b: Bounds = {};
  if (lower) b[lower.inclusive ? 'gte' : 'gt'] = lower.key;
  if (upper) b[upper.inclusive ? 'lte' : 'lt'] = upper.key;
  return b;
}

function checked(k: Key): Key {
  if (!Array.isArray(k)) throw new TypeError(`A key bound is an array of text parts, not ${describe(k)}`);
  checkParts(k);
  return k;
}

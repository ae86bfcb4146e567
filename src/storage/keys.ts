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

/**
 * Text that is not Unicode. Node reads argv, stdin lines and `toString('utf8')` with U+FFFD in
 * place of bytes that are not UTF-8, so two different byte strings can become the same text;
 * JSON's `\ud800` escapes give strings with lone surrogates, which no UTF-8 encoder can write.
 */

export const REPLACEMENT_CHARACTER = '\ufffd';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The text of `bytes`, or undefined when they are not UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/** The first string (a key or a value) of a parsed JSON value that holds a lone surrogate, with its path. */
export function loneSurrogateIn(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return hasLoneSurrogate(value) ? path || '(the value)' : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  const entries: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  for (const [k, v] of entries) {
    const at = path === '' ? k : `${path}.${k}`;
    if (hasLoneSurrogate(k)) return at;
    const found = loneSurrogateIn(v, at);
    if (found !== undefined) return found;
  }
  return undefined;
}

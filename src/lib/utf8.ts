import { isUtf8 } from 'node:buffer';

/**
 * Text that is not Unicode. Node reads argv, stdin lines and `toString('utf8')` with U+FFFD in
 * place of bytes that are not UTF-8, so two different byte strings can become the same text;
 * JSON's `\ud800` escapes give strings with lone surrogates, which no UTF-8 encoder can write.
 */

export const REPLACEMENT_CHARACTER = '\ufffd';

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * Whether `text` is all printable ASCII, U+0020 to U+007E: what most names and passwords are
 * written in, and what Unicode normalisation and the preparation profiles leave as it is but for
 * case, so that they can skip their Unicode work.
 */
export const isPrintableAscii = (text: string): boolean => PRINTABLE_ASCII.test(text);

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * The text of `bytes`, or undefined when they are not UTF-8. Checked, then decoded: a fatal
 * TextDecoder made for each call costs more than the rest of a short request.
 */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  return isUtf8(bytes) ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') : undefined;
}

export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/**
 * The first string (a key or a value) of a parsed JSON value that holds a lone surrogate, with
 * its path. It walks with a stack of its own: JSON.parse reads values nested far deeper than
 * the call stack could follow.
 */
export function loneSurrogateIn(value: unknown, path = ''): string | undefined {
  const todo: [unknown, string, string | undefined][] = [[value, path, undefined]];
  for (let item = todo.pop(); item !== undefined; item = todo.pop()) {
    const [v, at, key] = item;
    if (key !== undefined && hasLoneSurrogate(key)) return at;
    if (typeof v === 'string') {
      if (hasLoneSurrogate(v)) return at || '(the value)';
    } else if (typeof v === 'object' && v !== null) {
      const entries: [string, unknown][] = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, x] = entries[i];
        todo.push([x, at === '' ? k : `${at}.${k}`, Array.isArray(v) ? undefined : k]);
      }
    }
  }
  return undefined;
}

import { CommandError } from '../lib/errors';
import type { Field, Type } from './types';
import { isScalar, MAX_INTEGER } from './types';

/**
 * Decodes one shell word into a value of the field's type. Lists are written `a,b,c` and
 * tuples `a:b` (ejabberd 24's convention); a JSON array or object is accepted too.
 */
export function decodeWord(field: Field, word: string): unknown {
  const t = field.type;
  if (t.kind === 'list' || t.kind === 'tuple') {
    const trimmed = word.trimStart();
    if (trimmed.startsWith(t.kind === 'list' ? '[' : '{')) return fromJson(field, parseJson(field, word));
  }
  return decodeText(field, t, word);
}

function decodeText(field: Field, t: Type, word: string): unknown {
  switch (t.kind) {
    case 'integer':
      return parseInteger(field, word);
    case 'list':
      return word === '' ? [] : word.split(',').map((part) => decodeText(field, t.elem.type, part));
    case 'tuple': {
      const parts = splitN(word, ':', t.fields.length);
      if (parts.length !== t.fields.length) {
        throw bad(field, `expected ${t.fields.length} fields separated by ':' (${t.fields.map((x) => x.name).join(':')}), got '${word}'`);
      }
      return Object.fromEntries(t.fields.map((x, i) => [x.name, decodeText(field, x.type, parts[i])]));
    }
    default:
      return word;
  }
}

/** Splits on the first n-1 separators, so the last field keeps any further ones. */
function splitN(word: string, sep: string, n: number): string[] {
  const parts = word.split(sep);
  return parts.length <= n ? parts : [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}

function parseInteger(field: Field, word: string): number {
  const named = field.names?.indexOf(word.toLowerCase()) ?? -1;
  if (named >= 0) return named;
  if (!/^[+-]?\d+$/.test(word)) {
    throw bad(field, `expected a whole number${field.names ? ` or one of ${field.names.join(', ')}` : ''}, got '${word}'`);
  }
  const n = Number(word);
  if (Math.abs(n) > MAX_INTEGER) throw bad(field, `${word} is out of range`);
  return n;
}

function parseJson(field: Field, word: string): unknown {
  try {
    return JSON.parse(word);
  } catch {
    throw bad(field, `invalid JSON '${word}'`);
  }
}

/** Lets JSON spell integers as strings and scalars as numbers; zod checks the rest. */
function fromJson(field: Field, value: unknown, t: Type = field.type): unknown {
  if (t.kind === 'integer' && typeof value === 'string') return parseInteger(field, value);
  if (isScalar(t) && t.kind !== 'integer' && typeof value === 'number') return String(value);
  if (t.kind === 'list' && Array.isArray(value)) return value.map((v) => fromJson(field, v, t.elem.type));
  if (t.kind === 'tuple' && value && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(obj).map(([k, v]) => {
        const sub = t.fields.find((x) => x.name === k);
        return [k, sub ? fromJson(field, v, sub.type) : v];
      }),
    );
  }
  return value;
}

function bad(field: Field, why: string): CommandError {
  return new CommandError('bad_argument', `Bad value for argument '${field.name}': ${why}`, { details: { arg: field.name } });
}

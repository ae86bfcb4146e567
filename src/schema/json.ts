import type { Field, Type } from './types';

/**
 * The JSON shape of a result, as the HTTP API answers it: rescode 0/1, restuple its text,
 * a scalar `{"name": value}`, lists as arrays and tuples as objects.
 */
export function toJson(result: Field, value: unknown): unknown {
  switch (result.type.kind) {
    case 'rescode':
      return value === true ? 0 : 1;
    case 'restuple':
      return value;
    case 'list':
    case 'tuple':
      return plain(result.type, value);
    default:
      return { [result.name]: value };
  }
}

function plain(t: Type, value: unknown): unknown {
  if (t.kind === 'list') return (value as unknown[]).map((v) => plain(t.elem.type, v));
  if (t.kind === 'tuple') {
    const obj = value as Record<string, unknown>;
    return Object.fromEntries(t.fields.map((f) => [f.name, plain(f.type, obj[f.name])]));
  }
  return value;
}

import type { Field, Type } from './types';
import { MAX_INTEGER } from './types';

/**
 * Whether a value is of a type, without zod: what every well-formed call checks, in a fraction
 * of the time zod takes to load. It accepts no value the zod schema of `src/schema/zod.ts`
 * refuses, so a value it refuses is given to zod, which says what is wrong.
 */
export function conforms(type: Type, value: unknown): boolean {
  switch (type.kind) {
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) && value >= -MAX_INTEGER && value <= MAX_INTEGER;
    case 'string':
    case 'binary':
    case 'atom':
    case 'restuple':
      return typeof value === 'string';
    case 'rescode':
      return typeof value === 'boolean';
    case 'list': {
      if (!Array.isArray(value)) return false;
      for (let i = 0; i < value.length; i++) if (!(i in value) || !conforms(type.elem.type, value[i])) return false;
      return true;
    }
    case 'tuple':
      return fieldsConform(type.fields, value);
  }
}

/** Whether a value is a plain object with exactly these fields, each of its type. */
export function fieldsConform(fields: readonly Field[], value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  const record = value as Record<string, unknown>;
  let own = 0;
  for (const field of fields) {
    if (!Object.hasOwn(record, field.name) || !conforms(field.type, record[field.name])) return false;
    own++;
  }
  return Object.keys(record).length === own;
}

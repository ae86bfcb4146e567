import type { ZodTypeAny } from 'zod';
import type { Field, Type } from './types';
import { MAX_INTEGER } from './types';

/** The zod library, loaded on first use: declaring commands must not pay for it. */
function z(): typeof import('zod').z {
  return (require('zod') as typeof import('zod')).z;
}

/** The zod schema of a type: what a value of it must look like on any transport. */
export function toZod(type: Type): ZodTypeAny {
  const zz = z();
  switch (type.kind) {
    case 'integer':
      return zz.number({ invalid_type_error: 'expected an integer' }).int('expected an integer').min(-MAX_INTEGER).max(MAX_INTEGER);
    case 'string':
    case 'binary':
    case 'atom':
    case 'restuple':
      return zz.string({ invalid_type_error: 'expected a string' });
    case 'rescode':
      return zz.boolean();
    case 'list':
      return zz.array(toZod(type.elem.type), { invalid_type_error: 'expected a list' });
    case 'tuple':
      return fieldsToZod(type.fields);
  }
}

/** An object schema with exactly these fields: unknown keys are errors, not silently dropped. */
export function fieldsToZod(fields: readonly Field[]): ZodTypeAny {
  const shape: Record<string, ZodTypeAny> = {};
  for (const field of fields) shape[field.name] = toZod(field.type);
  return z().object(shape, { invalid_type_error: 'expected an object' }).strict();
}

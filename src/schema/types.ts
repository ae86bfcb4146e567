/**
 * The type language of ejabberd's command layer, as plain data.
 *
 * Every command declares its arguments and result with these constructors; every face of a
 * command (CLI decoding, text output, JSON shape, zod validation, documentation) is derived
 * from them by the other modules of `src/schema/`. The data stays free of zod so that
 * declaring all commands costs nothing at CLI start-up.
 */

/** A scalar type: the argument types ejabberdctl can pass as one shell word. */
export type ScalarKind = 'integer' | 'string' | 'binary' | 'atom';

export type Type =
  | { readonly kind: ScalarKind }
  | { readonly kind: 'rescode' }
  | { readonly kind: 'restuple' }
  | { readonly kind: 'list'; readonly elem: Field }
  | { readonly kind: 'tuple'; readonly fields: readonly Field[] };

/** A named type: an argument, a result, a list element or a tuple field (`name :: type`). */
export interface Field<T extends Type = Type> {
  readonly name: string;
  readonly type: T;
  /** An integer that may also be written as one of these names, standing for its index (a log level). */
  readonly names?: readonly string[];
}

export const integer = { kind: 'integer' } as const;
export const string = { kind: 'string' } as const;
export const binary = { kind: 'binary' } as const;
export const atom = { kind: 'atom' } as const;
/** Result only: success or failure, shown through the exit status alone. */
export const rescode = { kind: 'rescode' } as const;
/** Result only: success with a text, or failure with a text. */
export const restuple = { kind: 'restuple' } as const;

/** `name :: type` */
export function f<const N extends string, const T extends Type>(name: N, type: T): Field<T> & { readonly name: N } {
  return { name, type };
}

/** `{list, {name, T}}` */
export function list<const E extends Field>(elem: E): { readonly kind: 'list'; readonly elem: E } {
  return { kind: 'list', elem };
}

/** `{tuple, [{name, T}, ...]}` */
export function tuple<const Fs extends readonly Field[]>(...fields: Fs): { readonly kind: 'tuple'; readonly fields: Fs } {
  return { kind: 'tuple', fields };
}

/** The JavaScript value a type stands for: tuples are objects keyed by field name. */
export type Value<T extends Type> = T extends { kind: 'integer' }
  ? number
  : T extends { kind: 'string' | 'binary' | 'atom' }
    ? string
    : T extends { kind: 'rescode' }
      ? boolean
      : T extends { kind: 'restuple' }
        ? string
        : T extends { kind: 'list'; elem: infer E extends Field }
          ? Value<E['type']>[]
          : T extends { kind: 'tuple'; fields: infer Fs extends readonly Field[] }
            ? FieldsValue<Fs>
            : never;

export type FieldsValue<Fs extends readonly Field[]> = {
  [F in Fs[number] as F['name']]: Value<F['type']>;
};

export function isScalar(type: Type): type is { kind: ScalarKind } {
  return type.kind === 'integer' || type.kind === 'string' || type.kind === 'binary' || type.kind === 'atom';
}

/** The largest integer the command layer accepts: ejabberd's are bignums, ours are exact doubles. */
export const MAX_INTEGER = Number.MAX_SAFE_INTEGER;

import type { Field, Type } from './types';

/**
 * ejabberdctl's plain-text rendering of a result: scalars as themselves, a list one element per
 * line, a tuple its fields joined by TAB. Inside a record, TAB, newline and backslash are
 * escaped so that one record is always one line; nested lists join with `,`, nested tuples
 * with `:`. Returns '' for nothing to print (an empty list, a rescode, an empty text).
 */
export function renderText(result: Field, value: unknown): string {
  const t = result.type;
  switch (t.kind) {
    case 'rescode':
      return '';
    case 'list':
      return (value as unknown[]).map((v) => record(t.elem.type, v)).join('\n');
    case 'tuple':
      return record(t, value);
    default:
      return String(value);
  }
}

/** One line: a tuple's fields by TAB, anything else escaped. */
function record(t: Type, value: unknown): string {
  if (t.kind === 'tuple') return t.fields.map((f) => nested(f.type, (value as Record<string, unknown>)[f.name])).join('\t');
  return nested(t, value);
}

function nested(t: Type, value: unknown): string {
  if (t.kind === 'list') return (value as unknown[]).map((v) => nested(t.elem.type, v)).join(',');
  if (t.kind === 'tuple') return t.fields.map((f) => nested(f.type, (value as Record<string, unknown>)[f.name])).join(':');
  return escape(String(value));
}

export function escape(s: string): string {
  return s.replace(/[\\\t\n]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : '\\n'));
}

/** Column names for tsv and table output: a tuple's fields, else the element or result name. */
export function columns(result: Field): string[] {
  const t = result.type;
  const inner = t.kind === 'list' ? t.elem : result;
  return inner.type.kind === 'tuple' ? inner.type.fields.map((f) => f.name) : [inner.name];
}

/** The result as rows of cells (before escaping): what tables and tsv lay out. */
export function rows(result: Field, value: unknown): string[][] {
  const t = result.type;
  const items = t.kind === 'list' ? (value as unknown[]) : [value];
  const elem = t.kind === 'list' ? t.elem.type : t;
  return items.map((v) => (elem.kind === 'tuple' ? elem.fields.map((f) => nested(f.type, (v as Record<string, unknown>)[f.name])) : [nested(elem, v)]));
}

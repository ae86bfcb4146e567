import type { Archive } from '../../src/storage/types';

/** The archive `a`, telling `pages` how many items each atomic step of a purge removed. */
export function hearPages<T>(a: Archive<T>, pages: number[]): Archive<T> {
  return { ...a, purge: (which, o) => a.purge(which, { ...o, onPage: (n) => (pages.push(n), o?.onPage?.(n)) }) };
}

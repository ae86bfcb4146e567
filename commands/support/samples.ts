import { CommandError } from '../../src/lib/errors';
import { parseJid } from '../../src/lib/jid';

/**
 * The behaviour behind the `test` commands: they exercise every type of the command layer
 * on every transport, and three of them fail on purpose.
 */

export function splitJid(text: string) {
  const jid = parseJid(text);
  return { user: jid.user, server: jid.host, resource: jid.resource };
}

export function power(base: number, exponent: number): number {
  const result = Math.round(base ** exponent);
  if (!Number.isSafeInteger(result)) throw new CommandError('bad_argument', `${base}^${exponent} is too large for an integer`);
  return result;
}

const MAX_SEQUENCE = 1_000_000;

export function sequence(from: number, to: number): number[] {
  if (to - from + 1 > MAX_SEQUENCE) throw new CommandError('bad_argument', `seq ${from} ${to} would give more than ${MAX_SEQUENCE} numbers`);
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

/** Code points, not UTF-16 units, so a word with emoji splits between characters. */
export function prefixes(word: string): string[] {
  const chars = [...word];
  return chars.map((_, i) => chars.slice(0, i + 1).join(''));
}

export function atomFor(n: number): string {
  return n === 0 ? 'zero' : n === 1 ? 'one' : 'greater_than_one';
}

/** tell_rescode: 0 ok, 1 true succeed; 2 error, 3 false, anything else fail. */
export function rescodeFor(n: number): boolean {
  return n === 0 || n === 1;
}

export function restupleFor(n: number): string {
  if (n === 0) return 'All OK';
  if (n === 1) return 'Successful result';
  throw new CommandError('failed', 'This is an error message');
}

/** this_crashes: adds a number to a word, which is not arithmetic: a crash, on purpose. */
export function crash(n: number): number {
  const sum: unknown = (null as unknown as { plus(x: number): number }).plus(n);
  return sum as number;
}

/** this_wrong_args: declared with two arguments, implemented with one that must be absent. */
export function oneArgument(...args: unknown[]): number {
  if (args.length !== 1) throw new TypeError(`function called with ${args.length} arguments, defined with 1`);
  return 0;
}

import { decodeAccount, PASSWD } from '../features/accounts/records';
import { loneSurrogateIn } from '../lib/utf8';
import type { Key } from '../storage/types';

/**
 * Why a record read from a file (a dump line, a backup line) cannot be stored as it is, or
 * undefined: what load and restore both check before they write anything.
 */
export function recordValueFault(table: string, key: Key, value: unknown): string | undefined {
  const lone = loneSurrogateIn(value);
  if (lone !== undefined) return `the value holds a lone surrogate at ${lone}, which is not Unicode text`;
  // An account's secret is what each login works on: one beyond the bounds would make logins cost seconds.
  if (table === PASSWD) {
    try {
      decodeAccount(value, `the account ${key[1]}@${key[0]}`);
    } catch (err) {
      return (err as Error).message;
    }
  }
  return undefined;
}

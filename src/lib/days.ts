import { fieldError } from './errors';

/**
 * The most days any command takes, about 2 700 years: now plus or minus this many days is still
 * a date JavaScript can hold (a Date spans 100 000 000 days each side of 1970).
 */
export const MAX_DAYS = 1_000_000;

/** Refuses a negative number of days, as every purge and listing by age does, and one no date can reach. */
export function checkDays(days: number, field = 'days'): void {
  if (days < 0) throw fieldError('bad_argument', field, (name) => `The number of days (${name}) must not be negative, got ${days}`);
  if (days > MAX_DAYS) throw fieldError('bad_argument', field, (name) => `The number of days (${name}) must be at most ${MAX_DAYS}, got ${days}`);
}

import { fieldError } from './errors';

/** Refuses a negative number of days, as every purge and listing by age does. */
export function checkDays(days: number, field = 'days'): void {
  if (days < 0) throw fieldError('bad_argument', field, (name) => `The number of days (${name}) must not be negative, got ${days}`);
}

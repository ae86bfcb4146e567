import { CommandError } from '../../src/lib/errors';

/** Refuses a negative number of days, as every purge and listing by age does. */
export function checkDays(days: number, arg = 'days'): void {
  if (days < 0) throw new CommandError('bad_argument', `The number of days (${arg}) must not be negative, got ${days}`, { details: { arg } });
}

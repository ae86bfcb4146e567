import { fieldError } from '../../lib/errors';
import type { BareJid } from '../../lib/jid';
import type { Accounts } from '../accounts/accounts';
import { accountLockKey, type FeatureDeps } from '../deps';
import { lastOps, readLast, type LastRecord } from './records';

export interface Last {
  /** Whether the user is connected now (then the record tells of the previous session). */
  online(jid: BareJid): boolean;
  /** When an existing user was last seen, if ever. */
  get(jid: BareJid): Promise<LastRecord | undefined>;
  set(jid: BareJid, timestampS: number, status: string): Promise<void>;
}

/** Last activity (XEP-0012): when a user was last seen and with which status. */
export function createLast(deps: FeatureDeps, accounts: Accounts): Last {
  const online = deps.isOnline ?? (() => false);
  return {
    online: (jid) => online(jid),

    async get(jid) {
      await accounts.requireUser(jid);
      return readLast(deps.store, jid);
    },

    async set(jid, timestampS, status) {
      checkTimestamp(timestampS);
      await deps.locks.run(accountLockKey(jid), async () => {
        await accounts.requireUser(jid);
        await deps.store.batch(lastOps(jid, { timestamp: timestampS, status }));
      });
    },
  };
}

/** Throws unless `timestampS` may be a time of last activity. */
/** 9999-12-31 23:59:59 UTC: later times have no four-digit year, and soon no Date at all. */
export const MAX_TIMESTAMP_S = 253_402_300_799;

export function checkTimestamp(timestampS: number, field = 'timestamp'): void {
  if (timestampS < 0) throw fieldError('bad_argument', field, (name) => `The timestamp (${name}) must be seconds since 1970, got ${timestampS}`);
  if (timestampS > MAX_TIMESTAMP_S) {
    throw fieldError(
      'bad_argument',
      field,
      (name) => `The timestamp (${name}) must be at most ${MAX_TIMESTAMP_S} (9999-12-31 23:59:59 UTC), got ${timestampS}`,
    );
  }
}

import type { Config } from '../config/config';
import { createEventBus, type EventBus } from '../lib/events';
import type { BareJid } from '../lib/jid';
import { createKeyedLock, type KeyedLock } from '../lib/keyed-lock';
import type { Store } from '../storage/types';
import type { FeatureEvents } from './events';

/** What every feature is built from, once per node (or per local `ctl` run). */
export interface FeatureDeps {
  readonly store: Store;
  readonly config: Config;
  /** Milliseconds since the epoch; injected so tests control time. */
  readonly clock: () => number;
  /** Emitted after each change is committed; the XMPP server listens. */
  readonly events: EventBus<FeatureEvents>;
  /**
   * Read-modify-write of several records of one account runs under the account's lock
   * (`accountLockKey`), so an admin command and a client's request never interleave.
   */
  readonly locks: KeyedLock;
  /** Who is connected right now; without a node, nobody. */
  readonly isOnline?: (jid: BareJid) => boolean;
}

/** The lock key of an account. */
export function accountLockKey(jid: BareJid): string {
  return `account:${jid.host}\u0000${jid.user}`;
}

/** Deps with a bus and locks of their own: for a one-off run (a local `ctl`, a test). */
export function featureDeps(parts: Pick<FeatureDeps, 'store' | 'config' | 'clock'> & Partial<FeatureDeps>): FeatureDeps {
  return { events: createEventBus<FeatureEvents>(), locks: createKeyedLock(), ...parts };
}

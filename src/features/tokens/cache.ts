import type { EventBus } from '../../lib/events';
import { bareText, type BareJid } from '../../lib/jid';
import type { FeatureEvents } from '../events';

/** How many verified tokens a node remembers; the least recently used go first. */
const VERIFIED_TOKENS_LIMIT = 4096;

interface Verified {
  readonly jid: BareJid;
  readonly text: string;
  /** Seconds since the epoch; absent: never. */
  readonly expires?: number;
}

/**
 * Tokens that verified, by hash, so that each HTTP or XML-RPC call does not read the token and
 * its account again. Only what makes a token invalid has to reach it: a revocation, the removal
 * of the account, a database replaced; expiry is compared on every call.
 */
export class VerifiedTokens {
  private readonly byHash = new Map<string, Verified>();
  private readonly byAccount = new Map<string, Set<string>>();
  /**
   * Moves on with every invalidation: a check that read the store before one must not remember
   * what it read, which may be what was just revoked.
   */
  private epoch = 0;

  constructor(private readonly limit = VERIFIED_TOKENS_LIMIT) {}

  get size(): number {
    return this.byHash.size;
  }

  /** Where a check starts: what it learns is remembered only if nothing was invalidated since. */
  mark(): number {
    return this.epoch;
  }

  /** The account of a remembered token that is still valid at `nowS`. */
  get(hash: string, nowS: number): BareJid | undefined {
    const v = this.byHash.get(hash);
    if (v === undefined) return undefined;
    if (v.expires !== undefined && v.expires <= nowS) {
      this.drop(hash, v);
      return undefined;
    }
    // Most recently used last: the first entry is the one to evict.
    this.byHash.delete(hash);
    this.byHash.set(hash, v);
    return v.jid;
  }

  remember(hash: string, jid: BareJid, expires: number | undefined, mark: number): void {
    if (mark !== this.epoch) return;
    const old = this.byHash.get(hash);
    if (old) this.drop(hash, old);
    const v: Verified = { jid, text: bareText(jid), ...(expires === undefined ? {} : { expires }) };
    this.byHash.set(hash, v);
    let hashes = this.byAccount.get(v.text);
    if (!hashes) this.byAccount.set(v.text, (hashes = new Set()));
    hashes.add(hash);
    while (this.byHash.size > this.limit) {
      const [oldest, ov] = this.byHash.entries().next().value as [string, Verified];
      this.drop(oldest, ov);
    }
  }

  forget(hashes: readonly string[]): void {
    this.epoch++;
    for (const hash of hashes) {
      const v = this.byHash.get(hash);
      if (v) this.drop(hash, v);
    }
  }

  forgetAccount(jid: BareJid): void {
    this.epoch++;
    const hashes = this.byAccount.get(bareText(jid));
    if (hashes) this.forget([...hashes]);
  }

  clear(): void {
    this.epoch++;
    this.byHash.clear();
    this.byAccount.clear();
  }

  private drop(hash: string, v: Verified): void {
    this.byHash.delete(hash);
    const hashes = this.byAccount.get(v.text);
    hashes?.delete(hash);
    if (hashes?.size === 0) this.byAccount.delete(v.text);
  }
}

// One memory per event bus: the features over it (a node's synced and bulk instances, and those
// built again after a reload or a restore) share it, and it subscribes once for the bus's life.
const memories = new WeakMap<EventBus<FeatureEvents>, VerifiedTokens>();

/** The verified tokens of everything built over `events`. */
export function verifiedTokens(events: EventBus<FeatureEvents>): VerifiedTokens {
  let cache = memories.get(events);
  if (!cache) {
    cache = new VerifiedTokens();
    memories.set(events, cache);
    forgetOn(events, cache);
  }
  return cache;
}

/** The tokens that the other nodes of a cluster revoke, and those of the accounts they remove, are forgotten here too. */
export function hearOtherNodes(events: EventBus<FeatureEvents>, elsewhere: EventBus<FeatureEvents>): void {
  forgetOn(elsewhere, verifiedTokens(events));
}

function forgetOn(bus: EventBus<FeatureEvents>, cache: VerifiedTokens): void {
  bus.on('api-tokens-revoked', ({ hashes }) => (hashes === undefined ? cache.clear() : cache.forget(hashes)));
  bus.on('account-removed', ({ jid }) => cache.forgetAccount(jid));
}

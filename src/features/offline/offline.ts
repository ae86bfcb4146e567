import { CommandError } from '../../lib/errors';
import { bareText, type BareJid } from '../../lib/jid';
import type { Element } from '../../lib/xml';
import type { Accounts } from '../accounts/accounts';
import { accountLockKey, type FeatureDeps } from '../deps';
import { offlineArchive, offlineEntry, offlineOwner, offlineRecord, queuedMessages, type QueuedMessage } from './records';

const DAY_MS = 86_400_000;

export interface Offline {
  /**
   * Puts a `<message/>` in the queue of `jid`, who must exist; the caller's element is not
   * changed. Resolves to the id it is stored under.
   */
  store(jid: BareJid, stanza: Element): Promise<string>;
  /**
   * A message to a local user from the node itself: queued, since no session can take it yet
   * (a connected recipient is refused, not silently queued).
   */
  send(to: BareJid, stanza: Element): Promise<string>;
  count(jid: BareJid): Promise<number>;
  /** The queue of `jid`, oldest first: what a client gets when it logs in. */
  messages(jid: BareJid): Promise<QueuedMessage[]>;
  /** Removes the messages of `ids` from the queue of `jid` (once delivered), or all of them. */
  remove(jid: BareJid, ids?: readonly string[]): Promise<number>;
  /** Removes the messages stored more than `days` days ago, of every user; resolves to how many. */
  deleteOld(days: number): Promise<number>;
  /** Removes the messages whose expiry has passed; resolves to how many. */
  deleteExpired(): Promise<number>;
}

/** Offline messages (XEP-0160): the queue of each user, its count, and the purges. */
export function createOffline(deps: FeatureDeps, accounts: Accounts): Offline {
  const queue = offlineArchive(deps.store);
  const online = deps.isOnline ?? (() => false);

  async function store(jid: BareJid, stanza: Element): Promise<string> {
    if (stanza.getName() !== 'message') throw new CommandError('bad_argument', `Only <message/> stanzas can be stored offline, not <${stanza.getName()}/>`);
    // Under the account's lock, so that a removal of the account leaves no message behind.
    const id = await deps.locks.run(accountLockKey(jid), async () => {
      await accounts.requireUser(jid);
      return queue.append(offlineOwner(jid), offlineEntry(offlineRecord(stanza, jid.host, deps.clock())));
    });
    deps.events.emit('offline-message-stored', { jid, id });
    return id;
  }

  return {
    store,

    async send(to, stanza) {
      await accounts.requireUser(to);
      if (online(to)) throw new CommandError('not_implemented', `${bareText(to)} is connected, and delivery to connected sessions is not implemented yet`);
      return store(to, stanza);
    },

    async count(jid) {
      await accounts.requireUser(jid);
      return queue.count(offlineOwner(jid));
    },

    async messages(jid) {
      await accounts.requireUser(jid);
      const out: QueuedMessage[] = [];
      for await (const m of queuedMessages(deps.store, jid)) out.push(m);
      return out;
    },

    async remove(jid, ids) {
      await accounts.requireUser(jid);
      return queue.delete(offlineOwner(jid), ids);
    },

    deleteOld(days) {
      return queue.purge({ beforeMs: deps.clock() - days * DAY_MS });
    },

    deleteExpired() {
      return queue.purge({ expiredAtMs: deps.clock() });
    },
  };
}

import type { BareJid } from '../../lib/jid';
import { serialise, type Element } from '../../lib/xml';
import type { Accounts } from '../accounts/accounts';
import { accountLockKey, type FeatureDeps } from '../deps';
import { mamArchive, mamEntry, mamOwner, readArchive, type ArchivedMessage, type ArchiveType } from './records';

const DAY_MS = 86_400_000;

export interface Mam {
  /**
   * Archives `stanza` (an element, or its text as received, kept as it is) in the archive of
   * `owner`: a local user for `chat`, who must exist; a room (name, MUC service host) for
   * `groupchat`. `withJid` is the other party's bare JID. Resolves to the archive id.
   */
  archive(owner: BareJid, type: ArchiveType, withJid: string, stanza: Element | string): Promise<string>;
  /** The archive of `owner`, oldest first. */
  messages(owner: BareJid): Promise<ArchivedMessage[]>;
  /**
   * Removes the messages of `type` (or of both types) archived more than `days` days ago, in
   * every archive; resolves to how many.
   */
  deleteOld(type: ArchiveType | 'all', days: number): Promise<number>;
}

/** Message archives: what the XMPP server archives, and their purge. */
export function createMam(deps: FeatureDeps, accounts: Accounts): Mam {
  const archive = mamArchive(deps.store);

  async function append(owner: BareJid, type: ArchiveType, withJid: string, xml: string): Promise<string> {
    return archive.append(mamOwner(owner), mamEntry({ type, with: withJid, xml, timestamp: deps.clock() }));
  }

  return {
    async archive(owner, type, withJid, stanza) {
      const xml = typeof stanza === 'string' ? stanza : serialise(stanza);
      if (type !== 'chat') return append(owner, type, withJid, xml);
      // Under the account's lock, so that a removal of the account leaves no message behind.
      return deps.locks.run(accountLockKey(owner), async () => {
        await accounts.requireUser(owner);
        return append(owner, type, withJid, xml);
      });
    },

    messages(owner) {
      return readArchive(deps.store, owner);
    },

    deleteOld(type, days) {
      return archive.purge({ beforeMs: deps.clock() - days * DAY_MS, ...(type === 'all' ? {} : { kind: type }) });
    },
  };
}

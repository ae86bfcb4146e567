import { CommandError } from '../../lib/errors';
import { bareText, type BareJid } from '../../lib/jid';
import { archiveIdMs } from '../../storage/archive';
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
  /**
   * One page of the archive of `owner` (XEP-0313 with XEP-0059 paging), oldest first. An
   * `after` or `before` id the archive does not hold is `not_found`.
   */
  query(owner: BareJid, query: MamQuery): Promise<MamPage>;
}

/** Which messages of an archive, and which page of them. */
export interface MamQuery {
  /** The other party's bare JID. */
  readonly with?: string;
  /** Archived at or after, in ms. */
  readonly startMs?: number;
  /** Archived at or before, in ms. */
  readonly endMs?: number;
  /** The page size: at most this many (0: only count). */
  readonly max: number;
  /** The page after this id. */
  readonly after?: string;
  /** The page before this id; '' is the last page. */
  readonly before?: string;
}

export interface MamPage {
  /** Oldest first. */
  readonly messages: ArchivedMessage[];
  /** How many messages the query selects, over every page. */
  readonly count: number;
  /** No page lies beyond this one in the direction of paging. */
  readonly complete: boolean;
  /** The position of the first message of the page among all that the query selects. */
  readonly index: number;
}

/** Message archives: what the XMPP server archives, and their purge. */
export function createMam(deps: FeatureDeps, accounts: Accounts): Mam {
  const archive = mamArchive(deps.store);

  async function append(owner: BareJid, type: ArchiveType, withJid: string, xml: string): Promise<string> {
    return archive.append(mamOwner(owner), mamEntry({ type, with: withJid, xml, timestamp: deps.clock() }));
  }

  async function holds(owner: BareJid, id: string): Promise<boolean> {
    const ms = archiveIdMs(id);
    if (!Number.isSafeInteger(ms)) return false;
    for await (const item of archive.find(mamOwner(owner), { startMs: ms, endMs: ms + 1 })) if (item.id === id) return true;
    return false;
  }

  /** Every message the query's filters select, oldest first: the count needs them all. */
  async function selected(owner: BareJid, q: MamQuery): Promise<ArchivedMessage[]> {
    const out: ArchivedMessage[] = [];
    const range = { ...(q.startMs === undefined ? {} : { startMs: q.startMs }), ...(q.endMs === undefined ? {} : { endMs: q.endMs + 1 }) };
    for await (const item of archive.find(mamOwner(owner), range)) {
      if (q.with === undefined || item.value.with === q.with) out.push({ ...item.value, id: item.id });
    }
    return out;
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

    async query(owner, q) {
      await accounts.requireUser(owner);
      for (const id of [q.after, q.before]) {
        if (id && !(await holds(owner, id))) throw new CommandError('not_found', `The archive of ${bareText(owner)} has no message ${id}`);
      }
      return page(await selected(owner, q), q);
    },

    deleteOld(type, days) {
      return archive.purge({ beforeMs: deps.clock() - days * DAY_MS, ...(type === 'all' ? {} : { kind: type }) });
    },
  };
}

/** The page of `all` (oldest first) that the query's paging selects. */
function page(all: readonly ArchivedMessage[], q: MamQuery): MamPage {
  const count = all.length;
  if (q.before !== undefined) {
    const end = q.before === '' ? count : all.findIndex((m) => m.id >= q.before!);
    const stop = end < 0 ? count : end;
    const start = Math.max(0, stop - q.max);
    return { messages: all.slice(start, stop), count, complete: start === 0, index: start };
  }
  const start = q.after === undefined ? 0 : all.findIndex((m) => m.id > q.after!);
  const from = start < 0 ? count : start;
  const stop = Math.min(count, from + q.max);
  return { messages: all.slice(from, stop), count, complete: stop === count, index: from };
}

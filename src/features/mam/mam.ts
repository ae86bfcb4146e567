import { CommandError } from '../../lib/errors';
import { bareText, type BareJid } from '../../lib/jid';
import { archiveIdMs } from '../../storage/archive';
import type { BatchOp } from '../../storage/types';
import { serialise, type Element } from '../../lib/xml';
import type { Accounts } from '../accounts/accounts';
import { accountLockKey, type FeatureDeps } from '../deps';
import { archivedMessage, mamArchive, mamEntry, mamOwner, readArchive, type ArchivedMessage, type ArchiveType } from './records';

const DAY_MS = 86_400_000;

export interface Mam {
  /**
   * Archives `stanza` (an element, or its text as received, kept as it is) in the archive of
   * `owner`: a local user for `chat`, who must exist; a room (name, MUC service host) for
   * `groupchat`. `withJid` is the other party's bare JID. Resolves to the archive id.
   */
  archive(owner: BareJid, type: ArchiveType, withJid: string, stanza: Element | string): Promise<string>;
  /**
   * Archives one-to-one messages of many local users in one write, each user's in the order
   * given. Resolves to their ids in the order of `items`; undefined for a user with no account.
   */
  archiveChats(items: readonly ChatToArchive[]): Promise<(string | undefined)[]>;
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

/** A one-to-one message for the archive of `owner`, a local user. */
export interface ChatToArchive {
  readonly owner: BareJid;
  /** The other party's bare JID. */
  readonly withJid: string;
  /** The `<message/>` as it is kept. */
  readonly xml: string;
  /** When it was archived, in ms since the epoch. */
  readonly timestamp: number;
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
      if (q.with === undefined || item.value.with === q.with) out.push(archivedMessage(item));
    }
    return out;
  }

  /**
   * One read of the accounts and one write for the whole lot, without the accounts' locks: if a
   * removal ran meanwhile, each owner is checked again under its lock, and what went into the
   * archive of an account gone since is taken out again.
   */
  async function archiveChats(items: readonly ChatToArchive[]): Promise<(string | undefined)[]> {
    const byOwner = new Map<string, { owner: BareJid; at: number[] }>();
    items.forEach((item, i) => {
      const key = bareText(item.owner);
      const group = byOwner.get(key);
      if (group) group.at.push(i);
      else byOwner.set(key, { owner: item.owner, at: [i] });
    });
    const groups = [...byOwner.values()];
    const before = accounts.removals();
    const exists = await accounts.existing(groups.map((g) => g.owner));
    const ids: (string | undefined)[] = new Array(items.length).fill(undefined);
    const ops: BatchOp[] = [];
    const written: { owner: BareJid; ids: string[] }[] = [];
    for (const [g, group] of groups.entries()) {
      if (!exists[g]) continue;
      const entries = group.at.map((i) => mamEntry({ type: 'chat', with: items[i].withJid, xml: items[i].xml, timestamp: items[i].timestamp }));
      const out = await archive.appendOps(mamOwner(group.owner), entries);
      out.ids.forEach((id, k) => (ids[group.at[k]] = id));
      ops.push(...out.ops);
      written.push({ owner: group.owner, ids: out.ids });
    }
    if (ops.length > 0) await deps.store.batch(ops);
    const after = accounts.removals();
    if (after.started !== before.started || before.finished !== before.started) {
      for (const w of written) {
        await deps.locks.run(accountLockKey(w.owner), async () => {
          if (!(await accounts.exists(w.owner))) await archive.delete(mamOwner(w.owner), w.ids);
        });
      }
    }
    return ids;
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

    archiveChats,

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

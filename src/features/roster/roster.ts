import { CommandError } from '../../lib/errors';
import { bareText, type BareJid } from '../../lib/jid';
import type { BatchOp } from '../../storage/types';
import type { Accounts } from '../accounts/accounts';
import { accountLockKey, type FeatureDeps } from '../deps';
import {
  ROSTER,
  checkItemText,
  countHostItems,
  hostRosters,
  normalGroups,
  normalItem,
  readRoster,
  rosterItemDelOp,
  rosterKey,
  splitBare,
  type Ask,
  type RosterContact,
  type RosterEntry,
  type RosterItem,
  type Subscription,
} from './records';

/** One contact of a roster template (push_roster): it joins a roster with subscription both. */
export interface TemplateEntry {
  /** A prepared bare JID. */
  readonly contact: string;
  /** Empty: the item keeps the name it has, if any. */
  readonly name: string;
  readonly groups: readonly string[];
}

/** Which items a bulk process selects: an item must match all four. */
export interface RosterFilter {
  readonly subscriptions: ReadonlySet<Subscription>;
  readonly asks: ReadonlySet<Ask>;
  /** Gets the owner's user and host. */
  readonly owners: (user: string, host: string) => boolean;
  /** Gets the contact's user part (empty for a server JID) and server. */
  readonly contacts: (user: string, server: string) => boolean;
}

/** What a bulk process tells as it goes. */
export interface ProcessReport {
  /** Before the first item: how many items there are over every host. */
  readonly total?: (items: number) => void;
  /** After each item: how many were visited and how many of them matched. */
  readonly visited?: (visited: number, matched: number, total: number) => void;
}

export interface Roster {
  /** The owner's roster, by contact in byte order; the owner must exist. */
  items(owner: BareJid): Promise<RosterContact[]>;
  get(owner: BareJid, contact: string): Promise<RosterItem | undefined>;
  /** Adds or replaces an item; its groups are stored sorted, without duplicates. Resolves to what was stored. */
  set(owner: BareJid, contact: string, item: RosterItem): Promise<RosterItem>;
  /** Removes an item, which must be there. */
  remove(owner: BareJid, contact: string): Promise<void>;
  /** Lists, or deletes, the items of every host that the filter selects; resolves to them. */
  process(filter: RosterFilter, action: 'list' | 'delete', report?: ProcessReport): Promise<RosterEntry[]>;
  /**
   * Template entries join the owner's roster with subscription both, keeping the names and
   * groups items have; `all`: every registered local account among the entries gets the others.
   */
  pushTemplate(target: BareJid | 'all', entries: readonly TemplateEntry[]): Promise<void>;
}

/** Deletions of a bulk process are written this many at a time. */
const DELETE_BATCH = 10_000;

/** Rosters (jabber:iq:roster): per-user contact lists with subscription states and groups. */
export function createRoster(deps: FeatureDeps, accounts: Accounts): Roster {
  const { store, config, events, locks } = deps;

  const changed = (owner: BareJid, contact: string, item: RosterItem | undefined) => events.emit('roster-item-changed', { owner, contact, item });

  /** Merges the entries into the roster of an owner who still exists, in one atomic step. */
  async function pushTo(owner: BareJid, entries: readonly TemplateEntry[]): Promise<void> {
    const self = bareText(owner);
    const wanted = entries.filter((e) => e.contact !== self);
    const written = await locks.run(accountLockKey(owner), async () => {
      if (!(await accounts.exists(owner))) return [];
      const keys = wanted.map((e) => rosterKey(owner, e.contact));
      const existing = await store.getMany<RosterItem>(ROSTER, keys);
      const items = wanted.map((e, i): RosterItem => {
        const old = existing[i];
        // Subscription both: a pre-approval the old item held is spent.
        return {
          name: e.name !== '' ? e.name : (old?.name ?? ''),
          subscription: 'both',
          ask: 'none',
          groups: normalGroups([...(old?.groups ?? []), ...e.groups]),
        };
      });
      await store.batch(items.map((value, i): BatchOp => ({ type: 'put', table: ROSTER, key: keys[i], value })));
      return items;
    });
    written.forEach((item, i) => changed(owner, wanted[i].contact, item));
  }

  /** The registered local accounts among the entries, in their order. */
  async function localAccounts(entries: readonly TemplateEntry[]): Promise<BareJid[]> {
    const out: BareJid[] = [];
    for (const e of entries) {
      const [user, host] = splitBare(e.contact);
      const jid = { user, host };
      if (user !== '' && config.hosts.includes(host) && (await accounts.exists(jid))) out.push(jid);
    }
    return out;
  }

  return {
    async items(owner) {
      await accounts.requireUser(owner);
      return readRoster(store, owner);
    },

    get(owner, contact) {
      return store.get<RosterItem>(ROSTER, rosterKey(owner, contact));
    },

    async set(owner, contact, item) {
      checkItemText(item);
      const value = normalItem(item);
      await locks.run(accountLockKey(owner), async () => {
        await accounts.requireUser(owner);
        await store.update<RosterItem>(ROSTER, rosterKey(owner, contact), () => value);
      });
      changed(owner, contact, value);
      return value;
    },

    async remove(owner, contact) {
      await locks.run(accountLockKey(owner), async () => {
        await accounts.requireUser(owner);
        let found = false;
        await store.update<RosterItem>(ROSTER, rosterKey(owner, contact), (old) => {
          found = old !== undefined;
          return found ? null : undefined;
        });
        if (!found) throw new CommandError('not_found', `${contact} is not in the roster of ${bareText(owner)}`);
      });
      changed(owner, contact, undefined);
    },

    async process(filter, action, report = {}) {
      let total = 0;
      for (const h of config.hosts) total += await countHostItems(store, h);
      report.total?.(total);
      const matches: RosterEntry[] = [];
      let pending: RosterEntry[] = [];
      const flush = async () => {
        if (pending.length === 0) return;
        const gone = pending;
        pending = [];
        await store.batch(gone.map((e) => rosterItemDelOp(e.owner, e.contact)));
        for (const e of gone) changed(e.owner, e.contact, undefined);
      };
      let visited = 0;
      for (const h of config.hosts) {
        for await (const entry of hostRosters(store, h)) {
          visited++;
          if (selects(filter, entry)) {
            matches.push(entry);
            if (action === 'delete') pending.push(entry);
            if (pending.length >= DELETE_BATCH) await flush();
          }
          report.visited?.(visited, matches.length, total);
        }
      }
      await flush();
      return matches;
    },

    async pushTemplate(target, entries) {
      if (target !== 'all') await accounts.requireUser(target);
      const owners = target === 'all' ? await localAccounts(entries) : [target];
      for (const owner of owners) await pushTo(owner, entries);
    },
  };
}

function selects(filter: RosterFilter, { owner, contact, item }: RosterEntry): boolean {
  return (
    filter.subscriptions.has(item.subscription) && filter.asks.has(item.ask) && filter.owners(owner.user, owner.host) && filter.contacts(...splitBare(contact))
  );
}

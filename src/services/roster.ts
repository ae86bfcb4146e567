import { resolve } from 'node:path';
import { CommandError } from '../lib/errors';
import type { BatchOp } from '../storage/types';
import { compareBytes, key, prefix, splitKey } from '../storage/keys';
import { TABLES } from '../storage/tables';
import type { AccountsService, ServiceDeps } from './accounts';
import { checkXmlText } from '../lib/xml';
import { strictGlobToRegExp } from '../lib/glob';
import { nameprep, nodeprep } from '../lib/jid';
import { contactJid, normalGroups, readRosterTemplate, splitBare, splitGroups, type TemplateEntry } from '../migrate/roster-template';

export const SUBSCRIPTIONS = ['none', 'from', 'to', 'both'] as const;
export const ASKS = ['none', 'in', 'out'] as const;
export type Subscription = (typeof SUBSCRIPTIONS)[number];
export type Ask = (typeof ASKS)[number];

/** A roster item, stored under `host␀user␀contact` where contact is a bare JID. */
export interface RosterItem {
  readonly name: string;
  readonly subscription: Subscription;
  /** A pending subscription request: `out` we asked the contact, `in` the contact asked us. */
  readonly ask: Ask;
  /** Sorted by their bytes, without duplicates. */
  readonly groups: readonly string[];
}

export interface RosterRow {
  readonly jid: string;
  readonly nick: string;
  readonly subscription: string;
  readonly ask: string;
  readonly group: string;
}

/** Deletions of process_rosteritems are written this many at a time. */
const DELETE_BATCH = 10_000;

function usage(arg: string, message: string): CommandError {
  return new CommandError('bad_argument', message, { details: { arg } });
}

/** Rosters (jabber:iq:roster): per-user contact lists with subscription states and groups. */
export function createRosterService(deps: ServiceDeps, accounts: AccountsService) {
  const { store, config } = deps;

  /** The owner of a roster, which must exist; argument names go into the errors. */
  async function owner(u: string, h: string, userArg: string, hostArg: string) {
    const j = accounts.jid(nodeprep(u, userArg), accounts.host(nameprep(h, hostArg)));
    if (!(await accounts.exists(j.user, j.host))) throw new CommandError('not_found', `User ${j.id} does not exist`);
    return j;
  }

  /** Adds or merges template entries into one user's roster, in one atomic batch. */
  async function pushTo(host: string, user: string, entries: readonly TemplateEntry[]): Promise<void> {
    const self = `${user}@${host}`;
    const wanted = entries.filter((e) => e.jid !== self);
    const keys = wanted.map((e) => key(host, user, e.jid));
    const existing = await store.getMany<RosterItem>(TABLES.roster, keys);
    const ops: BatchOp[] = wanted.map((e, i) => {
      const old = existing[i];
      const item: RosterItem = {
        ...old,
        name: e.nick !== '' ? e.nick : (old?.name ?? ''),
        subscription: 'both',
        ask: 'none',
        groups: normalGroups([...(old?.groups ?? []), ...e.groups]),
      };
      return { type: 'put', table: TABLES.roster, key: keys[i], value: item };
    });
    await store.batch(ops);
  }

  async function template(file: string): Promise<TemplateEntry[]> {
    const path = resolve(file);
    return readRosterTemplate(path, config.hosts, accounts);
  }

  return {
    async add(localuser: string, localserver: string, user: string, server: string, nick: string, group: string, subs: string): Promise<boolean> {
      const subscription = subs.toLowerCase() as Subscription;
      if (!SUBSCRIPTIONS.includes(subscription)) throw usage('subs', `Unknown subscription '${subs}' (subs): use none, from, to or both`);
      // Rosters travel as XML (roster pushes, exports): refuse what XML cannot carry.
      checkXmlText(nick, 'nick', 'nick');
      checkXmlText(group, 'group', 'group');
      const contact = contactJid(user, server, 'user', 'server');
      const o = await owner(localuser, localserver, 'localuser', 'localserver');
      const k = key(o.host, o.user, contact);
      const old = await store.get<RosterItem>(TABLES.roster, k);
      const item: RosterItem = { ...old, name: nick, subscription, ask: 'none', groups: normalGroups(splitGroups(group)) };
      await store.put(TABLES.roster, k, item);
      return true;
    },

    async delete(localuser: string, localserver: string, user: string, server: string): Promise<boolean> {
      const contact = contactJid(user, server, 'user', 'server');
      const o = await owner(localuser, localserver, 'localuser', 'localserver');
      const k = key(o.host, o.user, contact);
      if ((await store.get(TABLES.roster, k)) === undefined) throw new CommandError('not_found', `${contact} is not in the roster of ${o.id}`);
      await store.del(TABLES.roster, k);
      return true;
    },

    /** The roster as get_roster shows it: one row per (contact, group), by contact then group. */
    async get(user: string, server: string): Promise<RosterRow[]> {
      const o = await owner(user, server, 'user', 'server');
      const rows: RosterRow[] = [];
      for await (const [k, item] of store.entries<RosterItem>(TABLES.roster, { prefix: prefix(o.host, o.user) })) {
        const jid = splitKey(k)[2];
        const base = { jid, nick: item.name, subscription: item.subscription, ask: item.ask };
        if (item.groups.length === 0) rows.push({ ...base, group: '' });
        for (const group of item.groups) rows.push({ ...base, group });
      }
      return rows;
    },

    /** Every item of a user's roster, by contact: what the XMPP side and exports read. */
    async items(user: string, host: string): Promise<{ jid: string; item: RosterItem }[]> {
      const j = accounts.jid(user, host);
      const out: { jid: string; item: RosterItem }[] = [];
      for await (const [k, item] of store.entries<RosterItem>(TABLES.roster, { prefix: prefix(j.host, j.user) })) out.push({ jid: splitKey(k)[2], item });
      return out;
    },

    /** process_rosteritems: lists (or deletes) the items of every host that match all four filters. */
    async process(
      action: string,
      subs: string,
      asks: string,
      users: string,
      contacts: string,
      progress: (text: string) => void = () => undefined,
    ): Promise<{ user: string; contact: string }[]> {
      if (action !== 'list' && action !== 'delete') throw usage('action', `Unknown action '${action}' (action): use list or delete`);
      const subSet = parseChoices(subs, SUBSCRIPTIONS, 'subs', 'subscription');
      const askSet = parseChoices(asks, ASKS, 'asks', 'ask');
      const userMatch = parseJidPatterns(users, 'users');
      const contactMatch = parseJidPatterns(contacts, 'contacts');

      let total = 0;
      for (const h of config.hosts) for await (const _ of store.keys(TABLES.roster, { prefix: prefix(h) })) total++;
      progress(`There are ${total} roster items in total.`);
      const counted = action === 'delete' ? 'deleted' : 'matched';
      const matches: { user: string; contact: string }[] = [];
      let ops: BatchOp[] = [];
      let visited = 0;
      let percent = 0;
      for (const h of config.hosts) {
        for await (const [k, item] of store.entries<RosterItem>(TABLES.roster, { prefix: prefix(h) })) {
          visited++;
          const [, user, contact] = splitKey(k);
          if (subSet.has(item.subscription) && askSet.has(item.ask) && userMatch(user, h) && contactMatch(...splitBare(contact))) {
            matches.push({ user: `${user}@${h}`, contact });
            if (action === 'delete') ops.push({ type: 'del', table: TABLES.roster, key: k });
            if (ops.length >= DELETE_BATCH) {
              await store.batch(ops);
              ops = [];
            }
          }
          const now = Math.floor((visited / total) * 100);
          if (now !== percent) progress(`Progress ${(percent = now)}% - visited ${visited} - ${counted} ${matches.length}`);
        }
      }
      await store.batch(ops);
      return matches;
    },

    /** push_roster: the file's entries join the user's roster (subscription both). */
    async pushFile(file: string, user: string, host: string): Promise<boolean> {
      const o = await owner(user, host, 'user', 'host');
      const entries = await template(file);
      await pushTo(o.host, o.user, entries);
      return true;
    },

    /** push_roster_all: every local account listed in the file gets all the other entries. */
    async pushFileAll(file: string): Promise<boolean> {
      const entries = await template(file);
      for (const e of entries) if (e.local) await pushTo(e.local.host, e.local.user, entries);
      return true;
    },

    /** push_alltoall: every account of the host gets every other one, in `group`. */
    async pushAllToAll(host: string, group: string): Promise<boolean> {
      const h = accounts.host(host);
      const groups = splitGroups(group);
      const users = await accounts.registeredUsers(h);
      const entries = users.map((u): TemplateEntry => ({ jid: `${u}@${h}`, groups, nick: u }));
      for (const u of users) await pushTo(h, u, entries);
      return true;
    },
  };
}

export type RosterService = ReturnType<typeof createRosterService>;

/** `a:b` or `any` over a fixed set of words, as process_rosteritems takes subs and asks. */
function parseChoices<T extends string>(text: string, allowed: readonly T[], arg: string, what: string): Set<string> {
  const words = text.toLowerCase().split(':');
  if (words.includes('any')) return new Set(allowed);
  const help = `use ${allowed.join(', ')} or any, several joined by ':'`;
  for (const w of words) {
    if (w === '') throw usage(arg, `Empty ${what} in '${text}' (${arg}): ${help}`);
    if (!(allowed as readonly string[]).includes(w)) throw usage(arg, `Unknown ${what} '${w}' (${arg}): ${help}`);
  }
  return new Set(words);
}

type JidMatcher = (user: string, server: string) => boolean;

/**
 * `JID[:JID]*` or `any`. A pattern with an `@` matches JIDs with a user part, one without
 * matches only server JIDs; each part is a glob, negated by a leading `!`.
 */
function parseJidPatterns(text: string, arg: string): JidMatcher {
  const matchers = text.split(':').map((p): JidMatcher => {
    if (p === 'any') return () => true;
    const fail = (why: string) => usage(arg, `Invalid JID pattern '${p}' (${arg}): ${why}`);
    if (p === '') throw fail('it is empty; separate patterns with a single \':\'');
    if (p.includes('/')) throw fail('roster items hold bare JIDs, without a resource');
    const parts = p.split('@');
    if (parts.length > 2) throw fail("it has more than one '@'");
    const server = part(parts[parts.length - 1], 'server', fail);
    if (parts.length === 1) return (u, s) => u === '' && server(s);
    const user = part(parts[0], 'user', fail);
    return (u, s) => u !== '' && user(u) && server(s);
  });
  return (user, server) => matchers.some((m) => m(user, server));
}

function part(glob: string, what: string, fail: (why: string) => CommandError): (value: string) => boolean {
  const negate = glob.startsWith('!');
  const body = (negate ? glob.slice(1) : glob).normalize('NFKC').toLowerCase();
  if (body === '') throw fail(`the ${what} part is empty`);
  let re: RegExp;
  try {
    re = strictGlobToRegExp(body);
  } catch (err) {
    throw fail(`in the ${what} part, ${(err as Error).message}`);
  }
  return negate ? (v) => !re.test(v) : (v) => re.test(v);
}

import { resolve } from 'node:path';
import { CommandError, naming, unlessNotFound } from '../../src/lib/errors';
import { strictGlobToRegExp } from '../../src/lib/glob';
import { bareText } from '../../src/lib/jid';
import type { Accounts } from '../../src/features/accounts/accounts';
import { ASKS, SUBSCRIPTIONS, checkItemText, contactJid, type RosterItem, type Subscription } from '../../src/features/roster/records';
import type { ProcessReport, Roster, RosterFilter, TemplateEntry } from '../../src/features/roster/roster';
import { readRosterTemplate, splitGroups } from '../../src/migrate/roster-template';
import { oneOf, ROSTER_SUBSCRIPTIONS } from './values';

/** What the roster commands use of the node's features. */
export interface RosterFeatures {
  readonly roster: Roster;
  readonly accounts: Accounts;
}

/** The item's fields as add_rosteritem names them. */
const ITEM_ARGS = { name: 'nick', groups: 'group' };

function usage(arg: string, message: string): CommandError {
  return new CommandError('bad_argument', message, { details: { arg } });
}

export async function addRosterItem(
  f: RosterFeatures,
  a: { localuser: string; localserver: string; user: string; server: string; nick: string; group: string; subs: string },
): Promise<boolean> {
  const subscription = a.subs.toLowerCase() as Subscription;
  if (!(ROSTER_SUBSCRIPTIONS as readonly string[]).includes(subscription))
    throw usage('subs', `Unknown subscription '${a.subs}' (subs): use ${oneOf(ROSTER_SUBSCRIPTIONS)}`);
  // The group text as given, separators included: what it holds must be XML too.
  await naming(ITEM_ARGS, () => checkItemText({ name: a.nick, groups: [a.group] }));
  const contact = contactJid(a.user, a.server);
  const owner = f.accounts.jid(a.localuser, a.localserver, { user: 'localuser', host: 'localserver' });
  const item: RosterItem = { name: a.nick, subscription, ask: 'none', groups: splitGroups(a.group) };
  await naming(ITEM_ARGS, () => f.roster.set(owner, contact, item));
  return true;
}

export async function deleteRosterItem(f: RosterFeatures, a: { localuser: string; localserver: string; user: string; server: string }): Promise<boolean> {
  const contact = contactJid(a.user, a.server);
  const owner = f.accounts.jid(a.localuser, a.localserver, { user: 'localuser', host: 'localserver' });
  // No such item, or no such owner: nothing to delete, which ejabberd counts as done.
  await f.roster.remove(owner, contact).catch(unlessNotFound);
  return true;
}

/** get_roster's rows: one per (contact, group), by contact then group. */
export async function rosterRows(f: RosterFeatures, a: { user: string; server: string }) {
  const rows: { jid: string; nick: string; subscription: string; ask: string; group: string }[] = [];
  for (const { contact, item } of await f.roster.items(f.accounts.jid(a.user, a.server, { host: 'server' }))) {
    const base = { jid: contact, nick: item.name, subscription: item.subscription, ask: item.ask };
    if (item.groups.length === 0) rows.push({ ...base, group: '' });
    for (const group of item.groups) rows.push({ ...base, group });
  }
  return rows;
}

/** process_rosteritems: lists (or deletes) the items of every host that match all four filters. */
export async function processRosterItems(
  f: Pick<RosterFeatures, 'roster'>,
  a: { action: string; subs: string; asks: string; users: string; contacts: string },
  progress: (text: string) => void = () => undefined,
): Promise<{ user: string; contact: string }[]> {
  const { action } = a;
  if (action !== 'list' && action !== 'delete') throw usage('action', `Unknown action '${action}' (action): use list or delete`);
  const filter: RosterFilter = {
    subscriptions: parseChoices(a.subs, SUBSCRIPTIONS, 'subs', 'subscription'),
    asks: parseChoices(a.asks, ASKS, 'asks', 'ask'),
    owners: parseJidPatterns(a.users, 'users'),
    contacts: parseJidPatterns(a.contacts, 'contacts'),
  };
  const matches = await f.roster.process(filter, action, progressLines(action === 'delete' ? 'deleted' : 'matched', progress));
  return matches.map((m) => ({ user: bareText(m.owner), contact: m.contact }));
}

/** ejabberd's progress lines: the total, then a line each time the percentage changes. */
function progressLines(counted: string, progress: (text: string) => void): ProcessReport {
  let percent = 0;
  return {
    total: (n) => progress(`There are ${n} roster items in total.`),
    visited: (visited, matched, total) => {
      const now = Math.floor((visited / total) * 100);
      if (now !== percent) progress(`Progress ${(percent = now)}% - visited ${visited} - ${counted} ${matched}`);
    },
  };
}

/** push_roster: the file's entries join the user's roster (subscription both). */
export async function pushRoster(f: RosterFeatures, a: { file: string; user: string; host: string }): Promise<boolean> {
  const owner = f.accounts.jid(a.user, a.host);
  await f.accounts.requireUser(owner);
  await f.roster.pushTemplate(owner, await readRosterTemplate(resolve(a.file)));
  return true;
}

/** push_roster_all: every local account listed in the file gets all the other entries. */
export async function pushRosterAll(f: RosterFeatures, a: { file: string }): Promise<boolean> {
  await f.roster.pushTemplate('all', await readRosterTemplate(resolve(a.file)));
  return true;
}

/** push_alltoall: every account of the host gets every other one, in `group`. */
export async function pushAllToAll(f: RosterFeatures, a: { host: string; group: string }): Promise<boolean> {
  const host = f.accounts.host(a.host);
  const groups = splitGroups(a.group);
  const users = await f.accounts.registeredUsers(host);
  const entries = users.map((u): TemplateEntry => ({ contact: `${u}@${host}`, groups, name: u }));
  await f.roster.pushTemplate('all', entries);
  return true;
}

/** `a:b` or `any` over a fixed set of words, as process_rosteritems takes subs and asks. */
function parseChoices<T extends string>(text: string, allowed: readonly T[], arg: string, what: string): Set<T> {
  const words = text.toLowerCase().split(':');
  if (words.includes('any')) return new Set(allowed);
  const help = `use ${allowed.join(', ')} or any, several joined by ':'`;
  for (const w of words) {
    if (w === '') throw usage(arg, `Empty ${what} in '${text}' (${arg}): ${help}`);
    if (!(allowed as readonly string[]).includes(w)) throw usage(arg, `Unknown ${what} '${w}' (${arg}): ${help}`);
  }
  return new Set(words as T[]);
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
    if (p === '') throw fail("it is empty; separate patterns with a single ':'");
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

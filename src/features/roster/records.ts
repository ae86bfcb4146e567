import { fieldError } from '../../lib/errors';
import { nameprep, nodeprep, type BareJid } from '../../lib/jid';
import { checkXmlText } from '../../lib/xml';
import type { JsonText } from '../../storage/json';
import type { BatchOp, Key, Store } from '../../storage/types';
import { usersKeys } from '../accounts/records';

/** `[host, user, contact]` → RosterItem, the contact being a bare JID (or a server JID). */
export const ROSTER = 'roster';

/** The namespace of rosters, `<query xmlns='jabber:iq:roster'/>` (RFC 6121). */
export const NS_ROSTER = 'jabber:iq:roster';

export const SUBSCRIPTIONS = ['none', 'from', 'to', 'both'] as const;
export const ASKS = ['none', 'in', 'out'] as const;
export type Subscription = (typeof SUBSCRIPTIONS)[number];
export type Ask = (typeof ASKS)[number];

/** A roster item, stored under `[host, user, contact]` where contact is a bare JID. */
export interface RosterItem {
  readonly name: string;
  readonly subscription: Subscription;
  /** A pending subscription request: `out` we asked the contact, `in` the contact asked us. */
  readonly ask: Ask;
  /** Sorted by their bytes, without duplicates. */
  readonly groups: readonly string[];
  /**
   * The user approved the contact's subscription before it was asked for (RFC 6121 §3.4); only
   * on an item without subscription from or both. Absent, never false, so that items without a
   * pre-approval are stored, dumped and exported as they always were.
   */
  readonly approved?: true;
}

/** One item of one roster. */
export interface RosterContact {
  readonly contact: string;
  readonly item: RosterItem;
}

/** One item of some roster of a host. */
export interface RosterEntry extends RosterContact {
  readonly owner: BareJid;
}

export function rosterKey(owner: BareJid, contact: string): Key {
  return [owner.host, owner.user, contact];
}

function rosterPrefix(owner: BareJid): Key {
  return [owner.host, owner.user];
}

/** Does the contact receive the user's presence? */
export const hasFrom = (s: Subscription): boolean => s === 'from' || s === 'both';

/** The item as stored: groups sorted without duplicates, a pre-approval only where it can still mean something. */
export function normalItem(item: RosterItem): RosterItem {
  const value: RosterItem = { name: item.name, subscription: item.subscription, ask: item.ask, groups: normalGroups(item.groups) };
  return item.approved === true && !hasFrom(item.subscription) ? { ...value, approved: true } : value;
}

/** Groups as a stored item holds them: without duplicates, sorted by their bytes. */
export function normalGroups(groups: Iterable<string>): string[] {
  return [...new Set(groups)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** A contact's bare JID from its parts, prepared; an empty user part gives a server JID (a gateway). */
export function contactJid(user: string, server: string, fields: { readonly user?: string; readonly server?: string } = {}): string {
  const host = nameprep(server, fields.server ?? 'server');
  return user === '' ? host : `${nodeprep(user, fields.user ?? 'user')}@${host}`;
}

/** `user@server` → [user, server]; a server JID has no user part. */
export function splitBare(jid: string): [string, string] {
  const at = jid.indexOf('@');
  return at < 0 ? ['', jid] : [jid.slice(0, at), jid.slice(at + 1)];
}

/**
 * Rosters travel as XML (roster pushes, exports): a name or group that XML cannot carry is
 * refused, the error naming the field (`name`, `groups`).
 */
export function checkItemText(item: Pick<RosterItem, 'name' | 'groups'>): void {
  xmlText(item.name, 'nick', 'name');
  for (const g of item.groups) xmlText(g, 'group', 'groups');
}

function xmlText(text: string, what: string, field: string): void {
  try {
    checkXmlText(text, what, field);
  } catch (err) {
    const why = (err as Error).message.slice(`The ${what} (${field}) `.length);
    throw fieldError('bad_argument', field, (name) => `The ${what} (${name}) ${why}`);
  }
}

export function rosterItemOps(owner: BareJid, contact: string, item: RosterItem | JsonText<RosterItem>): BatchOp[] {
  return [{ type: 'put', table: ROSTER, key: rosterKey(owner, contact), value: item }];
}

/** A user's roster, by contact in byte order. */
export async function readRoster(store: Store, owner: BareJid): Promise<RosterContact[]> {
  const out: RosterContact[] = [];
  for await (const [k, item] of store.entries<RosterItem>(ROSTER, { prefix: rosterPrefix(owner) })) out.push({ contact: k[2], item });
  return out;
}

/** Every roster item of a host, by owner then contact. */
export async function* hostRosters(store: Store, host: string): AsyncIterable<RosterEntry> {
  for await (const [k, item] of store.entries<RosterItem>(ROSTER, { prefix: [host] })) yield { owner: { host: k[0], user: k[1] }, contact: k[2], item };
}

/** How many roster items a host holds. */
export async function countHostItems(store: Store, host: string): Promise<number> {
  let n = 0;
  for await (const _ of store.keys(ROSTER, { prefix: [host] })) n++;
  return n;
}

export function rosterItemDelOp(owner: BareJid, contact: string): BatchOp {
  return { type: 'del', table: ROSTER, key: rosterKey(owner, contact) };
}

/** The users' own rosters; the items naming the users in other rosters stay, as in ejabberd. */
export async function usersRows(store: Store, jids: readonly BareJid[]): Promise<BatchOp[]> {
  return (await usersKeys(store, ROSTER, jids)).map((key) => ({ type: 'del', table: ROSTER, key }));
}

/** Checks a roster item that comes from elsewhere (a dump line, an import). */
export function decodeRosterItem(value: unknown, where = 'roster item'): RosterItem {
  const bad = (field: string, want: string): never => {
    throw new Error(`${where}: ${field} must be ${want}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('the record', 'an object');
  const v = value as Record<string, unknown>;
  if (typeof v.name !== 'string') bad('name', 'text');
  if (!(SUBSCRIPTIONS as readonly unknown[]).includes(v.subscription)) bad('subscription', SUBSCRIPTIONS.map((s) => `'${s}'`).join(', '));
  if (!(ASKS as readonly unknown[]).includes(v.ask)) bad('ask', ASKS.map((s) => `'${s}'`).join(', '));
  if ('approved' in v && v.approved !== true) bad('approved', 'true, or absent');
  if (v.approved === true && hasFrom(v.subscription as Subscription)) bad('approved', "absent when the subscription is 'from' or 'both'");
  const groups = v.groups;
  if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string')) return bad('groups', 'a list of texts');
  const sorted = normalGroups(groups as string[]);
  if (sorted.length !== groups.length || sorted.some((g, i) => g !== groups[i])) bad('groups', 'sorted by their bytes, without duplicates');
  return value as RosterItem;
}

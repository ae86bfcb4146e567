import type { BareJid } from '../../lib/jid';
import type { BatchOp, Key, Store } from '../../storage/types';
import { usersKeys } from '../accounts/records';

/**
 * Privacy lists (XEP-0016): `[host, user, 'list', name]` → PrivacyList, and
 * `[host, user, 'default']` → PrivacyDefault, the name of the user's default list. Active
 * lists belong to sessions and are not stored.
 */
export const PRIVACY = 'privacy';

export const NS_PRIVACY = 'jabber:iq:privacy';

export const PRIVACY_STANZAS = ['message', 'iq', 'presence-in', 'presence-out'] as const;
/** What a privacy item blocks or allows; no element in the item means every kind. */
export type PrivacyStanza = (typeof PRIVACY_STANZAS)[number];

export const PRIVACY_SUBSCRIPTIONS = ['none', 'to', 'from', 'both'] as const;
export const PRIVACY_TYPES = ['jid', 'group', 'subscription'] as const;
export type PrivacyType = (typeof PRIVACY_TYPES)[number];

/** The largest order of an item: XEP-0016's unsignedInt. */
export const MAX_PRIVACY_ORDER = 4294967295;

/** One `<item/>` of a list, as stored. */
export interface PrivacyItem {
  /** Absent: the fall-through item, which matches everyone. */
  readonly type?: PrivacyType;
  /** A normalised JID for `jid`; a group name; none, to, from or both for `subscription`. */
  readonly value?: string;
  readonly action: 'allow' | 'deny';
  /** Items are applied in ascending order; unique within a list. */
  readonly order: number;
  /** The stanza kinds the item applies to; empty means all of them. */
  readonly stanzas: readonly PrivacyStanza[];
}

/** A list, its items sorted by order. */
export interface PrivacyList {
  readonly name: string;
  readonly items: readonly PrivacyItem[];
}

export interface PrivacyDefault {
  readonly name: string;
}

export function privacyListKey(jid: BareJid, name: string): Key {
  return [jid.host, jid.user, 'list', name];
}

export function privacyDefaultKey(jid: BareJid): Key {
  return [jid.host, jid.user, 'default'];
}

export function readPrivacyList(store: Store, jid: BareJid, name: string): Promise<PrivacyList | undefined> {
  return store.get<PrivacyList>(PRIVACY, privacyListKey(jid, name));
}

/** A user's lists, by name in byte order. */
export async function readPrivacyLists(store: Store, jid: BareJid): Promise<PrivacyList[]> {
  const lists: PrivacyList[] = [];
  for await (const [k, list] of store.entries<PrivacyList>(PRIVACY, { prefix: [jid.host, jid.user, 'list'] })) {
    if (k.length === 4) lists.push(list);
  }
  return lists;
}

/** The name of the user's default list, if there is one. */
export async function readPrivacyDefault(store: Store, jid: BareJid): Promise<string | undefined> {
  return (await store.get<PrivacyDefault>(PRIVACY, privacyDefaultKey(jid)))?.name;
}

/** One record of the privacy table: a user's default list, or one of the user's lists. */
export type PrivacyEntry =
  { readonly jid: BareJid; readonly kind: 'default'; readonly name: string } | { readonly jid: BareJid; readonly kind: 'list'; readonly list: PrivacyList };

/** Every record of a host in key order: by user, each user's default before the lists by name. */
export async function* hostPrivacy(store: Store, host: string): AsyncIterable<PrivacyEntry> {
  for await (const [k, v] of store.entries<PrivacyList | PrivacyDefault>(PRIVACY, { prefix: [host] })) {
    const jid = { host: k[0], user: k[1] };
    if (k.length === 3 && k[2] === 'default') yield { jid, kind: 'default', name: v.name };
    else if (k.length === 4 && k[2] === 'list') yield { jid, kind: 'list', list: v as PrivacyList };
  }
}

export function privacyListOps(jid: BareJid, list: PrivacyList): BatchOp[] {
  return [{ type: 'put', table: PRIVACY, key: privacyListKey(jid, list.name), value: list }];
}

/** Makes `name` the default list, or clears the default (null). */
export function privacyDefaultOps(jid: BareJid, name: string | null): BatchOp[] {
  const key = privacyDefaultKey(jid);
  return [name === null ? { type: 'del', table: PRIVACY, key } : { type: 'put', table: PRIVACY, key, value: { name } satisfies PrivacyDefault }];
}

export function privacyListRemovalOps(jid: BareJid, name: string): BatchOp[] {
  return [{ type: 'del', table: PRIVACY, key: privacyListKey(jid, name) }];
}

export async function usersRows(store: Store, jids: readonly BareJid[]): Promise<BatchOp[]> {
  return (await usersKeys(store, PRIVACY, jids)).map((key) => ({ type: 'del', table: PRIVACY, key }));
}

/** Checks a list that comes from elsewhere (a dump line, an import). */
export function decodePrivacyList(value: unknown, where = 'privacy list'): PrivacyList {
  const bad = (field: string, want: string): never => {
    throw new Error(`${where}: ${field} must be ${want}`);
  };
  if (!isObject(value)) return bad('the record', 'an object');
  if (typeof value.name !== 'string' || value.name === '') bad('name', 'non-empty text');
  if (!Array.isArray(value.items)) return bad('items', 'a list');
  const orders = new Set<number>();
  value.items.forEach((item: unknown, i) => {
    const at = `items[${i}]`;
    if (!isObject(item)) return bad(at, 'an object');
    if (item.action !== 'allow' && item.action !== 'deny') bad(`${at}.action`, "'allow' or 'deny'");
    const order = item.order;
    if (typeof order !== 'number' || !Number.isInteger(order) || order < 0 || order > MAX_PRIVACY_ORDER)
      bad(`${at}.order`, `a whole number from 0 to ${MAX_PRIVACY_ORDER}`);
    if (orders.has(order as number)) bad(`${at}.order`, 'unique in the list');
    orders.add(order as number);
    if (!Array.isArray(item.stanzas) || !item.stanzas.every((s) => (PRIVACY_STANZAS as readonly unknown[]).includes(s))) {
      bad(`${at}.stanzas`, `a list of ${PRIVACY_STANZAS.join(', ')}`);
    }
    if (item.type === undefined) {
      if (item.value !== undefined) bad(`${at}.value`, 'absent when there is no type');
    } else if (!(PRIVACY_TYPES as readonly unknown[]).includes(item.type)) {
      bad(`${at}.type`, PRIVACY_TYPES.join(', '));
    } else if (typeof item.value !== 'string' || item.value === '') {
      bad(`${at}.value`, 'non-empty text');
    } else if (item.type === 'subscription' && !(PRIVACY_SUBSCRIPTIONS as readonly string[]).includes(item.value)) {
      bad(`${at}.value`, PRIVACY_SUBSCRIPTIONS.join(', '));
    }
  });
  return value as unknown as PrivacyList;
}

/** Checks a default list record that comes from elsewhere. */
export function decodePrivacyDefault(value: unknown, where = 'default privacy list'): PrivacyDefault {
  if (!isObject(value) || typeof value.name !== 'string' || value.name === '') throw new Error(`${where}: name must be non-empty text`);
  return value as unknown as PrivacyDefault;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

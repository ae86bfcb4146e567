import type { BareJid } from '../../lib/jid';
import type { JsonText } from '../../storage/json';
import type { BatchOp, Key, Store } from '../../storage/types';
import { usersKeys } from '../accounts/records';

/** `[host, user, namespace]` → PrivateRecord: private XML storage (XEP-0049). */
export const PRIVATE = 'private';

/** The namespace of the private storage query, `<query xmlns='jabber:iq:private'/>`. */
export const NS_PRIVATE = 'jabber:iq:private';

/**
 * Namespaces that are the protocol itself, never data a client may store (XEP-0049); every
 * way in (a client, an admin command, an import) refuses them.
 */
export const RESERVED_PRIVATE_NAMESPACES: readonly string[] = ['jabber:client', 'jabber:server', NS_PRIVATE];

export function isReservedPrivateNamespace(ns: string): boolean {
  return RESERVED_PRIVATE_NAMESPACES.includes(ns);
}

/** One element, serialised, stored under its namespace. */
export interface PrivateRecord {
  readonly xml: string;
}

export function privateKey(jid: BareJid, namespace: string): Key {
  return [jid.host, jid.user, namespace];
}

export function readPrivate(store: Store, jid: BareJid, namespace: string): Promise<PrivateRecord | undefined> {
  return store.get<PrivateRecord>(PRIVATE, privateKey(jid, namespace));
}

export interface PrivateEntry {
  readonly jid: BareJid;
  readonly namespace: string;
  readonly record: PrivateRecord;
}

/** A user's elements, by namespace in byte order. */
export async function readUserPrivate(store: Store, jid: BareJid): Promise<PrivateEntry[]> {
  const out: PrivateEntry[] = [];
  for await (const entry of entries(store, [jid.host, jid.user])) out.push(entry);
  return out;
}

/** Every element of a host, by user then namespace, in byte order. */
export function hostPrivate(store: Store, host: string): AsyncIterable<PrivateEntry> {
  return entries(store, [host]);
}

async function* entries(store: Store, prefix: Key): AsyncIterable<PrivateEntry> {
  for await (const [k, record] of store.entries<PrivateRecord>(PRIVATE, { prefix })) {
    yield { jid: { host: k[0], user: k[1] }, namespace: k[2], record };
  }
}

export function privateOps(jid: BareJid, namespace: string, rec: PrivateRecord | JsonText<PrivateRecord>): BatchOp[] {
  return [{ type: 'put', table: PRIVATE, key: privateKey(jid, namespace), value: rec }];
}

export async function usersRows(store: Store, jids: readonly BareJid[]): Promise<BatchOp[]> {
  return (await usersKeys(store, PRIVATE, jids)).map((key) => ({ type: 'del', table: PRIVATE, key }));
}

/** Checks a record that comes from elsewhere (a dump line, an import). */
export function decodePrivate(value: unknown, where = 'private storage', namespace?: string): PrivateRecord {
  const v = value as Partial<Record<keyof PrivateRecord, unknown>> | null;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${where}: the record must be an object`);
  if (typeof v.xml !== 'string') throw new Error(`${where}: xml must be text`);
  const el = (require('../../lib/xml') as typeof import('../../lib/xml')).storedElement(v.xml);
  if (typeof el === 'string') throw new Error(`${where}: xml is ${el}`);
  // Stored under its namespace: the element of another one would answer for the wrong query.
  if (namespace !== undefined && el.getNS() !== namespace) throw new Error(`${where}: xml must be an element in the namespace ${namespace}`);
  if (namespace !== undefined && isReservedPrivateNamespace(namespace)) throw new Error(`${where}: ${namespace} is reserved: private storage refuses it`);
  return v as PrivateRecord;
}

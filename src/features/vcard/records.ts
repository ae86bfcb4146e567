import type { BareJid } from '../../lib/jid';
import type { JsonText } from '../../storage/json';
import type { BatchOp, Key, Store } from '../../storage/types';

/** `[host, user]` → VcardRecord (vcard-temp, XEP-0054). */
export const VCARD = 'vcard';

/** The namespace of a vCard's root element, `<vCard xmlns='vcard-temp'/>`. */
export const NS_VCARD = 'vcard-temp';

/** The vCard serialised exactly as an XMPP client will receive it. */
export interface VcardRecord {
  readonly xml: string;
}

export function vcardKey(jid: BareJid): Key {
  return [jid.host, jid.user];
}

export function readVcard(store: Store, jid: BareJid): Promise<VcardRecord | undefined> {
  return store.get<VcardRecord>(VCARD, vcardKey(jid));
}

/** Every vCard of a host, in the byte order of the user names. */
export async function* hostVcards(store: Store, host: string): AsyncIterable<[BareJid, VcardRecord]> {
  for await (const [k, rec] of store.entries<VcardRecord>(VCARD, { prefix: [host] })) yield [{ host: k[0], user: k[1] }, rec];
}

export function vcardOps(jid: BareJid, rec: VcardRecord | JsonText<VcardRecord>): BatchOp[] {
  return [{ type: 'put', table: VCARD, key: vcardKey(jid), value: rec }];
}

export async function usersRows(_store: Store, jids: readonly BareJid[]): Promise<BatchOp[]> {
  return jids.map((jid) => ({ type: 'del', table: VCARD, key: vcardKey(jid) }));
}

/** Checks a record that comes from elsewhere (a dump line, an import). */
export function decodeVcard(value: unknown, where = 'vCard'): VcardRecord {
  const v = value as Partial<Record<keyof VcardRecord, unknown>> | null;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${where}: the record must be an object`);
  if (typeof v.xml !== 'string') throw new Error(`${where}: xml must be text`);
  // What the node serves and exports must read back as the vCard it is.
  const card = (require('../../lib/xml') as typeof import('../../lib/xml')).storedElement(v.xml);
  if (typeof card === 'string') throw new Error(`${where}: xml is ${card}`);
  if (card.getNS() !== NS_VCARD) throw new Error(`${where}: xml must be a vCard in the namespace ${NS_VCARD}, not <${card.getName()}>`);
  return v as VcardRecord;
}

import type { BareJid } from '../../lib/jid';
import type { BatchOp, Key, Store } from '../../storage/types';

/** `[host, user]` → LastRecord: when the user was last seen (XEP-0012). */
export const LAST = 'last';

export interface LastRecord {
  /** Seconds since the epoch. */
  readonly timestamp: number;
  readonly status: string;
}

export function lastKey(jid: BareJid): Key {
  return [jid.host, jid.user];
}

export function readLast(store: Store, jid: BareJid): Promise<LastRecord | undefined> {
  return store.get<LastRecord>(LAST, lastKey(jid));
}

/** The records of `jids`, in their order (undefined for a user never seen). */
export function readLasts(store: Store, jids: readonly BareJid[]): Promise<(LastRecord | undefined)[]> {
  return store.getMany<LastRecord>(LAST, jids.map(lastKey));
}

/** Every record of a host, in the byte order of the user names. */
export async function* hostLasts(store: Store, host: string): AsyncIterable<[BareJid, LastRecord]> {
  for await (const [k, rec] of store.entries<LastRecord>(LAST, { prefix: [host] })) yield [{ host: k[0], user: k[1] }, rec];
}

export function lastOps(jid: BareJid, rec: LastRecord): BatchOp[] {
  return [{ type: 'put', table: LAST, key: lastKey(jid), value: rec }];
}

export async function usersRows(_store: Store, jids: readonly BareJid[]): Promise<BatchOp[]> {
  return jids.map((jid) => ({ type: 'del', table: LAST, key: lastKey(jid) }));
}

/** Checks a record that comes from elsewhere (a dump line, an import). */
export function decodeLast(value: unknown, where = 'last activity'): LastRecord {
  const v = value as Partial<Record<keyof LastRecord, unknown>> | null;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${where}: the record must be an object`);
  if (typeof v.timestamp !== 'number' || !Number.isInteger(v.timestamp) || v.timestamp < 0 || v.timestamp > 253_402_300_799)
    throw new Error(`${where}: timestamp must be seconds since 1970, at most 253402300799 (9999-12-31 23:59:59 UTC)`);
  if (typeof v.status !== 'string') throw new Error(`${where}: status must be text`);
  return v as LastRecord;
}

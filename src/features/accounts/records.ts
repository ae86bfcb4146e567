import type { BareJid } from '../../lib/jid';
import type { JsonText } from '../../storage/json';
import { ownersRows } from '../../storage/owners';
import type { BatchOp, Key, Store } from '../../storage/types';
import { MAX_SCRAM_ITERATIONS, type Secret } from './secret';

export { MAX_PASSWORD_BYTES } from './secret';

/** `[host, user]` → AccountRecord. */
export const PASSWD = 'passwd';

export interface AccountRecord {
  readonly secret: Secret;
  /** Seconds since the epoch. */
  readonly created: number;
  /** `at`: seconds since the epoch. */
  readonly banned?: { readonly reason: string; readonly at: number };
}

export function accountKey(jid: BareJid): Key {
  return [jid.host, jid.user];
}

export function readAccount(store: Store, jid: BareJid): Promise<AccountRecord | undefined> {
  return store.get<AccountRecord>(PASSWD, accountKey(jid));
}

/** The accounts of `jids`, in their order (undefined where there is none). */
export function readAccounts(store: Store, jids: readonly BareJid[]): Promise<(AccountRecord | undefined)[]> {
  return store.getMany<AccountRecord>(PASSWD, jids.map(accountKey));
}

export function accountOps(jid: BareJid, rec: AccountRecord | JsonText<AccountRecord>): BatchOp[] {
  return [{ type: 'put', table: PASSWD, key: accountKey(jid), value: rec }];
}

/** Every account of a host, in the byte order of the user names (ejabberd's order). */
export async function* hostAccounts(store: Store, host: string): AsyncIterable<[BareJid, AccountRecord]> {
  for await (const [k, rec] of store.entries<AccountRecord>(PASSWD, { prefix: [host] })) yield [{ host: k[0], user: k[1] }, rec];
}

/** The user names of a host, in byte order. */
export async function* hostUsers(store: Store, host: string): AsyncIterable<BareJid> {
  for await (const k of store.keys(PASSWD, { prefix: [host] })) yield { host: k[0], user: k[1] };
}

/** At most `limit` accounts of a host whose user names come after `after`, in byte order. */
export async function hostUsersPage(store: Store, host: string, after: string | undefined, limit: number): Promise<BareJid[]> {
  const page: BareJid[] = [];
  const range = after === undefined ? { prefix: [host], limit } : { prefix: [host], gt: [host, after], limit };
  for await (const k of store.keys(PASSWD, range)) page.push({ host: k[0], user: k[1] });
  return page;
}

export async function usersRows(_store: Store, jids: readonly BareJid[]): Promise<BatchOp[]> {
  return jids.map((jid) => ({ type: 'del', table: PASSWD, key: accountKey(jid) }));
}

/**
 * The keys of `table`, keyed `[host, user, ...]`, that belong to these accounts: a few reads of
 * the range they span rather than one per account (see `ownersRows`).
 */
export async function usersKeys(store: Store, table: string, jids: readonly BareJid[]): Promise<Key[]> {
  const keys: Key[] = [];
  for await (const [k] of ownersRows(
    store,
    table,
    jids.map((j) => [j.host, j.user]),
  ))
    keys.push(k);
  return keys;
}

/** Checks an account record that comes from elsewhere (a dump line, an import). */
export function decodeAccount(value: unknown, where = 'account'): AccountRecord {
  const bad = (field: string, want: string): never => {
    throw new Error(`${where}: ${field} must be ${want}`);
  };
  if (!isObject(value)) return bad('the record', 'an object');
  if (!isSeconds(value.created)) bad('created', 'seconds since 1970');
  const secret = value.secret;
  if (!isObject(secret)) return bad('secret', 'an object');
  if (secret.format === 'plain') {
    if (typeof secret.password !== 'string') bad('secret.password', 'text');
  } else if (secret.format === 'scram') {
    if (secret.hash !== 'sha1') bad('secret.hash', "'sha1'");
    checkKeys(secret, 'secret', bad);
    if (secret.sha256 !== undefined) {
      if (!isObject(secret.sha256)) return bad('secret.sha256', 'an object');
      checkKeys(secret.sha256, 'secret.sha256', bad);
    }
  } else {
    bad('secret.format', "'plain' or 'scram'");
  }
  if (value.banned !== undefined) {
    const banned = value.banned;
    if (!isObject(banned)) return bad('banned', 'an object');
    if (typeof banned.reason !== 'string') bad('banned.reason', 'text');
    if (!isSeconds(banned.at)) bad('banned.at', 'seconds since 1970');
  }
  return value as unknown as AccountRecord;
}

function checkKeys(keys: Record<string, unknown>, at: string, bad: (field: string, want: string) => never): void {
  const n = keys.iterations;
  if (!Number.isInteger(n) || (n as number) <= 0 || (n as number) > MAX_SCRAM_ITERATIONS)
    bad(`${at}.iterations`, `a whole number from 1 to ${MAX_SCRAM_ITERATIONS}`);
  for (const f of ['salt', 'storedKey', 'serverKey'] as const) if (typeof keys[f] !== 'string') bad(`${at}.${f}`, 'base64 text');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isSeconds(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

import { createHash } from 'node:crypto';
import type { BareJid } from '../../lib/jid';
import { usersKeys } from '../accounts/records';
import type { BatchOp, Key, Store } from '../../storage/types';

/** `[sha256(token) in hex]` → TokenRecord: bearer tokens for the HTTP API and XML-RPC. */
export const API_TOKENS = 'api_tokens';
/** `[host, user, sha256(token) in hex]` → 1: an account's tokens, so that they go with it. */
export const API_TOKENS_BY_ACCOUNT = 'api_tokens_by_account';

/** A token, stored by the SHA-256 of the token alone. */
export interface TokenRecord {
  /** `user@host`. */
  readonly jid: string;
  /** Seconds since the epoch. */
  readonly created: number;
  /** Seconds since the epoch; absent: never. */
  readonly expires?: number;
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function tokenKey(hash: string): Key {
  return [hash];
}

/** The account a record stands for. */
export function tokenOwner(rec: TokenRecord): BareJid {
  const at = rec.jid.indexOf('@');
  return { user: rec.jid.slice(0, at), host: rec.jid.slice(at + 1) };
}

export function readToken(store: Store, hash: string): Promise<TokenRecord | undefined> {
  return store.get<TokenRecord>(API_TOKENS, tokenKey(hash));
}

/** Every token, by hash. */
export async function* allTokens(store: Store, range: { gte?: string; lt?: string } = {}): AsyncIterable<[string, TokenRecord]> {
  const bounds = { ...(range.gte === undefined ? {} : { gte: [range.gte] }), ...(range.lt === undefined ? {} : { lt: [range.lt] }) };
  for await (const [k, rec] of store.entries<TokenRecord>(API_TOKENS, bounds)) yield [k[0], rec];
}

/** A token and its index row. */
export function tokenOps(hash: string, rec: TokenRecord): BatchOp[] {
  return [
    { type: 'put', table: API_TOKENS, key: tokenKey(hash), value: rec },
    { type: 'put', table: API_TOKENS_BY_ACCOUNT, key: [...ownerPrefix(tokenOwner(rec)), hash], value: 1 },
  ];
}

export function tokenRemovalOps(hash: string, rec: TokenRecord): BatchOp[] {
  return [
    { type: 'del', table: API_TOKENS, key: tokenKey(hash) },
    { type: 'del', table: API_TOKENS_BY_ACCOUNT, key: [...ownerPrefix(tokenOwner(rec)), hash] },
  ];
}

function ownerPrefix(jid: BareJid): Key {
  return [jid.host, jid.user];
}

/** The hashes of an account's tokens. */
export async function accountTokens(store: Store, jid: BareJid): Promise<string[]> {
  const hashes: string[] = [];
  for await (const k of store.keys(API_TOKENS_BY_ACCOUNT, { prefix: ownerPrefix(jid) })) hashes.push(k[2]);
  return hashes;
}

export async function usersRows(store: Store, jids: readonly BareJid[]): Promise<BatchOp[]> {
  const ops: BatchOp[] = [];
  for (const k of await usersKeys(store, API_TOKENS_BY_ACCOUNT, jids)) {
    ops.push({ type: 'del', table: API_TOKENS, key: tokenKey(k[2]) }, { type: 'del', table: API_TOKENS_BY_ACCOUNT, key: k });
  }
  return ops;
}

/** Checks a record that comes from elsewhere (a dump line, an import). */
export function decodeToken(value: unknown, where = 'API token'): TokenRecord {
  const v = value as Partial<Record<keyof TokenRecord, unknown>> | null;
  // Up to 9999-12-31 23:59:59 UTC: a time every reader can show.
  const seconds = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 253_402_300_799;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${where}: the record must be an object`);
  if (typeof v.jid !== 'string' || v.jid.indexOf('@') <= 0) throw new Error(`${where}: jid must be user@host`);
  if (!seconds(v.created)) throw new Error(`${where}: created must be seconds since 1970`);
  if (v.expires !== undefined && !seconds(v.expires)) throw new Error(`${where}: expires must be seconds since 1970`);
  return v as TokenRecord;
}

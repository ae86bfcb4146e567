import { createHash, randomBytes } from 'node:crypto';
import { CommandError } from '../lib/errors';
import { TABLES } from '../storage/tables';
import type { BatchOp } from '../storage/types';
import type { AccountsService, ServiceDeps } from './accounts';

/** A bearer token for the HTTP API and XML-RPC, stored by the SHA-256 of the token alone. */
export interface TokenRecord {
  readonly jid: string;
  /** Seconds since the epoch. */
  readonly created: number;
  /** Seconds since the epoch; absent: never. */
  readonly expires?: number;
}

const ID_LENGTH = 12;
const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * API tokens (an addition of ctl's): created for an account, shown once, listed and revoked
 * by their id (the start of their hash), checked on every HTTP or XML-RPC call.
 */
export function createTokensService(deps: ServiceDeps, accounts: AccountsService) {
  const { store } = deps;
  const now = () => Math.floor(deps.clock() / 1000);
  const iso = (s: number) => new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

  return {
    async create(user: string, host: string, days: number): Promise<string> {
      if (days < 0) throw new CommandError('bad_argument', `The number of days (days) must not be negative, got ${days}`, { details: { arg: 'days' } });
      const j = accounts.jid(user, host);
      if (!(await accounts.exists(j.user, j.host))) throw new CommandError('not_found', `User ${j.id} does not exist`);
      const token = randomBytes(32).toString('base64url');
      const rec: TokenRecord = { jid: j.id, created: now(), ...(days > 0 ? { expires: now() + days * 86400 } : {}) };
      await store.put(TABLES.apiTokens, hash(token), rec);
      return token;
    },

    async list(): Promise<{ id: string; jid: string; created: string; expires: string }[]> {
      const out = [];
      for await (const [k, rec] of store.entries<TokenRecord>(TABLES.apiTokens)) {
        out.push({ id: k.slice(0, ID_LENGTH), jid: rec.jid, created: iso(rec.created), expires: rec.expires ? iso(rec.expires) : 'never' });
      }
      return out.sort((a, b) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : a.created < b.created ? -1 : 1));
    },

    async revoke(id: string): Promise<boolean> {
      if (!/^[0-9a-f]{12}$/.test(id)) throw new CommandError('bad_argument', `Invalid token id '${id}' (id): ids are the ${ID_LENGTH} hex digits api_token_list shows`, { details: { arg: 'id' } });
      const keys: string[] = [];
      for await (const k of store.keys(TABLES.apiTokens, { prefix: id })) keys.push(k);
      if (keys.length === 0) throw new CommandError('not_found', `No API token has the id ${id}`);
      await store.batch(keys.map((k) => ({ type: 'del', table: TABLES.apiTokens, key: k })));
      return true;
    },

    /** The account a token stands for, if it is valid now. */
    async verify(token: string): Promise<string | undefined> {
      const rec = await store.get<TokenRecord>(TABLES.apiTokens, hash(token));
      if (!rec || (rec.expires !== undefined && rec.expires <= now())) return undefined;
      return rec.jid;
    },

    /** A removed account's tokens go with it. */
    async removalOps(host: string, user: string): Promise<BatchOp[]> {
      const ops: BatchOp[] = [];
      for await (const [k, rec] of store.entries<TokenRecord>(TABLES.apiTokens)) {
        if (rec.jid === `${user}@${host}`) ops.push({ type: 'del', table: TABLES.apiTokens, key: k });
      }
      return ops;
    },
  };
}

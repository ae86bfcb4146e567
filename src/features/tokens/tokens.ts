import { randomBytes } from 'node:crypto';
import { CommandError, fieldError } from '../../lib/errors';
import { bareText, type BareJid } from '../../lib/jid';
import { checkDays } from '../../lib/days';
import type { Accounts } from '../accounts/accounts';
import { readAccount } from '../accounts/records';
import { accountLockKey, type FeatureDeps } from '../deps';
import { verifiedTokens } from './cache';
import { allTokens, readToken, tokenHash, tokenOps, tokenOwner, tokenRemovalOps, type TokenRecord } from './records';

/** How much of a token's hash names it in lists and revocations. */
export const TOKEN_ID_LENGTH = 12;

export interface TokenInfo {
  /** The start of the token's hash. */
  readonly id: string;
  readonly jid: BareJid;
  /** Seconds since the epoch. */
  readonly createdS: number;
  /** Seconds since the epoch; absent: never. */
  readonly expiresS?: number;
}

export interface Tokens {
  /** A new token for an existing account, valid `days` days (0: forever); shown only now. */
  create(jid: BareJid, days: number): Promise<string>;
  /** Every token, by account then age. */
  list(): Promise<TokenInfo[]>;
  /** Revokes the token(s) whose id is `id`. */
  revoke(id: string): Promise<void>;
  /** The account a token stands for, if it is valid now. */
  verify(token: string): Promise<BareJid | undefined>;
}

/**
 * API tokens (an addition of ctl's): created for an account, shown once, listed and revoked
 * by their id (the start of their hash), checked on every HTTP or XML-RPC call.
 */
export function createTokens(deps: FeatureDeps, accounts: Accounts): Tokens {
  const { store, events } = deps;
  const now = () => Math.floor(deps.clock() / 1000);
  const verified = verifiedTokens(events);
  // Features are built again after the database is replaced (restore, a restart that installs a
  // fallback): nothing verified before may be trusted by the new ones.
  verified.clear();

  return {
    async create(jid, days) {
      checkDays(days);
      return deps.locks.run(accountLockKey(jid), async () => {
        await accounts.requireUser(jid);
        const token = randomBytes(32).toString('base64url');
        const rec: TokenRecord = { jid: bareText(jid), created: now(), ...(days > 0 ? { expires: now() + days * 86400 } : {}) };
        await store.batch(tokenOps(tokenHash(token), rec));
        return token;
      });
    },

    async list() {
      const out: TokenInfo[] = [];
      for await (const [hash, rec] of allTokens(store)) {
        out.push({ id: hash.slice(0, TOKEN_ID_LENGTH), jid: tokenOwner(rec), createdS: rec.created, ...(rec.expires ? { expiresS: rec.expires } : {}) });
      }
      const text = new Map(out.map((t) => [t, bareText(t.jid)]));
      return out.sort((a, b) => {
        const ja = text.get(a) as string;
        const jb = text.get(b) as string;
        return ja < jb ? -1 : ja > jb ? 1 : a.createdS < b.createdS ? -1 : 1;
      });
    },

    async revoke(id) {
      if (!/^[0-9a-f]{12}$/.test(id)) {
        throw fieldError('bad_argument', 'id', (name) => `Invalid token id '${id}' (${name}): ids are the ${TOKEN_ID_LENGTH} hex digits api_token_list shows`);
      }
      const ops = [];
      const hashes: string[] = [];
      // Hex digits sort before `g`: this range holds exactly the hashes that start with the id.
      for await (const [hash, rec] of allTokens(store, { gte: id, lt: `${id}g` })) {
        ops.push(...tokenRemovalOps(hash, rec));
        hashes.push(hash);
      }
      if (ops.length === 0) throw new CommandError('not_found', `No API token has the id ${id}`);
      await store.batch(ops);
      // Heard by every instance over this bus, and relayed to the other nodes of a cluster.
      events.emit('api-tokens-revoked', { hashes });
    },

    async verify(token) {
      const hash = tokenHash(token);
      const known = verified.get(hash, now());
      if (known) return known;
      const mark = verified.mark();
      const rec = await readToken(store, hash);
      if (!rec || (rec.expires !== undefined && rec.expires <= now())) return undefined;
      const jid = tokenOwner(rec);
      // Tokens made before they were indexed by account may outlive it: the account must still be
      // the one the token was made for.
      const account = await readAccount(store, jid);
      if (account === undefined || account.created > rec.created) return undefined;
      verified.remember(hash, jid, rec.expires, mark);
      return jid;
    },
  };
}

import { CommandError } from '../lib/errors';
import type { Config } from '../config/config';
import type { Store, BatchOp } from '../storage/types';
import { key, prefix, splitKey } from '../storage/keys';
import { TABLES, USER_TABLES } from '../storage/tables';
import { nameprep, nodeprep } from '../lib/jid';
import { makeSecret, unusablePassword, verifySecret, type Secret } from './password';
import { createHash } from 'node:crypto';

export interface AccountRecord {
  readonly secret: Secret;
  /** Seconds since the epoch. */
  readonly created: number;
  readonly banned?: { readonly reason: string; readonly at: number };
}

export interface LastRecord {
  /** Seconds since the epoch. */
  readonly timestamp: number;
  readonly status: string;
}

export interface ServiceDeps {
  readonly store: Store;
  readonly config: Config;
  /** Milliseconds since the epoch; injected so tests control time. */
  readonly clock: () => number;
  /** Who is connected right now; without a node, nobody. */
  readonly isOnline?: (user: string, host: string) => boolean;
}

const MAX_PASSWORD_BYTES = 1024;

/** The deletions a service needs when a user goes, for rows not keyed by the user (indexes). */
export type RemovalHook = (host: string, user: string) => Promise<BatchOp[]>;

/**
 * Accounts: creation, passwords, removal with everything the user owns. `removalHooks` is asked
 * when a user goes: the services that keep index rows need the accounts service themselves.
 */
export function createAccountsService(deps: ServiceDeps, removalHooks: () => readonly RemovalHook[] = () => []) {
  const { store, config } = deps;
  const now = () => Math.floor(deps.clock() / 1000);
  const online = deps.isOnline ?? (() => false);

  /** Normalises and checks a host against the configuration. */
  function host(h: string): string {
    const name = nameprep(h);
    if (!config.hosts.includes(name)) {
      throw new CommandError(
        'not_found',
        `Unknown host '${h}': this node serves ${config.hosts.join(', ')} (hosts in ${config.file})`,
        { details: { arg: 'host' } },
      );
    }
    return name;
  }

  function jid(u: string, h: string): { user: string; host: string; id: string; k: string } {
    const user = nodeprep(u);
    const hh = host(h);
    return { user, host: hh, id: `${user}@${hh}`, k: key(hh, user) };
  }

  function checkPassword(password: string, argName: string): void {
    if (password.length === 0) throw new CommandError('bad_argument', `The password (${argName}) must not be empty`, { details: { arg: argName } });
    if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) {
      throw new CommandError('bad_argument', `The password (${argName}) is longer than ${MAX_PASSWORD_BYTES} bytes`, { details: { arg: argName } });
    }
  }

  async function account(j: { k: string }): Promise<AccountRecord | undefined> {
    return store.get<AccountRecord>(TABLES.passwd, j.k);
  }

  async function existing(u: string, h: string) {
    const j = jid(u, h);
    const rec = await account(j);
    if (!rec) throw new CommandError('not_found', `User ${j.id} does not exist`);
    return { ...j, rec };
  }

  /** Every record the user owns, in every table: what unregister deletes, in one batch. */
  async function ownedKeys(j: { host: string; user: string; k: string }): Promise<BatchOp[]> {
    const ops: BatchOp[] = [];
    for (const table of USER_TABLES) {
      ops.push({ type: 'del', table, key: j.k });
      for await (const k of store.keys(table, { prefix: prefix(j.host, j.user) })) ops.push({ type: 'del', table, key: k });
    }
    for (const hook of removalHooks()) ops.push(...(await hook(j.host, j.user)));
    return ops;
  }

  return {
    host,
    jid,

    async register(u: string, h: string, password: string): Promise<string> {
      const j = jid(u, h);
      checkPassword(password, 'password');
      if (await account(j)) throw new CommandError('conflict', `User ${j.id} already registered`);
      const rec: AccountRecord = { secret: await makeSecret(password, config.authPasswordFormat), created: now() };
      await store.put(TABLES.passwd, j.k, rec);
      return `User ${j.id} successfully registered`;
    },

    async unregister(u: string, h: string): Promise<string> {
      const j = await existing(u, h);
      await store.batch(await ownedKeys(j));
      return '';
    },

    async exists(u: string, h: string): Promise<boolean> {
      return (await account(jid(u, h))) !== undefined;
    },

    async changePassword(u: string, h: string, password: string): Promise<boolean> {
      checkPassword(password, 'newpass');
      const j = await existing(u, h);
      const rec: AccountRecord = { ...j.rec, secret: await makeSecret(password, config.authPasswordFormat), banned: undefined };
      await store.put(TABLES.passwd, j.k, rec);
      return true;
    },

    async checkPassword(u: string, h: string, password: string): Promise<boolean> {
      const rec = await account(jid(u, h));
      return rec !== undefined && !rec.banned && (await verifySecret(rec.secret, password));
    },

    async checkPasswordHash(u: string, h: string, hash: string, method: string): Promise<boolean> {
      const algorithm = ({ md5: 'md5', sha: 'sha1' } as Record<string, string>)[method.toLowerCase()];
      if (!algorithm) {
        throw new CommandError('bad_argument', `Unknown hash method '${method}' (hashmethod): use md5 or sha`, { details: { arg: 'hashmethod' } });
      }
      const j = jid(u, h);
      const rec = await account(j);
      if (!rec) return false;
      if (rec.secret.format !== 'plain') {
        throw new CommandError(
          'not_supported',
          `The password of ${j.id} is stored as SCRAM, so its hash cannot be compared: check_password_hash needs auth_password_format: plain`,
        );
      }
      const actual = createHash(algorithm).update(rec.secret.password).digest('hex');
      return !rec.banned && actual === hash.toLowerCase();
    },

    async ban(u: string, h: string, reason: string): Promise<boolean> {
      const j = await existing(u, h);
      const rec: AccountRecord = {
        ...j.rec,
        secret: await makeSecret(unusablePassword(), config.authPasswordFormat),
        banned: { reason: reason || 'Kicked by administrator', at: now() },
      };
      await store.put(TABLES.passwd, j.k, rec);
      return true;
    },

    /** User names of a host, sorted by their bytes as ejabberd sorts them. */
    async registeredUsers(h: string): Promise<string[]> {
      const users: string[] = [];
      for await (const k of store.keys(TABLES.passwd, { prefix: prefix(host(h)) })) users.push(splitKey(k)[1]);
      return users;
    },

    /** How many accounts a host has, or all hosts together. */
    async countUsers(onlyHost?: string): Promise<number> {
      let n = 0;
      for (const h of onlyHost === undefined ? config.hosts : [host(onlyHost)]) {
        for await (const _ of store.keys(TABLES.passwd, { prefix: prefix(h) })) n++;
      }
      return n;
    },

    /** Removes users idle for more than `days` days, or never seen; connected users stay. */
    async deleteOldUsers(days: number, onlyHost?: string): Promise<string> {
      checkDays(days);
      const hosts = onlyHost === undefined ? config.hosts : [host(onlyHost)];
      const cutoff = now() - days * 86400;
      const deleted: string[] = [];
      for (const hh of hosts) {
        for await (const k of store.keys(TABLES.passwd, { prefix: prefix(hh) })) {
          const user = splitKey(k)[1];
          if (online(user, hh)) continue;
          const last = await store.get<LastRecord>(TABLES.last, k);
          if (last && last.timestamp >= cutoff) continue;
          await store.batch(await ownedKeys({ host: hh, user, k }));
          deleted.push(`${user}@${hh}`);
        }
      }
      return deleted.length === 0 ? 'Deleted 0 users' : `Deleted ${deleted.length} users: ${deleted.join(', ')}`;
    },

    /** Users whose last activity is within the last `days` days. */
    async numActiveUsers(h: string, days: number): Promise<number> {
      checkDays(days);
      const cutoff = now() - days * 86400;
      let n = 0;
      for await (const [, last] of store.entries<LastRecord>(TABLES.last, { prefix: prefix(host(h)) })) {
        if (last.timestamp >= cutoff) n++;
      }
      return n;
    },

    async convertToScram(h: string): Promise<boolean> {
      const hh = host(h);
      const ops: BatchOp[] = [];
      for await (const [k, rec] of store.entries<AccountRecord>(TABLES.passwd, { prefix: prefix(hh) })) {
        if (rec.secret.format !== 'plain') continue;
        ops.push({ type: 'put', table: TABLES.passwd, key: k, value: { ...rec, secret: await makeSecret(rec.secret.password, 'scram') } });
      }
      await store.batch(ops);
      return true;
    },
  };
}

function checkDays(days: number): void {
  if (days < 0) throw new CommandError('bad_argument', `The number of days (days) must not be negative, got ${days}`, { details: { arg: 'days' } });
}

export type AccountsService = ReturnType<typeof createAccountsService>;

import { CommandError, fieldError } from '../../lib/errors';
import { checkDays } from '../../lib/days';
import { bareText, nameprep, nodeprep, type BareJid } from '../../lib/jid';
import type { BatchOp, Store } from '../../storage/types';
import { accountLockKey, type FeatureDeps } from '../deps';
import { hostLasts, readLasts } from '../last/records';
import { PASSWD, accountKey, accountOps, usersRows, hostAccounts, hostUsers, hostUsersPage, readAccount, readAccounts, type AccountRecord } from './records';
import {
  SCRAM_ITERATIONS,
  checkPasswordSize,
  deriveScramKeys,
  makeSecret,
  preparePassword,
  scramKeysOf,
  unusablePassword,
  verifySecret,
  type ScramHash,
  type ScramSecret,
  type Secret,
} from './secret';

export type { ScramHash } from './secret';

// Loaded on the first hash: a call that only looks an account up never needs it.
const crypto = () => require('node:crypto') as typeof import('node:crypto');

/** What the server side of a SCRAM exchange needs of an account (RFC 5802 §3). */
export interface ScramCredentials {
  readonly iterations: number;
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

/**
 * The deletions of everything one feature keeps for the accounts `jids`, with a few reads of the
 * range they span rather than one per account: removing thousands of accounts stays fast.
 */
export type UsersRows = (store: Store, jids: readonly BareJid[]) => Promise<BatchOp[]>;

/**
 * How many accounts delete_old_users examines, and removes, per atomic step. The store reads
 * each table once per step; a read of a table with nothing left for the host walks over the
 * previous steps' deletions (LevelDB keeps tombstones until it compacts), so steps grow with
 * what went already, which keeps that walk proportional to the accounts removed.
 */
function removalPage(removed: number): number {
  return Math.min(10_000, Math.max(1000, Math.floor(removed / 4)));
}

/** How many accounts the checks of accounts with sessions remember. */
const SEEN_KEPT = 100_000;

export interface Accounts {
  /** A host name prepared and checked against the configuration; errors name `field`. */
  host(name: string, field?: string): string;
  /** An account's JID from its parts, prepared; errors name the parts as in `fields`. */
  jid(user: string, host: string, fields?: { readonly user?: string; readonly host?: string }): BareJid;
  exists(jid: BareJid): Promise<boolean>;
  /** The one check that an account exists: throws `not_found` `User a@b does not exist`. */
  requireUser(jid: BareJid): Promise<void>;
  /** Which of `jids` have an account, in their order, with one read. */
  existing(jids: readonly BareJid[]): Promise<boolean[]>;
  /**
   * How many removals of accounts began and how many ended so far. A writer that checks accounts
   * without taking their locks compares these before its check and after its write: when a
   * removal ran meanwhile, it checks again under the locks.
   */
  removals(): { readonly started: number; readonly finished: number };
  register(jid: BareJid, password: string): Promise<void>;
  /** Removes the account and everything it owns, in one atomic step. */
  remove(jid: BareJid): Promise<void>;
  changePassword(jid: BareJid, password: string): Promise<void>;
  /** Leaves the account with a password nobody knows and the reason it was banned. */
  ban(jid: BareJid, reason: string): Promise<void>;
  checkPassword(jid: BareJid, password: string): Promise<boolean>;
  /**
   * The SCRAM keys an account can log in with by `hash`; undefined for no account, a banned one,
   * or one whose secret has no keys of that hash (set before SHA-256 keys were stored). A plain
   * password gets keys derived on the fly, with a salt that stays the same while the node runs.
   */
  scramCredentials(jid: BareJid, hash: ScramHash): Promise<ScramCredentials | undefined>;
  /** Compares the hex `hash` (`method` md5 or sha) of a plain password. */
  checkPasswordHash(jid: BareJid, hash: string, method: string): Promise<boolean>;
  /** User names of a prepared host, sorted by their bytes as ejabberd sorts them. */
  registeredUsers(host: string): Promise<string[]>;
  /** How many accounts a prepared host has, or all hosts together. */
  countUsers(host?: string): Promise<number>;
  /**
   * Removes the accounts idle for more than `days` days, or never seen, of one prepared host or
   * all; connected users stay. `onProgress` hears how many went so far. Resolves to those removed.
   */
  deleteOldUsers(days: number, host?: string, onProgress?: (removed: number) => void): Promise<BareJid[]>;
  /** Users of a prepared host whose last activity is within the last `days` days. */
  numActiveUsers(host: string, days: number): Promise<number>;
  /** Rewrites the plain passwords of a prepared host as SCRAM secrets. */
  convertToScram(host: string): Promise<void>;
}

/**
 * Accounts: creation, passwords, removal with everything the user owns. `owners` are the
 * other features that keep records for accounts, asked for their deletions when one goes.
 */
export function createAccounts(deps: FeatureDeps, owners: () => readonly UsersRows[] = () => []): Accounts {
  const { store, config, events, locks } = deps;
  const now = () => Math.floor(deps.clock() / 1000);
  const online = deps.isOnline ?? (() => false);
  // Salts for plain passwords: the same for an account each time it is asked, told nobody.
  let saltKey: Buffer | undefined;
  const plainSaltKey = () => (saltKey ??= crypto().randomBytes(32));
  let decoy: ScramSecret | undefined;
  const decoySecret = (): Secret =>
    config.authPasswordFormat === 'plain'
      ? { format: 'plain', password: '' }
      : (decoy ??= {
          format: 'scram',
          hash: 'sha1',
          iterations: SCRAM_ITERATIONS,
          salt: crypto().randomBytes(16).toString('base64'),
          storedKey: '',
          serverKey: '',
        });

  function host(name: string, field = 'host'): string {
    const prepared = nameprep(name, field);
    if (!config.hosts.includes(prepared)) {
      throw fieldError('not_found', field, () => `Unknown host '${name}': this node serves ${config.hosts.join(', ')} (hosts in ${config.file})`);
    }
    return prepared;
  }

  /**
   * Accounts read while no removal ran, until a removal of theirs begins. While such an account
   * has a session, its checks read nothing: the XMPP server's modules check the account of each
   * login again and again, a moment after its stream read it.
   */
  const seen = new Set<string>();
  const removals = { started: 0, finished: 0 };
  const live = (jid: BareJid) => online(jid) && seen.has(bareText(jid));

  async function read(jid: BareJid): Promise<AccountRecord | undefined> {
    const { started, finished } = removals;
    const rec = await readAccount(store, jid);
    if (rec && started === finished && removals.started === started) {
      const key = bareText(jid);
      seen.delete(key);
      if (seen.size >= SEEN_KEPT) seen.delete(seen.keys().next().value as string);
      seen.add(key);
    }
    return rec;
  }

  async function current(jid: BareJid): Promise<AccountRecord> {
    const rec = await read(jid);
    if (!rec) throw missing(jid);
    return rec;
  }

  /** Rewrites an existing account; the one whose record went meanwhile is not found. */
  async function rewrite(jid: BareJid, fn: (rec: AccountRecord) => AccountRecord): Promise<void> {
    await store.update<AccountRecord>(PASSWD, accountKey(jid), (rec) => {
      if (!rec) throw missing(jid);
      return fn(rec);
    });
  }

  /** Every record the accounts own, in every feature's tables. */
  async function ownedRows(jids: readonly BareJid[]): Promise<BatchOp[]> {
    const ops = await usersRows(store, jids);
    for (const rows of owners()) ops.push(...(await rows(store, jids)));
    return ops;
  }

  /** Writes the removal of accounts (under their locks), counted for the writers that do not take them. */
  async function removeRows(jids: readonly BareJid[]): Promise<void> {
    removals.started++;
    for (const jid of jids) seen.delete(bareText(jid));
    try {
      await store.batch(await ownedRows(jids));
    } finally {
      removals.finished++;
    }
  }

  /** Removes accounts together, under their locks so that no write to them slips in meanwhile. */
  async function removeAll(jids: readonly BareJid[]): Promise<void> {
    await underLocks(jids.map(accountLockKey), () => removeRows(jids));
    for (const jid of jids) events.emit('account-removed', { jid });
  }

  function underLocks<T>(keys: readonly string[], fn: () => Promise<T>, i = 0): Promise<T> {
    return i === keys.length ? fn() : locks.run(keys[i], () => underLocks(keys, fn, i + 1));
  }

  const hostsOf = (only?: string) => (only === undefined ? config.hosts : [only]);

  return {
    host,

    jid(user, h, fields = {}) {
      return { user: nodeprep(user, fields.user ?? 'user'), host: host(h, fields.host ?? 'host') };
    },

    async exists(jid) {
      return live(jid) || (await read(jid)) !== undefined;
    },

    async requireUser(jid) {
      if (!live(jid)) await current(jid);
    },

    async existing(jids) {
      return (await readAccounts(store, jids)).map((rec) => rec !== undefined);
    },

    removals: () => ({ ...removals }),

    async register(jid, password) {
      checkPasswordSize(password);
      if (await readAccount(store, jid)) throw taken(jid);
      const rec: AccountRecord = { secret: await makeSecret(password, config.authPasswordFormat), created: now() };
      await store.update<AccountRecord>(PASSWD, accountKey(jid), (existing) => {
        if (existing) throw taken(jid);
        return rec;
      });
      events.emit('account-registered', { jid });
    },

    async remove(jid) {
      await current(jid);
      await locks.run(accountLockKey(jid), async () => {
        await current(jid);
        await removeRows([jid]);
      });
      events.emit('account-removed', { jid });
    },

    async changePassword(jid, password) {
      checkPasswordSize(password);
      await current(jid);
      const secret = await makeSecret(password, config.authPasswordFormat);
      await rewrite(jid, ({ banned: _banned, ...rec }) => ({ ...rec, secret }));
      events.emit('password-changed', { jid });
    },

    async ban(jid, reason) {
      await current(jid);
      const secret = await makeSecret(unusablePassword(), config.authPasswordFormat);
      const banned = { reason: reason || 'Kicked by administrator', at: now() };
      await rewrite(jid, (rec) => ({ ...rec, secret, banned }));
      events.emit('account-banned', { jid, reason: banned.reason });
    },

    async checkPassword(jid, password) {
      const rec = await read(jid);
      // As long for a missing account as for one: the time a check takes tells no one which exist.
      const matches = await verifySecret(rec?.secret ?? decoySecret(), password);
      return rec !== undefined && !rec.banned && matches;
    },

    async scramCredentials(jid, hash) {
      const rec = await read(jid);
      if (!rec || rec.banned) {
        // Plain passwords have their keys derived here, at a cost: an account that cannot log in pays it too, so the time tells no one which exist.
        if (config.authPasswordFormat === 'plain') await deriveScramKeys('', hash, plainSaltKey().subarray(0, 16), SCRAM_ITERATIONS);
        return undefined;
      }
      if (rec.secret.format === 'plain') {
        const salt = crypto().createHmac('sha256', plainSaltKey()).update(`${hash}\0${jid.host}\0${jid.user}`).digest().subarray(0, 16);
        const keys = await deriveScramKeys(preparePassword(rec.secret.password), hash, salt, SCRAM_ITERATIONS);
        return { iterations: SCRAM_ITERATIONS, salt, ...keys };
      }
      const keys = scramKeysOf(rec.secret, hash);
      if (!keys) return undefined;
      return {
        iterations: keys.iterations,
        salt: Buffer.from(keys.salt, 'base64'),
        storedKey: Buffer.from(keys.storedKey, 'base64'),
        serverKey: Buffer.from(keys.serverKey, 'base64'),
      };
    },

    async checkPasswordHash(jid, hash, method) {
      const algorithm = hashAlgorithm(method);
      const rec = await readAccount(store, jid);
      if (!rec) return false;
      if (rec.secret.format !== 'plain') {
        throw new CommandError(
          'not_supported',
          `The password of ${bareText(jid)} is stored as SCRAM, so its hash cannot be compared: check_password_hash needs auth_password_format: plain`,
        );
      }
      const actual = crypto().createHash(algorithm).update(rec.secret.password).digest('hex');
      return !rec.banned && actual === hash.toLowerCase();
    },

    async registeredUsers(h) {
      const users: string[] = [];
      for await (const jid of hostUsers(store, h)) users.push(jid.user);
      return users;
    },

    async countUsers(only) {
      let n = 0;
      for (const h of hostsOf(only)) for await (const _ of hostUsers(store, h)) n++;
      return n;
    },

    async deleteOldUsers(days, only, onProgress = () => undefined) {
      checkDays(days);
      const cutoff = now() - days * 86400;
      const removed: BareJid[] = [];
      const sweep = async (candidates: readonly BareJid[]) => {
        const lasts = await readLasts(store, candidates);
        const idle = candidates.filter((jid, i) => !online(jid) && !((lasts[i]?.timestamp ?? -Infinity) >= cutoff));
        if (idle.length === 0) return;
        await removeAll(idle);
        removed.push(...idle);
        onProgress(removed.length);
      };
      for (const h of hostsOf(only)) {
        // Page by page, so that no reader stays open over the removals.
        for (let page = await hostUsersPage(store, h, undefined, removalPage(removed.length)); page.length > 0;) {
          await sweep(page);
          page = await hostUsersPage(store, h, page[page.length - 1].user, removalPage(removed.length));
        }
      }
      return removed;
    },

    async numActiveUsers(h, days) {
      checkDays(days);
      const cutoff = now() - days * 86400;
      let n = 0;
      for await (const [, last] of hostLasts(store, h)) if (last.timestamp >= cutoff) n++;
      return n;
    },

    async convertToScram(h) {
      const ops: BatchOp[] = [];
      for await (const [jid, rec] of hostAccounts(store, h)) {
        if (rec.secret.format !== 'plain') continue;
        ops.push(...accountOps(jid, { ...rec, secret: await makeSecret(rec.secret.password, 'scram') }));
      }
      await store.batch(ops);
    },
  };
}

/** The digest of a password-hash method (md5, sha). */
export function hashAlgorithm(method: string, field = 'method'): string {
  const algorithm = ({ md5: 'md5', sha: 'sha1' } as Record<string, string>)[method.toLowerCase()];
  if (!algorithm) throw fieldError('bad_argument', field, (name) => `Unknown hash method '${method}' (${name}): use md5 or sha`);
  return algorithm;
}

function missing(jid: BareJid): CommandError {
  return new CommandError('not_found', `User ${bareText(jid)} does not exist`);
}

function taken(jid: BareJid): CommandError {
  return new CommandError('conflict', `User ${bareText(jid)} already registered`);
}

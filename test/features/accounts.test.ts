import { createHash } from 'node:crypto';
import { defaultConfig, type Config } from '../../src/config/config';
import { createAccounts } from '../../src/features/accounts/accounts';
import { MAX_PASSWORD_BYTES, accountOps, decodeAccount, readAccount } from '../../src/features/accounts/records';
import { featureDeps, type FeatureDeps } from '../../src/features/deps';
import type { FeatureEvents } from '../../src/features/events';
import { lastOps, readLast, usersRows as lastRows } from '../../src/features/last/records';
import { CommandError, naming } from '../../src/lib/errors';
import type { BareJid } from '../../src/lib/jid';
import { createMemoryStore } from '../../src/storage/memory';
import type { BatchOp, Store } from '../../src/storage/types';

const NOW_S = 1_750_000_000;
const DAY = 86400;
const alice: BareJid = { user: 'alice', host: 'localhost' };
const bob: BareJid = { user: 'bob', host: 'localhost' };

function setup(config: Partial<Config> = {}, more: Partial<FeatureDeps> = {}) {
  const store = createMemoryStore();
  const batches: BatchOp[][] = [];
  const spied: Store = Object.assign(Object.create(store) as Store, {
    batch: (ops: readonly BatchOp[]) => (batches.push([...ops]), store.batch(ops)),
  });
  const deps = featureDeps({
    store: spied,
    config: { ...defaultConfig('/etc/ctl.yml'), authPasswordFormat: 'plain', ...config },
    clock: () => NOW_S * 1000,
    ...more,
  });
  const events: [keyof FeatureEvents, unknown][] = [];
  for (const e of ['account-registered', 'account-removed', 'account-banned', 'password-changed'] as const) {
    deps.events.on(e, (p) => void events.push([e, p]));
  }
  const accounts = createAccounts(deps, () => [lastRows]);
  return { store, accounts, batches, events };
}

async function failure(p: Promise<unknown> | (() => unknown)): Promise<CommandError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    if (err instanceof CommandError) return err;
    throw err;
  }
  throw new Error('did not fail');
}

describe('host and jid', () => {
  test('prepare the parts and check the host against the configuration', async () => {
    const { accounts } = setup({ hosts: ['localhost', 'example.org'] });
    expect(accounts.host('Example.ORG.')).toBe('example.org');
    expect(accounts.jid('Alice', 'LocalHost')).toEqual(alice);
    const err = await failure(() => accounts.host('nowhere.example', 'server'));
    expect([err.code, err.message, err.details?.arg]).toEqual([
      'not_found',
      "Unknown host 'nowhere.example': this node serves localhost, example.org (hosts in /etc/ctl.yml)",
      'server',
    ]);
    expect((await failure(() => accounts.jid('a b', 'localhost', { user: 'localuser' }))).message).toMatch(/^Invalid user name 'a b' \(localuser\)/);
  });
});

describe('register', () => {
  test('stores a secret, says nothing, and tells the node', async () => {
    const { store, accounts, events } = setup();
    await accounts.register(alice, 'pw');
    expect(await readAccount(store, alice)).toEqual({ secret: { format: 'plain', password: 'pw' }, created: NOW_S });
    expect(events).toEqual([['account-registered', { jid: alice }]]);
    expect(await accounts.exists(alice)).toBe(true);
    await expect(accounts.requireUser(bob)).rejects.toThrow('User bob@localhost does not exist');
  });

  test('refuses a taken name, an empty and an oversized password, naming the field', async () => {
    const { accounts } = setup();
    await accounts.register(alice, 'pw');
    expect((await failure(accounts.register(alice, 'other'))).message).toBe('User alice@localhost already registered');
    expect((await failure(accounts.register(bob, ''))).message).toBe('The password (password) must not be empty');
    const long = await failure(naming({ password: 'newpass' }, () => accounts.register(bob, 'x'.repeat(MAX_PASSWORD_BYTES + 1))));
    expect([long.code, long.message]).toEqual(['bad_argument', `The password (newpass) is longer than ${MAX_PASSWORD_BYTES} bytes`]);
    await accounts.register(bob, 'é'.repeat(MAX_PASSWORD_BYTES / 2));
  });

  test('of one name ten times at once succeeds exactly once', async () => {
    const { accounts, store } = setup();
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => accounts.register(alice, `pw${i}`)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const won = results.findIndex((r) => r.status === 'fulfilled');
    expect(await readAccount(store, alice)).toEqual({ secret: { format: 'plain', password: `pw${won}` }, created: NOW_S });
    for (const r of results) if (r.status === 'rejected') expect((r.reason as CommandError).code).toBe('conflict');
  });

  test('makes SCRAM secrets that check', async () => {
    const { accounts, store } = setup({ authPasswordFormat: 'scram' });
    await accounts.register(alice, 'pw');
    expect((await readAccount(store, alice))?.secret).toMatchObject({ format: 'scram', hash: 'sha1', iterations: 4096 });
    expect(await accounts.checkPassword(alice, 'pw')).toBe(true);
    expect(await accounts.checkPassword(alice, 'pW')).toBe(false);
  });

  test('stores SCRAM keys of both SHA-1 and SHA-256, each with its own salt, for every password it sets', async () => {
    const { accounts, store } = setup({ authPasswordFormat: 'scram' });
    const shape = (secret: unknown) => {
      const s = secret as { salt: string; storedKey: string; serverKey: string; sha256: { salt: string; storedKey: string; serverKey: string } };
      const len = (b64: string) => Buffer.from(b64, 'base64').length;
      return [len(s.salt), len(s.storedKey), len(s.serverKey), len(s.sha256.salt), len(s.sha256.storedKey), len(s.sha256.serverKey), s.salt === s.sha256.salt];
    };
    await accounts.register(alice, 'pw');
    const registered = (await readAccount(store, alice))?.secret;
    expect(registered).toMatchObject({ format: 'scram', hash: 'sha1', iterations: 4096, sha256: { iterations: 4096 } });
    expect(shape(registered)).toEqual([16, 20, 20, 16, 32, 32, false]);
    await accounts.changePassword(alice, 'new');
    expect(shape((await readAccount(store, alice))?.secret)).toEqual([16, 20, 20, 16, 32, 32, false]);
    await accounts.ban(alice, 'spam');
    expect(shape((await readAccount(store, alice))?.secret)).toEqual([16, 20, 20, 16, 32, 32, false]);
  });

  test('scramCredentials: the stored keys as bytes; none for a banned account, a missing one, or a hash an old record lacks', async () => {
    const { accounts, store } = setup({ authPasswordFormat: 'scram' });
    await accounts.register(alice, 'pw');
    const secret = (await readAccount(store, alice))!.secret as { salt: string; storedKey: string; sha256: { serverKey: string } };
    const sha1 = await accounts.scramCredentials(alice, 'sha1');
    expect([sha1?.iterations, sha1?.salt.toString('base64'), sha1?.storedKey.toString('base64')]).toEqual([4096, secret.salt, secret.storedKey]);
    expect((await accounts.scramCredentials(alice, 'sha256'))?.serverKey.toString('base64')).toBe(secret.sha256.serverKey);
    expect(await accounts.scramCredentials(bob, 'sha1')).toBeUndefined();
    const { sha256: _gone, ...old } = secret as unknown as Record<string, unknown>;
    await store.batch(accountOps(bob, { secret: old as never, created: 1 }));
    expect(await accounts.checkPassword(bob, 'pw')).toBe(true);
    expect(await accounts.scramCredentials(bob, 'sha256')).toBeUndefined();
    expect((await accounts.scramCredentials(bob, 'sha1'))?.storedKey.toString('base64')).toBe(secret.storedKey);
    await accounts.ban(alice, 'spam');
    expect(await accounts.scramCredentials(alice, 'sha1')).toBeUndefined();
    expect(await accounts.checkPassword(alice, 'pw')).toBe(false);
  });

  test('scramCredentials of a plain password: derived, with a salt that stays the same', async () => {
    const { accounts } = setup();
    await accounts.register(alice, 'pw');
    const a = await accounts.scramCredentials(alice, 'sha256');
    const b = await accounts.scramCredentials(alice, 'sha256');
    expect([a?.storedKey.length, a?.salt.length, a?.iterations]).toEqual([32, 16, 4096]);
    expect(b).toEqual(a);
    expect((await accounts.scramCredentials(alice, 'sha1'))?.storedKey.length).toBe(20);
  });
});

describe('decodeAccount', () => {
  const sha1 = { format: 'scram', hash: 'sha1', iterations: 4096, salt: 'c2FsdA==', storedKey: 'a2V5', serverKey: 'a2V5' };
  test('reads old SHA-1 records and new ones with SHA-256 keys', () => {
    expect(decodeAccount({ secret: sha1, created: 1 })).toEqual({ secret: sha1, created: 1 });
    const both = { ...sha1, sha256: { iterations: 4096, salt: 'c2FsdA==', storedKey: 'a2V5', serverKey: 'a2V5' } };
    expect(decodeAccount({ secret: both, created: 1 })).toEqual({ secret: both, created: 1 });
  });
  test('says which SHA-256 field is wrong', () => {
    expect(() => decodeAccount({ secret: { ...sha1, sha256: 'x' }, created: 1 }, 'line 3')).toThrow('line 3: secret.sha256 must be an object');
    expect(() => decodeAccount({ secret: { ...sha1, sha256: { iterations: 0, salt: '', storedKey: '', serverKey: '' } }, created: 1 })).toThrow(
      'account: secret.sha256.iterations must be a whole number from 1 to 1000000',
    );
    expect(() => decodeAccount({ secret: { ...sha1, sha256: { iterations: 1, salt: 's', storedKey: 2, serverKey: '' } }, created: 1 })).toThrow(
      'account: secret.sha256.storedKey must be base64 text',
    );
  });
});

describe('passwords', () => {
  test('changePassword lifts a ban; ban leaves a password nobody knows', async () => {
    const { accounts, store, events } = setup();
    await accounts.register(alice, 'pw');
    await accounts.ban(alice, '');
    expect(await readAccount(store, alice)).toMatchObject({ banned: { reason: 'Kicked by administrator', at: NOW_S } });
    expect(await accounts.checkPassword(alice, 'pw')).toBe(false);
    await accounts.changePassword(alice, 'new');
    expect(await readAccount(store, alice)).toEqual({ secret: { format: 'plain', password: 'new' }, created: NOW_S });
    expect(await accounts.checkPassword(alice, 'new')).toBe(true);
    expect(events.slice(1)).toEqual([
      ['account-banned', { jid: alice, reason: 'Kicked by administrator' }],
      ['password-changed', { jid: alice }],
    ]);
    expect((await failure(accounts.changePassword(bob, 'x'))).message).toBe('User bob@localhost does not exist');
    expect((await failure(accounts.ban(bob, 'x'))).code).toBe('not_found');
    expect(await accounts.checkPassword(bob, 'x')).toBe(false);
  });

  test('checkPasswordHash compares md5 and sha of plain passwords only', async () => {
    const { accounts } = setup();
    await accounts.register(alice, 'pw');
    const md5 = createHash('md5').update('pw').digest('hex');
    expect(await accounts.checkPasswordHash(alice, md5.toUpperCase(), 'MD5')).toBe(true);
    expect(await accounts.checkPasswordHash(alice, createHash('sha1').update('pw').digest('hex'), 'sha')).toBe(true);
    expect(await accounts.checkPasswordHash(alice, md5, 'sha')).toBe(false);
    expect(await accounts.checkPasswordHash(bob, md5, 'md5')).toBe(false);
    expect((await failure(accounts.checkPasswordHash(alice, md5, 'sha256'))).message).toBe("Unknown hash method 'sha256' (method): use md5 or sha");
    const { accounts: scram } = setup({ authPasswordFormat: 'scram' });
    await scram.register(alice, 'pw');
    expect((await failure(scram.checkPasswordHash(alice, md5, 'md5'))).code).toBe('not_supported');
  });

  test('concurrent rewrites of one account lose nothing', async () => {
    const { accounts, store } = setup();
    await accounts.register(alice, 'pw');
    await Promise.all([accounts.ban(alice, 'spam'), accounts.changePassword(alice, 'a'), accounts.ban(alice, 'again')]);
    const rec = await readAccount(store, alice);
    expect(rec?.created).toBe(NOW_S);
    expect(rec?.banned?.reason).toBe('again');
  });

  test('convertToScram rewrites the plain secrets of one host', async () => {
    const { accounts, store } = setup({ hosts: ['localhost', 'example.org'] });
    const carol = { user: 'carol', host: 'example.org' };
    for (const j of [alice, bob, carol]) await accounts.register(j, 'pw');
    await accounts.convertToScram('localhost');
    expect((await readAccount(store, alice))?.secret.format).toBe('scram');
    expect((await readAccount(store, carol))?.secret.format).toBe('plain');
    expect(await accounts.checkPassword(bob, 'pw')).toBe(true);
  });
});

describe('remove', () => {
  test('deletes the account and what the features keep for it in one batch', async () => {
    const { accounts, store, batches, events } = setup();
    await accounts.register(alice, 'pw');
    await accounts.register(bob, 'pw');
    await store.batch([...lastOps(alice, { timestamp: 1, status: '' }), ...lastOps(bob, { timestamp: 2, status: '' })]);
    batches.length = 0;
    await accounts.remove(alice);
    expect(batches).toHaveLength(1);
    expect([await readAccount(store, alice), await readLast(store, alice)]).toEqual([undefined, undefined]);
    expect(await readLast(store, bob)).toEqual({ timestamp: 2, status: '' });
    expect(events.at(-1)).toEqual(['account-removed', { jid: alice }]);
    expect((await failure(accounts.remove(alice))).message).toBe('User alice@localhost does not exist');
  });
});

describe('listing and counting', () => {
  test('registeredUsers sorts by bytes; countUsers counts one host or all', async () => {
    const { accounts } = setup({ hosts: ['localhost', 'example.org'] });
    for (const user of ['zed', 'Émile', 'adam', 'bob']) await accounts.register({ user: user.toLowerCase(), host: 'localhost' }, 'pw');
    await accounts.register({ user: 'x', host: 'example.org' }, 'pw');
    expect(await accounts.registeredUsers('localhost')).toEqual(['adam', 'bob', 'zed', 'émile']);
    expect([await accounts.countUsers(), await accounts.countUsers('localhost'), await accounts.countUsers('example.org')]).toEqual([5, 4, 1]);
  });

  test('numActiveUsers counts users seen within the days', async () => {
    const { accounts, store } = setup();
    await store.batch([...lastOps(alice, { timestamp: NOW_S - 2 * DAY, status: '' }), ...lastOps(bob, { timestamp: NOW_S - 40 * DAY, status: '' })]);
    expect([await accounts.numActiveUsers('localhost', 7), await accounts.numActiveUsers('localhost', 60)]).toEqual([1, 2]);
    expect((await failure(accounts.numActiveUsers('localhost', -1))).message).toBe('The number of days (days) must not be negative, got -1');
  });
});

describe('deleteOldUsers', () => {
  async function populate(store: Store, n: number, lastS?: (i: number) => number | undefined) {
    const ops: BatchOp[] = [];
    for (let i = 0; i < n; i++) {
      const jid = { user: `user${String(i).padStart(5, '0')}`, host: 'localhost' };
      ops.push(...accountOps(jid, { secret: { format: 'plain', password: 'pw' }, created: 1 }));
      const t = lastS?.(i);
      if (t !== undefined) ops.push(...lastOps(jid, { timestamp: t, status: '' }));
    }
    await store.batch(ops);
  }

  test('removes the idle and the never seen, keeps the recent and the connected, and says whom', async () => {
    const online = (j: BareJid) => j.user === 'user00003';
    const { accounts, store, events } = setup({}, { isOnline: online });
    await populate(store, 5, (i) => [NOW_S - 100 * DAY, NOW_S - DAY, undefined, undefined, NOW_S - 31 * DAY][i]);
    const removed = await accounts.deleteOldUsers(30);
    expect(removed).toEqual([
      { user: 'user00000', host: 'localhost' },
      { user: 'user00002', host: 'localhost' },
      { user: 'user00004', host: 'localhost' },
    ]);
    expect(await accounts.registeredUsers('localhost')).toEqual(['user00001', 'user00003']);
    expect(await readLast(store, { user: 'user00000', host: 'localhost' })).toBeUndefined();
    expect(events.filter(([e]) => e === 'account-removed')).toHaveLength(3);
    expect(await accounts.deleteOldUsers(30)).toEqual([]);
  });

  test('touches one host when asked', async () => {
    const { accounts, store } = setup({ hosts: ['localhost', 'example.org'] });
    await populate(store, 2);
    await accounts.register({ user: 'idle', host: 'example.org' }, 'pw');
    expect(await accounts.deleteOldUsers(0, 'example.org')).toEqual([{ user: 'idle', host: 'example.org' }]);
    expect(await accounts.countUsers()).toBe(2);
  });

  test('removes a thousand accounts per batch and reports its progress', async () => {
    const { accounts, store, batches } = setup();
    await populate(store, 2500, (i) => (i % 5 === 0 ? NOW_S : undefined));
    batches.length = 0;
    const progress: number[] = [];
    const removed = await accounts.deleteOldUsers(0, undefined, (n) => progress.push(n));
    expect(removed).toHaveLength(2000);
    expect(progress).toEqual([800, 1600, 2000]);
    expect(batches.map((b) => b.length)).toEqual([1600, 1600, 800]);
    expect(await accounts.countUsers()).toBe(500);
  });
});

describe('checks of accounts with sessions', () => {
  function withSessions() {
    const online = new Set<string>();
    const reads: string[] = [];
    const gate = { wait: Promise.resolve(), entered: () => undefined as void };
    const store = createMemoryStore();
    const spied: Store = Object.assign(Object.create(store) as Store, {
      get: <T>(table: string, key: readonly string[]) => (table === 'passwd' && reads.push(key.join('@')), store.get<T>(table, key)),
      batch: async (ops: readonly BatchOp[]) => {
        gate.entered();
        await gate.wait;
        return store.batch(ops);
      },
    });
    const deps = featureDeps({
      store: spied,
      config: { ...defaultConfig('/etc/ctl.yml'), authPasswordFormat: 'plain' },
      clock: () => NOW_S * 1000,
      isOnline: (jid) => online.has(jid.user),
    });
    return { accounts: createAccounts(deps, () => [lastRows]), online, reads, gate };
  }

  test('read nothing once the login read the account, while it has a session', async () => {
    const { accounts, online, reads } = withSessions();
    await accounts.register(alice, 'pw');
    online.add('alice');
    await expect(accounts.checkPassword(alice, 'pw')).resolves.toBe(true);
    reads.length = 0;
    await accounts.requireUser(alice);
    await expect(accounts.exists(alice)).resolves.toBe(true);
    expect(reads).toEqual([]);
    online.delete('alice');
    await accounts.requireUser(alice);
    expect(reads).toHaveLength(1);
  });

  test('see a removal at once, even while the account still has a session', async () => {
    const { accounts, online } = withSessions();
    await accounts.register(alice, 'pw');
    online.add('alice');
    await accounts.requireUser(alice);
    await accounts.remove(alice);
    await expect(accounts.exists(alice)).resolves.toBe(false);
    expect((await failure(accounts.requireUser(alice))).message).toBe('User alice@localhost does not exist');
    await accounts.register(alice, 'pw2');
    await expect(accounts.exists(alice)).resolves.toBe(true);
  });

  test('do not trust a read made while a removal ran', async () => {
    const { accounts, online, gate } = withSessions();
    await accounts.register(alice, 'pw');
    online.add('alice');
    let release!: () => void;
    gate.wait = new Promise((resolve) => (release = resolve));
    const writing = new Promise<void>((resolve) => (gate.entered = resolve));
    const removal = accounts.remove(alice);
    await writing;
    // The removal's write is under way: the account is still there to read.
    await expect(accounts.exists(alice)).resolves.toBe(true);
    release();
    await removal;
    await expect(accounts.exists(alice)).resolves.toBe(false);
  });
});

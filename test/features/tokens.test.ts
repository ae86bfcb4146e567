import { defaultConfig } from '../../src/config/config';
import { createAccounts } from '../../src/features/accounts/accounts';
import { featureDeps } from '../../src/features/deps';
import { API_TOKENS, accountTokens, allTokens, readToken, tokenHash, tokenKey, usersRows } from '../../src/features/tokens/records';
import { createTokens } from '../../src/features/tokens/tokens';
import type { BareJid } from '../../src/lib/jid';
import { createMemoryStore } from '../../src/storage/memory';
import type { Key, Range, Store } from '../../src/storage/types';
import { unsynced } from '../../src/storage/unsynced';
import { PASSWD } from '../../src/features/accounts/records';
import type { FeatureDeps } from '../../src/features/deps';
import type { FeatureEvents } from '../../src/features/events';
import { createEventBus } from '../../src/lib/events';
import { hearOtherNodes, VerifiedTokens } from '../../src/features/tokens/cache';

const alice: BareJid = { user: 'alice', host: 'localhost' };
const bob: BareJid = { user: 'bob', host: 'localhost' };
const DAY_MS = 86_400_000;

async function setup() {
  const store = createMemoryStore();
  const scans: string[] = [];
  const spied: Store = Object.assign(Object.create(store) as Store, {
    entries: (table: string, range?: Range) => (scans.push(table), store.entries(table, range)),
  });
  let now = Date.UTC(2025, 0, 1);
  const deps = featureDeps({ store: spied, config: { ...defaultConfig('/x'), authPasswordFormat: 'plain' }, clock: () => now });
  const accounts = createAccounts(deps, () => [usersRows]);
  for (const j of [alice, bob]) await accounts.register(j, 'pw');
  return { store, scans, accounts, tokens: createTokens(deps, accounts), at: (ms: number) => (now = ms) };
}

test('a token verifies as its account until it expires; the list shows ids only', async () => {
  const { store, tokens, at } = await setup();
  const forever = await tokens.create(alice, 0);
  const week = await tokens.create(bob, 7);
  expect(forever).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(await readToken(store, tokenHash(week))).toEqual({ jid: 'bob@localhost', created: 1735689600, expires: 1735689600 + 7 * 86400 });
  expect(await tokens.verify(forever)).toEqual(alice);
  expect(await tokens.verify(week)).toEqual(bob);
  expect(await tokens.verify('nonsense')).toBeUndefined();
  expect(await tokens.list()).toEqual([
    { id: tokenHash(forever).slice(0, 12), jid: alice, createdS: 1735689600 },
    { id: tokenHash(week).slice(0, 12), jid: bob, createdS: 1735689600, expiresS: 1735689600 + 7 * 86400 },
  ]);
  at(Date.UTC(2025, 0, 1) + 7 * DAY_MS);
  expect(await tokens.verify(week)).toBeUndefined();
  expect(await tokens.verify(forever)).toEqual(alice);
});

test('create refuses unknown accounts and negative days', async () => {
  const { tokens } = await setup();
  await expect(tokens.create({ user: 'carol', host: 'localhost' }, 1)).rejects.toThrow('User carol@localhost does not exist');
  await expect(tokens.create(alice, -1)).rejects.toThrow('The number of days (days) must not be negative, got -1');
});

test('revoke removes a token and its index row by id', async () => {
  const { store, tokens } = await setup();
  const token = await tokens.create(alice, 0);
  const [{ id }] = await tokens.list();
  await expect(tokens.revoke('xyz')).rejects.toThrow("Invalid token id 'xyz' (id): ids are the 12 hex digits api_token_list shows");
  await expect(tokens.revoke('000000000000')).rejects.toThrow('No API token has the id 000000000000');
  await tokens.revoke(id);
  expect(await tokens.verify(token)).toBeUndefined();
  expect(await accountTokens(store, alice)).toEqual([]);
  await expect(tokens.revoke(id)).rejects.toThrow(`No API token has the id ${id}`);
});

test("removing an account removes its tokens without reading anybody else's", async () => {
  const { store, scans, accounts, tokens } = await setup();
  const a = await tokens.create(alice, 0);
  const b = await tokens.create(bob, 0);
  scans.length = 0;
  await accounts.remove(alice);
  expect(scans).not.toContain(API_TOKENS);
  expect(await tokens.verify(a)).toBeUndefined();
  expect(await tokens.verify(b)).toEqual(bob);
  const left = [];
  for await (const [hash] of allTokens(store)) left.push(hash);
  expect(left).toEqual([tokenHash(b)]);
});

test('a token stored before tokens were indexed does not outlive its account', async () => {
  const { store, accounts, tokens, at } = await setup();
  const token = 'made-by-an-older-version';
  await store.put(API_TOKENS, tokenKey(tokenHash(token)), { jid: 'alice@localhost', created: 1735689600 });
  expect(await tokens.verify(token)).toEqual(alice);
  await accounts.remove(alice);
  expect(await tokens.verify(token)).toBeUndefined();
  at(Date.UTC(2025, 0, 2));
  await accounts.register(alice, 'pw');
  expect(await tokens.verify(token)).toBeUndefined();
});

describe('verified tokens are remembered, and forgotten as soon as they are no longer valid', () => {
  /** Features over one store and one bus, as a node's synced and bulk instances are. */
  async function node() {
    const store = createMemoryStore();
    const reads: string[] = [];
    let hold: Promise<void> | undefined;
    const counted: Store = {
      ...store,
      get: async <T>(table: string, key: Key) => {
        reads.push(table);
        const value = await store.get<T>(table, key);
        await hold;
        return value;
      },
    };
    let now = Date.UTC(2025, 0, 1);
    const config = { ...defaultConfig('/x'), authPasswordFormat: 'plain' as const };
    const deps = featureDeps({ store: counted, config, clock: () => now });
    const build = (d: FeatureDeps = deps) => {
      const accounts = createAccounts(d, () => [usersRows]);
      return { accounts, tokens: createTokens(d, accounts) };
    };
    const synced = build();
    const bulk = build({ ...deps, store: unsynced(counted) });
    await synced.accounts.register(alice, 'pw');
    await synced.accounts.register(bob, 'pw');
    return {
      store,
      deps,
      reads,
      synced,
      bulk,
      build,
      at: (ms: number) => (now = ms),
      holdReads: () => {
        let release!: () => void;
        hold = new Promise((resolve) => (release = resolve));
        return () => {
          hold = undefined;
          release();
        };
      },
    };
  }
  const idOf = (token: string) => tokenHash(token).slice(0, 12);

  test('the store is read once for repeated verifications of a token', async () => {
    const { reads, synced, bulk } = await node();
    const token = await synced.tokens.create(alice, 0);
    reads.length = 0;
    for (let i = 0; i < 5; i++) expect(await synced.tokens.verify(token)).toEqual(alice);
    expect(await bulk.tokens.verify(token)).toEqual(alice);
    expect(reads).toEqual([API_TOKENS, PASSWD]);
  });

  test('a token that did not verify is read again, and works as soon as it is valid', async () => {
    const { store, reads, synced } = await node();
    const token = 'written-by-load';
    expect(await synced.tokens.verify(token)).toBeUndefined();
    await store.put(API_TOKENS, tokenKey(tokenHash(token)), { jid: 'alice@localhost', created: 1735689600 });
    reads.length = 0;
    expect(await synced.tokens.verify(token)).toEqual(alice);
    expect(reads).toEqual([API_TOKENS, PASSWD]);
  });

  test('a revoked token is refused at once after it was remembered, through either instance', async () => {
    const { synced, bulk } = await node();
    const first = await synced.tokens.create(alice, 0);
    const second = await synced.tokens.create(alice, 0);
    const kept = await synced.tokens.create(alice, 0);
    for (const t of [first, second, kept]) expect(await synced.tokens.verify(t)).toEqual(alice);
    await synced.tokens.revoke(idOf(first));
    expect(await synced.tokens.verify(first)).toBeUndefined();
    await bulk.tokens.revoke(idOf(second));
    expect(await synced.tokens.verify(second)).toBeUndefined();
    expect(await bulk.tokens.verify(second)).toBeUndefined();
    expect(await synced.tokens.verify(kept)).toEqual(alice);
  });

  test('a revocation while a check reads the store is not undone by what the check read', async () => {
    const { synced, holdReads } = await node();
    const token = await synced.tokens.create(alice, 0);
    const release = holdReads();
    const checking = synced.tokens.verify(token);
    await synced.tokens.revoke(idOf(token));
    release();
    // That request came in before the revocation; the next one does not.
    expect(await checking).toEqual(alice);
    expect(await synced.tokens.verify(token)).toBeUndefined();
  });

  test("another node's revocation, or its removal of an account, reaches this node's memory", async () => {
    const { synced, deps } = await node();
    const token = await synced.tokens.create(alice, 0);
    const bobs = await synced.tokens.create(bob, 0);
    expect(await synced.tokens.verify(token)).toEqual(alice);
    expect(await synced.tokens.verify(bobs)).toEqual(bob);
    const elsewhere = createEventBus<FeatureEvents>();
    hearOtherNodes(deps.events, elsewhere);
    const handed: string[] = [];
    elsewhere.on('api-tokens-revoked', () => void handed.push('api-tokens-revoked'));
    elsewhere.on('account-removed', () => void handed.push('account-removed'));
    // The other node deleted the records in the shared database, then relayed its events.
    const other = createTokens(
      { ...deps, events: createEventBus<FeatureEvents>() },
      createAccounts(deps, () => [usersRows]),
    );
    await other.revoke(idOf(token));
    elsewhere.emit('api-tokens-revoked', { hashes: [tokenHash(token)] });
    expect(await synced.tokens.verify(token)).toBeUndefined();
    await createAccounts({ ...deps, events: createEventBus<FeatureEvents>() }, () => [usersRows]).remove(bob);
    elsewhere.emit('account-removed', { jid: bob });
    expect(await synced.tokens.verify(bobs)).toBeUndefined();
    expect(handed).toEqual(['api-tokens-revoked', 'account-removed']);
  });

  test('an account removed, or removed and registered again, takes its remembered tokens with it', async () => {
    const { store, synced, bulk, at } = await node();
    const token = await synced.tokens.create(alice, 0);
    const bobs = await synced.tokens.create(bob, 0);
    expect(await synced.tokens.verify(token)).toEqual(alice);
    expect(await synced.tokens.verify(bobs)).toEqual(bob);
    await bulk.accounts.remove(alice);
    expect(await synced.tokens.verify(token)).toBeUndefined();
    expect(await synced.tokens.verify(bobs)).toEqual(bob);

    // A record the account's removal does not find (stored before tokens were indexed by account).
    const old = 'made-by-an-older-version';
    await store.put(API_TOKENS, tokenKey(tokenHash(old)), { jid: 'bob@localhost', created: 1735689600 });
    expect(await synced.tokens.verify(old)).toEqual(bob);
    await synced.accounts.remove(bob);
    at(Date.UTC(2025, 0, 2));
    await synced.accounts.register(bob, 'pw');
    expect(await synced.tokens.verify(old)).toBeUndefined();
  });

  test('a remembered token is refused the second it expires', async () => {
    const { reads, synced, at } = await node();
    const token = await synced.tokens.create(alice, 1);
    expect(await synced.tokens.verify(token)).toEqual(alice);
    at(Date.UTC(2025, 0, 2) - 1000);
    reads.length = 0;
    expect(await synced.tokens.verify(token)).toEqual(alice);
    expect(reads).toEqual([]);
    at(Date.UTC(2025, 0, 2));
    expect(await synced.tokens.verify(token)).toBeUndefined();
  });

  test('features built again over a replaced database trust nothing verified before', async () => {
    const { store, deps, synced, build } = await node();
    const token = await synced.tokens.create(alice, 0);
    expect(await synced.tokens.verify(token)).toEqual(alice);
    await store.del(API_TOKENS, tokenKey(tokenHash(token)));
    const rebuilt = build();
    expect(await rebuilt.tokens.verify(token)).toBeUndefined();

    // The node's event when a command replaced the database, relayed to the other nodes.
    const again = await rebuilt.tokens.create(bob, 0);
    expect(await rebuilt.tokens.verify(again)).toEqual(bob);
    await store.del(API_TOKENS, tokenKey(tokenHash(again)));
    deps.events.emit('api-tokens-revoked', {});
    expect(await rebuilt.tokens.verify(again)).toBeUndefined();
  });
});

test('the memory of verified tokens keeps the most recently used within its bound', () => {
  const cache = new VerifiedTokens(3);
  for (const h of ['a', 'b', 'c']) cache.remember(h, alice, undefined, cache.mark());
  expect(cache.get('a', 0)).toEqual(alice);
  cache.remember('d', bob, undefined, cache.mark());
  expect(cache.size).toBe(3);
  expect(cache.get('b', 0)).toBeUndefined();
  expect(['a', 'c', 'd'].map((h) => cache.get(h, 0))).toEqual([alice, alice, bob]);
  cache.forgetAccount(alice);
  expect(cache.size).toBe(1);
  expect(cache.get('d', 0)).toEqual(bob);
});

import { defaultConfig } from '../../src/config/config';
import { createAccounts } from '../../src/features/accounts/accounts';
import { featureDeps } from '../../src/features/deps';
import { API_TOKENS, accountTokens, allTokens, readToken, tokenHash, tokenKey, usersRows } from '../../src/features/tokens/records';
import { createTokens } from '../../src/features/tokens/tokens';
import type { BareJid } from '../../src/lib/jid';
import { createMemoryStore } from '../../src/storage/memory';
import type { Range, Store } from '../../src/storage/types';

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

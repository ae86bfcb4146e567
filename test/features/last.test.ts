import { defaultConfig } from '../../src/config/config';
import { createAccounts } from '../../src/features/accounts/accounts';
import { featureDeps } from '../../src/features/deps';
import { createLast } from '../../src/features/last/last';
import { hostLasts, readLast } from '../../src/features/last/records';
import { naming } from '../../src/lib/errors';
import type { BareJid } from '../../src/lib/jid';
import { createMemoryStore } from '../../src/storage/memory';

const alice: BareJid = { user: 'alice', host: 'localhost' };

async function setup(online: readonly string[] = []) {
  const store = createMemoryStore();
  const deps = featureDeps({
    store,
    config: { ...defaultConfig('/x'), authPasswordFormat: 'plain' },
    clock: Date.now,
    isOnline: (j) => online.includes(j.user),
  });
  const accounts = createAccounts(deps);
  await accounts.register(alice, 'pw');
  return { store, last: createLast(deps, accounts) };
}

test('an account never seen has no record; set stores seconds and a status', async () => {
  const { store, last } = await setup();
  expect(await last.get(alice)).toBeUndefined();
  await last.set(alice, 1_700_000_000, 'away');
  expect(await last.get(alice)).toEqual({ timestamp: 1_700_000_000, status: 'away' });
  expect(await readLast(store, alice)).toEqual({ timestamp: 1_700_000_000, status: 'away' });
  const all = [];
  for await (const row of hostLasts(store, 'localhost')) all.push(row);
  expect(all).toEqual([[alice, { timestamp: 1_700_000_000, status: 'away' }]]);
});

test('refuses unknown users and negative times, naming the field', async () => {
  const { last } = await setup();
  const bob = { user: 'bob', host: 'localhost' };
  await expect(last.get(bob)).rejects.toThrow('User bob@localhost does not exist');
  await expect(last.set(bob, 1, '')).rejects.toThrow('User bob@localhost does not exist');
  await expect(naming({ timestamp: 'seconds' }, () => last.set(alice, -1, ''))).rejects.toThrow('The timestamp (seconds) must be seconds since 1970, got -1');
});

test('online tells of connected users', async () => {
  const { last } = await setup(['alice']);
  expect(last.online(alice)).toBe(true);
  expect(last.online({ user: 'bob', host: 'localhost' })).toBe(false);
});

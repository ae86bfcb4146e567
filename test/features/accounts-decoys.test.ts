/**
 * An account that cannot log in (unknown, banned) costs the node the same key derivations as one
 * that can, so that the time a failed login takes tells no one which names exist. Counted, not
 * timed: every PBKDF2 run goes through node:crypto's pbkdf2.
 */
import * as crypto from 'node:crypto';
import { defaultConfig, type PasswordFormat } from '../../src/config/config';
import { createAccounts } from '../../src/features/accounts/accounts';
import { featureDeps } from '../../src/features/deps';
import type { BareJid } from '../../src/lib/jid';
import { createMemoryStore } from '../../src/storage/memory';

jest.mock('node:crypto', () => {
  const actual = jest.requireActual<typeof import('node:crypto')>('node:crypto');
  return { ...actual, pbkdf2: jest.fn(actual.pbkdf2) };
});

const pbkdf2 = crypto.pbkdf2 as unknown as jest.Mock;
const alice: BareJid = { user: 'alice', host: 'localhost' };
const mallory: BareJid = { user: 'mallory', host: 'localhost' };
const ghost: BareJid = { user: 'ghost', host: 'localhost' };

async function derivations(fn: () => Promise<unknown>): Promise<number> {
  pbkdf2.mockClear();
  await fn();
  return pbkdf2.mock.calls.length;
}

describe.each<PasswordFormat>(['scram', 'plain'])('with %s storage', (format) => {
  const setup = async () => {
    const deps = featureDeps({
      store: createMemoryStore(),
      config: { ...defaultConfig('/etc/ctl.yml'), authPasswordFormat: format },
      clock: () => 1_750_000_000_000,
    });
    const accounts = createAccounts(deps);
    await accounts.register(alice, 'right');
    await accounts.register(mallory, 'right');
    await accounts.ban(mallory, 'spam');
    return accounts;
  };

  // The second password is one SASLprep changes (a no-break space): a check then tries both forms.
  test.each(['wrong', 'wrong\u00a0twice'])('a wrong password %j costs what an unknown or banned user costs', async (password) => {
    const accounts = await setup();
    const known = await derivations(() => accounts.checkPassword(alice, password));
    expect(await derivations(() => accounts.checkPassword(ghost, password))).toBe(known);
    expect(await derivations(() => accounts.checkPassword(mallory, password))).toBe(known);
  });

  test('SCRAM keys of an unknown or banned user cost what an account’s do', async () => {
    const accounts = await setup();
    for (const hash of ['sha1', 'sha256'] as const) {
      const known = await derivations(() => accounts.scramCredentials(alice, hash));
      expect(await derivations(() => accounts.scramCredentials(ghost, hash))).toBe(known);
      expect(await derivations(() => accounts.scramCredentials(mallory, hash))).toBe(known);
    }
  });
});

/**
 * SCRAM secrets made in bulk: every one has a salt of its own, and passwords are prepared as
 * SASLprep says, whether or not they need it.
 */
import { makeSecret, preparePassword, verifySecret, type ScramSecret } from '../../src/features/accounts/secret';

test('a hundred secrets, more than one draw of random bytes gives salts for: no salt is used twice', async () => {
  const secrets = (await Promise.all(Array.from({ length: 100 }, (_, i) => makeSecret(`pw${i}`, 'scram')))) as ScramSecret[];
  const salts = secrets.flatMap((s) => [s.salt, s.sha256!.salt]);
  expect(salts.every((salt) => Buffer.from(salt, 'base64').length === 16)).toBe(true);
  expect(new Set(salts).size).toBe(200);
  expect(await verifySecret(secrets[42], 'pw42')).toBe(true);
  expect(await verifySecret(secrets[42], 'pw43')).toBe(false);
});

test('SASLprep: printable ASCII stays as it is; other text is mapped, and what it refuses is kept as given', () => {
  expect(preparePassword('p@ss w0rd~!')).toBe('p@ss w0rd~!');
  expect(preparePassword('I\u00ADX')).toBe('IX'); // soft hyphen: mapped to nothing
  expect(preparePassword('a\u00A0b')).toBe('a b'); // no-break space: a space
  expect(preparePassword('\u2168')).toBe('IX'); // NFKC
  expect(preparePassword('tab\there')).toBe('tab\there'); // a control character: refused, so as given
});

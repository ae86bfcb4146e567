import { defaultConfig, type Config } from '../../../src/config/config';
import { createAccounts, type Accounts } from '../../../src/features/accounts/accounts';
import { accountOps, readAccount, type AccountRecord } from '../../../src/features/accounts/records';
import { deriveScramKeys, type ScramKeys } from '../../../src/features/accounts/secret';
import { featureDeps } from '../../../src/features/deps';
import type { BareJid } from '../../../src/lib/jid';
import { createMemoryStore } from '../../../src/storage/memory';
import type { Store } from '../../../src/storage/types';
import { SaslFailure, createSaslProvider, type SaslExchange, type SaslProvider } from '../../../src/xmpp/sasl';
import { scramLogin } from './scram-client';

const HOST = 'localhost';
const user: BareJid = { user: 'user', host: HOST };

function setup(config: Partial<Config> = {}, opts: { nonces?: string[]; loopback?: boolean; plainOnInsecure?: boolean } = {}) {
  const store = createMemoryStore();
  const cfg: Config = { ...defaultConfig('/etc/ctl.yml'), authPasswordFormat: 'scram', ...config };
  const accounts = createAccounts(featureDeps({ store, config: cfg, clock: () => 1_700_000_000_000 }));
  const nonces = [...(opts.nonces ?? [])];
  const sasl = createSaslProvider({
    accounts: () => accounts,
    config: () => cfg,
    loopback: opts.loopback,
    plainOnInsecure: opts.plainOnInsecure,
    nonce: opts.nonces ? () => nonces.shift() ?? 'extra' : undefined,
  });
  return { store, accounts, sasl };
}

async function keys(password: string, hash: 'sha1' | 'sha256', salt: string, iterations = 4096): Promise<ScramKeys> {
  const k = await deriveScramKeys(password, hash, Buffer.from(salt, 'base64'), iterations);
  return { iterations, salt, storedKey: k.storedKey.toString('base64'), serverKey: k.serverKey.toString('base64') };
}

/** The account of the RFCs' examples: user "user", password "pencil", with their salts. */
async function rfcAccount(store: Store, withSha256 = true): Promise<void> {
  const sha1 = await keys('pencil', 'sha1', 'QSXCR+Q6sek8bf92');
  const sha256 = withSha256 ? await keys('pencil', 'sha256', 'W22ZaJ0SNY7soEsUEjb6gQ==') : undefined;
  const rec: AccountRecord = { secret: { format: 'scram', hash: 'sha1', ...sha1, ...(sha256 && { sha256 }) }, created: 1 };
  await store.batch(accountOps(user, rec));
}

const text = (b: Buffer | undefined) => b?.toString();

/** The condition an exchange step fails with. */
async function fails(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof SaslFailure)) throw new Error(`expected a SaslFailure, got ${String(err)}`);
  return err.condition;
}

function begin(sasl: SaslProvider, mechanism: string, secure = false, host = HOST): SaslExchange {
  const exchange = sasl.start(mechanism, host, secure);
  if (!exchange) throw new Error(`${mechanism} not started`);
  return exchange;
}

describe('RFC test vectors', () => {
  test('RFC 5802 §5: SCRAM-SHA-1', async () => {
    const { store, sasl } = setup({}, { nonces: ['3rfcNHYJY1ZVvWVs7j'] });
    await rfcAccount(store);
    const ex = begin(sasl, 'SCRAM-SHA-1');
    const first = await ex.step(Buffer.from('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL'));
    expect('challenge' in first && text(first.challenge)).toBe('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096');
    const final = await ex.step(Buffer.from('c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts='));
    expect(final).toEqual({ success: Buffer.from('v=rmF9pqV8S7suAoZWja4dJRkFsKQ='), jid: user });
  });

  test('RFC 7677 §3: SCRAM-SHA-256', async () => {
    const { store, sasl } = setup({}, { nonces: ['%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0'] });
    await rfcAccount(store);
    const ex = begin(sasl, 'SCRAM-SHA-256');
    const first = await ex.step(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
    expect('challenge' in first && text(first.challenge)).toBe('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
    const final = await ex.step(Buffer.from('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='));
    expect(final).toEqual({ success: Buffer.from('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='), jid: user });
  });

  test('a proof off by one bit is not-authorized', async () => {
    const { store, sasl } = setup({}, { nonces: ['3rfcNHYJY1ZVvWVs7j'] });
    await rfcAccount(store);
    const ex = begin(sasl, 'SCRAM-SHA-1');
    await ex.step(Buffer.from('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL'));
    expect(await fails(ex.step(Buffer.from('c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Tq=')))).toBe('not-authorized');
  });
});

describe('mechanisms', () => {
  test('both SCRAMs always, best first; PLAIN only with TLS, a loopback listener, or when allowed', () => {
    expect(setup().sasl.mechanisms(HOST, false)).toEqual(['SCRAM-SHA-256', 'SCRAM-SHA-1']);
    expect(setup().sasl.mechanisms(HOST, true)).toEqual(['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']);
    expect(setup({}, { loopback: true }).sasl.mechanisms(HOST, false)).toEqual(['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']);
    expect(setup({}, { plainOnInsecure: true }).sasl.mechanisms(HOST, false)).toEqual(['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']);
  });

  test('an unknown mechanism does not start; PLAIN without TLS fails with encryption-required', async () => {
    const { sasl, accounts } = setup();
    await accounts.register(user, 'pencil');
    expect(sasl.start('DIGEST-MD5', HOST, true)).toBeUndefined();
    expect(sasl.start('SCRAM-SHA-1-PLUS', HOST, true)).toBeUndefined();
    expect(await fails(begin(sasl, 'PLAIN', false).step(Buffer.from('\0user\0pencil')))).toBe('encryption-required');
  });

  test('a host the node does not serve fails', async () => {
    const { sasl } = setup();
    expect(await fails(begin(sasl, 'SCRAM-SHA-1', false, 'elsewhere.example').step(Buffer.from('n,,n=user,r=abc')))).toBe('not-authorized');
  });
});

describe('SCRAM with accounts', () => {
  test.each(['sha1', 'sha256'] as const)('a registered account logs in with SCRAM-%s; a wrong password does not', async (hash) => {
    const { sasl, accounts } = setup();
    await accounts.register(user, 'pencil');
    const mech = hash === 'sha1' ? 'SCRAM-SHA-1' : 'SCRAM-SHA-256';
    const ok = await scramLogin(begin(sasl, mech), { hash, user: 'user', password: 'pencil' });
    expect(ok.final).toEqual({ success: Buffer.from(ok.expectedV), jid: user });
    expect(await fails(scramLogin(begin(sasl, mech), { hash, user: 'user', password: 'pencil!' }))).toBe('not-authorized');
  });

  test('a user name is case-folded like a JID, and =2C =3D stand for , and =', async () => {
    const { sasl, accounts } = setup();
    const odd: BareJid = { user: 'a,b=c', host: HOST };
    await accounts.register(odd, 'pw');
    const r = await scramLogin(begin(sasl, 'SCRAM-SHA-256'), { hash: 'sha256', user: 'A,B=c', password: 'pw' });
    expect(r.final).toMatchObject({ jid: odd });
  });

  test('an unknown user gets a salt fixed by its name, and fails only at the proof', async () => {
    const { sasl } = setup();
    const serverFirst = async (name: string) => {
      const step = await begin(sasl, 'SCRAM-SHA-256').step(Buffer.from(`n,,n=${name},r=abc`));
      return 'challenge' in step ? text(step.challenge)! : '';
    };
    const salt = (s: string) => s.split(',')[1];
    const a = await serverFirst('nobody');
    expect(a).toMatch(/^r=abc[^,]+,s=[A-Za-z0-9+/=]{24},i=4096$/);
    expect(salt(await serverFirst('nobody'))).toBe(salt(a));
    expect(salt(await serverFirst('somebody'))).not.toBe(salt(a));
    expect(await fails(scramLogin(begin(sasl, 'SCRAM-SHA-256'), { hash: 'sha256', user: 'nobody', password: 'x' }))).toBe('not-authorized');
    // A name that cannot be a user's goes the same way.
    expect(await fails(scramLogin(begin(sasl, 'SCRAM-SHA-1'), { hash: 'sha1', user: 'no body', password: 'x' }))).toBe('not-authorized');
  });

  test('an old record with SHA-1 keys only logs in with SCRAM-SHA-1, and SCRAM-SHA-256 fails it like a wrong password', async () => {
    const { store, sasl } = setup();
    await rfcAccount(store, false);
    expect((await readAccount(store, user))?.secret).not.toHaveProperty('sha256');
    expect((await scramLogin(begin(sasl, 'SCRAM-SHA-1'), { hash: 'sha1', user: 'user', password: 'pencil' })).final).toMatchObject({ jid: user });
    expect(await fails(scramLogin(begin(sasl, 'SCRAM-SHA-256'), { hash: 'sha256', user: 'user', password: 'pencil' }))).toBe('not-authorized');
  });

  test('a plain password logs in with both SCRAMs, with a salt that stays', async () => {
    const { sasl, accounts } = setup({ authPasswordFormat: 'plain' });
    await accounts.register(user, 'pencil');
    const a = await scramLogin(begin(sasl, 'SCRAM-SHA-1'), { hash: 'sha1', user: 'user', password: 'pencil' });
    const b = await scramLogin(begin(sasl, 'SCRAM-SHA-1'), { hash: 'sha1', user: 'user', password: 'pencil' });
    expect(a.final).toMatchObject({ jid: user });
    expect(a.serverFirst.split(',')[1]).toBe(b.serverFirst.split(',')[1]);
    expect((await scramLogin(begin(sasl, 'SCRAM-SHA-256'), { hash: 'sha256', user: 'user', password: 'pencil' })).final).toMatchObject({ jid: user });
  });

  test('a banned account cannot log in, by any mechanism, until its password is set again', async () => {
    const { sasl, accounts } = setup();
    await accounts.register(user, 'pencil');
    await accounts.ban(user, 'spam');
    expect(await fails(scramLogin(begin(sasl, 'SCRAM-SHA-256'), { hash: 'sha256', user: 'user', password: 'pencil' }))).toBe('not-authorized');
    expect(await fails(scramLogin(begin(sasl, 'SCRAM-SHA-1'), { hash: 'sha1', user: 'user', password: 'pencil' }))).toBe('not-authorized');
    expect(await fails(begin(sasl, 'PLAIN', true).step(Buffer.from('\0user\0pencil')))).toBe('not-authorized');
    await accounts.changePassword(user, 'pencil');
    expect((await scramLogin(begin(sasl, 'SCRAM-SHA-256'), { hash: 'sha256', user: 'user', password: 'pencil' })).final).toMatchObject({ jid: user });
  });

  test('the y flag (client could bind, server does not offer it) works, with c= saying y', async () => {
    const { sasl, accounts } = setup();
    await accounts.register(user, 'pencil');
    expect((await scramLogin(begin(sasl, 'SCRAM-SHA-1'), { hash: 'sha1', user: 'user', password: 'pencil', gs2: 'y,,' })).final).toMatchObject({ jid: user });
  });

  test('an authzid must be the user itself', async () => {
    const { sasl, accounts } = setup();
    await accounts.register(user, 'pencil');
    const ok = await scramLogin(begin(sasl, 'SCRAM-SHA-1'), { hash: 'sha1', user: 'user', password: 'pencil', gs2: 'n,a=User@LocalHost,' });
    expect(ok.final).toMatchObject({ jid: user });
    expect(await fails(begin(sasl, 'SCRAM-SHA-1').step(Buffer.from('n,a=admin@localhost,n=user,r=abc')))).toBe('invalid-authzid');
    expect(await fails(begin(sasl, 'SCRAM-SHA-1').step(Buffer.from('n,a=user@localhost/res,n=user,r=abc')))).toBe('invalid-authzid');
  });

  test('SASLprep: the password is prepared before it is hashed, so "I\\u00ADX" and "IX" are one password', async () => {
    const { sasl, accounts } = setup();
    await accounts.register(user, 'I\u00ADX');
    expect((await scramLogin(begin(sasl, 'SCRAM-SHA-256'), { hash: 'sha256', user: 'user', password: 'IX', prep: false })).final).toMatchObject({ jid: user });
    expect(await accounts.checkPassword(user, 'IX')).toBe(true);
    expect(await begin(sasl, 'PLAIN', true).step(Buffer.from('\0user\0I\u00ADX'))).toEqual({ success: undefined, jid: user });
    // A user name is prepared too: the soft hyphen goes.
    await accounts.register({ user: 'ix', host: HOST }, 'pw');
    expect((await scramLogin(begin(sasl, 'SCRAM-SHA-1'), { hash: 'sha1', user: 'I\u00ADX', password: 'pw' })).final).toMatchObject({
      jid: { user: 'ix', host: HOST },
    });
  });

  test('a record hashed from an unprepared password still checks', async () => {
    const { store, accounts } = setup();
    const sha1 = await keys('I\u00ADX', 'sha1', 'c2FsdHNhbHQ=');
    await store.batch(accountOps(user, { secret: { format: 'scram', hash: 'sha1', ...sha1 }, created: 1 }));
    expect(await accounts.checkPassword(user, 'I\u00ADX')).toBe(true);
    expect(await accounts.checkPassword(user, 'IY')).toBe(false);
  });
});

describe('malformed SCRAM messages', () => {
  async function afterFirst(sasl: SaslProvider, accounts: Accounts) {
    await accounts.register(user, 'pencil');
    const ex = begin(sasl, 'SCRAM-SHA-1');
    const first = await ex.step(Buffer.from('n,,n=user,r=abc'));
    return { ex, nonce: 'challenge' in first ? text(first.challenge)!.split(',')[0].slice(2) : '' };
  }

  test.each([
    ['no GS2 header', 'n=user,r=abc', 'malformed-request'],
    ['channel binding asked of a mechanism without it', 'p=tls-unique,,n=user,r=abc', 'malformed-request'],
    ['an unknown flag', 'x,,n=user,r=abc', 'malformed-request'],
    ['a mandatory extension', 'n,,m=ext,n=user,r=abc', 'malformed-request'],
    ['no nonce', 'n,,n=user', 'malformed-request'],
    ['a nonce with a space', 'n,,n=user,r=a b', 'malformed-request'],
    ['a bad = escape', 'n,,n=us=40er,r=abc', 'malformed-request'],
    ['an empty user', 'n,,n=,r=abc', 'malformed-request'],
    ['an authzid without a=', 'n,user,n=user,r=abc', 'malformed-request'],
  ])('client-first with %s', async (_what, message, condition) => {
    const { sasl } = setup();
    expect(await fails(begin(sasl, 'SCRAM-SHA-256').step(Buffer.from(message)))).toBe(condition);
  });

  test('bytes that are not UTF-8', async () => {
    const { sasl } = setup();
    expect(await fails(begin(sasl, 'SCRAM-SHA-1').step(Buffer.from([0x6e, 0x2c, 0x2c, 0xff])))).toBe('malformed-request');
  });

  test('no initial response gets an empty challenge, once', async () => {
    const { sasl } = setup();
    const ex = begin(sasl, 'SCRAM-SHA-1');
    expect(await ex.step(Buffer.alloc(0))).toEqual({ challenge: Buffer.alloc(0) });
    expect(await fails(ex.step(Buffer.alloc(0)))).toBe('malformed-request');
  });

  test.each([
    ['no proof', (n: string) => `c=biws,r=${n}`, 'malformed-request'],
    ['a proof that is not base64', (n: string) => `c=biws,r=${n},p=!!!!`, 'malformed-request'],
    ['a proof of the wrong length', (n: string) => `c=biws,r=${n},p=AAAA`, 'malformed-request'],
    ['no c=', (n: string) => `r=${n},p=${'A'.repeat(27)}=`, 'malformed-request'],
    ['another nonce', () => `c=biws,r=abcdef,p=${'A'.repeat(27)}=`, 'not-authorized'],
    ['channel binding data that is not the GS2 header', (n: string) => `c=eSws,r=${n},p=${'A'.repeat(27)}=`, 'not-authorized'],
  ])('client-final with %s', async (_what, message, condition) => {
    const { sasl, accounts } = setup();
    const { ex, nonce } = await afterFirst(sasl, accounts);
    expect(await fails(ex.step(Buffer.from(message(nonce))))).toBe(condition);
    // The exchange is over after a failure.
    expect(await fails(ex.step(Buffer.from(message(nonce))))).toBe('malformed-request');
  });

  test('nothing more after success', async () => {
    const { sasl, accounts } = setup();
    await accounts.register(user, 'pencil');
    const ex = begin(sasl, 'SCRAM-SHA-1');
    await scramLogin(ex, { hash: 'sha1', user: 'user', password: 'pencil' });
    expect(await fails(ex.step(Buffer.from('c=biws')))).toBe('malformed-request');
  });
});

describe('PLAIN', () => {
  test('logs in with authcid and password; authzid, when given, must be the user', async () => {
    const { sasl, accounts } = setup();
    await accounts.register(user, 'pencil');
    expect(await begin(sasl, 'PLAIN', true).step(Buffer.from('\0user\0pencil'))).toEqual({ success: undefined, jid: user });
    expect(await begin(sasl, 'PLAIN', true).step(Buffer.from('user@localhost\0User\0pencil'))).toEqual({ success: undefined, jid: user });
    expect(await begin(sasl, 'PLAIN', true).step(Buffer.from('\0user@localhost\0pencil'))).toEqual({ success: undefined, jid: user });
    expect(await fails(begin(sasl, 'PLAIN', true).step(Buffer.from('admin@localhost\0user\0pencil')))).toBe('invalid-authzid');
    expect(await fails(begin(sasl, 'PLAIN', true).step(Buffer.from('\0user@elsewhere\0pencil')))).toBe('not-authorized');
  });

  test('a wrong password, an unknown user, a password SASLprep refuses: not-authorized', async () => {
    const { sasl, accounts } = setup();
    await accounts.register(user, 'pencil');
    for (const m of ['\0user\0pencil!', '\0nobody\0pencil', '\0user\0pen\u0007cil', '\0no body\0pencil']) {
      expect(await fails(begin(sasl, 'PLAIN', true).step(Buffer.from(m)))).toBe('not-authorized');
    }
  });

  test('malformed messages', async () => {
    const { sasl } = setup({}, { loopback: true });
    for (const m of ['user\0pencil', '\0\0pencil', '\0user\0', 'a\0b\0c\0d']) {
      expect(await fails(begin(sasl, 'PLAIN', false).step(Buffer.from(m)))).toBe('malformed-request');
    }
    expect(await fails(begin(sasl, 'PLAIN', false).step(Buffer.from([0, 0x75, 0, 0xc3])))).toBe('malformed-request');
  });

  test('no initial response gets an empty challenge, then the response', async () => {
    const { sasl, accounts } = setup({ authPasswordFormat: 'plain' });
    await accounts.register(user, 'pencil');
    const ex = begin(sasl, 'PLAIN', true);
    expect(await ex.step(Buffer.alloc(0))).toEqual({ challenge: Buffer.alloc(0) });
    expect(await ex.step(Buffer.from('\0user\0pencil'))).toEqual({ success: undefined, jid: user });
    expect(await fails(ex.step(Buffer.from('\0user\0pencil')))).toBe('malformed-request');
  });
});

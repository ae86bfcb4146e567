import type { PasswordFormat } from '../../config/config';
import { fieldError } from '../../lib/errors';
import { isPrintableAscii } from '../../lib/utf8';

// Loaded on the first hash: a call that only looks an account up never needs it.
const crypto = () => require('node:crypto') as typeof import('node:crypto');
const pbkdf2Async = (password: string, salt: Buffer, iterations: number, bytes: number, digest: string) =>
  new Promise<Buffer>((resolve, reject) => crypto().pbkdf2(password, salt, iterations, bytes, digest, (err, key) => (err ? reject(err) : resolve(key))));

/** The hashes of the SCRAM mechanisms the server offers: SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677). */
export type ScramHash = 'sha1' | 'sha256';

/** What a SCRAM mechanism needs of an account, in base64 as ejabberd stores it. */
export interface ScramKeys {
  readonly iterations: number;
  readonly salt: string;
  readonly storedKey: string;
  readonly serverKey: string;
}

/**
 * SCRAM secrets: the SHA-1 keys at the top, as ejabberd stores them (and as older records and
 * backups hold them alone), and the SHA-256 keys beside them for passwords set since. A record
 * without `sha256` can log in with SCRAM-SHA-1 only, until its password is set again.
 */
export interface ScramSecret extends ScramKeys {
  readonly format: 'scram';
  readonly hash: 'sha1';
  readonly sha256?: ScramKeys;
}

export interface PlainSecret {
  readonly format: 'plain';
  readonly password: string;
}

export type Secret = ScramSecret | PlainSecret;

export const SCRAM_ITERATIONS = 4096;

/**
 * The most iterations a stored SCRAM secret may have, wherever it comes from (a dump, a backup,
 * an XEP-0227 file): each login with PLAIN and each check_password derives the key again, so one
 * record beyond this would make every attempt at that account cost seconds of the node's time.
 */
export const MAX_SCRAM_ITERATIONS = 1_000_000;

/** The bytes of a key, by hash. */
const SCRAM_KEY_BYTES: Readonly<Record<ScramHash, number>> = { sha1: 20, sha256: 32 };

/** The longest password an account may have, here or in anything imported. */
export const MAX_PASSWORD_BYTES = 1024;

/** Throws unless `password` may be an account's password; the error names `field`. */
export function checkPasswordSize(password: string, field = 'password'): void {
  if (password.length === 0) throw fieldError('bad_argument', field, (name) => `The password (${name}) must not be empty`);
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) {
    throw fieldError('bad_argument', field, (name) => `The password (${name}) is longer than ${MAX_PASSWORD_BYTES} bytes`);
  }
}

/**
 * The password as SCRAM clients hash it (RFC 5802 §2.2, SASLprep of RFC 4013), or as given when
 * SASLprep refuses it: an odd password still works where it is typed the same way (PLAIN, the
 * admin commands), as ejabberd lets it.
 */
export function preparePassword(password: string): string {
  // Printable ASCII is what SASLprep leaves as it is: it maps, removes and refuses only other
  // characters. Most passwords are such, and a batch prepares thousands of them.
  if (isPrintableAscii(password)) return password;
  try {
    // Loaded here: its tables cost start-up time, and most calls never prepare a password.
    return (require('@mongodb-js/saslprep') as typeof import('@mongodb-js/saslprep'))(password);
  } catch {
    return password;
  }
}

/** StoredKey and ServerKey of a password (RFC 5802 §3); `password` is used as given. */
export async function deriveScramKeys(password: string, hash: ScramHash, salt: Buffer, iterations: number): Promise<{ storedKey: Buffer; serverKey: Buffer }> {
  const salted = await pbkdf2Async(password, salt, iterations, SCRAM_KEY_BYTES[hash], hash);
  const clientKey = crypto().createHmac(hash, salted).update('Client Key').digest();
  return {
    storedKey: crypto().createHash(hash).update(clientKey).digest(),
    serverKey: crypto().createHmac(hash, salted).update('Server Key').digest(),
  };
}

/** Random bytes drawn a block at a time, for salts: one call to the system's generator costs more than the bytes. */
let saltBlock: Buffer | undefined;
let saltUsed = 0;
const SALT_BYTES = 16;
const SALT_BLOCK = 64 * SALT_BYTES;

function newSalt(): Buffer {
  if (!saltBlock || saltUsed === SALT_BLOCK) {
    saltBlock = crypto().randomBytes(SALT_BLOCK);
    saltUsed = 0;
  }
  // A copy: the block is not kept alive by the salts, and no two salts share bytes.
  const salt = Buffer.from(saltBlock.subarray(saltUsed, saltUsed + SALT_BYTES));
  saltUsed += SALT_BYTES;
  return salt;
}

async function newKeys(password: string, hash: ScramHash): Promise<ScramKeys> {
  const salt = newSalt();
  const { storedKey, serverKey } = await deriveScramKeys(password, hash, salt, SCRAM_ITERATIONS);
  return { iterations: SCRAM_ITERATIONS, salt: salt.toString('base64'), storedKey: storedKey.toString('base64'), serverKey: serverKey.toString('base64') };
}

/** Secrets being made ahead of their use, by password (SCRAM only; see `prepareSecret`). */
const ahead = new Map<string, Promise<Secret>[]>();

/**
 * Starts making a SCRAM secret for `password` on the thread pool, for a `makeSecret` of the same
 * password to come: a batch of registrations keeps every core hashing while it writes in order.
 * Returns what drops the secret if nobody took it; a plain password needs nothing made.
 */
export function prepareSecret(password: string, format: PasswordFormat): (() => void) | undefined {
  if (format === 'plain') return undefined;
  const made = newSecret(password);
  made.catch(() => undefined); // a failure here is the handler's to meet, when it makes its own
  const list = ahead.get(password) ?? [];
  ahead.set(password, [...list, made]);
  return () => {
    const left = ahead.get(password)?.filter((p) => p !== made);
    if (left === undefined) return;
    if (left.length === 0) ahead.delete(password);
    else ahead.set(password, left);
  };
}

async function newSecret(password: string): Promise<ScramSecret> {
  const prepared = preparePassword(password);
  const [sha1, sha256] = await Promise.all([newKeys(prepared, 'sha1'), newKeys(prepared, 'sha256')]);
  return { format: 'scram', hash: 'sha1', ...sha1, sha256 };
}

/** A new secret for `password`: SCRAM keys for both hashes, derived side by side, or the password itself. */
export async function makeSecret(password: string, format: PasswordFormat): Promise<Secret> {
  if (format === 'plain') return { format, password };
  const ready = ahead.get(password);
  if (ready !== undefined) {
    const made = ready.shift()!;
    if (ready.length === 0) ahead.delete(password);
    try {
      return await made;
    } catch {
      // Made again below, where a failure is reported.
    }
  }
  return newSecret(password);
}

/** The stored keys of one hash, if the secret has them. */
export function scramKeysOf(secret: ScramSecret, hash: ScramHash): ScramKeys | undefined {
  return hash === 'sha1' ? secret : secret.sha256;
}

export async function verifySecret(secret: Secret, password: string): Promise<boolean> {
  const prepared = preparePassword(password);
  if (secret.format === 'plain') return equal(Buffer.from(preparePassword(secret.password)), Buffer.from(prepared));
  // The SHA-1 keys: every SCRAM secret has them, and they are what ejabberd checks.
  const matches = async (pw: string) => {
    const { storedKey } = await deriveScramKeys(pw, 'sha1', Buffer.from(secret.salt, 'base64'), secret.iterations);
    return equal(storedKey, Buffer.from(secret.storedKey, 'base64'));
  };
  // Keys made before passwords were prepared hash the password as it was given.
  return (await matches(prepared)) || (prepared !== password && (await matches(password)));
}

function equal(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && crypto().timingSafeEqual(a, b);
}

/** A password nobody knows: what a banned account is left with. */
export function unusablePassword(): string {
  return crypto().randomBytes(32).toString('base64');
}

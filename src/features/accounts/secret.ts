import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { PasswordFormat } from '../../config/config';
import { fieldError } from '../../lib/errors';

const pbkdf2Async = promisify(pbkdf2);

/** SCRAM-SHA-1 (RFC 5802) as ejabberd stores it: what XMPP clients can authenticate against. */
export interface ScramSecret {
  readonly format: 'scram';
  readonly hash: 'sha1';
  readonly iterations: number;
  readonly salt: string;
  readonly storedKey: string;
  readonly serverKey: string;
}

export interface PlainSecret {
  readonly format: 'plain';
  readonly password: string;
}

export type Secret = ScramSecret | PlainSecret;

export const SCRAM_ITERATIONS = 4096;

/** The longest password an account may have, here or in anything imported. */
export const MAX_PASSWORD_BYTES = 1024;

/** Throws unless `password` may be an account's password; the error names `field`. */
export function checkPasswordSize(password: string, field = 'password'): void {
  if (password.length === 0) throw fieldError('bad_argument', field, (name) => `The password (${name}) must not be empty`);
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) {
    throw fieldError('bad_argument', field, (name) => `The password (${name}) is longer than ${MAX_PASSWORD_BYTES} bytes`);
  }
}

async function scramKeys(password: string, salt: Buffer, iterations: number) {
  const salted = await pbkdf2Async(password, salt, iterations, 20, 'sha1');
  const clientKey = createHmac('sha1', salted).update('Client Key').digest();
  return {
    storedKey: createHash('sha1').update(clientKey).digest(),
    serverKey: createHmac('sha1', salted).update('Server Key').digest(),
  };
}

export async function makeSecret(password: string, format: PasswordFormat): Promise<Secret> {
  if (format === 'plain') return { format, password };
  const salt = randomBytes(16);
  const { storedKey, serverKey } = await scramKeys(password, salt, SCRAM_ITERATIONS);
  return {
    format: 'scram',
    hash: 'sha1',
    iterations: SCRAM_ITERATIONS,
    salt: salt.toString('base64'),
    storedKey: storedKey.toString('base64'),
    serverKey: serverKey.toString('base64'),
  };
}

export async function verifySecret(secret: Secret, password: string): Promise<boolean> {
  if (secret.format === 'plain') return equal(Buffer.from(secret.password), Buffer.from(password));
  const { storedKey } = await scramKeys(password, Buffer.from(secret.salt, 'base64'), secret.iterations);
  return equal(storedKey, Buffer.from(secret.storedKey, 'base64'));
}

function equal(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A password nobody knows: what a banned account is left with. */
export function unusablePassword(): string {
  return randomBytes(32).toString('base64');
}

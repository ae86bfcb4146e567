import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import saslprep from '@mongodb-js/saslprep';
import type { SaslExchange, SaslStep } from '../../../src/xmpp/sasl';

export type Hash = 'sha1' | 'sha256';

/** The SCRAM client side of RFC 5802, written from the RFC alone, to drive the server with. */
export async function scramLogin(
  exchange: SaslExchange,
  opts: { hash: Hash; user: string; password: string; nonce?: string; gs2?: string; prep?: boolean },
): Promise<{ serverFirst: string; final: SaslStep; expectedV: string }> {
  const gs2 = opts.gs2 ?? 'n,,';
  const name = opts.user.replace(/=/g, '=3D').replace(/,/g, '=2C');
  const bare = `n=${name},r=${opts.nonce ?? randomBytes(12).toString('base64')}`;
  const first = await exchange.step(Buffer.from(gs2 + bare));
  if (!('challenge' in first)) throw new Error('the server did not challenge');
  const serverFirst = first.challenge.toString();
  const attrs = Object.fromEntries(serverFirst.split(',').map((a) => [a[0], a.slice(2)]));
  const password = opts.prep === false ? opts.password : saslprep(opts.password);
  const salted = pbkdf2Sync(password, Buffer.from(attrs.s, 'base64'), Number(attrs.i), opts.hash === 'sha1' ? 20 : 32, opts.hash);
  const clientKey = createHmac(opts.hash, salted).update('Client Key').digest();
  const storedKey = createHash(opts.hash).update(clientKey).digest();
  const withoutProof = `c=${Buffer.from(gs2).toString('base64')},r=${attrs.r}`;
  const authMessage = `${bare},${serverFirst},${withoutProof}`;
  const signature = createHmac(opts.hash, storedKey).update(authMessage).digest();
  const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]));
  const serverKey = createHmac(opts.hash, salted).update('Server Key').digest();
  const expectedV = `v=${createHmac(opts.hash, serverKey).update(authMessage).digest('base64')}`;
  const final = await exchange.step(Buffer.from(`${withoutProof},p=${proof.toString('base64')}`));
  return { serverFirst, final, expectedV };
}

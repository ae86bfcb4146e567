import { randomBytes } from 'node:crypto';
import type { Config } from '../../config/config';
import type { Accounts, ScramHash } from '../../features/accounts/accounts';
import { SCRAM_ITERATIONS } from '../../features/accounts/secret';
import { plainExchange } from './plain';
import { scramExchange } from './scram';
import { failingExchange, type SaslExchange } from './types';

export { SaslFailure, type SaslExchange, type SaslStep } from './types';

export interface SaslProvider {
  /** Mechanism names to offer on this stream, best first. */
  mechanisms(host: string, secure: boolean): string[];
  /**
   * Starts an exchange; undefined for a mechanism not offered. PLAIN on a stream where it is not
   * offered gives an exchange that fails with encryption-required, which tells the client more.
   */
  start(mechanism: string, host: string, secure: boolean): SaslExchange | undefined;
}

export interface SaslProviderDeps {
  readonly accounts: () => Accounts;
  /** When given, an exchange for a host it does not list fails. */
  readonly config?: () => Config;
  /** Every peer of this provider's listener is on the loopback interface: PLAIN is offered without TLS. */
  readonly loopback?: boolean;
  /** PLAIN is offered on streams without TLS too. */
  readonly plainOnInsecure?: boolean;
  /** The server's part of SCRAM nonces; 18 random bytes in base64 unless given. */
  readonly nonce?: () => string;
}

const SCRAM: Readonly<Record<string, ScramHash>> = { 'SCRAM-SHA-256': 'sha256', 'SCRAM-SHA-1': 'sha1' };

/**
 * SASL for client streams: SCRAM-SHA-256, SCRAM-SHA-1 and PLAIN (RFC 6120 §6).
 *
 * Both SCRAM mechanisms are always offered, as ejabberd does: mechanisms are listed before the
 * user is known, and every password set here has keys of both hashes. An account whose keys are
 * SHA-1 only (from before, or imported) fails SCRAM-SHA-256 with not-authorized, exactly as a
 * wrong password does, and the client falls back to SCRAM-SHA-1; its SHA-256 keys come with its
 * next password. PLAIN sends the password itself, so it is offered only on a secure stream
 * (TLS, or a loopback listener) unless `plainOnInsecure` says otherwise.
 */
export function createSaslProvider(deps: SaslProviderDeps): SaslProvider {
  const nonce = deps.nonce ?? (() => randomBytes(18).toString('base64'));
  const decoyKey = randomBytes(32);
  const plainAllowed = (secure: boolean) => secure || deps.loopback === true || deps.plainOnInsecure === true;
  const serves = (host: string) => deps.config === undefined || deps.config().hosts.includes(host);

  return {
    mechanisms(_host, secure) {
      return [...Object.keys(SCRAM), ...(plainAllowed(secure) ? ['PLAIN'] : [])];
    },

    start(mechanism, host, secure) {
      const hash = SCRAM[mechanism];
      if (mechanism !== 'PLAIN' && hash === undefined) return undefined;
      if (!serves(host)) return failingExchange('not-authorized', `This server does not serve ${host}`);
      if (hash !== undefined) {
        return scramExchange({
          hash,
          host,
          credentials: (jid) => deps.accounts().scramCredentials(jid, hash),
          nonce,
          decoyKey,
          decoyIterations: SCRAM_ITERATIONS,
        });
      }
      if (!plainAllowed(secure)) return failingExchange('encryption-required', 'PLAIN sends the password itself: start TLS first');
      return plainExchange({ host, check: (jid, password) => deps.accounts().checkPassword(jid, password) });
    },
  };
}

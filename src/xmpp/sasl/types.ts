import type { BareJid } from '../../lib/jid';

/** One step of an exchange: a challenge for the client, or success with the account it proved. */
export type SaslStep = { readonly challenge: Buffer } | { readonly success: Buffer | undefined; readonly jid: BareJid };

/**
 * One authentication exchange. `step` takes each response of the client (the initial response
 * first, empty when there is none) and rejects with a `SaslFailure` when authentication fails;
 * any other rejection is the server's own trouble (temporary-auth-failure).
 */
export interface SaslExchange {
  step(data: Buffer): Promise<SaslStep>;
}

/** A SASL failure condition of RFC 6120 §6.5 (not-authorized, malformed-request, ...), and an optional text. */
export class SaslFailure extends Error {
  constructor(
    readonly condition: string,
    readonly text?: string,
  ) {
    super(text ? `${condition}: ${text}` : condition);
    this.name = 'SaslFailure';
  }
}

/** The bytes of a message as text; a message that is not UTF-8 is malformed. */
export function utf8(data: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    throw new SaslFailure('malformed-request', 'The message is not UTF-8');
  }
}

/**
 * An exchange that fails at its first step: what a mechanism the stream may not use, or a host
 * the node does not serve, is given.
 */
export function failingExchange(condition: string, text?: string): SaslExchange {
  return {
    step: () => Promise.reject(new SaslFailure(condition, text)),
  };
}

import saslprep from '@mongodb-js/saslprep';
import type { BareJid } from '../../lib/jid';
import { accountOf, checkAuthzid } from './user';
import { SaslFailure, utf8, type SaslExchange } from './types';

export interface PlainDeps {
  /** The stream's host, prepared. */
  readonly host: string;
  /** Does the account have this (SASLprepped) password, and may it log in? */
  check(jid: BareJid, password: string): Promise<boolean>;
}

/** PLAIN (RFC 4616): `authzid NUL authcid NUL password`, in one message. */
export function plainExchange(deps: PlainDeps): SaslExchange {
  let asked = false;
  let done = false;
  return {
    async step(data) {
      if (done) throw new SaslFailure('malformed-request', 'The exchange is over');
      // No initial response: ask for it, once (RFC 6120 §6.4.2).
      if (data.length === 0 && !asked) {
        asked = true;
        return { challenge: Buffer.alloc(0) };
      }
      done = true;
      const parts = utf8(data).split('\0');
      if (parts.length !== 3) throw new SaslFailure('malformed-request', 'PLAIN takes authzid NUL authcid NUL password');
      const [authzid, authcid, password] = parts;
      if (authcid === '' || password === '') throw new SaslFailure('malformed-request', 'The user name and the password must not be empty');
      const jid = accountOf(localPart(authcid, deps.host), deps.host);
      checkAuthzid(authzid, jid);
      const prepared = prep(password);
      if (jid === undefined || prepared === undefined || !(await deps.check(jid, prepared))) throw new SaslFailure('not-authorized');
      return { success: undefined, jid };
    },
  };
}

/** Some clients send `user@host` as the authcid: the host of the stream may be left out. */
function localPart(authcid: string, host: string): string {
  const at = authcid.lastIndexOf('@');
  return at > 0 && authcid.slice(at + 1).toLowerCase() === host ? authcid.slice(0, at) : authcid;
}

function prep(password: string): string | undefined {
  try {
    return saslprep(password);
  } catch {
    return undefined;
  }
}

import saslprep from '@mongodb-js/saslprep';
import { formatJid, nodeprep, tryParseJid, type BareJid } from '../../lib/jid';
import { SaslFailure } from './types';

/**
 * The account a SASL user name names on `host`: SASLprep (RFC 4013), then nodeprep. Undefined
 * when the name cannot be a user's: the caller fails it as it fails a wrong password.
 */
export function accountOf(name: string, host: string): BareJid | undefined {
  try {
    return { user: nodeprep(saslprep(name)), host };
  } catch {
    return undefined;
  }
}

/** Throws invalid-authzid unless `authzid` is absent or the bare JID of `jid` (no one acts for another here). */
export function checkAuthzid(authzid: string, jid: BareJid | undefined): void {
  if (authzid === '' || jid === undefined) return;
  const asked = tryParseJid(authzid);
  if (asked?.resource !== '' || formatJid(asked) !== formatJid(jid)) throw new SaslFailure('invalid-authzid', `You may act only as ${formatJid(jid)}`);
}

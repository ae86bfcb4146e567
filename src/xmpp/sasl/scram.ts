import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { ScramCredentials, ScramHash } from '../../features/accounts/accounts';
import type { BareJid } from '../../lib/jid';
import { accountOf, checkAuthzid } from './user';
import { SaslFailure, utf8, type SaslExchange } from './types';

export interface ScramDeps {
  readonly hash: ScramHash;
  /** The stream's host, prepared. */
  readonly host: string;
  /** The keys the account logs in with by this hash; undefined when it cannot (see `Accounts.scramCredentials`). */
  credentials(jid: BareJid): Promise<ScramCredentials | undefined>;
  /** The server's part of the nonce: printable ASCII without commas. */
  nonce(): string;
  /** Keys the decoy salts of unknown users are made with: the same name gets the same salt. */
  readonly decoyKey: Buffer;
  /** The iteration count decoys claim: what real accounts have. */
  readonly decoyIterations: number;
}

const NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const malformed = (text: string) => new SaslFailure('malformed-request', text);

interface First {
  readonly gs2Header: string;
  readonly authzid: string;
  readonly user: string;
  readonly nonce: string;
  readonly bare: string;
}

/**
 * The server side of SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677), without channel
 * binding: the stored keys are used as they are, so a login costs a few HMACs and one read.
 * An unknown user, a banned one, and one without keys of this hash get a decoy salt and fail
 * only at the proof, with not-authorized: the exchange tells nobody which names exist.
 */
export function scramExchange(deps: ScramDeps): SaslExchange {
  let state: 'first' | 'final' | 'done' = 'first';
  let asked = false;
  let first: First;
  let serverFirst: string;
  let nonce: string;
  let keys: ScramCredentials;
  let known: boolean;
  let jid: BareJid | undefined;

  async function onFirst(text: string) {
    first = parseFirst(text);
    jid = accountOf(first.user, deps.host);
    checkAuthzid(first.authzid, jid);
    const found = jid && (await deps.credentials(jid));
    known = found !== undefined;
    keys = found || decoy(deps, first.user);
    nonce = first.nonce + deps.nonce();
    serverFirst = `r=${nonce},s=${keys.salt.toString('base64')},i=${keys.iterations}`;
    return { challenge: Buffer.from(serverFirst) };
  }

  function onFinal(text: string) {
    const proofAt = text.lastIndexOf(',p=');
    if (proofAt < 0) throw malformed('The client-final-message has no proof');
    const withoutProof = text.slice(0, proofAt);
    const proof = base64(text.slice(proofAt + 3), 'proof');
    const [c, r] = withoutProof.split(',');
    if (!c?.startsWith('c=') || !r?.startsWith('r=')) throw malformed('The client-final-message must start with c= and r=');
    if (!base64(c.slice(2), 'channel binding').equals(Buffer.from(first.gs2Header))) {
      throw new SaslFailure('not-authorized', 'The channel binding does not match the GS2 header');
    }
    if (r.slice(2) !== nonce) throw new SaslFailure('not-authorized', 'The nonce does not match');
    if (proof.length !== keys.storedKey.length) throw malformed('The proof has the wrong length');

    const authMessage = `${first.bare},${serverFirst},${withoutProof}`;
    const signature = createHmac(deps.hash, keys.storedKey).update(authMessage).digest();
    for (let i = 0; i < proof.length; i++) proof[i] ^= signature[i];
    const storedKey = createHash(deps.hash).update(proof).digest();
    if (!timingSafeEqual(storedKey, keys.storedKey) || !known || !jid) throw new SaslFailure('not-authorized');
    const serverSignature = createHmac(deps.hash, keys.serverKey).update(authMessage).digest();
    return { success: Buffer.from(`v=${serverSignature.toString('base64')}`), jid };
  }

  return {
    async step(data) {
      const at = state;
      state = 'done';
      if (at === 'first') {
        // No initial response: ask for the client-first-message, once (RFC 6120 §6.4.2).
        if (data.length === 0 && !asked) {
          asked = true;
          state = 'first';
          return { challenge: Buffer.alloc(0) };
        }
        const challenge = await onFirst(utf8(data));
        state = 'final';
        return challenge;
      }
      if (at === 'final') return onFinal(utf8(data));
      throw malformed('The exchange is over');
    },
  };
}

/** `gs2-header client-first-message-bare` (RFC 5802 §7). */
function parseFirst(text: string): First {
  const comma1 = text.indexOf(',');
  const comma2 = comma1 < 0 ? -1 : text.indexOf(',', comma1 + 1);
  if (comma2 < 0) throw malformed('The client-first-message has no GS2 header');
  const flag = text.slice(0, comma1);
  const authz = text.slice(comma1 + 1, comma2);
  if (flag.startsWith('p=')) throw malformed('Channel binding needs a -PLUS mechanism, and none is offered');
  if (flag !== 'n' && flag !== 'y') throw malformed(`Bad channel binding flag '${flag}'`);
  if (authz !== '' && !authz.startsWith('a=')) throw malformed('The authzid must be a=...');
  const authzid = authz === '' ? '' : saslname(authz.slice(2));
  const bare = text.slice(comma2 + 1);
  const [n, r] = bare.split(',');
  if (n?.startsWith('m=')) throw malformed('Mandatory extensions are not supported');
  if (!n?.startsWith('n=') || !r?.startsWith('r=')) throw malformed('The client-first-message must give n= and r=');
  const user = saslname(n.slice(2));
  if (user === '') throw malformed('The user name is empty');
  const nonce = r.slice(2);
  if (!NONCE.test(nonce)) throw malformed('The nonce must be printable ASCII without commas');
  return { gs2Header: text.slice(0, comma2 + 1), authzid, user, nonce, bare };
}

/** A saslname with its `=2C` and `=3D` turned back into `,` and `=`; any other `=` is malformed. */
function saslname(s: string): string {
  if (/=(?!2C|3D)/.test(s)) throw malformed("A name may hold '=' only as =2C or =3D");
  return s.replace(/=2C|=3D/g, (m) => (m === '=2C' ? ',' : '='));
}

function base64(s: string, what: string): Buffer {
  if (s === '' || !BASE64.test(s)) throw malformed(`The ${what} is not base64`);
  return Buffer.from(s, 'base64');
}

/** What an account that cannot log in shows: a salt fixed by the name, and keys that match no proof. */
function decoy(deps: ScramDeps, user: string): ScramCredentials {
  const mac = (label: string) => createHmac(deps.hash, deps.decoyKey).update(`${label}\0${deps.hash}\0${deps.host}\0${user}`).digest();
  return { iterations: deps.decoyIterations, salt: mac('salt').subarray(0, 16), storedKey: mac('stored'), serverKey: mac('server') };
}

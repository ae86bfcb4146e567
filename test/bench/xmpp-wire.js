'use strict';
/**
 * What the load generator and the baseline relay both speak: the stream's top-level elements cut
 * out of a byte stream (a depth count over tags, enough for what servers serialise), the client
 * side of SCRAM (RFC 5802, RFC 7677), and the few fixed stanzas of a login.
 */
const { createHash, createHmac, pbkdf2, randomBytes } = require('node:crypto');
const { promisify } = require('node:util');

const pbkdf2Async = promisify(pbkdf2);

const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';

const streamHeader = (domain) =>
  `<?xml version='1.0'?><stream:stream to='${domain}' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`;

/**
 * Cuts a stream into its top-level elements: `onHeader()` for each `<stream:stream>` opening,
 * `onElement(xml)` for each complete child of the stream, `onClose()` for its end.
 */
class Splitter {
  constructor(onHeader, onElement, onClose) {
    this.buf = '';
    this.pos = 0;
    this.depth = 0;
    this.start = 0;
    this.onHeader = onHeader;
    this.onElement = onElement;
    this.onClose = onClose;
  }

  write(chunk) {
    this.buf = this.pos === this.buf.length ? chunk : this.buf + chunk;
    let pos = this.pos;
    const buf = this.buf;
    for (;;) {
      const lt = buf.indexOf('<', pos);
      if (lt < 0) {
        pos = buf.length;
        break;
      }
      const gt = buf.indexOf('>', lt);
      if (gt < 0) {
        pos = lt;
        break;
      }
      pos = gt + 1;
      const c = buf.charCodeAt(lt + 1);
      if (this.depth === 0 && c === 63 /* ? */) continue;
      if (this.depth === 0 && buf.startsWith('stream:stream', lt + 1)) {
        this.onHeader(buf.slice(lt, pos));
        continue;
      }
      if (c === 47 /* / */) {
        if (this.depth === 0) {
          this.onClose();
          continue;
        }
        if (--this.depth === 0) this.onElement(buf.slice(this.start, pos));
      } else if (buf.charCodeAt(gt - 1) === 47) {
        if (this.depth === 0) this.onElement(buf.slice(lt, pos));
      } else if (this.depth++ === 0) {
        this.start = lt;
      }
    }
    // Keep only what an unfinished element still needs.
    const keep = this.depth > 0 ? this.start : pos;
    this.buf = buf.slice(keep);
    this.start -= keep;
    this.pos = pos - keep;
  }

  /** A stream restart: what follows is a new stream. */
  reset() {
    this.buf = '';
    this.pos = 0;
    this.depth = 0;
    this.start = 0;
  }
}

const HASHES = { 'SCRAM-SHA-1': { hash: 'sha1', bytes: 20 }, 'SCRAM-SHA-256': { hash: 'sha256', bytes: 32 } };

/** The client's keys by hash, password, salt and iterations: PBKDF2 is paid once per account secret. */
const keyCache = new Map();

function clientKeys(mechanism, password, salt, iterations) {
  const { hash, bytes } = HASHES[mechanism];
  const id = `${hash}\0${password}\0${salt}\0${iterations}`;
  let keys = keyCache.get(id);
  if (!keys) {
    keys = pbkdf2Async(password, Buffer.from(salt, 'base64'), iterations, bytes, hash).then((salted) => {
      const clientKey = createHmac(hash, salted).update('Client Key').digest();
      return {
        clientKey,
        storedKey: createHash(hash).update(clientKey).digest(),
        serverKey: createHmac(hash, salted).update('Server Key').digest(),
      };
    });
    keyCache.set(id, keys);
  }
  return keys;
}

/** One SCRAM exchange from the client's side. */
class ScramClient {
  constructor(mechanism, user, password) {
    this.mechanism = mechanism;
    this.password = password;
    this.nonce = randomBytes(12).toString('base64');
    this.first = `n=${user},r=${this.nonce}`;
  }

  initial() {
    return Buffer.from(`n,,${this.first}`).toString('base64');
  }

  /** The client-final message for the server-first one (both base64). */
  async final(challenge) {
    const serverFirst = Buffer.from(challenge, 'base64').toString();
    const attrs = Object.fromEntries(serverFirst.split(',').map((a) => [a[0], a.slice(2)]));
    if (!attrs.r || !attrs.r.startsWith(this.nonce) || !attrs.s || !attrs.i) throw new Error(`bad server-first message: ${serverFirst}`);
    const keys = await clientKeys(this.mechanism, this.password, attrs.s, Number(attrs.i));
    const { hash } = HASHES[this.mechanism];
    const withoutProof = `c=biws,r=${attrs.r}`;
    const authMessage = `${this.first},${serverFirst},${withoutProof}`;
    const signature = createHmac(hash, keys.storedKey).update(authMessage).digest();
    const proof = Buffer.alloc(signature.length);
    for (let i = 0; i < proof.length; i++) proof[i] = keys.clientKey[i] ^ signature[i];
    this.expected = `v=${createHmac(hash, keys.serverKey).update(authMessage).digest('base64')}`;
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`).toString('base64');
  }

  /** Whether the server-final message (base64) proves the server knows the secret. */
  verified(data) {
    return Buffer.from(data, 'base64').toString() === this.expected;
  }
}

/** The text of an element's first `<name>` child, or undefined. */
function childText(xml, name) {
  const open = xml.indexOf(`<${name}`);
  if (open < 0) return undefined;
  const gt = xml.indexOf('>', open);
  if (xml.charCodeAt(gt - 1) === 47) return '';
  const close = xml.indexOf(`</${name}>`, gt);
  return close < 0 ? undefined : xml.slice(gt + 1, close);
}

/** The value of attribute `name` of the element's opening tag, in either quote. */
function attr(xml, name) {
  const end = xml.indexOf('>');
  const m = new RegExp(`\\s${name}=(?:'([^']*)'|"([^"]*)")`).exec(xml.slice(0, end));
  return m ? (m[1] ?? m[2]) : undefined;
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

module.exports = { NS_BIND, NS_SASL, ScramClient, Splitter, attr, childText, percentile, streamHeader };

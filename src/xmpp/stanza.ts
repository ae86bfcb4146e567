/** Namespaces, stanza errors and replies: the vocabulary every part of the server shares. */
import { Element, clone } from 'ltx';
import { CommandError, type ErrorCode } from '../lib/errors';

export const NS = {
  client: 'jabber:client',
  stream: 'http://etherx.jabber.org/streams',
  streams: 'urn:ietf:params:xml:ns:xmpp-streams',
  stanzas: 'urn:ietf:params:xml:ns:xmpp-stanzas',
  tls: 'urn:ietf:params:xml:ns:xmpp-tls',
  sasl: 'urn:ietf:params:xml:ns:xmpp-sasl',
  bind: 'urn:ietf:params:xml:ns:xmpp-bind',
  session: 'urn:ietf:params:xml:ns:xmpp-session',
  framing: 'urn:ietf:params:xml:ns:xmpp-framing',
  roster: 'jabber:iq:roster',
  rosterver: 'urn:xmpp:features:rosterver',
  delay: 'urn:xmpp:delay',
  discoInfo: 'http://jabber.org/protocol/disco#info',
  discoItems: 'http://jabber.org/protocol/disco#items',
  ping: 'urn:xmpp:ping',
  version: 'jabber:iq:version',
  last: 'jabber:iq:last',
  vcard: 'vcard-temp',
  private: 'jabber:iq:private',
  privacy: 'jabber:iq:privacy',
  blocking: 'urn:xmpp:blocking',
  carbons: 'urn:xmpp:carbons:2',
  forward: 'urn:xmpp:forward:0',
  mam: 'urn:xmpp:mam:2',
  rsm: 'http://jabber.org/protocol/rsm',
  dataForms: 'jabber:x:data',
  sm: 'urn:xmpp:sm:3',
  csi: 'urn:xmpp:csi:0',
  hints: 'urn:xmpp:hints',
} as const;

export type ErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';

/** The default type of each RFC 6120 §8.3.3 condition. */
const DEFAULT_TYPE: Record<string, ErrorType> = {
  'bad-request': 'modify',
  conflict: 'cancel',
  'feature-not-implemented': 'cancel',
  forbidden: 'auth',
  gone: 'cancel',
  'internal-server-error': 'cancel',
  'item-not-found': 'cancel',
  'jid-malformed': 'modify',
  'not-acceptable': 'modify',
  'not-allowed': 'cancel',
  'not-authorized': 'auth',
  'policy-violation': 'modify',
  'recipient-unavailable': 'wait',
  redirect: 'modify',
  'registration-required': 'auth',
  'remote-server-not-found': 'cancel',
  'remote-server-timeout': 'wait',
  'resource-constraint': 'wait',
  'service-unavailable': 'cancel',
  'subscription-required': 'auth',
  'undefined-condition': 'cancel',
  'unexpected-request': 'wait',
};

/** A stanza-level error (RFC 6120 §8.3): thrown by handlers, turned into an error reply. */
export class StanzaError extends Error {
  readonly type: ErrorType;
  constructor(
    readonly condition: string,
    readonly text?: string,
    type?: ErrorType,
    /** An application-specific condition element (XEP-0191's `<blocked/>`, say). */
    readonly extra?: Element,
  ) {
    super(text ?? condition);
    this.type = type ?? DEFAULT_TYPE[condition] ?? 'cancel';
  }
}

/** The `<error/>` child for `err`. */
export function errorElement(err: StanzaError): Element {
  const el = new Element('error', { type: err.type });
  el.c(err.condition, { xmlns: NS.stanzas });
  if (err.text) el.c('text', { xmlns: NS.stanzas, 'xml:lang': 'en' }).t(err.text);
  if (err.extra) el.cnode(err.extra);
  return el;
}

/**
 * The error reply to `stanza`: from and to swapped, type error, the original payload kept
 * (RFC 6120 §8.3.1 allows it; clients match on the id).
 */
export function errorReply(stanza: Element, err: StanzaError): Element {
  const reply = new Element(stanza.name, { ...stanza.attrs, type: 'error', from: stanza.attrs.to, to: stanza.attrs.from });
  if (reply.attrs.from === undefined) delete reply.attrs.from;
  if (reply.attrs.to === undefined) delete reply.attrs.to;
  for (const child of stanza.children) if (typeof child !== 'string' && child.name !== 'error') reply.cnode(clone(child));
  reply.cnode(errorElement(err));
  return reply;
}

/** `<iq type='result'>` answering `iq`, with `payload` when given. */
export function iqResult(iq: Element, payload?: Element): Element {
  const attrs: Record<string, string> = { type: 'result', id: iq.attrs.id };
  if (iq.attrs.to) attrs.from = iq.attrs.to;
  if (iq.attrs.from) attrs.to = iq.attrs.from;
  const reply = new Element('iq', attrs);
  if (payload) reply.cnode(payload);
  return reply;
}

/** Never answer an error with an error (RFC 6120 §8.3.1), nor a result. */
export function mayReplyWithError(stanza: Element): boolean {
  return stanza.attrs.type !== 'error' && !(stanza.name === 'iq' && stanza.attrs.type === 'result');
}

/**
 * A domain error as the stanza error `conditions` names for its code (anything else is left
 * as it is). `service-unavailable` goes without the text, which would say whether an account exists.
 */
export function stanzaErrorOf(err: unknown, conditions: Partial<Record<ErrorCode, string>>): unknown {
  const condition = err instanceof CommandError ? conditions[err.code] : undefined;
  if (condition === undefined) return err;
  return new StanzaError(condition, condition === 'service-unavailable' ? undefined : (err as CommandError).message);
}

/** Awaits a domain call, its errors turned into stanza errors by `stanzaErrorOf`. */
export async function asStanzaErrors<T>(p: Promise<T>, conditions: Partial<Record<ErrorCode, string>>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw stanzaErrorOf(err, conditions);
  }
}

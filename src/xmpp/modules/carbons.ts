import { Element, clone } from 'ltx';
import { bareText, formatJid, type Jid } from '../../lib/jid';
import type { ModuleApi, Session, XmppModule } from '../api';
import { NS, StanzaError } from '../stanza';

/** Payloads that make a message without a body worth copying (XEP-0280 §6.1): chat states, receipts, markers. */
const IM_PAYLOADS = new Set(['http://jabber.org/protocol/chatstates', 'urn:xmpp:receipts', 'urn:xmpp:chat-markers:0']);

/**
 * Message Carbons (XEP-0280): a session that enabled carbons gets a `<received/>` copy of the
 * chat messages its user receives on other sessions, and a `<sent/>` copy of those its user
 * sends from other sessions, each wrapped in `<forwarded xmlns='urn:xmpp:forward:0'/>`.
 */
export const carbons: XmppModule = (api) => {
  api.discoFeature(NS.carbons);

  api.iq({ xmlns: NS.carbons, to: ['host', 'self'] }, (iq, from, session) => {
    if (iq.attrs.type !== 'set') throw new StanzaError('bad-request', 'Carbons are enabled and disabled with an IQ set');
    if (!session) throw new StanzaError('not-allowed', 'Carbons are for client sessions');
    if (iq.attrs.to !== undefined && iq.attrs.to !== bareText(from) && iq.attrs.to !== from.host) throw new StanzaError('forbidden');
    if (iq.getChild('enable', NS.carbons)) session.carbons = true;
    else if (iq.getChild('disable', NS.carbons)) session.carbons = false;
    else throw new StanzaError('bad-request', 'Expected <enable/> or <disable/>');
  });

  api.hook('message-delivered', (stanza, to, sessions) => {
    if (!copied(stanza)) return;
    const others = api.sessions.ofUser(to).filter((s) => s.carbons && !sessions.includes(s));
    for (const s of others) s.send(copy(stanza, 'received', s.jid));
  });

  api.hook('client-stanza', (stanza, session) => {
    if (stanza.name !== 'message' || !copied(stanza)) return;
    sendCopies(api, stanza, session);
  });
};

function sendCopies(api: ModuleApi, stanza: Element, sender: Session): void {
  for (const s of api.sessions.ofUser(sender.jid)) {
    if (s.id !== sender.id && s.carbons) s.send(copy(stanza, 'sent', s.jid));
  }
}

/** Which messages are copied (XEP-0280 §6): one-to-one chat, not marked private or no-copy. */
function copied(stanza: Element): boolean {
  if (stanza.getChild('private', NS.carbons) || stanza.getChild('no-copy', NS.hints)) return false;
  if (stanza.getChild('received', NS.carbons) || stanza.getChild('sent', NS.carbons)) return false;
  const type = (stanza.attrs.type as string | undefined) ?? 'normal';
  if (type === 'chat') return true;
  if (type !== 'normal') return false;
  return stanza.getChild('body') !== undefined || stanza.getChildElements().some((c) => IM_PAYLOADS.has(c.getNS() ?? ''));
}

/** `<message from=bare to=full><received|sent><forwarded><message/></forwarded></…></message>`. */
function copy(stanza: Element, kind: 'received' | 'sent', to: Jid): Element {
  const inner = clone(stanza);
  if (inner.attrs.xmlns === undefined) inner.attrs.xmlns = NS.client;
  const out = new Element('message', { from: bareText(to), to: formatJid(to), type: stanza.attrs.type ?? 'normal' });
  out.c(kind, { xmlns: NS.carbons }).c('forwarded', { xmlns: NS.forward }).cnode(inner);
  return out;
}

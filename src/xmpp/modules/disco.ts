import { Element } from 'ltx';
import { bareText, parseJid, type Jid } from '../../lib/jid';
import type { ModuleApi, XmppModule } from '../api';
import { NS, StanzaError } from '../stanza';

/** What a user's bare JID answers for itself (XEP-0030 §3.1; the archive is its owner's alone). */
const ACCOUNT_FEATURES = [NS.discoInfo, NS.discoItems];
const SELF_FEATURES = [...ACCOUNT_FEATURES, NS.mam];

/**
 * Service discovery (XEP-0030): the server's identity and the features the other modules
 * register with `discoFeature`, the items they register with `discoItem` (the MUC service),
 * and an account's identity at its bare JID.
 */
export const disco: XmppModule = (api) => {
  for (const ns of [NS.discoInfo, NS.discoItems]) api.discoFeature(ns);

  api.iq({ xmlns: NS.discoInfo, to: ['host', 'self', 'bare'] }, async (iq, from) => {
    const query = payload(iq, NS.discoInfo);
    if (query.attrs.node !== undefined) throw new StanzaError('item-not-found', `No node ${String(query.attrs.node)} here`);
    const to = target(api, iq, from);
    const reply = new Element('query', { xmlns: NS.discoInfo });
    if (to.user === '') {
      reply.c('identity', { category: 'server', type: 'im', name: 'ctl' });
      for (const ns of [...new Set(api.discoFeatures())].sort()) reply.c('feature', { var: ns });
      return reply;
    }
    if (!(await api.features().accounts.exists(to))) throw new StanzaError('service-unavailable');
    reply.c('identity', { category: 'account', type: 'registered' });
    const self = bareText(to) === bareText(from);
    for (const ns of self ? SELF_FEATURES : ACCOUNT_FEATURES) reply.c('feature', { var: ns });
    return reply;
  });

  api.iq({ xmlns: NS.discoItems, to: ['host', 'self', 'bare'] }, async (iq, from) => {
    const query = payload(iq, NS.discoItems);
    if (query.attrs.node !== undefined) throw new StanzaError('item-not-found', `No node ${String(query.attrs.node)} here`);
    const to = target(api, iq, from);
    if (to.user !== '' && !(await api.features().accounts.exists(to))) throw new StanzaError('service-unavailable');
    const reply = new Element('query', { xmlns: NS.discoItems });
    if (to.user === '')
      for (const item of api.discoItems(to.host)) reply.c('item', item.name === undefined ? { jid: item.jid } : { jid: item.jid, name: item.name });
    return reply;
  });
};

function payload(iq: Element, xmlns: string): Element {
  const query = iq.getChild('query', xmlns);
  if (!query) throw new StanzaError('bad-request', `Expected <query xmlns='${xmlns}'/>`);
  return query;
}

/** The entity asked: the server (a served host), or an account; no `to` is the sender's account (RFC 6120 §10.3.3). */
function target(api: ModuleApi, iq: Element, from: Jid): Jid {
  const to = iq.attrs.to as string | undefined;
  if (to === undefined) return { user: from.user, host: from.host, resource: '' };
  let jid: Jid;
  try {
    jid = parseJid(to);
  } catch {
    throw new StanzaError('jid-malformed', `Invalid JID '${to}'`);
  }
  if (!api.config().hosts.includes(jid.host)) throw new StanzaError('item-not-found', `${jid.host} is not served here`);
  return jid;
}

import { Element } from 'ltx';
import { bareText, parseJid, type BareJid, type Jid } from '../../lib/jid';
import type { XmppModule } from '../api';
import { NS, StanzaError, stanzaErrorOf } from '../stanza';

/**
 * vcard-temp (XEP-0054) over the vCard feature, the one the admin commands use: anyone may
 * read a local user's vCard (an empty one when none is stored, as ejabberd answers), only its
 * owner may replace it.
 */
export const vcard: XmppModule = (api) => {
  api.discoFeature(NS.vcard);
  api.iq({ xmlns: NS.vcard, to: ['host', 'self', 'bare'] }, async (iq, from) => {
    const card = iq.getChild('vCard', NS.vcard);
    if (!card) throw new StanzaError('bad-request', `Expected <vCard xmlns='${NS.vcard}'/>`);
    const to = target(iq, from, api.config().hosts);
    if (to === 'server') {
      if (iq.attrs.type === 'set') throw new StanzaError('forbidden', 'The server vCard cannot be changed');
      return new Element('vCard', { xmlns: NS.vcard });
    }
    const features = api.features();
    try {
      if (iq.attrs.type === 'get') return (await features.vcard.get(to)) ?? new Element('vCard', { xmlns: NS.vcard });
      if (bareText(to) !== bareText(from)) throw new StanzaError('forbidden', 'Only its owner may change a vCard');
      await features.vcard.set(to, card);
    } catch (err) {
      throw stanzaError(err);
    }
  });
};

const stanzaError = (err: unknown) => stanzaErrorOf(err, { not_found: 'service-unavailable', bad_argument: 'not-acceptable' });

/** The account asked (no `to` is the sender's own, RFC 6120 §10.3.3), or the server at a served host. */
function target(iq: Element, from: Jid, hosts: readonly string[]): BareJid | 'server' {
  const to = iq.attrs.to as string | undefined;
  if (to === undefined) return { user: from.user, host: from.host };
  let jid: Jid;
  try {
    jid = parseJid(to);
  } catch {
    throw new StanzaError('jid-malformed', `Invalid JID '${to}'`);
  }
  if (!hosts.includes(jid.host)) throw new StanzaError('service-unavailable');
  return jid.user === '' ? 'server' : { user: jid.user, host: jid.host };
}

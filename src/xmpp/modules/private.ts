import { Element } from 'ltx';
import { bareText, parseJid, type Jid } from '../../lib/jid';
import type { XmppModule } from '../api';
import { NS, StanzaError, stanzaErrorOf } from '../stanza';

/**
 * Private XML storage (XEP-0049) over the private feature: a user reads and writes only
 * their own data; the namespace of each child names what is stored.
 */
export const privateStorage: XmppModule = (api) => {
  api.discoFeature(NS.private);
  api.iq({ xmlns: NS.private, to: ['host', 'self', 'bare'] }, async (iq, from) => {
    const query = iq.getChild('query', NS.private);
    if (!query) throw new StanzaError('bad-request', `Expected <query xmlns='${NS.private}'/>`);
    checkSelf(iq, from);
    const children = query.getChildElements();
    if (children.length === 0) throw new StanzaError('bad-request', 'The query names no data: give one child element in its namespace');
    const owner = { user: from.user, host: from.host };
    const features = api.features();
    try {
      if (iq.attrs.type === 'set') {
        for (const child of children) await features.private.set(owner, child);
        return;
      }
      if (children.length > 1) throw new StanzaError('not-acceptable', 'A get asks for one namespace at a time');
      const asked = children[0];
      const reply = new Element('query', { xmlns: NS.private });
      reply.cnode(await features.private.get(owner, asked.name, asked.getNS() ?? ''));
      return reply;
    } catch (err) {
      throw stanzaError(err);
    }
  });
};

/** Only one's own storage (XEP-0049 §3: a request to another JID is forbidden). */
function checkSelf(iq: Element, from: Jid): void {
  const to = iq.attrs.to as string | undefined;
  if (to === undefined) return;
  let jid: Jid;
  try {
    jid = parseJid(to);
  } catch {
    throw new StanzaError('jid-malformed', `Invalid JID '${to}'`);
  }
  if (jid.user === '' || bareText(jid) !== bareText(from)) throw new StanzaError('forbidden', 'Private storage is only its owner’s');
}

// The feature refuses reserved and missing namespaces and malformed names as bad arguments.
const stanzaError = (err: unknown) => stanzaErrorOf(err, { bad_argument: 'not-acceptable', not_found: 'service-unavailable' });

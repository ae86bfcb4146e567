import type { XmppModule } from '../api';
import { NS, StanzaError } from '../stanza';

/** XMPP Ping (XEP-0199): the server answers a ping addressed to it with an empty result. */
export const ping: XmppModule = (api) => {
  api.discoFeature(NS.ping);
  api.iq({ xmlns: NS.ping, to: ['host'] }, (iq) => {
    if (iq.attrs.type !== 'get') throw new StanzaError('bad-request', 'A ping is an IQ get');
  });
};

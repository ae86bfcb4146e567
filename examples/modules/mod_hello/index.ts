// Answers <iq type='get'><hello xmlns='urn:example:hello'/></iq> addressed to the server with
// a greeting for the sender: modules: mod_hello: greeting: in ctl.yml chooses the word.
import type { ExtensionApi } from '../../../src/xmpp/extension';
import { greet } from './greet';

export const NS = 'urn:example:hello';

export function setup(api: ExtensionApi): void {
  api.xmpp.discoFeature(NS);
  api.xmpp.iq({ xmlns: NS, to: ['host'] }, (iq, from) => {
    if (iq.attrs.type !== 'get') throw new api.xmpp.StanzaError('bad-request', 'A greeting is asked with an IQ get');
    const word = typeof api.options.greeting === 'string' ? api.options.greeting : 'Hello';
    const hello = api.xmpp.element('hello', { xmlns: NS });
    hello.c('greeting').t(greet(word, `${from.user}@${from.host}`));
    return hello;
  });
  api.logger.info('answering urn:example:hello');
}

export function teardown(api: ExtensionApi): void {
  api.logger.info('no longer answering urn:example:hello');
}

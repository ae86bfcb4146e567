import { Element } from 'ltx';
import { NS } from '../stanza';
import type { C2sExtension } from './connection';

const NS_PREAPPROVAL = 'urn:xmpp:features:pre-approval';

/**
 * The post-authentication stream features that ask nothing of the hub: roster versioning
 * (RFC 6121 §2.6, which the roster module answers), subscription pre-approval (§3.4, which the
 * presence module carries out) and client state indication (XEP-0352), whose `<active/>` and
 * `<inactive/>` are top-level elements rather than stanzas.
 */
export const clientState: C2sExtension = {
  features: () => [new Element('ver', { xmlns: NS.rosterver }), new Element('sub', { xmlns: NS_PREAPPROVAL }), new Element('csi', { xmlns: NS.csi })],
  element(stream, el, ns) {
    if (ns !== NS.csi || (el.name !== 'active' && el.name !== 'inactive')) return false;
    // Only recorded: nothing is held back from an inactive client yet.
    if (stream.session) stream.session.inactive = el.name === 'inactive';
    return true;
  },
};

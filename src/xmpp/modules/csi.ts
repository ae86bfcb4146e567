import type { Session, XmppModule } from '../api';

/**
 * Client State Indication (XEP-0352). The stream offers `<csi xmlns='urn:xmpp:csi:0'/>` among
 * its features and hands `<active/>` and `<inactive/>` (top-level elements, not stanzas) to
 * `setClientState`; the hub routes nothing here, so the module registers nothing.
 */
export const csi: XmppModule = () => undefined;

/** Records what the client said of itself; saying it twice changes nothing. */
export function setClientState(session: Session, active: boolean): void {
  session.inactive = !active;
}

import type { BareJid } from '../lib/jid';
import type { RosterItem } from './roster/records';

/**
 * What features tell the rest of the node after a change is committed. Admin commands and
 * XMPP handlers emit the same events, since both call the same domain functions; the XMPP
 * server subscribes (closes the sessions of a removed or banned account, pushes roster
 * changes, delivers what was stored offline when its owner is online).
 */
export interface FeatureEvents {
  'account-registered': { readonly jid: BareJid };
  'account-removed': { readonly jid: BareJid };
  'account-banned': { readonly jid: BareJid; readonly reason: string };
  'password-changed': { readonly jid: BareJid };
  /** `item` undefined: the contact was removed from the roster. */
  'roster-item-changed': { readonly owner: BareJid; readonly contact: string; readonly item: RosterItem | undefined };
  'vcard-changed': { readonly jid: BareJid };
  'offline-message-stored': { readonly jid: BareJid; readonly id: string };
  /** The SHA-256 (hex) of each token revoked; `hashes` absent: the database was replaced, any token may have gone. */
  'api-tokens-revoked': { readonly hashes?: readonly string[] };
}

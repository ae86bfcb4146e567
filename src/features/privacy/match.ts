import type { Jid } from '../../lib/jid';
import type { PrivacyItem, PrivacyStanza } from './records';

/** What a list needs to know of the other party: its JID, and its item in the owner's roster. */
export interface PrivacyContact {
  readonly jid: Jid;
  /** The owner's roster item for the contact's bare JID; none means subscription none, no groups. */
  readonly roster?: { readonly subscription: string; readonly groups: readonly string[] };
}

/**
 * A blocklist entry (XEP-0191) as it is kept in the default privacy list: a `jid` item that
 * denies every kind of stanza.
 */
export function isBlockItem(item: PrivacyItem): boolean {
  return item.type === 'jid' && item.action === 'deny' && item.stanzas.length === 0;
}

/**
 * Whether a `jid` item's value matches `jid` (XEP-0016 §2.1): `user@domain/resource` only that
 * resource, `user@domain` any of its resources, `domain/resource` that resource of the domain,
 * `domain` the domain and every JID at it. Values are stored prepared, so texts compare.
 */
export function jidValueMatches(value: string, jid: Jid): boolean {
  const slash = value.indexOf('/');
  const bare = slash < 0 ? value : value.slice(0, slash);
  const resource = slash < 0 ? undefined : value.slice(slash + 1);
  const at = bare.indexOf('@');
  const user = at < 0 ? undefined : bare.slice(0, at);
  const host = at < 0 ? bare : bare.slice(at + 1);
  if (host !== jid.host) return false;
  if (user !== undefined && user !== jid.user) return false;
  if (resource !== undefined && resource !== jid.resource) return false;
  // `domain/resource` is about the server's own resource, not its users'.
  return !(user === undefined && resource !== undefined && jid.user !== '');
}

function matches(item: PrivacyItem, contact: PrivacyContact): boolean {
  switch (item.type) {
    case undefined:
      return true;
    case 'jid':
      return jidValueMatches(item.value ?? '', contact.jid);
    case 'subscription':
      return (contact.roster?.subscription ?? 'none') === item.value;
    case 'group':
      return contact.roster?.groups.includes(item.value ?? '') ?? false;
  }
}

/** The first item of a list (sorted by order) that decides about `kind` from or to `contact`; none: allowed. */
export function decidingItem(items: readonly PrivacyItem[], kind: PrivacyStanza, contact: PrivacyContact): PrivacyItem | undefined {
  return items.find((item) => (item.stanzas.length === 0 || item.stanzas.includes(kind)) && matches(item, contact));
}

/** Whether any item needs the contact's roster item to decide (group and subscription items). */
export function needsRoster(items: readonly PrivacyItem[]): boolean {
  return items.some((item) => item.type === 'group' || item.type === 'subscription');
}

/**
 * jabber:iq:roster (RFC 6121 §2): get with versioning, set, remove, and pushes to the interested
 * resources after any change, the admin commands' included (one path: the roster feature's
 * 'roster-item-changed' event). Shared roster groups join the roster as mod_shared_roster does.
 */
import { createHash } from 'node:crypto';
import { Element } from 'ltx';
import { CommandError } from '../../lib/errors';
import { createKeyedLock, type KeyedLock } from '../../lib/keyed-lock';
import { bareText, formatJid, tryParseJid, type BareJid } from '../../lib/jid';
import type { Features } from '../../features';
import { ALL_USERS } from '../../features/srg/records';
import { normalGroups, type RosterItem } from '../../features/roster/records';
import type { XmppModule } from '../api';
import { hubApi, type HubApi } from '../hub';
import { NS, StanzaError } from '../stanza';

/** A contact asked for the user's presence and the user has not answered: not shown (RFC 6121 §3.1.3). */
export function hidden(item: RosterItem): boolean {
  return item.subscription === 'none' && item.ask === 'in';
}

/**
 * The contacts of shared roster groups that `owner` sees: members of the groups displayed to
 * the owner's groups, each with the display names of the groups it comes from.
 */
async function sharedContacts(features: Features, owner: BareJid): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const ids = await features.srg.list(owner.host);
  if (ids.length === 0) return out;
  const groups = await Promise.all(
    ids.map(async (id) => {
      const ref = { host: owner.host, group: id };
      return { id, info: await features.srg.info(ref), members: await features.srg.members(ref) };
    }),
  );
  const mine = groups.filter((g) => g.members.some((m) => m === ALL_USERS || (m.user === owner.user && m.host === owner.host)));
  const displayed = new Set(mine.flatMap((g) => g.info.displayed));
  const self = bareText(owner);
  let everyone: string[] | undefined;
  for (const g of groups) {
    if (!displayed.has(g.id)) continue;
    const label = g.info.name || g.id;
    for (const m of g.members) {
      const contacts = m === ALL_USERS ? (everyone ??= (await features.accounts.registeredUsers(owner.host)).map((u) => `${u}@${owner.host}`)) : [bareText(m)];
      for (const c of contacts) if (c !== self) out.set(c, [...(out.get(c) ?? []), label]);
    }
  }
  return out;
}

/** The owner's stored roster with the shared contacts merged in (subscription both), by contact. */
export async function contacts(features: Features, owner: BareJid): Promise<Map<string, RosterItem>> {
  // Two reads that do not depend on each other: a login waits for one round trip, not two.
  const [stored, shared] = await Promise.all([features.roster.items(owner), sharedContacts(features, owner)]);
  const items = new Map(stored.map(({ contact, item }) => [contact, item]));
  for (const [contact, groups] of shared) {
    const old = items.get(contact);
    items.set(contact, { name: old?.name ?? '', subscription: 'both', ask: 'none', groups: normalGroups([...(old?.groups ?? []), ...groups]) });
  }
  return items;
}

/** What the client sees, and its version: a hash of it. */
async function visibleRoster(features: Features, owner: BareJid): Promise<{ items: [string, RosterItem][]; ver: string }> {
  const items = [...(await contacts(features, owner))].filter(([, item]) => !hidden(item));
  const ver = createHash('sha1').update(JSON.stringify(items)).digest('hex').slice(0, 16);
  return { items, ver };
}

function itemElement(contact: string, item: RosterItem | undefined): Element {
  if (!item) return new Element('item', { jid: contact, subscription: 'remove' });
  const el = new Element('item', { jid: contact, subscription: item.subscription });
  if (item.name !== '') el.attrs.name = item.name;
  if (item.ask === 'out') el.attrs.ask = 'subscribe';
  if (item.approved) el.attrs.approved = 'true';
  for (const g of item.groups) el.c('group').t(g);
  return el;
}

export const roster: XmppModule = (base) => {
  const api = hubApi(base);
  let pushes = 0;

  api.discoFeature(NS.roster);
  api.iq({ xmlns: NS.roster, to: ['self'] }, async (iq, from, session) => {
    const owner = { user: from.user, host: from.host };
    const query = iq.getChild('query', NS.roster)!;
    if (iq.attrs.type === 'get') {
      const { items, ver } = await visibleRoster(api.features(), owner);
      if (session) session.interested = true;
      if (query.attrs.ver !== undefined && query.attrs.ver === ver) return;
      const out = new Element('query', { xmlns: NS.roster, ver });
      for (const [contact, item] of items) out.cnode(itemElement(contact, item));
      return out;
    }
    await setItem(api, owner, query);
  });

  const lock = createKeyedLock();
  pushing.set(api, lock);
  api.listen('roster-item-changed', ({ owner, contact, item }) => {
    if (item && hidden(item)) return;
    if (!api.sessions.ofUser(owner).some((s) => s.interested)) return;
    // Pushes of one owner go out in the order of the changes.
    const key = bareText(owner);
    void lock
      .run(key, async () => {
        const { ver } = await visibleRoster(api.features(), owner);
        for (const s of api.sessions.ofUser(owner)) {
          if (!s.interested) continue;
          const push = new Element('iq', { type: 'set', id: `push${++pushes}`, to: s.full });
          push.c('query', { xmlns: NS.roster, ver }).cnode(itemElement(contact, item));
          s.send(push);
        }
      })
      .catch((err: unknown) => api.logger.error(`roster push to ${key}: ${String(err)}`));
  });
};

/** Each hub's pushes under way, by owner. */
const pushing = new WeakMap<HubApi, KeyedLock>();

/** Resolves once the pushes of the owner's roster changes so far were sent: what follows a change goes after its push. */
export function pushesSent(api: HubApi, owner: BareJid): Promise<void> {
  return pushing.get(api)?.run(bareText(owner), async () => undefined) ?? Promise.resolve();
}

async function setItem(api: HubApi, owner: BareJid, query: Element): Promise<void> {
  const items = query.getChildren('item');
  if (items.length !== 1) throw new StanzaError('bad-request', 'A roster set holds exactly one item');
  const el = items[0];
  const contact = contactOf(String(el.attrs.jid ?? ''));
  const features = api.features();
  if (el.attrs.subscription === 'remove') return removeItem(api, owner, contact);
  const groups = el.getChildren('group').map((g) => g.getText());
  if (groups.some((g) => g === '')) throw new StanzaError('not-acceptable', 'A group name must not be empty');
  if (new Set(groups).size !== groups.length) throw new StanzaError('bad-request', 'A group is named twice');
  // The subscription, ask and approved a client sends are ignored (RFC 6121 §2.1.2.5): only presence changes them.
  const old = await features.roster.get(owner, contact);
  const name = String(el.attrs.name ?? '');
  try {
    await features.roster.set(owner, contact, { ...old, name, groups, subscription: old?.subscription ?? 'none', ask: old?.ask ?? 'none' });
  } catch (err) {
    if (err instanceof CommandError && err.code === 'bad_argument') throw new StanzaError('not-acceptable', err.message);
    throw err;
  }
}

/** RFC 6121 §2.5.2: removing an item cancels both subscriptions, any pending request and any pre-approval. */
async function removeItem(api: HubApi, owner: BareJid, contact: string): Promise<void> {
  const features = api.features();
  const old = await features.roster.get(owner, contact);
  if (!old) throw new StanzaError('item-not-found');
  await features.roster.remove(owner, contact);
  const from = bareText(owner);
  const send = (type: string) => api.route(new Element('presence', { type, from, to: contact }));
  if (old.subscription === 'to' || old.subscription === 'both' || old.ask === 'out') await send('unsubscribe');
  if (old.subscription === 'from' || old.subscription === 'both' || old.ask === 'in') {
    await send('unsubscribed');
    for (const s of api.sessions.ofUser(owner)) {
      if (s.presence) await api.route(new Element('presence', { type: 'unavailable', from: s.full, to: contact }));
    }
  }
}

/** The bare JID a roster item names. */
function contactOf(text: string): string {
  const jid = tryParseJid(text);
  if (jid === undefined) throw new StanzaError('jid-malformed', `Not a JID: '${text}'`);
  return formatJid({ user: jid.user, host: jid.host });
}

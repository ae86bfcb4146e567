import { Element } from 'ltx';
import { createPrivacyCache } from '../../features/privacy/cache';
import { decidingItem, isBlockItem, needsRoster, type PrivacyContact } from '../../features/privacy/match';
import { parsePrivacyQuery, type PrivacyQuery, type PrivacySettings } from '../../features/privacy/privacy';
import type { PrivacyItem, PrivacyList, PrivacyStanza } from '../../features/privacy/records';
import { bareText, tryParseJid, formatJid, type BareJid, type Jid } from '../../lib/jid';
import type { ModuleApi, Session, XmppModule } from '../api';
import { asStanzaErrors, errorReply, mayReplyWithError, NS, StanzaError, stanzaErrorOf } from '../stanza';
import { NS_BLOCKED } from './blocking';
import { rosterView, type RosterView } from './presence';

const CACHED_USERS = 100_000;
const NONE: PrivacySettings = { lists: [] };
/** The privacy feature's refusals as stanza errors. */
const STANZA_ERRORS = { bad_argument: 'bad-request', not_found: 'item-not-found', conflict: 'conflict' } as const;
/** Presence that is about subscriptions, not availability: only items that deny everything stop it. */
const SUBSCRIPTION_TYPES = new Set(['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed', 'probe']);

/**
 * Privacy Lists (XEP-0016) over the privacy feature (`privacy_set` stores the same lists):
 * the user's lists, the default one, and each session's active one; the list in force (the
 * session's active list, else the default) decides on incoming messages, IQs and presence and
 * on outgoing presence (the broadcasts and probe answers the server sends for the user too),
 * and an item without stanza kinds on everything, both ways. Group and subscription items see
 * the roster as presence does, shared contacts included.
 */
export const privacy: XmppModule = (api) => {
  const settings = createPrivacyCache(
    () => api.features().privacy,
    (p, jid) => p.lists(jid),
    NONE,
    CACHED_USERS,
  );
  const active = new Map<number, string>();
  api.discoFeature(NS.privacy);

  api.iq({ xmlns: NS.privacy, to: ['host', 'self'] }, async (iq, from, session) => {
    const query = iq.getChild('query', NS.privacy);
    if (!query) throw new StanzaError('bad-request', `Expected <query xmlns='${NS.privacy}'/>`);
    const owner: BareJid = { user: from.user, host: from.host };
    if (iq.attrs.to !== undefined && iq.attrs.to !== bareText(owner) && iq.attrs.to !== owner.host) throw new StanzaError('forbidden');
    if (iq.attrs.type === 'get') return answer(api, owner, query, session && active.get(session.id));
    const q = parsed(query);
    checkNotActiveElsewhere(api, owner, q, session, active);
    await asStanzaErrors(api.features().privacy.apply(owner, q), STANZA_ERRORS);
    if (session && q.active !== undefined) {
      if (q.active === '') active.delete(session.id);
      else active.set(session.id, q.active);
    }
    for (const name of q.lists.keys()) pushList(api, owner, name);
  });

  api.hook('session-bound', (session) => void settings.load(session.jid).catch(() => undefined));
  api.hook('session-closed', (session) => {
    active.delete(session.id);
    if (!api.sessions.ofUser(session.jid).some((s) => s.id !== session.id)) settings.forget(session.jid);
  });

  /** The list in force: the session's active list, else the default; undefined: none. */
  function listOf(s: PrivacySettings, session: Session | undefined): PrivacyList | undefined {
    const name = (session && active.get(session.id)) ?? s.default;
    return name === undefined ? undefined : s.lists.find((l) => l.name === name);
  }

  async function decide(owner: BareJid, session: Session | undefined, kind: PrivacyStanza | 'all', contact: Jid): Promise<PrivacyItem | undefined> {
    const s = settings.peek(owner) ?? (await settings.load(owner));
    const list = listOf(s, session);
    if (!list) return undefined;
    const items = kind === 'all' ? list.items.filter((i) => i.stanzas.length === 0) : list.items;
    const roster = needsRoster(items) ? await rosterView(api, owner) : undefined;
    const item = decidingItem(items, kind === 'all' ? 'message' : kind, contactIn(roster, contact));
    return item?.action === 'deny' ? item : undefined;
  }

  /** Without a list in force (the common case, once read), a stanza passes without waiting. */
  function free(owner: BareJid, session: Session | undefined): boolean {
    const s = settings.peek(owner);
    return s !== undefined && listOf(s, session) === undefined;
  }

  api.hook('deliver', (stanza, to) => {
    const from = tryParseJid(stanza.attrs.from);
    if (!from || (from.user === to.user && from.host === to.host)) return false;
    const session = to.resource === '' ? undefined : api.sessions.get(to);
    return free(to, session) ? false : refuseIncoming(stanza, to, session, from);
  });

  async function refuseIncoming(stanza: Element, to: Jid, session: Session | undefined, from: Jid): Promise<boolean> {
    const kind =
      stanza.name === 'presence' ? (SUBSCRIPTION_TYPES.has(stanza.attrs.type as string) ? 'all' : 'presence-in') : stanza.name === 'iq' ? 'iq' : 'message';
    if (!(await decide(to, session, kind, from))) return false;
    const bounces = stanza.name === 'message' || (stanza.name === 'iq' && (stanza.attrs.type === 'get' || stanza.attrs.type === 'set'));
    if (bounces && mayReplyWithError(stanza)) void api.route(errorReply(stanza, new StanzaError('service-unavailable'))).catch(() => undefined);
    return true;
  }

  api.hook('client-stanza', (stanza, session) => {
    const to = tryParseJid(stanza.attrs.to);
    if (!to || (to.user === session.jid.user && to.host === session.jid.host)) return false;
    return free(session.jid, session) ? false : refuseOutgoing(stanza, session, to);
  });

  api.hook('presence-broadcast', (p, session, recipients) => (free(session.jid, session) ? undefined : withhold(p, session, recipients)));

  /** One read of the list and the roster for all recipients: a broadcast may have hundreds. */
  async function withhold(p: Element, session: Session, recipients: Set<string>): Promise<void> {
    const list = listOf(settings.peek(session.jid) ?? (await settings.load(session.jid)), session);
    if (!list) return;
    const probe = SUBSCRIPTION_TYPES.has(p.attrs.type as string);
    const items = probe ? list.items.filter((i) => i.stanzas.length === 0) : list.items;
    const roster = needsRoster(items) ? await rosterView(api, session.jid) : undefined;
    for (const text of recipients) {
      const jid = tryParseJid(text);
      if (!jid) continue;
      if (decidingItem(items, probe ? 'message' : 'presence-out', contactIn(roster, jid))?.action === 'deny') recipients.delete(text);
    }
  }

  async function refuseOutgoing(stanza: Element, session: Session, to: Jid): Promise<boolean> {
    const availability = stanza.name === 'presence' && !SUBSCRIPTION_TYPES.has(stanza.attrs.type as string);
    const item = await decide(session.jid, session, availability ? 'presence-out' : 'all', to);
    if (!item) return false;
    if (stanza.name !== 'presence' && mayReplyWithError(stanza)) {
      const blocked = isBlockItem(item) ? new Element('blocked', { xmlns: NS_BLOCKED }) : undefined;
      session.send(errorReply(stanza, new StanzaError('not-acceptable', undefined, 'cancel', blocked)));
    }
    return true;
  }
};

async function answer(api: ModuleApi, owner: BareJid, query: Element, activeName: string | undefined): Promise<Element> {
  const asked = query.getChildren('list');
  if (asked.length > 1) throw new StanzaError('bad-request', 'Ask for one list at a time');
  const reply = new Element('query', { xmlns: NS.privacy });
  const features = api.features();
  if (asked.length === 1) {
    const name = String(asked[0].attrs.name ?? '');
    const list = await asStanzaErrors(features.privacy.list(owner, name), STANZA_ERRORS);
    if (!list) throw new StanzaError('item-not-found', `No privacy list '${name}'`);
    reply.cnode(listElement(list));
    return reply;
  }
  const s = await asStanzaErrors(features.privacy.lists(owner), STANZA_ERRORS);
  if (activeName !== undefined) reply.c('active', { name: activeName });
  if (s.default !== undefined) reply.c('default', { name: s.default });
  for (const list of s.lists) reply.c('list', { name: list.name });
  return reply;
}

function listElement(list: PrivacyList): Element {
  const el = new Element('list', { name: list.name });
  for (const item of list.items) {
    const attrs: Record<string, string> = { action: item.action, order: String(item.order) };
    if (item.type !== undefined) Object.assign(attrs, { type: item.type, value: item.value ?? '' });
    const child = el.c('item', attrs);
    for (const kind of item.stanzas) child.c(kind);
  }
  return el;
}

/** XEP-0016 §2.6: removing a list another session has active is a conflict. */
function checkNotActiveElsewhere(api: ModuleApi, owner: BareJid, q: PrivacyQuery, session: Session | undefined, active: Map<number, string>): void {
  for (const [name, items] of q.lists) {
    if (items.length > 0) continue;
    const user = api.sessions.ofUser(owner).find((s) => s.id !== session?.id && active.get(s.id) === name);
    if (user) throw new StanzaError('conflict', `Privacy list '${name}' is active for ${formatJid(user.jid)}`);
  }
}

/** XEP-0016 §2.6: every session of the user hears the name of a list that changed. */
function pushList(api: ModuleApi, owner: BareJid, name: string): void {
  for (const session of api.sessions.ofUser(owner)) {
    const iq = new Element('iq', { type: 'set', to: formatJid(session.jid), id: `push-privacy-${api.clock()}` });
    iq.c('query', { xmlns: NS.privacy }).c('list', { name });
    session.send(iq);
  }
}

/** `jid` with the owner's roster item for its bare JID, when the roster is needed. */
function contactIn(roster: RosterView | undefined, jid: Jid): PrivacyContact {
  return { jid, roster: roster?.get(bareText(jid)) };
}

function parsed(query: Element): PrivacyQuery {
  try {
    return parsePrivacyQuery(query);
  } catch (err) {
    throw stanzaErrorOf(err, STANZA_ERRORS);
  }
}

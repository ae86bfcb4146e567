/**
 * Presence (RFC 6121 §4) and subscriptions (§3) between local accounts: broadcast, probes,
 * directed presence, unavailable on close, and the subscription state machine stored in the
 * rosters of both ends, pre-approvals (§3.4) included, each change reaching the clients as a
 * roster push.
 *
 * Presence the server sends for a session (broadcasts, probes, probe answers) goes only to the
 * recipients the 'presence-broadcast' hooks leave: the user's blocklist and privacy lists. The
 * roster view broadcasts need is kept in memory while its owner has sessions.
 */
import { Element, clone } from 'ltx';
import { bareText, tryParseJid, type BareJid, type Jid } from '../../lib/jid';
import type { Features } from '../../features';
import { hasFrom, type RosterItem, type Subscription } from '../../features/roster/records';
import type { ModuleApi, Session, XmppModule } from '../api';
import { hubApi, type HubApi } from '../hub';
import type { LiveSession } from '../sessions';
import { contacts, hidden, pushesSent } from './roster';

const SUBSCRIPTION_TYPES = new Set(['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed']);

export { hasFrom };
export const hasTo = (s: Subscription) => s === 'to' || s === 'both';

function copyTo(stanza: Element, to: string, from?: string): Element {
  const c = clone(stanza);
  c.attrs.to = to;
  if (from !== undefined) c.attrs.from = from;
  return c;
}

function bareOf(text: string | undefined): BareJid | undefined {
  const j = tryParseJid(text);
  return j === undefined || j.user === '' ? undefined : { user: j.user, host: j.host };
}

/** RFC 6121 §4.7.2.3: an integer from -128 to 127, 0 when absent. */
function priorityOf(p: Element): number {
  const n = Number.parseInt(p.getChildText('priority') ?? '0', 10);
  return Number.isFinite(n) ? Math.max(-128, Math.min(127, n)) : 0;
}

const available = (api: HubApi, jid: BareJid) => api.sessions.ofUser(jid).filter((s) => s.presence !== undefined);

/** A roster as presence sees it: stored items and shared contacts, by contact. */
export type RosterView = ReadonlyMap<string, RosterItem>;

interface RosterCache {
  get(owner: BareJid): Promise<RosterView>;
  forget(owner: BareJid): void;
}

const rosterCaches = new WeakMap<ModuleApi, RosterCache>();

/**
 * The owner's roster view (`contacts` of modules/roster.ts), from memory while the owner has
 * sessions. Treat it as read-only: it is shared.
 */
export function rosterView(api: ModuleApi, owner: BareJid): Promise<RosterView> {
  return rosterCaches.get(api)?.get(owner) ?? contacts(api.features(), owner);
}

/**
 * Keeps the roster view of users with sessions. Roster changes (the admin commands' and the
 * server's own) drop the owner's view through 'roster-item-changed'; a registration or removal
 * drops its host's views, since a group of all users changes with them. Shared roster group
 * edits emit no event: a view taken before one lasts until the owner's roster changes or the
 * owner's last session ends.
 */
function createRosterCache(api: HubApi): RosterCache {
  const ready = new Map<string, RosterView>();
  const pending = new Map<string, Promise<RosterView>>();
  let features: Features | undefined;
  const drop = (key: string) => {
    ready.delete(key);
    pending.delete(key);
  };
  const dropHost = (host: string) => {
    for (const key of [...ready.keys(), ...pending.keys()]) if (key.endsWith(`@${host}`)) drop(key);
  };
  api.listen('roster-item-changed', ({ owner }) => drop(bareText(owner)), true);
  api.listen('account-registered', ({ jid }) => dropHost(jid.host), true);
  api.listen('account-removed', ({ jid }) => dropHost(jid.host), true);

  return {
    get(owner) {
      const f = api.features();
      // Features rebuilt (a restore): what was read came from the old ones.
      if (f !== features) {
        features = f;
        ready.clear();
        pending.clear();
      }
      const key = bareText(owner);
      const hit = ready.get(key) ?? pending.get(key);
      if (hit) return hit instanceof Promise ? hit : Promise.resolve(hit);
      const loading = contacts(f, owner);
      if (api.sessions.ofUser(owner).length === 0) return loading;
      pending.set(key, loading);
      loading.then(
        (view) => {
          // A change meanwhile dropped this read; a user gone offline is not kept.
          if (pending.get(key) !== loading) return;
          pending.delete(key);
          if (api.sessions.ofUser(owner).length > 0) ready.set(key, view);
        },
        () => {
          if (pending.get(key) === loading) pending.delete(key);
        },
      );
      return loading;
    },
    forget: (owner) => drop(bareText(owner)),
  };
}

/**
 * Sends `p` from `s` to each recipient the 'presence-broadcast' hooks leave, in the order given
 * (the sender's lists; the recipients' lists decide on delivery).
 */
export async function sendAllowed(api: HubApi, p: Element, s: Session, recipients: Iterable<string>, from?: string): Promise<void> {
  const left = new Set(recipients);
  if (left.size === 0) return;
  await api.fire('presence-broadcast', p, s, left);
  for (const to of left) await api.route(copyTo(p, to, from));
}

export const presence: XmppModule = (base) => {
  const api = hubApi(base);
  const cache = createRosterCache(api);
  rosterCaches.set(api, cache);
  api.hook('session-closed', (s) => {
    if (api.sessions.ofUser(s.bare).length === 0) cache.forget(s.bare);
  });
  api.hook('client-stanza', (stanza, session) => (stanza.name === 'presence' ? outbound(api, stanza, session as LiveSession) : undefined));
  api.local('presence', (stanza, to) => inbound(api, stanza, to));
  api.closing((s) => (s.presence !== undefined || s.directed.size > 0 ? unavailable(api, s, undefined) : undefined));
};

/** A presence from a client; true: handled here, false: the hub routes it as directed presence. */
async function outbound(api: HubApi, p: Element, s: LiveSession): Promise<boolean> {
  const type = p.attrs.type as string | undefined;
  const to = p.attrs.to as string | undefined;
  if (type === undefined || type === 'unavailable') {
    if (to === undefined) {
      await (type === undefined ? availableFrom(api, s, p) : unavailable(api, s, p));
      return true;
    }
    if (type === undefined) s.directed.add(to);
    else s.directed.delete(to);
    return false;
  }
  if (SUBSCRIPTION_TYPES.has(type)) {
    const contact = bareOf(to);
    if (contact) await outboundSubscription(api, s, type, bareText(contact), p);
    return true;
  }
  // Probes are the server's to send (RFC 6121 §4.3); errors travel as they are.
  return type !== 'error';
}

async function availableFrom(api: HubApi, s: LiveSession, p: Element): Promise<void> {
  const first = s.presence === undefined;
  s.presence = p;
  s.priority = priorityOf(p);
  const roster = await rosterView(api, s.bare);
  await sendAllowed(api, p, s, subscribers(roster));
  for (const o of available(api, s.bare)) o.send(copyTo(p, o.full));
  if (!first) return;
  const probe = new Element('presence', { type: 'probe', from: s.full });
  await sendAllowed(
    api,
    probe,
    s,
    [...roster].filter(([, item]) => hasTo(item.subscription)).map(([contact]) => contact),
  );
  // RFC 6121 §3.1.3: a request not yet answered is delivered again at each login.
  const self = bareText(s.bare);
  for (const [contact, item] of roster) if (item.ask === 'in') s.send(new Element('presence', { type: 'subscribe', from: contact, to: self }));
  await api.fire('session-available', s);
}

/** Unavailable to contacts, directed-presence recipients and the user's other resources. */
async function unavailable(api: HubApi, s: LiveSession, p: Element | undefined): Promise<void> {
  const u = p ?? new Element('presence', { type: 'unavailable', from: s.full });
  const was = s.presence !== undefined;
  s.presence = undefined;
  const directed = [...s.directed];
  s.directed.clear();
  const told = new Set<string>(was ? subscribers(await rosterView(api, s.bare)) : []);
  const recipients = [...told];
  for (const d of directed) {
    const b = bareOf(d);
    if (!told.has(b ? bareText(b) : d)) recipients.push(d);
  }
  await sendAllowed(api, u, s, recipients);
  if (was) for (const o of available(api, s.bare)) if (o !== s) o.send(copyTo(u, o.full));
}

/** A presence for a local account from anyone, once the 'deliver' hooks let it through. */
async function inbound(api: HubApi, p: Element, to: Jid): Promise<void> {
  const type = p.attrs.type as string | undefined;
  if (type === 'probe') return answerProbe(api, p, to);
  if (type !== undefined && SUBSCRIPTION_TYPES.has(type)) return inboundSubscription(api, p, type, to);
  if (to.resource !== '') {
    api.sessions.get(to)?.send(p);
    return;
  }
  if (type === 'error') return;
  for (const s of api.sessions.ofUser(to)) {
    if (s.presence !== undefined) s.send(p);
    else s.offer?.(p);
  }
}

async function answerProbe(api: HubApi, p: Element, to: Jid): Promise<void> {
  const from = p.attrs.from as string | undefined;
  const prober = bareOf(from);
  if (!from || !prober) return;
  const owner = { user: to.user, host: to.host };
  const item = (await rosterView(api, owner).catch(() => new Map<string, RosterItem>())).get(bareText(prober));
  if (!item || !hasFrom(item.subscription)) return;
  const live = available(api, owner).filter((s) => to.resource === '' || s.jid.resource === to.resource);
  if (live.length === 0) {
    await api.route(new Element('presence', { type: 'unavailable', from: bareText(owner), to: from }));
    return;
  }
  for (const s of live) if (s.presence) await sendAllowed(api, s.presence, s, [from], s.full);
}

/** The contacts with a subscription to the user's presence. */
function subscribers(roster: RosterView): string[] {
  const out: string[] = [];
  for (const [contact, item] of roster) if (hasFrom(item.subscription)) out.push(contact);
  return out;
}

/** A roster item's new state, or undefined when nothing changes. */
type Step = (item: RosterItem | undefined) => RosterItem | undefined;

const blank: RosterItem = { name: '', subscription: 'none', ask: 'none', groups: [] };

/** Applies `step` to owner's item for contact; resolves to whether it changed. */
async function update(api: HubApi, owner: BareJid, contact: string, step: Step): Promise<boolean> {
  const f = api.features();
  if (!(await f.accounts.exists(owner))) return false;
  const old = await f.roster.get(owner, contact);
  const next = step(old);
  if (!next) return false;
  // A request withdrawn before it was answered leaves nothing behind.
  if (old && hidden(old) && next.subscription === 'none' && next.ask === 'none') await f.roster.remove(owner, contact);
  else await f.roster.set(owner, contact, next);
  await pushesSent(api, owner);
  return true;
}

const with_ = (item: RosterItem | undefined, change: Partial<RosterItem>): RosterItem => ({ ...(item ?? blank), ...change });

/** The subscription once the user's to the contact (`withoutTo`) or the contact's to the user (`withoutFrom`) ends. */
const withoutTo = (s: Subscription): Subscription => (s === 'both' ? 'from' : s === 'to' ? 'none' : s);
const withoutFrom = (s: Subscription): Subscription => (s === 'both' ? 'to' : s === 'from' ? 'none' : s);

function withoutApproval(item: RosterItem): RosterItem {
  const { approved: _, ...rest } = item;
  return rest;
}

async function outboundSubscription(api: HubApi, s: LiveSession, type: string, contact: string, p: Element): Promise<void> {
  const owner = s.bare;
  const from = bareText(owner);
  const f = api.features();
  if (type === 'subscribe') {
    await update(api, owner, contact, (i) => (i && hasTo(i.subscription) ? undefined : i?.ask === 'out' ? undefined : with_(i, { ask: 'out' })));
  } else if (type === 'subscribed') {
    const item = await f.roster.get(owner, contact);
    if (!(await pendingIn(api, owner, contact, item))) {
      // RFC 6121 §3.4.1: not sent to the contact, but kept to answer the contact's request when it comes.
      await update(api, owner, contact, (i) => (i && (hasFrom(i.subscription) || i.approved) ? undefined : with_(i, { approved: true })));
      return;
    }
    await update(api, owner, contact, (i) =>
      with_(i, { subscription: i?.subscription === 'to' ? 'both' : 'from', ask: i?.ask === 'in' ? 'none' : (i?.ask ?? 'none') }),
    );
  } else if (type === 'unsubscribe') {
    await update(api, owner, contact, (i) =>
      i && (hasTo(i.subscription) || i.ask === 'out')
        ? with_(i, {
            subscription: withoutTo(i.subscription),
            ask: i.ask === 'out' ? 'none' : i.ask,
          })
        : undefined,
    );
  } else {
    const item = await f.roster.get(owner, contact);
    // RFC 6121 §3.4.2: an unsubscribed also cancels a pre-approval.
    await update(api, owner, contact, (i) =>
      i && (hasFrom(i.subscription) || i.ask === 'in' || i.approved)
        ? with_(withoutApproval(i), {
            subscription: withoutFrom(i.subscription),
            ask: i.ask === 'in' ? 'none' : i.ask,
          })
        : undefined,
    );
    await api.route(copyTo(p, contact, from));
    if (item && hasFrom(item.subscription)) await unavailableTo(api, owner, contact);
    return;
  }
  // RFC 6121 §3.1.2: the server stamps the bare JID on subscription requests.
  await api.route(copyTo(p, contact, from));
  if (type === 'subscribed') for (const o of available(api, owner)) if (o.presence) await sendAllowed(api, o.presence, o, [contact], o.full);
}

/** Did `contact` ask for `owner`'s presence? Both ends are local, so the asker's own item says it too. */
async function pendingIn(api: HubApi, owner: BareJid, contact: string, item: RosterItem | undefined): Promise<boolean> {
  if (item?.ask === 'in') return true;
  const other = bareOf(contact);
  if (!other || !api.config().hosts.includes(other.host)) return false;
  return (
    (
      await api
        .features()
        .roster.get(other, bareText(owner))
        .catch(() => undefined)
    )?.ask === 'out'
  );
}

async function inboundSubscription(api: HubApi, p: Element, type: string, to: Jid): Promise<void> {
  const sender = bareOf(p.attrs.from as string | undefined);
  if (!sender) return;
  const owner = { user: to.user, host: to.host };
  const contact = bareText(sender);
  const f = api.features();
  let deliver: boolean;
  if (type === 'subscribe') {
    const item = await f.roster.get(owner, contact).catch(() => undefined);
    if (item && hasFrom(item.subscription)) {
      // Already approved: answer for the user (RFC 6121 §3.1.3).
      await api.route(new Element('presence', { type: 'subscribed', from: bareText(owner), to: contact }));
      return;
    }
    if (item?.approved) return preApproved(api, owner, contact);
    // When the user has asked the contact too, the item keeps 'out': the contact's own item holds this request.
    await update(api, owner, contact, (i) => (i?.ask === 'in' || i?.ask === 'out' ? undefined : with_(i, { ask: 'in' })));
    deliver = await f.accounts.exists(owner);
  } else if (type === 'subscribed') {
    deliver = await update(api, owner, contact, (i) =>
      i && i.ask === 'out' ? with_(i, { subscription: i.subscription === 'from' ? 'both' : 'to', ask: 'none' }) : undefined,
    );
  } else if (type === 'unsubscribe') {
    const before = await f.roster.get(owner, contact).catch(() => undefined);
    deliver = await update(api, owner, contact, (i) =>
      i && (hasFrom(i.subscription) || i.ask === 'in')
        ? with_(i, {
            subscription: withoutFrom(i.subscription),
            ask: i.ask === 'in' ? 'none' : i.ask,
          })
        : undefined,
    );
    if (deliver && before && hasFrom(before.subscription)) await unavailableTo(api, owner, contact);
  } else {
    deliver = await update(api, owner, contact, (i) =>
      i && (hasTo(i.subscription) || i.ask === 'out')
        ? with_(i, {
            subscription: withoutTo(i.subscription),
            ask: i.ask === 'out' ? 'none' : i.ask,
          })
        : undefined,
    );
  }
  if (!deliver) return;
  const self = bareText(owner);
  for (const s of available(api, owner)) s.send(copyTo(p, self));
}

/**
 * RFC 6121 §3.4.1: the contact's request meets the user's pre-approval. The server approves it
 * for the user, who never sees the request; the roster item's new subscription spends the
 * pre-approval.
 */
async function preApproved(api: HubApi, owner: BareJid, contact: string): Promise<void> {
  const changed = await update(api, owner, contact, (i) =>
    i && !hasFrom(i.subscription) ? with_(i, { subscription: i.subscription === 'to' ? 'both' : 'from' }) : undefined,
  );
  if (!changed) return;
  await api.route(new Element('presence', { type: 'subscribed', from: bareText(owner), to: contact }));
  for (const o of available(api, owner)) if (o.presence) await sendAllowed(api, o.presence, o, [contact], o.full);
}

/** RFC 6121 §3.3.3: the contact's resources go unavailable for the user who unsubscribed. */
async function unavailableTo(api: HubApi, owner: BareJid, contact: string): Promise<void> {
  for (const s of available(api, owner)) await api.route(new Element('presence', { type: 'unavailable', from: s.full, to: contact }));
}

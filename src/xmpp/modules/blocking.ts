import { Element } from 'ltx';
import { bareText, tryParseJid, formatJid, parseJid, type BareJid, type Jid } from '../../lib/jid';
import { jidValueMatches } from '../../features/privacy/match';
import { createPrivacyCache } from '../../features/privacy/cache';
import type { ModuleApi, Session, XmppModule } from '../api';
import { hubApi, type HubApi } from '../hub';
import { asStanzaErrors, errorReply, mayReplyWithError, NS, StanzaError } from '../stanza';
import { hasFrom, hasTo, rosterView, sendAllowed } from './presence';

/** XEP-0191's application condition for a stanza to a blocked JID. */
export const NS_BLOCKED = 'urn:xmpp:blocking:errors';
/** Users whose blocklists are kept in memory: online users, and those mail arrives for. */
const CACHED_USERS = 100_000;
/** The privacy feature's refusals as stanza errors. */
const STANZA_ERRORS = { not_found: 'item-not-found', bad_argument: 'bad-request' } as const;

/**
 * Blocking Command (XEP-0191). The blocklist is kept in the user's default privacy list, as
 * ejabberd's mod_blocking does: each blocked JID is a `jid` item that denies every stanza; a
 * user without a default list gets one named 'Blocked contacts'. So `privacy_set` and a
 * privacy-list client see the same blocks, and the privacy module enforces them too.
 *
 * Stanzas from a blocked JID never reach the user (messages and IQ requests bounce with
 * service-unavailable, presence vanishes); a user's stanzas to a blocked JID bounce with
 * not-acceptable and `<blocked/>`; the user's broadcast presence skips blocked contacts, and
 * probes from them go unanswered. Lists are read once per user and kept until they change.
 *
 * XEP-0191 §3.3, §3.4: once a contact is blocked, however (the client, `privacy_set`, another
 * session), it gets unavailable from each of the user's available resources that it could see;
 * once unblocked, their current presence again, and the user's resources probe it anew.
 */
export const blocking: XmppModule = (base) => {
  const api = hubApi(base);
  const lists = createPrivacyCache<readonly string[]>(
    () => api.features().privacy,
    (p, jid) => p.blocklist(jid),
    [],
    CACHED_USERS,
    (jid) => followed.changed(jid),
  );
  const followed = followBlocks(api, lists.load);
  // Sessions that asked for the blocklist get its pushes (XEP-0191 §3.3).
  const listeners = new Set<Session>();
  api.discoFeature(NS.blocking);

  api.iq({ xmlns: NS.blocking, to: ['host', 'self'] }, async (iq, from, session) => {
    const owner: BareJid = { user: from.user, host: from.host };
    if (iq.attrs.to !== undefined && iq.attrs.to !== bareText(owner) && iq.attrs.to !== owner.host) throw new StanzaError('forbidden');
    const privacy = api.features().privacy;
    if (iq.attrs.type === 'get') {
      if (!iq.getChild('blocklist', NS.blocking)) throw new StanzaError('bad-request', 'Expected <blocklist/>');
      if (session) listeners.add(session);
      return itemsOf('blocklist', await asStanzaErrors(privacy.blocklist(owner), STANZA_ERRORS));
    }
    const block = iq.getChild('block', NS.blocking);
    const unblock = iq.getChild('unblock', NS.blocking);
    if (block) {
      const jids = requested(block);
      if (jids.length === 0) throw new StanzaError('bad-request', 'A <block/> names at least one JID');
      push(api, listeners, owner, 'block', await asStanzaErrors(privacy.block(owner, jids), STANZA_ERRORS));
    } else if (unblock) {
      const jids = requested(unblock);
      push(api, listeners, owner, 'unblock', await asStanzaErrors(privacy.unblock(owner, jids.length === 0 ? 'all' : jids), STANZA_ERRORS), jids.length === 0);
    } else {
      throw new StanzaError('bad-request', 'Expected <block/> or <unblock/>');
    }
  });

  api.hook('session-bound', (session) => {
    void lists.load(session.jid).catch(() => undefined);
    followed.online(session.bare);
  });
  api.hook('session-closed', (session) => {
    listeners.delete(session);
    if (api.sessions.ofUser(session.jid).some((s) => s.id !== session.id)) return;
    lists.forget(session.jid);
    followed.offline(session.bare);
  });

  api.hook('presence-broadcast', (_presence, session, recipients) => {
    const blocked = lists.peek(session.jid);
    if (blocked) return withhold(recipients, blocked);
    return lists.load(session.jid).then(
      (list) => withhold(recipients, list),
      () => undefined,
    );
  });

  api.hook('deliver', (stanza, to) => {
    const from = tryParseJid(stanza.attrs.from);
    if (!from || (from.user === to.user && from.host === to.host)) return false;
    const blocked = lists.peek(to);
    if (blocked) return refuseIncoming(api, stanza, from, blocked);
    return lists.load(to).then(
      (list) => refuseIncoming(api, stanza, from, list),
      () => false,
    );
  });

  api.hook('client-stanza', (stanza, session) => {
    const to = tryParseJid(stanza.attrs.to);
    if (!to || (to.user === session.jid.user && to.host === session.jid.host)) return false;
    const blocked = lists.peek(session.jid);
    if (blocked) return refuseOutgoing(stanza, session, to, blocked);
    return lists.load(session.jid).then(
      (list) => refuseOutgoing(stanza, session, to, list),
      () => false,
    );
  });
};

function refuseIncoming(api: ModuleApi, stanza: Element, from: Jid, blocked: readonly string[]): boolean {
  if (!blocked.some((value) => jidValueMatches(value, from))) return false;
  const bounces = stanza.name === 'message' || (stanza.name === 'iq' && (stanza.attrs.type === 'get' || stanza.attrs.type === 'set'));
  if (bounces && mayReplyWithError(stanza)) void api.route(errorReply(stanza, new StanzaError('service-unavailable'))).catch(() => undefined);
  return true;
}

function withhold(recipients: Set<string>, blocked: readonly string[]): void {
  if (blocked.length === 0) return;
  for (const to of recipients) if (matchesAny(blocked, to)) recipients.delete(to);
}

function matchesAny(values: readonly string[], text: string): boolean {
  const jid = tryParseJid(text);
  return jid !== undefined && values.some((value) => jidValueMatches(value, jid));
}

interface Follower {
  online(owner: BareJid): void;
  offline(owner: BareJid): void;
  changed(owner: BareJid): void;
}

/**
 * What contacts saw of the blocklist of each user with sessions, and the presence a change of
 * it calls for; changes of one user are followed in order.
 */
function followBlocks(api: HubApi, load: (jid: BareJid) => Promise<readonly string[]>): Follower {
  const shown = new Map<string, readonly string[]>();
  const chains = new Map<string, Promise<void>>();
  function inOrder(key: string, task: () => Promise<void>): void {
    const next = (chains.get(key) ?? Promise.resolve()).then(task).catch((err: unknown) => api.logger.error(`blocklist presence of ${key}: ${String(err)}`));
    chains.set(key, next);
    void next.then(() => {
      if (chains.get(key) === next) chains.delete(key);
    });
  }
  return {
    online(owner) {
      const key = bareText(owner);
      inOrder(key, async () => {
        if (!shown.has(key) && api.sessions.ofUser(owner).length > 0) shown.set(key, await load(owner));
      });
    },
    offline(owner) {
      const key = bareText(owner);
      inOrder(key, async () => {
        if (api.sessions.ofUser(owner).length === 0) shown.delete(key);
      });
    },
    changed(owner) {
      const key = bareText(owner);
      if (api.sessions.ofUser(owner).length === 0) return;
      inOrder(key, async () => {
        const before = shown.get(key);
        if (!before) return;
        const after = await load(owner);
        shown.set(key, after);
        const added = after.filter((v) => !before.includes(v));
        const removed = before.filter((v) => !after.includes(v));
        if (added.length > 0) await blocked(api, owner, added);
        if (removed.length > 0) await unblocked(api, owner, removed);
      });
    },
  };
}

/** Newly blocked contacts that could see the user get unavailable from each available resource. */
async function blocked(api: HubApi, owner: BareJid, values: readonly string[]): Promise<void> {
  const roster = await rosterView(api, owner);
  const subscribed = [...roster].filter(([, item]) => hasFrom(item.subscription)).map(([contact]) => contact);
  for (const s of api.sessions.ofUser(owner)) {
    if (!s.presence) continue;
    const targets = new Set([...subscribed, ...s.directed].filter((to) => matchesAny(values, to)));
    for (const to of targets) {
      s.directed.delete(to);
      await api.route(new Element('presence', { type: 'unavailable', from: formatJid(s.jid), to }));
    }
  }
}

/** Unblocked subscribers get each available resource's presence (unless still withheld), and those resources probe the contacts they follow. */
async function unblocked(api: HubApi, owner: BareJid, values: readonly string[]): Promise<void> {
  const roster = await rosterView(api, owner);
  const matching = [...roster].filter(([contact]) => matchesAny(values, contact));
  const subscribers = matching.filter(([, item]) => hasFrom(item.subscription)).map(([contact]) => contact);
  const followed = matching.filter(([, item]) => hasTo(item.subscription)).map(([contact]) => contact);
  for (const s of api.sessions.ofUser(owner)) {
    if (!s.presence) continue;
    const from = formatJid(s.jid);
    await sendAllowed(api, s.presence, s, subscribers, from);
    await sendAllowed(api, new Element('presence', { type: 'probe', from }), s, followed);
  }
}

function refuseOutgoing(stanza: Element, session: Session, to: Jid, blocked: readonly string[]): boolean {
  if (!blocked.some((value) => jidValueMatches(value, to))) return false;
  if (stanza.name !== 'presence' && mayReplyWithError(stanza)) {
    session.send(errorReply(stanza, new StanzaError('not-acceptable', undefined, 'cancel', new Element('blocked', { xmlns: NS_BLOCKED }))));
  }
  return true;
}

/** The JIDs of a block or unblock request, prepared; a malformed one is `jid-malformed`. */
function requested(el: Element): string[] {
  return el.getChildren('item').map((item) => {
    const text = item.attrs.jid as string | undefined;
    if (text === undefined) throw new StanzaError('bad-request', 'An <item/> needs a jid');
    try {
      return formatJid(parseJid(text));
    } catch {
      throw new StanzaError('jid-malformed', `Invalid JID '${text}'`);
    }
  });
}

function itemsOf(name: string, jids: readonly string[]): Element {
  const el = new Element(name, { xmlns: NS.blocking });
  for (const jid of jids) el.c('item', { jid });
  return el;
}

/** Tells the user's sessions that asked for the blocklist what changed (`all`: an unblock of everything). */
function push(api: ModuleApi, listeners: Set<Session>, owner: BareJid, kind: 'block' | 'unblock', jids: readonly string[], all = false): void {
  if (jids.length === 0 && !all) return;
  for (const session of api.sessions.ofUser(owner)) {
    if (!listeners.has(session)) continue;
    const iq = new Element('iq', { type: 'set', from: bareText(owner), to: formatJid(session.jid), id: `push-${kind}-${api.clock()}` });
    iq.cnode(itemsOf(kind, all ? [] : jids));
    session.send(iq);
  }
}

import { Element } from 'ltx';
import { CommandError } from '../../lib/errors';
import { bareText, formatJid, parseJid, type BareJid, type Jid } from '../../lib/jid';
import { jidValueMatches } from '../../features/privacy/match';
import { createPrivacyCache } from '../../features/privacy/cache';
import type { ModuleApi, Session, XmppModule } from '../api';
import { errorReply, mayReplyWithError, NS, StanzaError } from '../stanza';

const NS_BLOCKED = 'urn:xmpp:blocking:errors';
/** Users whose blocklists are kept in memory: online users, and those mail arrives for. */
const CACHED_USERS = 100_000;

/**
 * Blocking Command (XEP-0191). The blocklist is kept in the user's default privacy list, as
 * ejabberd's mod_blocking does: each blocked JID is a `jid` item that denies every stanza; a
 * user without a default list gets one named 'Blocked contacts'. So `privacy_set` and a
 * privacy-list client see the same blocks, and the privacy module enforces them too.
 *
 * Stanzas from a blocked JID never reach the user (messages and IQ requests bounce with
 * service-unavailable, presence vanishes); a user's stanzas to a blocked JID bounce with
 * not-acceptable and `<blocked/>`. Lists are read once per user and kept until they change.
 */
export const blocking: XmppModule = (api) => {
  const lists = createPrivacyCache<readonly string[]>(
    () => api.features().privacy,
    (p, jid) => p.blocklist(jid),
    [],
    CACHED_USERS,
  );
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
      return itemsOf('blocklist', await failsAs(privacy.blocklist(owner)));
    }
    const block = iq.getChild('block', NS.blocking);
    const unblock = iq.getChild('unblock', NS.blocking);
    if (block) {
      const jids = requested(block);
      if (jids.length === 0) throw new StanzaError('bad-request', 'A <block/> names at least one JID');
      push(api, listeners, owner, 'block', await failsAs(privacy.block(owner, jids)));
    } else if (unblock) {
      const jids = requested(unblock);
      push(api, listeners, owner, 'unblock', await failsAs(privacy.unblock(owner, jids.length === 0 ? 'all' : jids)), jids.length === 0);
    } else {
      throw new StanzaError('bad-request', 'Expected <block/> or <unblock/>');
    }
  });

  api.hook('session-bound', (session) => void lists.load(session.jid).catch(() => undefined));
  api.hook('session-closed', (session) => {
    listeners.delete(session);
    if (!api.sessions.ofUser(session.jid).some((s) => s.id !== session.id)) lists.forget(session.jid);
  });

  api.hook('deliver', (stanza, to) => {
    const from = jidOf(stanza.attrs.from);
    if (!from || (from.user === to.user && from.host === to.host)) return false;
    const blocked = lists.peek(to);
    if (blocked) return refuseIncoming(api, stanza, from, blocked);
    return lists.load(to).then(
      (list) => refuseIncoming(api, stanza, from, list),
      () => false,
    );
  });

  api.hook('client-stanza', (stanza, session) => {
    const to = jidOf(stanza.attrs.to);
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

function jidOf(text: unknown): Jid | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    return parseJid(text);
  } catch {
    return undefined;
  }
}

async function failsAs<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof CommandError && err.code === 'not_found') throw new StanzaError('item-not-found', err.message);
    if (err instanceof CommandError && err.code === 'bad_argument') throw new StanzaError('bad-request', err.message);
    throw err;
  }
}

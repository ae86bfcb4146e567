/**
 * Offline delivery (XEP-0160): the queue goes to the resource that sends its initial presence,
 * each message with the XEP-0203 delay it was stored with, and leaves the queue once sent. A
 * message stored while its owner is online (an admin command) is delivered at once.
 */
import type { Element } from 'ltx';
import { bareText, type BareJid } from '../../lib/jid';
import { parseXml } from '../../lib/xml';
import type { XmppModule } from '../api';
import { hubApi, type HubApi } from '../hub';
import type { LiveSession } from '../sessions';
import { NS } from '../stanza';
import { topResources } from './message';

export const offline: XmppModule = (base) => {
  const api = hubApi(base);
  const running = new Set<string>();
  const again = new Set<string>();

  /** One flush per user at a time; a request during one runs it again afterwards. */
  async function flush(owner: BareJid, targets: () => LiveSession[]): Promise<void> {
    const key = bareText(owner);
    if (running.has(key)) {
      again.add(key);
      return;
    }
    running.add(key);
    try {
      do {
        again.delete(key);
        await flushOnce(api, owner, targets);
      } while (again.has(key));
    } finally {
      running.delete(key);
    }
  }

  api.hook('session-available', (session) => {
    const s = session as LiveSession;
    return flush(s.bare, () => (s.closed || s.presence === undefined ? [] : [s]));
  });
  // In a cluster each node hands what was stored to its own sessions: the node that stored it may
  // not know yet that the user has become available elsewhere.
  const here = (jid: BareJid) => topResources(api.sessions.ofUser(jid).filter((s) => (s as LiveSession).node === undefined));
  api.listen(
    'offline-message-stored',
    async ({ jid }) => {
      if (here(jid).length > 0) await flush(jid, () => here(jid));
    },
    true,
  );
};

async function flushOnce(api: HubApi, owner: BareJid, targets: () => LiveSession[]): Promise<void> {
  const f = api.features();
  const queue = await f.offline.messages(owner);
  const done: string[] = [];
  for (const { id, message } of queue) {
    const to = targets();
    if (to.length === 0) break;
    const stanza = stored(api, message.xml, owner);
    if (stanza) for (const s of to) s.send(stanza);
    done.push(id);
  }
  if (done.length > 0) await f.offline.remove(owner, done);
}

/** The stored message, with a delay if it came without one; undefined (and logged) if unreadable. */
function stored(api: HubApi, xml: string, owner: BareJid): Element | undefined {
  try {
    const m = parseXml(xml, 'an offline message');
    if (!m.getChild('delay', NS.delay)) m.c('delay', { xmlns: NS.delay, from: owner.host, stamp: new Date(api.clock()).toISOString() });
    return m;
  } catch (err) {
    api.logger.error(`dropping an unreadable offline message of ${bareText(owner)}: ${(err as Error).message}`);
    return undefined;
  }
}

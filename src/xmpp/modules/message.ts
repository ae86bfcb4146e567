/**
 * Message delivery to local accounts (RFC 6121 §8.5): a full JID online gets it; otherwise the
 * bare JID rules pick the available resources of highest non-negative priority, and with none
 * the message is stored offline (XEP-0160) when it has content worth keeping.
 */
import type { Element } from 'ltx';
import { CommandError } from '../../lib/errors';
import type { Jid } from '../../lib/jid';
import type { XmppModule } from '../api';
import { hubApi, type HubApi } from '../hub';
import type { LiveSession } from '../sessions';
import { NS } from '../stanza';

/** The available resources of highest non-negative priority (RFC 6121 §8.5.2.1.1). */
export function topResources(sessions: readonly LiveSession[]): LiveSession[] {
  let best = 0;
  let out: LiveSession[] = [];
  for (const s of sessions) {
    if (s.presence === undefined || s.priority < best) continue;
    if (s.priority > best || out.length === 0) {
      if (s.priority > best) out = [];
      best = s.priority;
    }
    out.push(s);
  }
  return out;
}

/** A body or a subject is worth keeping unless the sender said not to (XEP-0334); chat states alone are not. */
function worthStoring(m: Element): boolean {
  if (m.getChild('no-store', NS.hints) || m.getChild('no-permanent-store', NS.hints)) return false;
  return m.getChild('body') !== undefined || m.getChild('subject') !== undefined || m.getChild('store', NS.hints) !== undefined;
}

export const message: XmppModule = (base) => {
  const api = hubApi(base);
  api.discoFeature('msgoffline');
  api.local('message', (stanza, to) => deliverMessage(api, stanza, to));
};

function deliverMessage(api: HubApi, m: Element, to: Jid): void | Promise<void> {
  const type = (m.attrs.type as string | undefined) ?? 'normal';
  if (to.resource !== '') {
    const s = api.sessions.get(to);
    if (s) return delivered(api, m, to, [s]);
    // RFC 6121 §8.5.3.2.1: an offline resource.
    if (type === 'error' || type === 'headline') return;
    if (type === 'groupchat') return api.bounce(m, 'service-unavailable');
  }
  if (type === 'error') return;
  if (type === 'groupchat') return api.bounce(m, 'service-unavailable');
  const sessions = api.sessions.ofUser(to);
  const targets = type === 'headline' ? sessions.filter((s) => s.presence !== undefined && s.priority >= 0) : topResources(sessions);
  if (targets.length > 0) return delivered(api, m, to, targets);
  if (type === 'headline') return;
  return storeOffline(api, m, to);
}

function delivered(api: HubApi, m: Element, to: Jid, targets: LiveSession[]): void | Promise<void> {
  for (const s of targets) s.send(m);
  return api.fire('message-delivered', m, to, targets);
}

async function storeOffline(api: HubApi, m: Element, to: Jid): Promise<void> {
  const owner = { user: to.user, host: to.host };
  const f = api.features();
  try {
    if (worthStoring(m)) await f.offline.store(owner, m);
    else if (!(await f.accounts.exists(owner))) await api.bounce(m, 'service-unavailable');
  } catch (err) {
    if (!(err instanceof CommandError && err.code === 'not_found')) api.logger.error(`storing a message for ${to.user}@${to.host}: ${String(err)}`);
    await api.bounce(m, 'service-unavailable');
  }
}

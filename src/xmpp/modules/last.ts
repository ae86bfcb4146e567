import { Element } from 'ltx';
import { CommandError } from '../../lib/errors';
import { bareText, parseJid, type BareJid, type Jid } from '../../lib/jid';
import type { ModuleApi, Session, XmppModule } from '../api';
import { NS, StanzaError } from '../stanza';

/**
 * Last Activity (XEP-0012): the server's uptime at its domain; at a user's bare JID, how long
 * ago the user logged out (0 while online) and the status then, for those who see the user's
 * presence. The time and status are stored when a user's last session closes.
 */
export const last: XmppModule = (api) => {
  const startedAt = api.clock();
  // The status of the unavailable presence a session sent, for the record made when it closes.
  const goodbyes = new Map<number, string>();
  api.discoFeature(NS.last);

  api.iq({ xmlns: NS.last, to: ['host', 'self', 'bare'] }, async (iq, from) => {
    if (iq.attrs.type !== 'get') throw new StanzaError('bad-request', 'Last activity is asked with an IQ get');
    const to = target(iq, from);
    if (to.user === '') return query(Math.floor((api.clock() - startedAt) / 1000));
    return userLast(api, to, from);
  });

  api.hook('client-stanza', (stanza, session) => {
    if (stanza.name === 'presence' && stanza.attrs.type === 'unavailable' && stanza.attrs.to === undefined) {
      goodbyes.set(session.id, stanza.getChildText('status') ?? '');
    }
  });

  api.hook('session-closed', async (session) => {
    const status = goodbyes.get(session.id) ?? '';
    goodbyes.delete(session.id);
    if (api.sessions.ofUser(session.jid).some((s) => s.id !== session.id)) return;
    await recordLogout(api, session, status);
  });
};

async function recordLogout(api: ModuleApi, session: Session, status: string): Promise<void> {
  const bare: BareJid = { user: session.jid.user, host: session.jid.host };
  try {
    await api.features().last.set(bare, Math.floor(api.clock() / 1000), status);
  } catch (err) {
    // The account may be gone by now (removed while connected): then there is nothing to record.
    if (!(err instanceof CommandError && err.code === 'not_found')) throw err;
  }
}

async function userLast(api: ModuleApi, to: Jid, from: Jid): Promise<Element> {
  const bare: BareJid = { user: to.user, host: to.host };
  const features = api.features();
  if (!(await features.accounts.exists(bare))) throw new StanzaError('service-unavailable');
  if (!(await maySee(api, bare, from))) throw new StanzaError('forbidden', `Only those subscribed to the presence of ${bareText(bare)} may ask`);
  if (api.sessions.ofUser(bare).some((s) => s.presence !== undefined)) return query(0);
  const record = await features.last.get(bare);
  if (!record) throw new StanzaError('service-unavailable', `${bareText(bare)} has never logged out`);
  return query(Math.max(0, Math.floor(api.clock() / 1000) - record.timestamp), record.status);
}

/** The user, and contacts the user's roster lets see its presence (subscription from or both). */
async function maySee(api: ModuleApi, owner: BareJid, asker: Jid): Promise<boolean> {
  const askerBare = bareText(asker);
  if (askerBare === bareText(owner)) return true;
  const item = await api.features().roster.get(owner, askerBare);
  return item?.subscription === 'from' || item?.subscription === 'both';
}

function query(seconds: number, status = ''): Element {
  const el = new Element('query', { xmlns: NS.last, seconds: String(seconds) });
  if (status !== '') el.t(status);
  return el;
}

/** The entity asked: the server (no user part), or an account; no `to` is the sender's account (RFC 6120 §10.3.3). */
function target(iq: Element, from: Jid): Jid {
  const to = iq.attrs.to as string | undefined;
  if (to === undefined) return { user: from.user, host: from.host, resource: '' };
  try {
    return parseJid(to);
  } catch {
    throw new StanzaError('jid-malformed', `Invalid JID '${to}'`);
  }
}

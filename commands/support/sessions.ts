/**
 * The session commands over the node's live sessions, printed as ejabberd prints them. A
 * session may end between the moment a command finds it and the moment it acts on it: the
 * command then says the session is gone, as if it had never found it.
 */
import type { Element } from 'ltx';
import type { SessionInfo, XmppControl } from '../../src/core/sessions';
import type { Accounts } from '../../src/features/accounts/accounts';
import { CommandError } from '../../src/lib/errors';
import { formatJid, parseJid, resourceprep, type Jid } from '../../src/lib/jid';
import { Element as El, parseXml } from '../../src/lib/xml';
import { oneOf, PRESENCE_SHOWS, PRESENCE_TYPES, SESSION_STATUSES } from './values';

/** What a session's status may be, and `all` for status_list and status_num. */
export const STATUSES = SESSION_STATUSES;
const SHOWS: readonly string[] = PRESENCE_SHOWS.filter((s) => s !== 'available');
const STANZAS = ['message', 'presence', 'iq'];
/** What kick_session says when the caller gives no reason, as ejabberd does. */
export const DEFAULT_KICK_REASON = 'Kicked by administrator';

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function fullJid(accounts: Accounts, user: string, host: string, resource: string): Jid {
  const r = resourceprep(resource);
  if (r === '') throw new CommandError('bad_argument', 'The resource (resource) must not be empty', { details: { arg: 'resource' } });
  return { ...accounts.jid(user, host), resource: r };
}

function sessionGone(jid: Jid): CommandError {
  return new CommandError('not_found', `User session not found: ${formatJid(jid)}`);
}

/** connected_users, connected_users_vhost: full JIDs, sorted. */
export function connectedUsers(xmpp: XmppControl, accounts: Accounts, host?: string): string[] {
  const h = host === undefined ? undefined : accounts.host(host);
  return xmpp
    .sessions(h)
    .map((s) => formatJid(s.jid))
    .sort(byText);
}

/** ejabberd prints `nil` for a session that gave no priority; RFC 6121 says that is 0. */
const priorityOf = (s: SessionInfo) => s.priority ?? 0;

/** connected_users_info: the JID, then what user_sessions_info says of the session; in JID order. */
export function connectedUsersInfo(xmpp: XmppControl) {
  return sortSessions(xmpp.sessions()).map((s) => ({ jid: formatJid(s.jid), ...sessionFields(s) }));
}

function sortSessions(sessions: readonly SessionInfo[]): SessionInfo[] {
  return [...sessions].sort((a, b) => byText(formatJid(a.jid), formatJid(b.jid)));
}

/** user_sessions_info: one row per session of the user, in resource order. */
export function userSessionsInfo(xmpp: XmppControl, accounts: Accounts, user: string, host: string) {
  return sortSessions(xmpp.userSessions(accounts.jid(user, host))).map(sessionFields);
}

/** ejabberd's user_session_info. */
function sessionFields(s: SessionInfo) {
  return {
    connection: s.connection,
    ip: s.ip,
    port: s.port,
    priority: priorityOf(s),
    node: s.node,
    uptime: s.uptimeSeconds,
    status: s.status,
    resource: s.jid.resource,
    statustext: s.statusText,
  };
}

/** user_resources: the user's resources, sorted. */
export function userResources(xmpp: XmppControl, accounts: Accounts, user: string, host: string): string[] {
  return xmpp
    .userSessions(accounts.jid(user, host))
    .map((s) => s.jid.resource)
    .sort(byText);
}

/** resource_num: the Nth (from 1) of user_resources. */
export function resourceNum(xmpp: XmppControl, accounts: Accounts, user: string, host: string, num: number): string {
  const resources = userResources(xmpp, accounts, user, host);
  if (num < 1 || num > resources.length) throw new CommandError('bad_argument', `Wrong resource number: ${num}`, { details: { arg: 'num' } });
  return resources[num - 1];
}

/** kick_user: closes every session of the user; the number closed. */
export function kickUser(xmpp: XmppControl, accounts: Accounts, user: string, host: string): number {
  return xmpp.kickUser(accounts.jid(user, host));
}

/** kick_session: closes one session with `conflict` and the reason. */
export function kickSession(xmpp: XmppControl, accounts: Accounts, user: string, host: string, resource: string, reason: string): boolean {
  const jid = fullJid(accounts, user, host, resource);
  if (!xmpp.kickSession(jid, reason === '' ? DEFAULT_KICK_REASON : reason)) throw sessionGone(jid);
  return true;
}

export interface PresenceArgs {
  readonly user: string;
  readonly host: string;
  readonly resource: string;
  readonly type: string;
  readonly show: string;
  readonly status: string;
  readonly priority: string;
}

/** set_presence: the session broadcasts this presence as if its client had sent it. */
export async function setPresence(xmpp: XmppControl, accounts: Accounts, a: PresenceArgs): Promise<boolean> {
  const jid = fullJid(accounts, a.user, a.host, a.resource);
  if (!(await xmpp.setPresence(jid, presenceOf(jid, a)))) throw sessionGone(jid);
  return true;
}

function presenceOf(jid: Jid, a: PresenceArgs): Element {
  if (!(PRESENCE_TYPES as readonly string[]).includes(a.type)) {
    throw new CommandError('bad_argument', `Unknown presence type '${a.type}' (type): use ${oneOf(PRESENCE_TYPES)}`, { details: { arg: 'type' } });
  }
  if (a.show !== '' && !(PRESENCE_SHOWS as readonly string[]).includes(a.show)) {
    throw new CommandError('bad_argument', `Unknown show '${a.show}' (show): use ${oneOf(PRESENCE_SHOWS)}`, { details: { arg: 'show' } });
  }
  if (!/^-?\d+$/.test(a.priority) || Number(a.priority) < -128 || Number(a.priority) > 127) {
    throw new CommandError('bad_argument', `The priority (priority) must be a whole number from -128 to 127, got '${a.priority}'`, {
      details: { arg: 'priority' },
    });
  }
  const presence = new El('presence', { from: formatJid(jid) });
  if (a.type === 'unavailable') presence.attrs.type = 'unavailable';
  if (SHOWS.includes(a.show)) presence.c('show').t(a.show);
  if (a.status !== '') presence.c('status').t(a.status);
  presence.c('priority').t(String(Number(a.priority)));
  return presence;
}

function checkStatus(status: string): void {
  if (status === 'all' || (STATUSES as readonly string[]).includes(status)) return;
  throw new CommandError('bad_argument', `Unknown status '${status}' (status): use ${STATUSES.join(', ')} or all`, { details: { arg: 'status' } });
}

/** status_list, status_list_host: user, host, resource, priority and status text of each session with that status. */
export function statusList(xmpp: XmppControl, accounts: Accounts, status: string, host?: string) {
  checkStatus(status);
  const h = host === undefined ? undefined : accounts.host(host);
  return sortSessions(xmpp.sessions(h))
    .filter((s) => status === 'all' || s.status === status)
    .map((s) => ({ user: s.jid.user, host: s.jid.host, resource: s.jid.resource, priority: priorityOf(s), status: s.statusText }));
}

/** status_num, status_num_host */
export function statusNum(xmpp: XmppControl, accounts: Accounts, status: string, host?: string): number {
  return statusList(xmpp, accounts, status, host).length;
}

/** A stanza an admin gave: message, presence or iq, parsed strictly. */
function stanzaOf(text: string): Element {
  const el = parseXml(text, "argument 'stanza'");
  if (!STANZAS.includes(el.name)) {
    throw new CommandError('bad_argument', `The stanza (stanza) must be a message, presence or iq element, not <${el.name}>`, { details: { arg: 'stanza' } });
  }
  return el;
}

/** send_stanza: routed from `from` to `to`, as if `from` had sent it. */
export async function sendStanza(xmpp: XmppControl, from: string, to: string, stanza: string): Promise<boolean> {
  const sender = parseJid(from, 'from');
  const recipient = parseJid(to, 'to');
  const el = stanzaOf(stanza);
  el.attrs.from = formatJid(sender);
  el.attrs.to = formatJid(recipient);
  await xmpp.route(el);
  return true;
}

/** send_stanza_c2s: written to that session's stream, as if the server had sent it to the client. */
export function sendStanzaC2s(xmpp: XmppControl, accounts: Accounts, user: string, host: string, resource: string, stanza: string): boolean {
  const jid = fullJid(accounts, user, host, resource);
  const el = stanzaOf(stanza);
  if (!xmpp.sendToSession(jid, el)) throw sessionGone(jid);
  return true;
}

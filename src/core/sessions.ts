/**
 * What the node's session commands ask of its XMPP server, in terms the core can name: the
 * server implements it (src/xmpp), the commands print it.
 */
import type { Element } from 'ltx';
import type { BareJid, Jid } from '../lib/jid';

/** How a session reached the node, in ejabberd's words (connected_users_info). */
export type ConnectionKind = 'c2s' | 'c2s_tls' | 'websocket';

/** One session as the session commands print it (ejabberd's user_session_info). */
export interface SessionInfo {
  readonly jid: Jid;
  readonly connection: ConnectionKind;
  readonly ip: string;
  readonly port: number;
  /** undefined when the client gave none (ejabberd prints nil). */
  readonly priority: number | undefined;
  readonly node: string;
  readonly uptimeSeconds: number;
  /** available, away, chat, dnd, xa, or unavailable (no presence yet, or detached). */
  readonly status: string;
  readonly statusText: string;
}

/** What the node's session commands ask of the XMPP server. */
export interface XmppControl {
  sessions(host?: string): SessionInfo[];
  userSessions(jid: BareJid): SessionInfo[];
  /** Closes every session of the user with `policy-violation`; resolves to how many. */
  kickUser(jid: BareJid, reason?: string): number;
  /** Closes one session with `conflict` and the reason; false when there is no such session. */
  kickSession(jid: Jid, reason: string): boolean;
  /** The session broadcasts `presence` as if its client had sent it; false when there is no such session. */
  setPresence(jid: Jid, presence: Element): Promise<boolean>;
  /** Writes `stanza` to that session's stream; false when there is no such session. */
  sendToSession(jid: Jid, stanza: Element): boolean;
  /** Routes a stanza from `from` as if that entity had sent it. */
  route(stanza: Element): Promise<void>;
  /** A headline message from the server to every session of this node; resolves to how many got it. */
  announce(text: string): number;
  /** Closes every stream with `system-shutdown`. */
  shutdown(): void;
  onlineSessions(host?: string): number;
  /** The sessions this node serves itself (in a cluster, onlineSessions counts every node's). */
  localSessions(): number;
}

/**
 * A live room's state and the few operations every part of the room shares: who is in it, what
 * affiliation a user has, how an occupant's presence is shown to another occupant, and sending.
 */
import { Element, clone } from 'ltx';
import type { Affiliation, Role, RoomOptions } from '../../config/muc';
import type { StoredAffiliation } from '../../features/muc/types';
import { bareText, formatJid, type BareJid, type Jid } from '../../lib/jid';
import type { StanzaError } from '../stanza';
import { errorReply } from '../stanza';
import type { LiveRoom, RoomEnv, RoomStart } from './types';

export const NS_MUC = 'http://jabber.org/protocol/muc';
export const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
export const NS_MUC_ADMIN = 'http://jabber.org/protocol/muc#admin';
export const NS_MUC_REQUEST = 'http://jabber.org/protocol/muc#request';
export const NS_CONFERENCE = 'jabber:x:conference';

export type OccupantRole = Exclude<Role, 'none'>;

/**
 * One nick in the room. A user may be in the room from several resources under one nick
 * (ejabberd's and Prosody's multi-session nicks): each is a session; they share the role.
 */
export interface Occupant {
  nick: string;
  readonly bare: BareJid;
  readonly bareText: string;
  role: OccupantRole;
  /** Full JID text → JID, in join order. */
  readonly sessions: Map<string, Jid>;
  /** The session whose presence the others see: the one that spoke last. */
  shown: string;
  /** That presence as the client sent it, without its MUC payloads. */
  presence: Element;
}

export interface HistoryEntry {
  readonly nick: string;
  /** The message as a joiner gets it, `to` left out; it carries its XEP-0203 delay. */
  readonly message: Element;
  readonly at: number;
  /** Characters of the stanza, for a history request's maxchars. */
  readonly size: number;
}

/** An IQ relayed to an occupant, waiting for its answer. */
export interface PendingIq {
  readonly sender: string;
  readonly id: string;
  /** The occupant JID the answer comes from, as the asker knows it. */
  readonly from: string;
  /** The real JID the relayed request went to: only it may answer. */
  readonly target: string;
  readonly at: number;
}

export interface ItemFields {
  readonly affiliation: Affiliation;
  readonly role: Role;
  readonly jid?: string;
  readonly nick?: string;
  readonly reason?: string;
  readonly actor?: string;
}

/** `<item/>` of a muc#user payload: affiliation and role, the real JID when it may be shown, actor and reason. */
export function mucUserItem(fields: ItemFields): Element {
  const attrs: Record<string, string> = { affiliation: fields.affiliation, role: fields.role };
  if (fields.jid !== undefined) attrs.jid = fields.jid;
  if (fields.nick !== undefined) attrs.nick = fields.nick;
  const item = new Element('item', attrs);
  if (fields.actor) item.c('actor', { nick: fields.actor });
  if (fields.reason) item.c('reason').t(fields.reason);
  return item;
}

/** `<x xmlns='…muc#user'>` with its children and status codes (in ascending order). */
export function mucUserX(children: readonly Element[], codes: readonly number[] = []): Element {
  const x = new Element('x', { xmlns: NS_MUC_USER });
  for (const child of children) x.cnode(child);
  for (const code of [...new Set(codes)].sort((a, b) => a - b)) x.c('status', { code: String(code) });
  return x;
}

/** The client's presence without what the room puts there itself. */
export function strippedPresence(presence: Element, keepStatus = true): Element {
  const out = new Element('presence', presence.attrs.id ? { id: presence.attrs.id } : {});
  for (const child of presence.children) {
    if (typeof child === 'string') continue;
    const ns = child.attrs.xmlns;
    if (child.name === 'x' && (ns === NS_MUC || ns === NS_MUC_USER)) continue;
    if (!keepStatus && child.name === 'status') continue;
    out.cnode(clone(child));
  }
  return out;
}

/** A copy of `stanza` from `from` to `to` (those first, then its other attributes). */
export function readdressed(stanza: Element, from: string, to?: string): Element {
  const copy = clone(stanza);
  const { from: _from, to: _to, ...rest } = copy.attrs;
  copy.attrs = to === undefined ? { from, ...rest } : { from, to, ...rest };
  return copy;
}

export class RoomState {
  options: RoomOptions;
  readonly affiliations = new Map<string, { affiliation: Exclude<Affiliation, 'none'>; reason: string }>();
  subject: string;
  subjectAuthor: string;
  readonly createdAt: number;
  lastActivity: number;
  locked: boolean;
  /** The room was made by a join and nobody has joined yet: its first occupant gets 201. */
  creating: boolean;
  destroyed = false;
  readonly nicks = new Map<string, Occupant>();
  readonly bySession = new Map<string, Occupant>();
  history: HistoryEntry[] = [];
  readonly pendingIqs = new Map<string, PendingIq>();
  /** Bare JID → when it last asked for voice. */
  readonly voiceRequests = new Map<string, number>();
  private serial = 0;

  constructor(
    readonly start: RoomStart,
    readonly env: RoomEnv,
    readonly live: LiveRoom,
  ) {
    const r = start.record;
    this.options = r.options;
    for (const a of r.affiliations) this.affiliations.set(a.jid, { affiliation: a.affiliation, reason: a.reason });
    this.subject = r.subject;
    this.subjectAuthor = r.subjectAuthor;
    this.createdAt = r.createdAt;
    this.lastActivity = r.lastActivity;
    this.locked = start.locked;
    this.creating = start.locked;
  }

  get jid(): string {
    return `${this.start.name}@${this.start.service}`;
  }

  occupantJid(nick: string): string {
    return `${this.jid}/${nick}`;
  }

  nextId(prefix: string): string {
    this.serial += 1;
    return `${prefix}${this.serial.toString(36)}-${this.createdAt.toString(36)}`;
  }

  /** A service admin's is owner; then the user's own, then the one of the user's server. */
  affiliationOf(jid: BareJid): Affiliation {
    if (jid.user !== '' && this.env.isServiceAdmin(jid)) return 'owner';
    return this.affiliations.get(bareText(jid))?.affiliation ?? this.affiliations.get(jid.host)?.affiliation ?? 'none';
  }

  storedAffiliations(): StoredAffiliation[] {
    return [...this.affiliations].map(([jid, a]) => ({ jid, affiliation: a.affiliation, reason: a.reason }));
  }

  /** The role a user joins with (ejabberd's get_default_role); none: may not join. */
  defaultRole(affiliation: Affiliation): Role {
    if (affiliation === 'owner' || affiliation === 'admin') return 'moderator';
    if (affiliation === 'member') return 'participant';
    if (affiliation === 'outcast' || this.options.members_only) return 'none';
    return this.options.members_by_default ? 'participant' : 'visitor';
  }

  occupantOf(from: Jid): Occupant | undefined {
    return this.bySession.get(formatJid(from));
  }

  roleOf(from: Jid): Role {
    return this.occupantOf(from)?.role ?? 'none';
  }

  /** Every occupant session, as the admin commands list them. */
  sessionCount(): number {
    return this.bySession.size;
  }

  send(stanza: Element): void {
    this.env.send(stanza);
  }

  /** `build(to)` for each session of `occupant`. */
  sendTo(occupant: Occupant, build: (to: string) => Element): void {
    for (const to of occupant.sessions.keys()) this.send(build(to));
  }

  /** The error reply to a stanza `from` sent (never to an error). */
  reject(stanza: Element, from: Jid, err: StanzaError, payload?: Element): void {
    if (stanza.attrs.type === 'error') return;
    if (stanza.name === 'iq' && stanza.attrs.type === 'result') return;
    let source = stanza;
    if (payload) {
      source = new Element(stanza.name, stanza.attrs);
      source.cnode(payload);
    }
    const reply = errorReply(source, err);
    const { from: _from, to: _to, ...rest } = reply.attrs;
    reply.attrs = { from: stanza.attrs.to ?? this.jid, to: formatJid(from), ...rest };
    this.send(reply);
  }

  /** May `viewer` see the real JID of others? */
  seesJids(viewer: Occupant): boolean {
    return viewer.role === 'moderator' || !this.options.anonymous;
  }

  /** Are `occupant`'s presences broadcast (presence_broadcast)? Else only the occupant gets them. */
  broadcasts(occupant: Occupant): boolean {
    return this.options.presence_broadcast.includes(occupant.role);
  }

  /** Who gets `occupant`'s presence changes. */
  audience(occupant: Occupant): Occupant[] {
    return this.broadcasts(occupant) ? [...this.nicks.values()] : [occupant];
  }

  /**
   * `occupant`'s presence as the session `to` of `viewer` gets it, with the item (real JID when
   * allowed, always to the occupant itself) and status codes (those in `self` only to the occupant).
   */
  presenceFor(occupant: Occupant, viewer: Occupant, to: string, opts: PresenceOpts = {}): Element {
    const isSelf = viewer === occupant;
    const base = opts.unavailable ? new Element('presence', { type: 'unavailable' }) : clone(occupant.presence);
    if (opts.unavailable && opts.status) base.c('status').t(opts.status);
    const { id, type } = base.attrs;
    base.attrs = { from: this.occupantJid(opts.asNick ?? occupant.nick), to, ...(id && { id }), ...(type && { type }) };
    const item = mucUserItem({
      affiliation: opts.affiliation ?? this.affiliationOf(occupant.bare),
      role: opts.unavailable && opts.role === undefined ? 'none' : (opts.role ?? occupant.role),
      jid: isSelf || this.seesJids(viewer) ? (opts.jid ?? occupant.shown) : undefined,
      nick: opts.newNick,
      reason: opts.reason,
      actor: opts.actor,
    });
    const children = [item];
    if (opts.extra) children.push(opts.extra);
    base.cnode(mucUserX(children, [...(opts.codes ?? []), ...(isSelf ? [110, ...(opts.self ?? [])] : [])]));
    return base;
  }

  /** Sends `occupant`'s presence to its audience. */
  broadcastPresence(occupant: Occupant, opts: PresenceOpts = {}, audience = this.audience(occupant)): void {
    for (const viewer of audience) this.sendTo(viewer, (to) => this.presenceFor(occupant, viewer, to, opts));
  }

  addSession(occupant: Occupant, jid: Jid): void {
    const text = formatJid(jid);
    occupant.sessions.set(text, jid);
    this.bySession.set(text, occupant);
    this.nicks.set(occupant.nick, occupant);
  }

  /** Takes a session out; an occupant without sessions leaves the room. */
  removeSession(occupant: Occupant, text: string): void {
    occupant.sessions.delete(text);
    this.bySession.delete(text);
    if (occupant.sessions.size === 0) this.nicks.delete(occupant.nick);
    else if (occupant.shown === text) occupant.shown = [...occupant.sessions.keys()].at(-1) ?? text;
  }

  /** Every session of `bare` (a server's JID: every user of that server). */
  occupantsOfUser(bare: BareJid): Occupant[] {
    const text = bareText(bare);
    return [...this.nicks.values()].filter((o) => (bare.user === '' ? o.bare.host === bare.host : o.bareText === text));
  }

  /** The room empties: the service decides what becomes of it. */
  afterLeave(): void {
    if (this.nicks.size === 0 && !this.destroyed) this.env.emptied(this.live);
  }

  /** Stored state changed. */
  changed(): void {
    this.env.changed(this.live);
  }

  touch(): void {
    this.lastActivity = this.env.clock();
    this.changed();
  }
}

export interface PresenceOpts {
  readonly unavailable?: boolean;
  /** The text of an unavailable presence's `<status/>`. */
  readonly status?: string;
  readonly codes?: readonly number[];
  /** Codes only the occupant itself gets, beside 110. */
  readonly self?: readonly number[];
  readonly role?: Role;
  readonly affiliation?: Affiliation;
  readonly reason?: string;
  readonly actor?: string;
  /** 303: the nick it goes by now, sent from the old one (`asNick`). */
  readonly newNick?: string;
  readonly asNick?: string;
  readonly jid?: string;
  /** A further child of the muc#user payload (`<destroy/>`). */
  readonly extra?: Element;
}

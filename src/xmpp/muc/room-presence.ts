/**
 * Presence in a room (XEP-0045 §7.2–7.4, §7.14): joining and the checks before it, status
 * changes, nick changes (303), leaving, and the ghost a presence error shows.
 */
import { Element } from 'ltx';
import { bareText, formatJid, type Jid } from '../../lib/jid';
import { StanzaError } from '../stanza';
import { NS_MUC, strippedPresence, type Occupant, type RoomState } from './room-core';
import { sendHistory } from './room-history';

/** Presence to `room/nick` (`rawNick` as the client wrote it). */
export async function onPresence(room: RoomState, stanza: Element, from: Jid, nick: string, rawNick: string): Promise<void> {
  const type = stanza.attrs.type as string | undefined;
  const occupant = room.occupantOf(from);
  if (type === 'unavailable') {
    if (occupant) leave(room, occupant, formatJid(from), stanza.getChildText('status') ?? undefined);
    return;
  }
  if (type === 'error') {
    if (occupant) leave(room, occupant, formatJid(from), 'This participant is kicked from the room because it sent an error presence', [333]);
    return;
  }
  if (type !== undefined) return;
  if (!occupant) return join(room, stanza, from, nick, rawNick);
  if (nick !== occupant.nick) return changeNick(room, stanza, from, occupant, nick);
  update(room, stanza, from, occupant);
}

function refuse(room: RoomState, stanza: Element, from: Jid, err: StanzaError): void {
  room.reject(stanza, from, err, new Element('x', { xmlns: NS_MUC }));
}

/** Why `from` may not take `nick` (empty, held by another user, registered by another user). */
async function nickProblem(room: RoomState, from: Jid, nick: string): Promise<StanzaError | undefined> {
  if (nick === '') return new StanzaError('jid-malformed', "Nickname can't be empty");
  const holder = room.nicks.get(nick);
  const me = bareText(from);
  if (holder && holder.bareText !== me) return new StanzaError('conflict', 'That nickname is already in use by another occupant');
  const owner = await room.env.nickOwner(nick);
  if (owner && bareText(owner) !== me) return new StanzaError('conflict', 'That nickname is registered by another person');
  return undefined;
}

/** The first refusal a join meets, in ejabberd's order; undefined: it may join. */
async function joinProblem(room: RoomState, stanza: Element, from: Jid, nick: string): Promise<StanzaError | undefined> {
  if (nick === '') return new StanzaError('jid-malformed', "Nickname can't be empty");
  const affiliation = room.affiliationOf(from);
  const serviceAdmin = room.env.isServiceAdmin(from);
  if (room.locked && affiliation !== 'owner') {
    return new StanzaError('item-not-found', 'This room is locked until its owner configures it');
  }
  const max = Math.min(room.options.max_users, room.env.maxUsers());
  const count = room.sessionCount();
  const privileged = affiliation === 'owner' || affiliation === 'admin';
  if (!serviceAdmin && count >= max && !(privileged && count < max + ADMIN_SEATS)) {
    return new StanzaError('service-unavailable', 'Too many users in this conference');
  }
  if (room.defaultRole(affiliation) === 'none') {
    return affiliation === 'outcast'
      ? new StanzaError('forbidden', 'You have been banned from this room')
      : new StanzaError('registration-required', 'Membership is required to enter this room');
  }
  const problem = await nickProblem(room, from, nick);
  if (problem) return problem;
  if (room.options.password_protected && affiliation !== 'owner') {
    const given = stanza.getChild('x', NS_MUC)?.getChildText('password') ?? undefined;
    if (given === undefined) return new StanzaError('not-authorized', 'A password is required to enter this room');
    if (given !== room.options.password) return new StanzaError('not-authorized', 'Incorrect password');
  }
  return undefined;
}

/** Owners and admins may still join a full room, up to this many beyond max_users (ejabberd's threshold). */
const ADMIN_SEATS = 5;

async function join(room: RoomState, stanza: Element, from: Jid, nick: string, rawNick: string): Promise<void> {
  const problem = await joinProblem(room, stanza, from, nick);
  if (problem) return refuse(room, stanza, from, problem);
  // The awaited checks may have let another stanza in: this session may have joined by now, or the nick gone to another.
  const joined = room.occupantOf(from);
  if (joined) return joined.nick === nick ? update(room, stanza, from, joined) : undefined;
  const holder = room.nicks.get(nick);
  if (holder && holder.bareText !== bareText(from))
    return refuse(room, stanza, from, new StanzaError('conflict', 'That nickname is already in use by another occupant'));
  if (room.destroyed) return refuse(room, stanza, from, new StanzaError('item-not-found', 'This room has been destroyed'));
  const text = formatJid(from);
  const occupant: Occupant = holder ?? {
    nick,
    bare: { user: from.user, host: from.host },
    bareText: bareText(from),
    role: room.defaultRole(room.affiliationOf(from)) as Occupant['role'],
    sessions: new Map(),
    shown: text,
    presence: new Element('presence'),
  };
  occupant.shown = text;
  occupant.presence = visiblePresence(room, stanza, occupant);
  room.addSession(occupant, from);
  const created = room.creating;
  room.creating = false;
  const self = roomCodes(room);
  if (created) self.push(201);
  if (rawNick !== nick) self.push(210);
  welcome(room, stanza, occupant, text, self);
  room.touch();
}

/** What the joiner's own presence says of the room: 100 non-anonymous, 170 logged. */
function roomCodes(room: RoomState): number[] {
  const codes: number[] = [];
  if (!room.options.anonymous) codes.push(100);
  if (room.options.logging) codes.push(170);
  return codes;
}

/**
 * What a joining session gets, in XEP-0045's order (the others' presence, its own, history,
 * subject); the others get its presence.
 */
function welcome(room: RoomState, stanza: Element, occupant: Occupant, to: string, self: readonly number[]): void {
  for (const other of room.nicks.values()) {
    if (other !== occupant && room.broadcasts(other)) room.send(room.presenceFor(other, occupant, to));
  }
  for (const viewer of room.audience(occupant)) {
    for (const session of viewer.sessions.keys()) {
      if (session === to) continue;
      room.send(room.presenceFor(occupant, viewer, session));
    }
  }
  room.send(room.presenceFor(occupant, occupant, to, { self }));
  sendHistory(room, to, stanza.getChild('x', NS_MUC)?.getChild('history'));
  const subject = new Element('message', {
    from: room.subjectAuthor === '' ? room.jid : room.occupantJid(room.subjectAuthor),
    to,
    type: 'groupchat',
  });
  subject.c('subject').t(room.subject);
  room.send(subject);
}

/** The presence others see: a visitor's status goes when allow_visitor_status is off. */
function visiblePresence(room: RoomState, stanza: Element, occupant: Occupant): Element {
  return strippedPresence(stanza, occupant.role !== 'visitor' || room.options.allow_visitor_status);
}

/** A new status; a presence that carries the MUC payload again is a rejoin and gets all a join does. */
function update(room: RoomState, stanza: Element, from: Jid, occupant: Occupant): void {
  const text = formatJid(from);
  occupant.shown = text;
  occupant.presence = visiblePresence(room, stanza, occupant);
  if (stanza.getChild('x', NS_MUC)) welcome(room, stanza, occupant, text, roomCodes(room));
  else room.broadcastPresence(occupant);
}

async function changeNick(room: RoomState, stanza: Element, from: Jid, occupant: Occupant, nick: string): Promise<void> {
  if (occupant.role === 'visitor' && !room.options.allow_visitor_nickchange) {
    return refuse(room, stanza, from, new StanzaError('not-allowed', 'Visitors are not allowed to change their nicknames in this room'));
  }
  const problem = await nickProblem(room, from, nick);
  if (problem) return refuse(room, stanza, from, problem);
  const text = formatJid(from);
  if (room.bySession.get(text) !== occupant || room.destroyed) return;
  const target = room.nicks.get(nick);
  if (target && target.bareText !== occupant.bareText) {
    return refuse(room, stanza, from, new StanzaError('conflict', 'That nickname is already in use by another occupant'));
  }
  const alone = occupant.sessions.size === 1;
  const old = occupant.nick;
  if (alone && !target) {
    // The usual case: the occupant itself takes the new nick.
    room.nicks.delete(old);
    occupant.nick = nick;
    room.nicks.set(nick, occupant);
    occupant.presence = visiblePresence(room, stanza, occupant);
    room.broadcastPresence(occupant, { unavailable: true, role: occupant.role, asNick: old, newNick: nick, codes: [303] });
    room.broadcastPresence(occupant);
    return;
  }
  // One session of a multi-session nick moves, or a session joins its user's other nick.
  room.removeSession(occupant, text);
  const moved: Occupant = target ?? { ...occupant, nick, sessions: new Map(), shown: text };
  moved.shown = text;
  moved.presence = visiblePresence(room, stanza, moved);
  room.addSession(moved, from);
  const gone: Occupant = { ...moved, nick: old };
  if (alone) {
    for (const viewer of room.audience(moved)) {
      room.sendTo(viewer, (to) =>
        room.presenceFor(gone, viewer === moved ? gone : viewer, to, { unavailable: true, role: moved.role, newNick: nick, codes: [303] }),
      );
    }
  }
  if (!target || alone) room.broadcastPresence(moved);
}

/**
 * A session leaves (with `status`, the text of its unavailable presence). Others see the
 * occupant go only when it was its last session.
 */
export function leave(room: RoomState, occupant: Occupant, text: string, status?: string, codes: number[] = []): void {
  if (occupant.sessions.size > 1) {
    room.send(room.presenceFor(occupant, occupant, text, { unavailable: true, status, jid: text, codes }));
    room.removeSession(occupant, text);
    return;
  }
  room.broadcastPresence(occupant, { unavailable: true, status, codes });
  room.removeSession(occupant, text);
  room.afterLeave();
}

/**
 * Messages in a room (XEP-0045 §7.4–7.9, §8.1): groupchat reflected to every occupant and kept
 * in history, the subject, private messages between occupants, mediated invitations and their
 * declines, and IQs relayed to an occupant.
 */
import { Element } from 'ltx';
import { formatJid, tryParseJid, type Jid } from '../../lib/jid';
import { StanzaError } from '../stanza';
import { NS_CONFERENCE, NS_MUC_USER, mucUserX, readdressed, type Occupant, type RoomState } from './room-core';
import { remember } from './room-history';
import { leave } from './room-presence';
import { voiceMessage } from './room-voice';

const GHOST = 'This participant is kicked from the room because it sent an error message';

/** A message to the room's bare JID. */
export function onRoomMessage(room: RoomState, stanza: Element, from: Jid): void {
  const type = (stanza.attrs.type as string | undefined) ?? 'normal';
  const occupant = room.occupantOf(from);
  if (!occupant) {
    if (type === 'error') return;
    if (decline(room, stanza, from)) return;
    return room.reject(stanza, from, new StanzaError('not-acceptable', 'Only occupants are allowed to send messages to the conference'));
  }
  if (type === 'groupchat') return groupchat(room, stanza, from, occupant);
  if (type === 'error') return leave(room, occupant, formatJid(from), GHOST, [333]);
  if (type === 'chat') return room.reject(stanza, from, new StanzaError('not-acceptable', 'It is not allowed to send private messages to the conference'));
  if (type !== 'normal') return room.reject(stanza, from, new StanzaError('not-acceptable', 'Improper message type'));
  const x = stanza.getChild('x', NS_MUC_USER);
  if (x?.getChild('invite')) return invite(room, stanza, from, x);
  if (decline(room, stanza, from)) return;
  voiceMessage(room, stanza, from, occupant);
}

/** A subject change: a subject with neither body nor thread (ejabberd's check_subject). */
function subjectOf(stanza: Element): string | undefined {
  const subject = stanza.getChild('subject');
  if (!subject || stanza.getChild('body') || stanza.getChild('thread')) return undefined;
  return subject.getText();
}

function groupchat(room: RoomState, stanza: Element, from: Jid, occupant: Occupant): void {
  if (occupant.role === 'visitor' && room.options.moderated) {
    return room.reject(stanza, from, new StanzaError('forbidden', 'Visitors are not allowed to send messages to all occupants'));
  }
  const subject = subjectOf(stanza);
  if (subject !== undefined) {
    const may = occupant.role === 'moderator' || (room.options.allow_change_subj && occupant.role === 'participant');
    if (!may) {
      const text = room.options.allow_change_subj
        ? 'Only moderators and participants are allowed to change the subject in this room'
        : 'Only moderators are allowed to change the subject in this room';
      return room.reject(stanza, from, new StanzaError('forbidden', text));
    }
    room.subject = subject;
    room.subjectAuthor = occupant.nick;
  }
  const message = readdressed(stanza, room.occupantJid(occupant.nick), room.jid);
  for (const nick of message.getChildren('nick', 'http://jabber.org/protocol/nick')) message.remove(nick);
  for (const viewer of room.nicks.values()) room.sendTo(viewer, (to) => readdressed(message, message.attrs.from, to));
  if (subject === undefined && message.getChild('body')) remember(room, occupant.nick, message);
  room.touch();
}

/** A message to `room/nick`. */
export function onPrivateMessage(room: RoomState, stanza: Element, from: Jid, nick: string): void {
  const type = (stanza.attrs.type as string | undefined) ?? 'normal';
  if (type === 'error') return;
  const sender = room.occupantOf(from);
  if (!room.options.allow_private_messages) return room.reject(stanza, from, new StanzaError('forbidden', 'You are not allowed to send private messages'));
  if (!sender) return room.reject(stanza, from, new StanzaError('not-acceptable', 'Only occupants are allowed to send messages to the conference'));
  if (type === 'groupchat') return room.reject(stanza, from, new StanzaError('bad-request', 'It is not allowed to send private messages of type "groupchat"'));
  const target = room.nicks.get(nick);
  if (!target) return room.reject(stanza, from, new StanzaError('item-not-found', 'Recipient is not in the conference room'));
  const fromVisitors = room.options.allow_private_messages_from_visitors;
  const allowed = sender.role !== 'visitor' || fromVisitors === 'anyone' || (fromVisitors === 'moderators' && target.role === 'moderator');
  if (!allowed) return room.reject(stanza, from, new StanzaError('forbidden', 'You are not allowed to send private messages'));
  const message = readdressed(stanza, room.occupantJid(sender.nick));
  if (!message.getChild('x', NS_MUC_USER)) message.c('x', { xmlns: NS_MUC_USER });
  room.sendTo(target, (to) => readdressed(message, message.attrs.from, to));
}

/** Mediated invitations (XEP-0045 §7.8.2): each invitee gets one from the room. */
function invite(room: RoomState, stanza: Element, from: Jid, x: Element): void {
  const affiliation = room.affiliationOf(from);
  if (!room.options.allow_user_invites && affiliation !== 'admin' && affiliation !== 'owner') {
    return room.reject(stanza, from, new StanzaError('not-allowed', 'Invitations are not allowed in this conference'));
  }
  const invites = x.getChildren('invite');
  const invitees = invites.map((i) => tryParseJid(i.attrs.to));
  if (invitees.some((j) => j === undefined)) return room.reject(stanza, from, new StanzaError('bad-request', "No 'to' attribute found in the invitation"));
  let added = false;
  invites.forEach((inv, i) => {
    const to = invitees[i] as Jid;
    room.send(invitation(room, from, to, inv.getChildText('reason') ?? ''));
    // ejabberd makes whoever is invited to a members-only room a member.
    if (room.options.members_only && to.user !== '' && room.affiliationOf(to) === 'none') {
      room.affiliations.set(`${to.user}@${to.host}`, { affiliation: 'member', reason: '' });
      added = true;
    }
  });
  if (added) room.changed();
}

function invitation(room: RoomState, inviter: Jid, to: Jid, reason: string): Element {
  const password = room.options.password_protected ? room.options.password : undefined;
  let body = `${formatJid(inviter)} invites you to the room ${room.jid}`;
  if (password !== undefined) body += `, the password is '${password}'`;
  if (reason) body += ` (${reason}) `;
  const m = new Element('message', { from: room.jid, to: formatJid(to), type: 'normal', id: room.nextId('invite-') });
  m.c('body').t(body);
  const inv = new Element('invite', { from: formatJid(inviter) });
  if (reason) inv.c('reason').t(reason);
  const children = [inv];
  if (password !== undefined) children.push(new Element('password').t(password));
  m.cnode(mucUserX(children));
  const conference: Record<string, string> = { xmlns: NS_CONFERENCE, jid: room.jid };
  if (reason) conference.reason = reason;
  if (password !== undefined) conference.password = password;
  m.c('x', conference);
  return m;
}

/** A decline goes to the inviter it names, from the room, naming who declined. */
function decline(room: RoomState, stanza: Element, from: Jid): boolean {
  const x = stanza.getChild('x', NS_MUC_USER);
  const el = x?.getChild('decline');
  const to = tryParseJid(el?.attrs.to);
  if (!x || !el || !to) return false;
  const m = readdressed(stanza, room.jid, formatJid(to));
  const out = m.getChild('x', NS_MUC_USER)?.getChild('decline') as Element;
  delete out.attrs.to;
  out.attrs.from = formatJid(from);
  room.send(m);
  return true;
}

/** Relayed IQs are forgotten when unanswered for this long. */
const IQ_TIMEOUT_MS = 60_000;

/**
 * An IQ to `room/nick`: a request goes to the occupant's real JID (a vCard request to its bare
 * JID) from the asker's occupant JID, under an id of the room's; the answer comes back the same way.
 */
export function onOccupantIq(room: RoomState, stanza: Element, from: Jid, nick: string): void {
  const type = stanza.attrs.type as string | undefined;
  if (type === 'result' || type === 'error') return answer(room, stanza, from);
  if (type !== 'get' && type !== 'set') return room.reject(stanza, from, new StanzaError('bad-request', 'An IQ is a get, a set, a result or an error'));
  const sender = room.occupantOf(from);
  if (!sender) return room.reject(stanza, from, new StanzaError('not-acceptable', 'Only occupants are allowed to send queries to the conference'));
  const vcard = stanza.getChild('vCard', 'vcard-temp') !== undefined;
  if (!room.options.allow_query_users && !vcard && nick !== sender.nick) {
    return room.reject(stanza, from, new StanzaError('not-allowed', 'Queries to the conference members are not allowed in this room'));
  }
  const target = room.nicks.get(nick);
  if (!target) return room.reject(stanza, from, new StanzaError('item-not-found', 'Recipient is not in the conference room'));
  const now = room.env.clock();
  for (const [id, p] of room.pendingIqs) if (now - p.at > IQ_TIMEOUT_MS) room.pendingIqs.delete(id);
  const to = vcard ? target.bareText : target.shown;
  const id = room.nextId('relay-');
  room.pendingIqs.set(id, { sender: formatJid(from), id: stanza.attrs.id ?? '', from: room.occupantJid(nick), target: to, at: now });
  const relayed = readdressed(stanza, room.occupantJid(sender.nick), to);
  relayed.attrs.id = id;
  room.send(relayed);
}

function answer(room: RoomState, stanza: Element, from: Jid): void {
  const pending = room.pendingIqs.get(stanza.attrs.id ?? '');
  if (!pending || pending.target !== formatJid(from)) return;
  room.pendingIqs.delete(stanza.attrs.id);
  const reply = readdressed(stanza, pending.from, pending.sender);
  reply.attrs.id = pending.id;
  room.send(reply);
}

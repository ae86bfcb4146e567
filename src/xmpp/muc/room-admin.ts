/**
 * Roles and affiliations (XEP-0045 §8–§9): the muc#admin lists and changes at the room's bare
 * JID, with ejabberd's permission rules (can_change_ra), and what a change does to occupants:
 * a kick (307), a ban (301), removal from a members-only room (321), a new role or affiliation.
 */
import { Element } from 'ltx';
import type { Affiliation, Role } from '../../config/muc';
import { bareText, formatJid, tryParseJid, type BareJid, type Jid } from '../../lib/jid';
import { iqResult, StanzaError } from '../stanza';
import { mucUserItem, mucUserX, NS_MUC_ADMIN, type Occupant, type OccupantRole, type RoomState } from './room-core';

const ROLES: readonly Role[] = ['moderator', 'participant', 'visitor', 'none'];
const AFFILIATIONS: readonly Affiliation[] = ['owner', 'admin', 'member', 'outcast', 'none'];

export type Change =
  | { readonly kind: 'role'; readonly occupant: Occupant; readonly value: Role; readonly reason: string }
  | { readonly kind: 'affiliation'; readonly jid: BareJid; readonly value: Affiliation; readonly reason: string };

/** An IQ to the room's bare JID: muc#admin here; anything else is not the room's. */
export function onRoomIq(room: RoomState, stanza: Element, from: Jid): void {
  const type = stanza.attrs.type as string | undefined;
  if (type !== 'get' && type !== 'set') return;
  const query = stanza.getChild('query', NS_MUC_ADMIN);
  try {
    if (!query) throw new StanzaError('service-unavailable', 'The feature requested is not supported by the conference');
    const items = query.getChildren('item');
    if (items.length === 0) throw new StanzaError('bad-request', "No 'item' element found");
    if (type === 'get') {
      if (items.length > 1) throw new StanzaError('bad-request', 'Too many <item/> elements');
      return room.send(answer(stanza, from, list(room, from, items[0])));
    }
    const changes = items.map((item) => change(room, from, item)).filter((c): c is Change => c !== undefined);
    const actor = room.occupantOf(from)?.nick;
    for (const c of changes) apply(room, c, actor);
    room.send(answer(stanza, from));
  } catch (err) {
    if (!(err instanceof StanzaError)) throw err;
    room.reject(stanza, from, err);
  }
}

function answer(stanza: Element, from: Jid, payload?: Element): Element {
  const reply = iqResult(stanza, payload);
  reply.attrs.to = formatJid(from);
  return reply;
}

function list(room: RoomState, from: Jid, item: Element): Element {
  const query = new Element('query', { xmlns: NS_MUC_ADMIN });
  const { role, affiliation } = item.attrs as { role?: string; affiliation?: string };
  if (role !== undefined) {
    if (!ROLES.includes(role as Role)) throw new StanzaError('bad-request', `Unknown role '${role}'`);
    if (room.roleOf(from) !== 'moderator') throw new StanzaError('forbidden', 'Moderator privileges required');
    for (const o of room.nicks.values()) {
      if (o.role !== role) continue;
      for (const jid of o.sessions.keys()) query.cnode(mucUserItem({ affiliation: room.affiliationOf(o.bare), role: o.role, jid, nick: o.nick }));
    }
    return query;
  }
  if (affiliation === undefined) throw new StanzaError('bad-request', "Neither 'role' nor 'affiliation' attribute found");
  if (!AFFILIATIONS.includes(affiliation as Affiliation)) throw new StanzaError('bad-request', `Unknown affiliation '${affiliation}'`);
  const mine = room.affiliationOf(from);
  if (!(mine === 'owner' || mine === 'admin' || (mine === 'member' && !room.options.anonymous))) {
    throw new StanzaError('forbidden', 'Administrator privileges required');
  }
  for (const [jid, a] of room.affiliations) {
    if (a.affiliation !== affiliation) continue;
    const el = query.c('item', { affiliation, jid });
    if (a.reason) el.c('reason').t(a.reason);
  }
  return query;
}

/** One item of a set, checked; undefined when it changes nothing. */
function change(room: RoomState, from: Jid, item: Element): Change | undefined {
  const { role, affiliation, nick, jid } = item.attrs as Record<string, string | undefined>;
  const reason = item.getChildText('reason') ?? '';
  if (role === undefined && affiliation === undefined) throw new StanzaError('bad-request', "Neither 'role' nor 'affiliation' attribute found");
  if (role !== undefined && !ROLES.includes(role as Role)) throw new StanzaError('bad-request', `Unknown role '${role}'`);
  if (role === undefined && !AFFILIATIONS.includes(affiliation as Affiliation)) throw new StanzaError('bad-request', `Unknown affiliation '${affiliation}'`);
  let target: Occupant | undefined;
  let bare: BareJid;
  if (jid !== undefined) {
    const parsed = tryParseJid(jid);
    if (!parsed) throw new StanzaError('jid-malformed', `Invalid JID '${jid}'`);
    bare = { user: parsed.user, host: parsed.host };
    target = room.occupantsOfUser(bare)[0];
  } else if (nick !== undefined && nick !== '') {
    target = room.nicks.get(nick);
    if (!target) throw new StanzaError('not-acceptable', `Nickname ${nick} does not exist in the room`);
    bare = target.bare;
  } else {
    throw new StanzaError('bad-request', "Neither 'jid' nor 'nick' attribute found");
  }
  if (role !== undefined) {
    if (!target) throw new StanzaError('not-acceptable', `${jid ?? nick} is not in the room`);
    if (room.roleOf(from) !== 'moderator') throw new StanzaError('forbidden', 'Moderator privileges required');
  } else {
    const mine = room.affiliationOf(from);
    if (mine !== 'owner' && mine !== 'admin') throw new StanzaError('forbidden', 'Administrator privileges required');
  }
  const value = (role ?? affiliation) as Role | Affiliation;
  const verdict = canChange(room, from, bare, target, role !== undefined ? 'role' : 'affiliation', value);
  if (verdict === 'nothing') return undefined;
  if (verdict === 'no') throw new StanzaError('not-allowed', 'Changing role/affiliation is not allowed');
  if (role !== undefined) return { kind: 'role', occupant: target as Occupant, value: role as Role, reason };
  return { kind: 'affiliation', jid: bare, value: affiliation as Affiliation, reason };
}

type Verdict = 'yes' | 'no' | 'nothing';

/** ejabberd's can_change_ra: may `from` give `value` to the target? */
function canChange(room: RoomState, from: Jid, bare: BareJid, target: Occupant | undefined, kind: 'role' | 'affiliation', value: string): Verdict {
  const fAff = room.affiliationOf(from);
  const fRole = room.roleOf(from);
  const tAff = room.affiliationOf(bare);
  const tRole: Role = target?.role ?? 'none';
  const serviceAdmin = bare.user !== '' && room.env.isServiceAdmin(bare);
  if (serviceAdmin) return kind === 'affiliation' && value === 'owner' ? 'yes' : 'no';
  if (kind === 'affiliation') {
    if (tAff === value) return 'nothing';
    if (fAff === 'owner') {
      if (tAff !== 'owner') return 'yes';
      const owners = [...room.affiliations].filter(([, a]) => a.affiliation === 'owner').map(([j]) => j);
      if (owners.length === 1 && owners[0] === bareText(from)) throw new StanzaError('conflict', 'The only owner of the room cannot give up being its owner');
      return 'yes';
    }
    const lower = ['outcast', 'none', 'member'];
    return fAff === 'admin' && lower.includes(tAff) && lower.includes(value) ? 'yes' : 'no';
  }
  if (tRole === value) return 'nothing';
  const privileged = fAff === 'owner' || fAff === 'admin';
  if (tRole === 'visitor' || tRole === 'participant') {
    if (value === 'moderator') return privileged ? 'yes' : 'no';
    return fRole === 'moderator' ? 'yes' : 'no';
  }
  if (tRole !== 'moderator') return 'no';
  if (value === 'none') {
    if (fRole !== 'moderator') return 'no';
    if (fAff === 'owner') return tAff !== 'owner' ? 'yes' : 'no';
    return fAff === 'admin' && tAff !== 'owner' && tAff !== 'admin' ? 'yes' : 'no';
  }
  if (tAff === 'owner') return 'no';
  if (fAff === 'owner') return 'yes';
  if (tAff === 'admin') return 'no';
  return fAff === 'admin' ? 'yes' : 'no';
}

/** Every session of `occupant` leaves with `code`; everyone is told (110 to the occupant itself). */
function expel(room: RoomState, occupant: Occupant, code: number, affiliation: Affiliation, reason?: string, actor?: string): void {
  for (const viewer of room.nicks.values()) {
    for (const to of viewer.sessions.keys()) {
      const jid = viewer === occupant ? to : undefined;
      room.send(room.presenceFor(occupant, viewer, to, { unavailable: true, affiliation, codes: [code], reason: reason || undefined, actor, jid }));
    }
  }
  for (const text of [...occupant.sessions.keys()]) room.removeSession(occupant, text);
}

/** Applies a checked change: kick, ban, new role or affiliation, and what occupants see of it. */
export function apply(room: RoomState, c: Change, actor?: string): void {
  if (c.kind === 'role') {
    if (!room.nicks.has(c.occupant.nick)) return;
    if (c.value === 'none') {
      expel(room, c.occupant, 307, room.affiliationOf(c.occupant.bare), c.reason, actor);
      room.afterLeave();
      return;
    }
    c.occupant.role = c.value;
    room.broadcastPresence(c.occupant, { reason: c.reason || undefined });
    return;
  }
  const text = bareText(c.jid);
  const before = room.affiliationOf(c.jid);
  if (c.value === 'owner' && c.jid.user === '') return;
  if (c.value === 'none' && before === 'none') return;
  if (c.value === 'none') room.affiliations.delete(text);
  else room.affiliations.set(text, { affiliation: c.value, reason: c.reason });
  room.changed();
  const occupants = room.occupantsOfUser(c.jid);
  if (occupants.length === 0) return notify(room, text, c.value);
  const reason = c.reason || undefined;
  for (const o of occupants) {
    if (c.value === 'outcast') expel(room, o, 301, 'outcast', reason, actor);
    else if (c.value === 'none' && room.options.members_only) expel(room, o, 321, 'none', reason, actor);
    else {
      o.role = c.value === 'none' ? (room.defaultRole('none') as OccupantRole) : c.value === 'member' ? 'participant' : 'moderator';
      room.broadcastPresence(o, { reason });
    }
  }
  room.afterLeave();
}

/** An absent user's new affiliation, told to the occupants who may see real JIDs. */
function notify(room: RoomState, jid: string, affiliation: Affiliation): void {
  for (const viewer of room.nicks.values()) {
    if (!room.seesJids(viewer)) continue;
    room.sendTo(viewer, (to) => {
      const m = new Element('message', { from: room.jid, to, id: room.nextId('affiliation-') });
      m.cnode(mucUserX([mucUserItem({ affiliation, role: 'none', jid })]));
      return m;
    });
  }
}

/** Removes every occupant without an affiliation (322): the room became members-only. */
export function removeNonMembers(room: RoomState): void {
  for (const o of [...room.nicks.values()]) if (room.affiliationOf(o.bare) === 'none') expel(room, o, 322, 'none');
  room.afterLeave();
}

/**
 * The room commands over the node's MUC service, printed as ejabberd's mod_muc_admin prints
 * them. Arguments are checked here (room names, services, JIDs, affiliations, rooms files);
 * what only the service knows (which services exist, which rooms, which option values) it
 * says itself, and its errors pass through as they are.
 */
import type { Config } from '../../src/config/config';
import { optionLines, parseOption, type Affiliation } from '../../src/config/muc';
import type { MucControl, RoomAddress } from '../../src/core/muc';
import { CommandError } from '../../src/lib/errors';
import { bareText, formatJid, nameprep, nodeprep, parseJid, type BareJid } from '../../src/lib/jid';
import { lineText, readLines } from '../../src/lib/lines';
import { ROOM_AFFILIATIONS } from './values';
import { checkDays } from '../../src/lib/days';

/** What muc_online_rooms and rooms_unused_* take for every service of every host. */
const GLOBAL = 'global';
const AFFILIATIONS: readonly Affiliation[] = ROOM_AFFILIATIONS;
/** The longest line a rooms file may have: a room JID is at most two 1023-byte parts and `@`. */
const MAX_ROOMS_LINE = 4096;
/** How much of a bad line an error repeats. */
const MAX_SHOWN = 80;

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const roomJid = (room: RoomAddress) => `${room.name}@${room.service}`;

/** A room name is a JID local part; its errors speak of a room, not a user. */
export function roomName(text: string, arg = 'name'): string {
  try {
    return nodeprep(text, arg);
  } catch (err) {
    if (!(err instanceof CommandError)) throw err;
    throw new CommandError(err.code, err.message.replace(/\buser name\b/g, 'room name'), { details: err.details });
  }
}

export function roomAddress(name: string, service: string): RoomAddress {
  return { name: roomName(name), service: nameprep(service, 'service') };
}

/** `global` (every service), or one service. */
function serviceOrGlobal(text: string, arg: string): string | undefined {
  return text === GLOBAL ? undefined : nameprep(text, arg);
}

function servedHost(config: Config, text: string, arg = 'host'): string {
  const host = nameprep(text, arg);
  if (!config.hosts.includes(host)) {
    throw new CommandError('not_found', `Unknown host '${text}': this node serves ${config.hosts.join(', ')} (hosts in ${config.file})`, { details: { arg } });
  }
  return host;
}

/** create_room: `service` must be the MUC service of `host`, a host this node serves. */
export async function createRoom(muc: MucControl, config: Config, name: string, service: string, host: string): Promise<boolean> {
  const room = roomAddress(name, service);
  const served = servedHost(config, host);
  const mine = muc.services().find((s) => s.host === served);
  if (!mine) throw new CommandError('not_found', `Host ${served} has no MUC service: mod_muc is not enabled for it in ${config.file}`);
  if (mine.service !== room.service) {
    throw new CommandError('not_found', `'${service}' is not the MUC service of ${served}: its rooms are on ${mine.service}`, { details: { arg: 'service' } });
  }
  await muc.createRoom(room);
  return true;
}

export async function destroyRoom(muc: MucControl, name: string, service: string): Promise<boolean> {
  await muc.destroyRoom(roomAddress(name, service));
  return true;
}

interface RoomLine {
  readonly room: RoomAddress;
  readonly line: number;
}

/**
 * The rooms of a rooms file, one `room@service` per line (blank lines skipped, a room named
 * twice taken once), each on a service of this node; a line that is not one is an error
 * naming it, before anything is done.
 */
async function readRoomsFile(file: string): Promise<RoomLine[]> {
  const rooms = new Map<string, RoomLine>();
  const bad = (line: number, why: string) => new CommandError('failed', `Line ${line} of the rooms file: ${why}`, { details: { arg: 'file', line } });
  for await (const line of readLines(file, 'the rooms file', MAX_ROOMS_LINE)) {
    const text = lineText(line).trim();
    if (text === '') continue;
    const at = text.indexOf('@');
    const shown = text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}...` : text;
    if (at <= 0 || text.includes('/')) throw bad(line.number, `'${shown}' is not a room JID (room@service)`);
    let room: RoomAddress;
    try {
      room = { name: roomName(text.slice(0, at), 'room'), service: nameprep(text.slice(at + 1), 'room') };
    } catch (err) {
      throw bad(line.number, `'${shown}' is not a room JID (room@service): ${err instanceof Error ? err.message : String(err)}`);
    }
    rooms.set(roomJid(room), rooms.get(roomJid(room)) ?? { room, line: line.number });
  }
  return [...rooms.values()];
}

/** Asks `check` of each room, naming the line of the first that fails. */
async function checkLines(lines: readonly RoomLine[], check: (room: RoomAddress) => Promise<string | undefined>): Promise<void> {
  for (const { room, line } of lines) {
    let why: string | undefined;
    try {
      why = await check(room);
    } catch (err) {
      if (!(err instanceof CommandError)) throw err;
      throw new CommandError(err.code, `Line ${line} of the rooms file: ${err.message}`, { details: { arg: 'file', line } });
    }
    if (why !== undefined) throw new CommandError('failed', `Line ${line} of the rooms file: ${why}`, { details: { arg: 'file', line } });
  }
}

/** create_rooms_file: stores every room of the file, or none. */
export async function createRoomsFile(muc: MucControl, file: string, progress: (text: string) => void): Promise<boolean> {
  const lines = await readRoomsFile(file);
  await checkLines(lines, async (room) => ((await muc.exists(room)) ? `room ${roomJid(room)} already exists` : undefined));
  const rooms = lines.map((l) => l.room);
  await muc.createRooms(rooms);
  for (const room of rooms) progress(`Creating room ${roomJid(room)}`);
  return true;
}

/** destroy_rooms_file: destroys every room of the file; a room that does not exist stops it before any is destroyed. */
export async function destroyRoomsFile(muc: MucControl, file: string, progress: (text: string) => void): Promise<boolean> {
  const lines = await readRoomsFile(file);
  await checkLines(lines, async (room) => ((await muc.exists(room)) ? undefined : `room ${roomJid(room)} does not exist`));
  const hosts = new Map(muc.services().map((s) => [s.service, s.host]));
  const destroyed = await muc.destroyRooms(lines.map((l) => l.room));
  for (const room of destroyed) progress(`Destroying room: ${roomJid(room)} - vhost: ${hosts.get(room.service) ?? room.service}`);
  return true;
}

export async function roomOptions(muc: MucControl, name: string, service: string) {
  return optionLines(await muc.options(roomAddress(name, service))).map(([option, value]) => ({ name: option, value }));
}

/** change_room_option: the value is checked here, so that a bad one never reaches the room. */
export async function changeRoomOption(muc: MucControl, name: string, service: string, option: string, value: string): Promise<boolean> {
  const room = roomAddress(name, service);
  parseOption(option, value);
  await muc.changeOption(room, option, value);
  return true;
}

function affiliation(text: string): Affiliation {
  const found = AFFILIATIONS.find((a) => a === text);
  if (found) return found;
  throw new CommandError('bad_argument', `Invalid affiliation '${text}' (affiliation): it is one of ${AFFILIATIONS.join(', ')}`, {
    details: { arg: 'affiliation' },
  });
}

/** set_room_affiliation: affiliations are of bare JIDs; a resource given is dropped, as ejabberd does. */
export async function setRoomAffiliation(muc: MucControl, name: string, service: string, jid: string, affiliationText: string): Promise<boolean> {
  const room = roomAddress(name, service);
  const who = parseJid(jid, 'jid');
  await muc.setAffiliation(room, { user: who.user, host: who.host }, affiliation(affiliationText));
  return true;
}

const byJid = (a: BareJid, b: BareJid) => byText(a.user, b.user) || byText(a.host, b.host);

/** get_room_affiliations: by user then host, as ejabberd's map of them is ordered. */
export async function roomAffiliations(muc: MucControl, name: string, service: string) {
  const list = await muc.affiliations(roomAddress(name, service));
  return [...list].sort((a, b) => byJid(a.jid, b.jid)).map((a) => ({ username: a.jid.user, domain: a.jid.host, affiliation: a.affiliation, reason: a.reason }));
}

/** get_room_occupants: real full JIDs, by user, host and resource, as ejabberd's map of them is ordered. */
export async function roomOccupants(muc: MucControl, name: string, service: string) {
  const list = await muc.occupants(roomAddress(name, service));
  return [...list]
    .sort((a, b) => byJid(a.jid, b.jid) || byText(a.jid.resource, b.jid.resource))
    .map((o) => ({ jid: formatJid(o.jid), nick: o.nick, role: o.role }));
}

export async function occupantsNumber(muc: MucControl, name: string, service: string): Promise<number> {
  return (await muc.occupants(roomAddress(name, service))).length;
}

/** `none` stands for an empty password or reason, as in ejabberd. */
const noneIsEmpty = (text: string) => (text === 'none' ? '' : text);

/**
 * send_direct_invitation: `users` are JIDs separated by `:`; as in ejabberd, a JID without a
 * user part and a user who already is an occupant get no invitation.
 */
export async function sendDirectInvitation(muc: MucControl, name: string, service: string, password: string, reason: string, users: string): Promise<boolean> {
  const room = roomAddress(name, service);
  const jids = users
    .split(':')
    .filter((text) => text !== '')
    .map((text) => parseJid(text, 'users'))
    .filter((jid) => jid.user !== '');
  const inside = new Set((await muc.occupants(room)).map((o) => bareText(o.jid)));
  await muc.inviteDirect(
    room,
    jids.filter((jid) => !inside.has(bareText(jid))),
    noneIsEmpty(password),
    noneIsEmpty(reason),
  );
  return true;
}

export async function onlineRooms(muc: MucControl, service: string): Promise<string[]> {
  return (await muc.rooms(serviceOrGlobal(service, 'host'))).map(roomJid);
}

/**
 * rooms_unused_list and rooms_unused_destroy: ejabberd says `rooms unused: N out of M` as it
 * goes, then gives the rooms picked; destroying them gives those destroyed.
 */
export async function unusedRooms(muc: MucControl, service: string, days: number, destroy: boolean, progress: (text: string) => void): Promise<string[]> {
  if (days < 0) throw new CommandError('bad_argument', `The number of days (days) must be 0 or more, got ${days}`, { details: { arg: 'days' } });
  checkDays(days);
  const picked = await muc.unusedRooms(serviceOrGlobal(service, 'host'), days);
  progress(`rooms unused: ${picked.rooms.length} out of ${picked.total}`);
  const rooms = destroy ? await muc.destroyRooms(picked.rooms, 'Room destroyed by rooms_unused_destroy.') : picked.rooms;
  return rooms.map(roomJid);
}

/** get_user_rooms: the rooms where any resource of the user is an occupant. */
export async function userRooms(muc: MucControl, config: Config, user: string, host: string): Promise<string[]> {
  const jid = { user: nodeprep(user, 'user'), host: servedHost(config, host) };
  return (await muc.userRooms(jid)).map(roomJid).sort(byText);
}

/** muc_unregister_nick: the nick's registration goes on every service; a nick nobody registered is an error. */
export async function unregisterNick(muc: MucControl, nick: string): Promise<boolean> {
  if (nick === '') throw new CommandError('bad_argument', 'The nick (nick) must not be empty', { details: { arg: 'nick' } });
  if ((await muc.unregisterNick(nick)) === 0) throw new CommandError('not_found', `The nick '${nick}' is not registered on any MUC service`);
  return true;
}

/**
 * The room commands' view of the MUC service (`MucControl`): rooms live and stored, made,
 * changed and destroyed the way ejabberd's mod_muc_admin does. Errors name the room, the
 * service or the argument at fault; a room that goes away during a call is just gone.
 */
import { Element } from 'ltx';
import { parseOption, type Affiliation, type RoomOptions } from '../../config/muc';
import type { AffiliationInfo, MucControl, RoomAddress, RoomSelection } from '../../core/muc';
import type { RoomRecord, StoredRoom } from '../../features/muc/types';
import { CommandError } from '../../lib/errors';
import { bareText, formatJid, nodeprep, parseJid, type BareJid } from '../../lib/jid';
import type { Registry } from './service';
import type { LiveRoom } from './types';

const NS_CONFERENCE = 'jabber:x:conference';
const AFFILIATIONS: readonly Affiliation[] = ['owner', 'admin', 'member', 'outcast', 'none'];
const DAY = 86_400_000;

export const jidOf = (room: RoomAddress) => `${room.name}@${room.service}`;
export const byAddress = (a: RoomAddress, b: RoomAddress) =>
  a.service < b.service ? -1 : a.service > b.service ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/** A room name as a JID's node part, or an error that speaks of rooms. */
export function roomName(name: string): string {
  try {
    return nodeprep(name, 'name');
  } catch (err) {
    if (!(err instanceof CommandError)) throw err;
    if (name.trim() === '') throw new CommandError('bad_argument', 'The room name (name) must not be empty', { details: { arg: 'name' } });
    throw new CommandError('bad_argument', `Invalid room name '${name}' (name): a room name cannot contain spaces, control characters or any of "&'/:<>@`, {
      details: { arg: 'name' },
    });
  }
}

export function createMucControl(registry: Registry): MucControl {
  /** The service as given, if it is one of ours; otherwise an error that says which it could be. */
  function service(text: string): string {
    const given = text.trim().toLowerCase();
    const services = registry.services();
    if (services.length === 0) throw new CommandError('not_found', 'This node runs no MUC service (mod_muc is not configured)');
    const found = services.find((s) => s.service === given);
    if (found) return found.service;
    const asHost = services.find((s) => s.host === given);
    if (asHost) throw new CommandError('not_found', `${text} is a host, not a MUC service: did you mean ${asHost.service}?`, { details: { arg: 'service' } });
    throw new CommandError('not_found', `${text} is not a MUC service of this node (served: ${services.map((s) => s.service).join(', ')})`, {
      details: { arg: 'service' },
    });
  }

  const address = (room: RoomAddress): RoomAddress => ({ service: service(room.service), name: roomName(room.name) });
  const missing = (room: RoomAddress) => new CommandError('not_found', `Room ${jidOf(room)} does not exist`);

  /** The room, live or loaded from storage; an error when it does not exist. */
  async function existing(given: RoomAddress): Promise<LiveRoom> {
    const room = address(given);
    const live = await registry.room(room.service, room.name);
    if (!live) throw missing(room);
    return live;
  }

  /** The room's state without loading it: live, else stored. */
  async function state(room: RoomAddress): Promise<{ live?: LiveRoom; record?: RoomRecord }> {
    const live = registry.live(room.service, room.name);
    if (live) return { live, record: live.record() };
    return { record: await registry.muc().room(room.service, room.name) };
  }

  function newRecord(options: RoomOptions): RoomRecord {
    const now = registry.api().clock();
    return { options, affiliations: [], subject: '', subjectAuthor: '', createdAt: now, lastActivity: now };
  }

  /** Every room of the selected services, live and stored, with what the selections look at. */
  async function survey(serviceText: string | undefined): Promise<{ room: RoomAddress; occupants: number; history: number; lastActivity: number }[]> {
    const services = serviceText === undefined ? registry.services().map((s) => s.service) : [service(serviceText)];
    const out = new Map<string, { room: RoomAddress; occupants: number; history: number; lastActivity: number }>();
    for (const s of services) {
      for await (const stored of registry.muc().rooms(s)) {
        out.set(jidOf(stored), { room: { service: s, name: stored.name }, occupants: 0, history: 0, lastActivity: stored.record.lastActivity });
      }
      for (const live of registry.liveRooms(s)) {
        out.set(live.jid, {
          room: { service: s, name: live.name },
          occupants: live.occupantCount,
          history: live.historyLength,
          lastActivity: live.lastActivity,
        });
      }
    }
    return [...out.values()].sort((a, b) => byAddress(a.room, b.room));
  }

  return {
    services: () => registry.services(),

    async createRoom(given, options = {}) {
      const room = address(given);
      const { record } = await state(room);
      if (record) throw new CommandError('conflict', `Room already exists: ${jidOf(room)}`);
      const merged: RoomOptions = { ...registry.config().defaultRoomOptions, ...options };
      if (merged.persistent) {
        await registry.muc().saveRoom(room.service, room.name, newRecord(merged));
        return;
      }
      if (registry.live(room.service, room.name)) throw new CommandError('conflict', `Room already exists: ${jidOf(room)}`);
      registry.start({ name: room.name, service: room.service, record: newRecord(merged), locked: false });
    },

    async createRooms(given) {
      const rooms = given.map(address);
      const seen = new Set<string>();
      for (const room of rooms) {
        const jid = jidOf(room);
        if (seen.has(jid)) throw new CommandError('conflict', `Room ${jid} is listed twice`);
        seen.add(jid);
        if (registry.live(room.service, room.name)) throw new CommandError('conflict', `Room already exists: ${jid}`);
      }
      const options: RoomOptions = { ...registry.config().defaultRoomOptions, persistent: true };
      const stored: StoredRoom[] = rooms.map((room) => ({ service: room.service, name: room.name, record: newRecord(options) }));
      await registry.muc().createRooms(stored);
      return stored.length;
    },

    async destroyRoom(given, reason, alternate) {
      const room = await existing(given);
      await registry.destroy(room, reason, alternate);
    },

    async destroyRooms(given, reason) {
      const rooms = given.map(address);
      const destroyed: RoomAddress[] = [];
      for (const room of rooms) {
        const live = await registry.room(room.service, room.name);
        if (!live) continue;
        await registry.destroy(live, reason);
        destroyed.push(room);
      }
      return destroyed;
    },

    async exists(given) {
      return (await state(address(given))).record !== undefined;
    },

    async options(given) {
      const room = address(given);
      const { record } = await state(room);
      if (!record) throw missing(room);
      return record.options;
    },

    async changeOption(given, option, value) {
      const parsed = parseOption(option, value);
      const room = await existing(given);
      room.configure({ ...room.options, [parsed.name]: parsed.value });
      registry.changed(room);
      registry.used(room);
    },

    async setAffiliation(given, jid, affiliation, reason = '') {
      if (!AFFILIATIONS.includes(affiliation)) {
        throw new CommandError('bad_argument', `Invalid affiliation '${String(affiliation)}' (affiliation): use ${AFFILIATIONS.join(', ')}`, {
          details: { arg: 'affiliation' },
        });
      }
      const room = await existing(given);
      room.setAffiliation(jid, affiliation, reason);
      registry.changed(room);
      registry.used(room);
    },

    async affiliations(given) {
      const room = address(given);
      const { record } = await state(room);
      if (!record) throw missing(room);
      return record.affiliations.map((a): AffiliationInfo => {
        const jid = parseJid(a.jid);
        return { jid: { user: jid.user, host: jid.host }, affiliation: a.affiliation, reason: a.reason };
      });
    },

    async occupants(given) {
      const room = address(given);
      const { live, record } = await state(room);
      if (!record) throw missing(room);
      return live ? live.occupants() : [];
    },

    async rooms(serviceText) {
      const services = serviceText === undefined ? registry.services().map((s) => s.service) : [service(serviceText)];
      const out = new Map<string, RoomAddress>();
      for (const s of services) {
        for await (const stored of registry.muc().roomNames(s)) out.set(jidOf(stored), stored);
        for (const live of registry.liveRooms(s)) out.set(live.jid, { service: s, name: live.name });
      }
      return [...out.values()].sort(byAddress);
    },

    async unusedRooms(serviceText, days): Promise<RoomSelection> {
      const all = await survey(serviceText);
      const before = registry.api().clock() - days * DAY;
      return { rooms: all.filter((r) => r.occupants === 0 && r.lastActivity <= before).map((r) => r.room), total: all.length };
    },

    async emptyRooms(serviceText): Promise<RoomSelection> {
      const all = await survey(serviceText);
      return { rooms: all.filter((r) => r.occupants === 0 && r.history === 0).map((r) => r.room), total: all.length };
    },

    async userRooms(jid: BareJid) {
      return registry
        .liveRooms()
        .filter((r) => r.hasUser(jid))
        .map((r) => ({ service: r.service, name: r.name }))
        .sort(byAddress);
    },

    async inviteDirect(given, users, password, reason) {
      const room = address(given);
      const { live, record } = await state(room);
      if (!record) throw missing(room);
      const roomJid = jidOf(room);
      const inside = new Set((live?.occupants() ?? []).map((o) => bareText(o.jid)));
      for (const user of users) {
        // Occupants are there already; a server JID is no one to invite.
        if (user.user === '' || inside.has(bareText(user))) continue;
        const message = new Element('message', { from: roomJid, to: formatJid(user) });
        const attrs: Record<string, string> = { xmlns: NS_CONFERENCE, jid: roomJid };
        if (password !== '') attrs.password = password;
        if (reason !== '') attrs.reason = reason;
        message.c('x', attrs);
        await registry.api().route(message);
      }
    },

    unregisterNick: (nick) => registry.muc().unregisterNickEverywhere(nick),
  };
}

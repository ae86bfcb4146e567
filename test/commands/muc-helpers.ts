/**
 * The room commands run from the command line against a node whose MUC service is a fake: rooms
 * in a map, services conference.localhost and conference.example.org, and a record of what the
 * commands asked of it.
 */
import type { AffiliationInfo, MucControl, MucService, OccupantInfo, RoomAddress, RoomSelection } from '../../src/core/muc';
import { DEFAULT_ROOM_OPTIONS, parseOption, type RoomOptions } from '../../src/config/muc';
import { CommandError } from '../../src/lib/errors';
import { bareText, formatJid, parseJid } from '../../src/lib/jid';
import { fakeNode, fakeXmpp, nodeCli, type NodeCli } from './session-helpers';

export interface FakeRoom {
  options: RoomOptions;
  affiliations: AffiliationInfo[];
  occupants: OccupantInfo[];
  /** Days since the last activity. */
  idleDays: number;
}

export interface FakeMuc extends MucControl {
  /** Rooms by `name@service`; a test adds, changes or removes one directly. */
  readonly state: Map<string, FakeRoom>;
  /** Each call that changes something, as `method room detail`. */
  readonly calls: string[];
  /** Nick registrations: nick → how many services hold it. */
  readonly nicks: Map<string, number>;
}

const SERVICES: readonly MucService[] = [
  { service: 'conference.localhost', host: 'localhost' },
  { service: 'conference.example.org', host: 'example.org' },
];

const jidOf = (room: RoomAddress) => `${room.name}@${room.service}`;

export function occupant(
  jid: string,
  nick: string,
  role: OccupantInfo['role'] = 'participant',
  affiliation: OccupantInfo['affiliation'] = 'none',
): OccupantInfo {
  return { jid: parseJid(jid), nick, role, affiliation };
}

export function fakeMuc(): FakeMuc {
  const state = new Map<string, FakeRoom>();
  const calls: string[] = [];
  const nicks = new Map<string, number>();
  const checkService = (service: string) => {
    if (SERVICES.some((s) => s.service === service)) return;
    const host = SERVICES.find((s) => s.host === service);
    if (host) throw new CommandError('not_found', `${service} is a host, not a MUC service: its rooms are on ${host.service}`);
    throw new CommandError('not_found', `No MUC service ${service} here: the services are ${SERVICES.map((s) => s.service).join(', ')}`);
  };
  const find = (room: RoomAddress): FakeRoom => {
    checkService(room.service);
    const found = state.get(jidOf(room));
    if (!found) throw new CommandError('not_found', `The room ${jidOf(room)} does not exist`);
    return found;
  };
  const all = (service?: string) => {
    if (service !== undefined) checkService(service);
    return [...state.keys()]
      .map((jid) => {
        const at = jid.indexOf('@');
        return { name: jid.slice(0, at), service: jid.slice(at + 1) };
      })
      .filter((r) => service === undefined || r.service === service)
      .sort((a, b) =>
        a.service === b.service
          ? a.name < b.name
            ? -1
            : 1
          : SERVICES.findIndex((s) => s.service === a.service) - SERVICES.findIndex((s) => s.service === b.service),
      );
  };
  const select = (service: string | undefined, pick: (room: FakeRoom) => boolean): RoomSelection => {
    const rooms = all(service);
    return { rooms: rooms.filter((r) => pick(state.get(jidOf(r))!)), total: rooms.length };
  };
  const create = (room: RoomAddress, options: Partial<RoomOptions>) => {
    checkService(room.service);
    if (state.has(jidOf(room))) throw new CommandError('conflict', `The room ${jidOf(room)} already exists`);
    state.set(jidOf(room), { options: { ...DEFAULT_ROOM_OPTIONS, ...options }, affiliations: [], occupants: [], idleDays: 0 });
  };
  return {
    state,
    calls,
    nicks,
    services: () => SERVICES,
    async createRoom(room, options = {}) {
      create(room, options);
      calls.push(`createRoom ${jidOf(room)}`);
    },
    async createRooms(rooms) {
      for (const room of rooms) if (state.has(jidOf(room))) throw new CommandError('conflict', `The room ${jidOf(room)} already exists`);
      rooms.forEach((room) => create(room, { persistent: true }));
      calls.push(`createRooms ${rooms.map(jidOf).join(' ')}`);
      return rooms.length;
    },
    async destroyRoom(room, reason) {
      find(room);
      state.delete(jidOf(room));
      calls.push(`destroyRoom ${jidOf(room)} ${reason ?? ''}`.trim());
    },
    async destroyRooms(rooms, reason) {
      const gone = rooms.filter((room) => state.delete(jidOf(room)));
      calls.push(`destroyRooms ${gone.map(jidOf).join(' ')} ${reason ?? ''}`.trim());
      return gone;
    },
    async exists(room) {
      checkService(room.service);
      return state.has(jidOf(room));
    },
    options: async (room) => find(room).options,
    async changeOption(room, option, value) {
      const r = find(room);
      const parsed = parseOption(option, value);
      r.options = { ...r.options, [parsed.name]: parsed.value };
      calls.push(`changeOption ${jidOf(room)} ${option} ${value}`);
    },
    async setAffiliation(room, jid, affiliation) {
      const r = find(room);
      r.affiliations = r.affiliations.filter((a) => bareText(a.jid) !== bareText(jid));
      if (affiliation !== 'none') r.affiliations.push({ jid, affiliation, reason: '' });
      calls.push(`setAffiliation ${jidOf(room)} ${bareText(jid)} ${affiliation}`);
    },
    affiliations: async (room) => find(room).affiliations,
    occupants: async (room) => find(room).occupants,
    rooms: async (service) => all(service),
    unusedRooms: async (service, days) => select(service, (r) => r.occupants.length === 0 && r.idleDays >= days),
    emptyRooms: async (service) => select(service, (r) => r.occupants.length === 0),
    userRooms: async (jid) => all().filter((r) => state.get(jidOf(r))!.occupants.some((o) => bareText(o.jid) === bareText(jid))),
    async inviteDirect(room, users, password, reason) {
      find(room);
      calls.push(`inviteDirect ${jidOf(room)} [${users.map(formatJid).join(' ')}] password=${password} reason=${reason}`);
    },
    async unregisterNick(nick) {
      const n = nicks.get(nick) ?? 0;
      nicks.delete(nick);
      calls.push(`unregisterNick ${nick}`);
      return n;
    },
  };
}

/** `ctl ARGV` on a node whose MUC service is `muc`. */
export function mucCli(muc: MucControl): NodeCli {
  return nodeCli(fakeNode(fakeXmpp([]), { muc }));
}

/**
 * The room commands in a cluster. A live room is served by the node that holds it, so a
 * command about one room runs there; a listing asks every node, since each knows the live
 * rooms it serves besides the stored rooms all share. A room no node holds is stored only, and
 * any node answers for it: this one.
 */
import type { MucControl, RoomAddress, RoomSelection } from '../core/muc';
import { byAddress, jidOf as keyOf, roomName } from './muc/service-control';
import { unreached, type ClusterLink } from './cluster-link';

/** What other nodes may ask of this node's rooms. */
const ANSWERED = new Set<string>([
  'createRoom',
  'destroyRoom',
  'destroyRooms',
  'exists',
  'options',
  'changeOption',
  'setAffiliation',
  'affiliations',
  'occupants',
  'rooms',
  'unusedRooms',
  'emptyRooms',
  'userRooms',
  'inviteDirect',
]);

type Method = keyof MucControl;
type Fn = (...args: unknown[]) => Promise<unknown>;

/** The room's JID as the cluster keys it; none for a name that is no room's. */
function jidOf(room: RoomAddress): string | undefined {
  try {
    return `${roomName(room.name)}@${room.service.trim().toLowerCase()}`;
  } catch {
    return undefined;
  }
}

export function clusterMuc(local: MucControl, link: ClusterLink): MucControl {
  link.answer((method, args) => {
    if (!ANSWERED.has(method)) return Promise.reject(new Error(`no room method ${method}`));
    return (local[method as Method] as Fn)(...args);
  });

  const run = <T>(node: string | undefined, method: Method, args: unknown[]): Promise<T> =>
    (node === undefined || node === link.node ? (local[method] as Fn)(...args) : link.call(node, method, args)) as Promise<T>;

  /**
   * Runs a command about one room where the room is served. With `claim`, a room nobody holds
   * becomes this node's: the command makes it live here. A name that is no room's is this
   * node's to refuse.
   */
  async function at<T>(room: RoomAddress, claim: boolean, method: Method, args: unknown[]): Promise<T> {
    return run<T>(await where(room, claim), method, args);
  }

  async function where(room: RoomAddress, claim: boolean): Promise<string | undefined> {
    const jid = jidOf(room);
    return jid === undefined ? undefined : link.roomNode(jid, claim);
  }

  /** What each live node answers, this one first; a node that is gone meanwhile has nothing to say. */
  async function everywhere<T>(method: Method, args: unknown[]): Promise<T[]> {
    const others = await link.others();
    const answers = await Promise.all([
      run<T>(undefined, method, args),
      ...others.map((node) => run<T>(node, method, args).catch((err: unknown) => (unreached(err) ? undefined : Promise.reject(err)))),
    ]);
    return answers.filter((a): a is Awaited<T> => a !== undefined);
  }

  /** The rooms every node that knows a room picks: the node serving it live knows what stored rooms don't tell. */
  async function selection(method: 'unusedRooms' | 'emptyRooms', args: unknown[], service: string | undefined): Promise<RoomSelection> {
    const [picked, known] = await Promise.all([everywhere<RoomSelection>(method, args), everywhere<RoomAddress[]>('rooms', [service])]);
    const knowers = new Map<string, number>();
    for (const list of known) for (const r of list) knowers.set(keyOf(r), (knowers.get(keyOf(r)) ?? 0) + 1);
    const votes = new Map<string, { room: RoomAddress; n: number }>();
    for (const s of picked) for (const r of s.rooms) votes.set(keyOf(r), { room: r, n: (votes.get(keyOf(r))?.n ?? 0) + 1 });
    const rooms = [...votes.entries()].filter(([k, v]) => v.n >= (knowers.get(k) ?? 0)).map(([, v]) => v.room);
    return { rooms: rooms.sort(byAddress), total: knowers.size };
  }

  const union = (lists: readonly RoomAddress[][]): RoomAddress[] => {
    const all = new Map<string, RoomAddress>();
    for (const list of lists) for (const r of list) all.set(keyOf(r), r);
    return [...all.values()].sort(byAddress);
  };

  return {
    services: () => local.services(),
    createRoom: (room, options) => at(room, true, 'createRoom', [room, options]),
    createRooms: (rooms) => local.createRooms(rooms),
    destroyRoom: (room, reason, alternate) => at(room, true, 'destroyRoom', [room, reason, alternate]),
    async destroyRooms(rooms, reason) {
      const groups = new Map<string | undefined, RoomAddress[]>();
      for (const room of rooms) {
        const node = await where(room, false);
        groups.set(node, [...(groups.get(node) ?? []), room]);
      }
      const destroyed = new Map<string, RoomAddress>();
      for (const [node, list] of groups) for (const r of await run<RoomAddress[]>(node, 'destroyRooms', [list, reason])) destroyed.set(keyOf(r), r);
      // In the order asked, as on one node.
      return rooms.flatMap((room) => {
        const r = destroyed.get(jidOf(room) ?? '');
        return r ? [r] : [];
      });
    },
    exists: (room) => at(room, false, 'exists', [room]),
    options: (room) => at(room, false, 'options', [room]),
    changeOption: (room, option, value) => at(room, true, 'changeOption', [room, option, value]),
    setAffiliation: (room, jid, affiliation, reason) => at(room, true, 'setAffiliation', [room, jid, affiliation, reason]),
    affiliations: (room) => at(room, false, 'affiliations', [room]),
    occupants: (room) => at(room, false, 'occupants', [room]),
    rooms: async (service) => union(await everywhere<RoomAddress[]>('rooms', [service])),
    unusedRooms: (service, days) => selection('unusedRooms', [service, days], service),
    emptyRooms: (service) => selection('emptyRooms', [service], service),
    userRooms: async (jid) => union(await everywhere<RoomAddress[]>('userRooms', [jid])),
    inviteDirect: (room, users, password, reason) => at(room, false, 'inviteDirect', [room, users, password, reason]),
    unregisterNick: (nick) => local.unregisterNick(nick),
  };
}

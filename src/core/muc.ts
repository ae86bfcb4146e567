/**
 * What the node's room commands ask of its MUC service, in terms the core can name: the XMPP
 * server implements it (src/xmpp/muc), the commands print it. Every method fails with a
 * CommandError naming the room, the service or the argument; a room or occupant that goes
 * away during a call is not an error of its own.
 */
import type { Affiliation, Role, RoomOptions } from '../config/muc';
import type { BareJid, Jid } from '../lib/jid';

/** A room: its name (the node part, nodeprepped) on a MUC service (`conference.localhost`). */
export interface RoomAddress {
  readonly name: string;
  readonly service: string;
}

/** A MUC service and the served host it belongs to. */
export interface MucService {
  readonly service: string;
  readonly host: string;
}

export interface OccupantInfo {
  /** The occupant's real full JID. */
  readonly jid: Jid;
  readonly nick: string;
  readonly role: Exclude<Role, 'none'>;
  readonly affiliation: Affiliation;
}

export interface AffiliationInfo {
  readonly jid: BareJid;
  readonly affiliation: Exclude<Affiliation, 'none'>;
  readonly reason: string;
}

/** What rooms_unused_list and rooms_empty_list report: the rooms picked, among how many. */
export interface RoomSelection {
  readonly rooms: readonly RoomAddress[];
  readonly total: number;
}

export interface MucControl {
  /** The services of the served hosts, in host order; none when mod_muc is not configured. */
  services(): readonly MucService[];
  /**
   * Creates a live room with the service's default options, `options` over them (a persistent
   * one is stored at once); fails when it exists.
   */
  createRoom(room: RoomAddress, options?: Partial<RoomOptions>): Promise<void>;
  /**
   * Creates stored (persistent) rooms in one batch; fails, creating none, when one exists or a
   * name is invalid. Resolves to how many.
   */
  createRooms(rooms: readonly RoomAddress[]): Promise<number>;
  /** Destroys the room: its occupants get the destroy presence with `reason`; stored state goes. */
  destroyRoom(room: RoomAddress, reason?: string, alternate?: string): Promise<void>;
  /** Destroys each room that exists; resolves to those destroyed. */
  destroyRooms(rooms: readonly RoomAddress[], reason?: string): Promise<RoomAddress[]>;
  /** Does the room exist (live, or stored)? */
  exists(room: RoomAddress): Promise<boolean>;
  options(room: RoomAddress): Promise<RoomOptions>;
  /** Sets one option from its text; errors name the option and the values allowed. */
  changeOption(room: RoomAddress, option: string, value: string): Promise<void>;
  /** `none` removes the affiliation; an outcast in the room is banned out of it. */
  setAffiliation(room: RoomAddress, jid: BareJid, affiliation: Affiliation, reason?: string): Promise<void>;
  affiliations(room: RoomAddress): Promise<AffiliationInfo[]>;
  occupants(room: RoomAddress): Promise<OccupantInfo[]>;
  /** Every room (live or stored) of one service, or of all of them, by service then name. */
  rooms(service?: string): Promise<RoomAddress[]>;
  /** Rooms without occupants whose last activity is at least `days` old. */
  unusedRooms(service: string | undefined, days: number): Promise<RoomSelection>;
  /** Rooms without occupants and without history. */
  emptyRooms(service: string | undefined): Promise<RoomSelection>;
  /** Rooms where the user (any resource) is an occupant. */
  userRooms(jid: BareJid): Promise<RoomAddress[]>;
  /** XEP-0249 invitations from the room to each user; `password` and `reason` empty for none. */
  inviteDirect(room: RoomAddress, users: readonly Jid[], password: string, reason: string): Promise<void>;
  /** Drops the nick's registration on every service; resolves to how many were dropped. */
  unregisterNick(nick: string): Promise<number>;
}

/**
 * The MUC feature's records and domain API: persistent rooms and registered nicks. Live rooms
 * (occupants, history) are the XMPP server's; it loads and saves rooms through `Muc`.
 */
import type { Affiliation, RoomOptions } from '../../config/muc';
import type { BareJid } from '../../lib/jid';

/** One affiliation of a stored room, by bare JID text (lower-cased as JIDs are prepped). */
export interface StoredAffiliation {
  readonly jid: string;
  readonly affiliation: Exclude<Affiliation, 'none'>;
  readonly reason: string;
}

/** `[service, room]` → RoomRecord: a persistent room's state. */
export interface RoomRecord {
  readonly options: RoomOptions;
  readonly affiliations: readonly StoredAffiliation[];
  readonly subject: string;
  /** The nick that set the subject. */
  readonly subjectAuthor: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  /** The last message or join, milliseconds since the epoch. */
  readonly lastActivity: number;
}

export interface StoredRoom {
  readonly service: string;
  readonly name: string;
  readonly record: RoomRecord;
}

export interface Muc {
  room(service: string, name: string): Promise<RoomRecord | undefined>;
  /** Stores (or replaces) a room. */
  saveRoom(service: string, name: string, record: RoomRecord): Promise<void>;
  /** Stores rooms in one batch; none is stored when one already exists (the error names it). */
  createRooms(rooms: readonly StoredRoom[]): Promise<void>;
  removeRoom(service: string, name: string): Promise<void>;
  /** Stored rooms of one service (or all), by service then name, read in pages. */
  rooms(service?: string): AsyncIterable<StoredRoom>;
  /** The names of the stored rooms, as `rooms` orders them, without reading the records: listings of 100 000 rooms stay quick. */
  roomNames(service?: string): AsyncIterable<{ readonly service: string; readonly name: string }>;
  countRooms(service?: string): Promise<number>;
  /** The nick `jid` registered on `service`. */
  nick(service: string, jid: BareJid): Promise<string | undefined>;
  /** Who registered `nick` on `service` (nicks compare case-insensitively, as ejabberd's do). */
  nickOwner(service: string, nick: string): Promise<BareJid | undefined>;
  /** Registers (or changes) the user's nick; fails with `conflict` naming the nick when another user holds it. */
  registerNick(service: string, jid: BareJid, nick: string): Promise<void>;
  unregisterNick(service: string, jid: BareJid): Promise<boolean>;
  /** Drops `nick` on every service; resolves to how many registrations went. */
  unregisterNickEverywhere(nick: string): Promise<number>;
}

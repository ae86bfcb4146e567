/**
 * The contract between the MUC service (service.ts: routing, the room cache, creation,
 * persistence, the owner form, nick registration, the admin commands' control) and a live room
 * (room.ts: occupants, presence, messages, history, roles and affiliations, invitations,
 * destroy). A room never touches the store; it tells its env when its state changed.
 */
import type { Element } from 'ltx';
import type { Affiliation, RoomOptions } from '../../config/muc';
import type { OccupantInfo } from '../../core/muc';
import type { BareJid, Jid } from '../../lib/jid';
import type { RoomRecord } from '../../features/muc/types';

/** What the service gives each room. */
export interface RoomEnv {
  /** Sends a stanza whose `from` (the room or an occupant JID) and `to` are set. */
  send(stanza: Element): void;
  readonly clock: () => number;
  /** Messages of history to keep (mod_muc's history_size). */
  historySize(): number;
  /** The service's cap on occupants, over the room's max_users. */
  maxUsers(): number;
  /** A service admin (access_admin) has owner rights in every room. */
  isServiceAdmin(jid: BareJid): boolean;
  /** The nick `jid` registered on the service, and who holds `nick`: only its holder may use it. */
  registeredNick(jid: BareJid): Promise<string | undefined>;
  nickOwner(nick: string): Promise<BareJid | undefined>;
  /** Options, affiliations or subject changed (or activity moved on): the service stores a persistent room. */
  changed(room: LiveRoom): void;
  /** The last occupant left: the service destroys a temporary room, and may unload a persistent one. */
  emptied(room: LiveRoom): void;
}

/** How a room starts. */
export interface RoomStart {
  readonly name: string;
  readonly service: string;
  readonly record: RoomRecord;
  /**
   * A room a client's join creates stays locked (XEP-0045 §10.1: status 201, others refused)
   * until its owner configures it or accepts the instant room.
   */
  readonly locked: boolean;
}

/** A live room, as the service and the admin commands use it. */
export interface LiveRoom {
  readonly name: string;
  readonly service: string;
  /** `name@service`. */
  readonly jid: string;
  readonly locked: boolean;
  readonly destroyed: boolean;
  /** The state as it is stored. */
  record(): RoomRecord;
  readonly options: RoomOptions;
  occupants(): OccupantInfo[];
  readonly occupantCount: number;
  /** Is any resource of this user an occupant? */
  hasUser(jid: BareJid): boolean;
  /** Messages of history it holds. */
  readonly historyLength: number;
  readonly lastActivity: number;
  /** The user's affiliation (a service admin's is owner). */
  affiliation(jid: BareJid): Affiliation;
  /**
   * A stanza to the room's bare JID or to an occupant JID: presence (join, nick change, status,
   * leave), message (groupchat, private, subject, invitations, declines, voice requests), and
   * IQ (muc#admin at the bare JID, anything at an occupant JID is relayed). muc#owner, disco
   * and jabber:iq:register go to the service, not here.
   */
  handle(stanza: Element, from: Jid): void | Promise<void>;
  /**
   * New options, from the owner form or change_room_option: the room applies what follows
   * (status 104/170/171/172/173 to occupants, members-only removes non-members with 322, a
   * smaller max_users refuses later joins) and unlocks itself. `actor` undefined: the server.
   */
  configure(options: RoomOptions, actor?: Jid): void;
  /** Changes an affiliation and what follows from it (role change, 301 for outcasts, 321 when members-only). */
  setAffiliation(jid: BareJid, affiliation: Affiliation, reason: string, actor?: Jid): void;
  /** Occupants get unavailable with `<destroy>` (reason, alternate venue); the room is done. */
  destroy(reason?: string, alternate?: string, password?: string): void;
}

/** Builds a live room: room.ts's export. */
export type RoomFactory = (start: RoomStart, env: RoomEnv) => LiveRoom;

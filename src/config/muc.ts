/**
 * mod_muc's configuration and the room options of ejabberd's `config` record: their names in
 * record order, their defaults, and how a value is read from text (change_room_option,
 * default_room_options) and printed (get_room_options).
 */

export type Affiliation = 'owner' | 'admin' | 'member' | 'outcast' | 'none';
export type Role = 'moderator' | 'participant' | 'visitor' | 'none';
export type PrivateMessagesFrom = 'anyone' | 'moderators' | 'nobody';

/** A room's configuration, in the order of ejabberd's `config` record (what get_room_options prints). */
export interface RoomOptions {
  readonly title: string;
  readonly description: string;
  readonly allow_change_subj: boolean;
  readonly allow_query_users: boolean;
  readonly allow_private_messages: boolean;
  readonly allow_private_messages_from_visitors: PrivateMessagesFrom;
  readonly allow_visitor_status: boolean;
  readonly allow_visitor_nickchange: boolean;
  readonly public: boolean;
  readonly public_list: boolean;
  readonly persistent: boolean;
  readonly moderated: boolean;
  readonly captcha_protected: boolean;
  readonly members_by_default: boolean;
  readonly members_only: boolean;
  readonly allow_user_invites: boolean;
  readonly allow_subscription: boolean;
  readonly password_protected: boolean;
  readonly password: string;
  readonly anonymous: boolean;
  /** The roles whose presence is broadcast. */
  readonly presence_broadcast: readonly Exclude<Role, 'none'>[];
  readonly allow_voice_requests: boolean;
  /** Seconds. */
  readonly voice_request_min_interval: number;
  readonly max_users: number;
  readonly logging: boolean;
  /** The room's vCard, serialised; empty for none. */
  readonly vcard: string;
  /** ejabberd's `undefined` until set: printed as it is. */
  readonly vcard_xupdate: string;
  /** Bare JIDs that skip the CAPTCHA; empty prints ejabberd's `{0,nil}`. */
  readonly captcha_whitelist: readonly string[];
  readonly mam: boolean;
  readonly pubsub: string;
  readonly enable_hats: boolean;
  readonly lang: string;
}

export type RoomOptionName = keyof RoomOptions;

/** mod_muc's options that the service applies (ejabberd's names). */
export interface MucConfig {
  /** The service's domain with `@HOST@` standing for each served host: `conference.@HOST@`. */
  readonly host: string;
  /** The service's disco name. */
  readonly name: string;
  /** Access rules (names of `access_rules`, or `all` / `none`). */
  readonly access: string;
  readonly accessCreate: string;
  readonly accessAdmin: string;
  readonly accessPersistent: string;
  /** Options every new room starts with, over ejabberd's defaults. */
  readonly defaultRoomOptions: RoomOptions;
  /** The most occupants a room may have, whatever its max_users says. */
  readonly maxUsers: number;
  /** Messages of history a room keeps for joiners. */
  readonly historySize: number;
  /** Longest room name (node part), in bytes; Infinity for no limit. */
  readonly maxRoomId: number;
  readonly maxRoomName: number;
  readonly maxRoomDesc: number;
  /** How many live rooms without occupants the service keeps in memory. */
  readonly roomCacheSize: number;
}

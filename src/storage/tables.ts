/**
 * The tables of the database and their keys (parts joined by NUL, see keys.ts). Every record a
 * user owns is keyed `host␀user` or `host␀user␀…` in one of USER_TABLES, so removing a user
 * finds it by prefix; index rows keyed otherwise are removed by their service's removal hook.
 */
export const TABLES = {
  /** host␀user → AccountRecord */
  passwd: 'passwd',
  /** host␀user → LastRecord */
  last: 'last',
  /** host␀user␀contact-bare-jid → RosterItem */
  roster: 'roster',
  /** host␀user → { xml } (vcard-temp, XEP-0054) */
  vcard: 'vcard',
  /** host␀user␀namespace → { xml } (XEP-0049) */
  private: 'private',
  /** host␀user␀… → privacy lists and the default list (XEP-0016) */
  privacy: 'privacy',
  /** host␀user␀stamp → OfflineMessage; stamp = time in ms, zero-padded, plus a sequence */
  offline: 'offline',
  /** stamp␀host␀user → 1: offline messages by age, for delete_old_messages */
  offlineByTime: 'offline_by_time',
  /** expiry-stamp␀host␀user␀stamp → 1: offline messages by expiry, for delete_expired_messages */
  offlineByExpiry: 'offline_by_expiry',
  /** host␀user␀stamp → ArchivedMessage (XEP-0313) */
  mam: 'mam',
  /** stamp␀host␀user → { type }: archived messages by age, for delete_old_mam_messages */
  mamByTime: 'mam_by_time',
  /** host␀group → SharedGroup */
  srg: 'srg',
  /** host␀group␀member (user@host, or @all@) → 1 */
  srgMember: 'srg_member',
  /** member-host␀member-user␀group-host␀group → 1: a user's shared groups */
  srgUser: 'srg_user',
  /** sha256(token) in hex → TokenRecord: bearer tokens for the HTTP API and XML-RPC */
  apiTokens: 'api_tokens',
} as const;

/** Tables whose keys start with the owner's `host␀user`. */
export const USER_TABLES: readonly string[] = [
  TABLES.passwd,
  TABLES.last,
  TABLES.roster,
  TABLES.vcard,
  TABLES.private,
  TABLES.privacy,
  TABLES.offline,
  TABLES.mam,
  TABLES.srgUser,
];

/**
 * The tables of the database. Every record a user owns is keyed `host␀user` or
 * `host␀user␀…`, and its table is listed in USER_TABLES so that removing a user
 * removes everything in one atomic batch.
 */
export const TABLES = {
  /** host␀user → AccountRecord */
  passwd: 'passwd',
  /** host␀user → LastRecord */
  last: 'last',
} as const;

export const USER_TABLES: readonly string[] = [TABLES.passwd, TABLES.last];

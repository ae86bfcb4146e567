import { PASSWD } from '../features/accounts/records';
import { LAST } from '../features/last/records';
import { MAM } from '../features/mam/records';
import { MUC_NICK, MUC_REGISTERED, MUC_ROOM } from '../features/muc/records';
import { OFFLINE } from '../features/offline/records';
import { PRIVACY } from '../features/privacy/records';
import { PRIVATE } from '../features/private/records';
import { ROSTER } from '../features/roster/records';
import { SRG, SRG_MEMBER, SRG_USER } from '../features/srg/records';
import { API_TOKENS, API_TOKENS_BY_ACCOUNT } from '../features/tokens/records';
import { VCARD } from '../features/vcard/records';
import { recordArchiveTables } from '../storage/archive';

/**
 * Every table a database can hold, in byte order of the names: what dump_table and load
 * accept. Each feature's records module names its tables; the archives (offline messages
 * expire, archived messages do not) are kept as records of their own tables.
 */
export function databaseTables(): string[] {
  return [
    PASSWD,
    LAST,
    ROSTER,
    PRIVACY,
    PRIVATE,
    VCARD,
    SRG,
    SRG_MEMBER,
    SRG_USER,
    API_TOKENS,
    API_TOKENS_BY_ACCOUNT,
    MUC_ROOM,
    MUC_REGISTERED,
    MUC_NICK,
    ...recordArchiveTables(OFFLINE, true),
    ...recordArchiveTables(MAM, false),
  ].sort();
}

/** The tables of extension modules, `ext.MODULE.TABLE`: a database holds those of the modules that stored something. */
export const EXTENSION_TABLE = /^ext\.[a-z][a-z0-9_]{0,63}\.[a-z][a-z0-9_]{0,63}$/;

export const extensionTable = (module: string, table: string): string => `ext.${module}.${table}`;

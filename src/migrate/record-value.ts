import { decodeAccount, PASSWD } from '../features/accounts/records';
import { decodeLast, LAST } from '../features/last/records';
import { decodeArchivedMessage, MAM } from '../features/mam/records';
import { decodeRoomRecord, MUC_NICK, MUC_REGISTERED, MUC_ROOM } from '../features/muc/records';
import { decodeOfflineMessage, OFFLINE } from '../features/offline/records';
import { decodePrivacyDefault, decodePrivacyList, PRIVACY } from '../features/privacy/records';
import { decodePrivate, PRIVATE } from '../features/private/records';
import { decodeRosterItem, ROSTER } from '../features/roster/records';
import { decodeSharedGroup, SRG, SRG_MEMBER, SRG_USER } from '../features/srg/records';
import { API_TOKENS, API_TOKENS_BY_ACCOUNT, decodeToken } from '../features/tokens/records';
import { decodeVcard, VCARD } from '../features/vcard/records';
import { loneSurrogateIn } from '../lib/utf8';
import type { Key } from '../storage/types';

/**
 * The hosts a record may belong to, when it comes from a file that is merged into this node's
 * database (a dump, a spool): those of the configuration, as the commands take them.
 */
export interface ServedHosts {
  readonly hosts: readonly string[];
  /** The configuration file, for the message. */
  readonly file: string;
}

/**
 * What a table's records must be: its key's parts, by name (`host` parts must be served
 * hosts; a quoted part is that very text), and the decoder of the feature that owns the table,
 * which throws naming the field. The one place a record from a file is checked, whichever file
 * it comes from.
 */
interface TableRule {
  /** One layout, or several (a privacy list or default), told apart by `decode`. */
  readonly key: readonly (readonly string[])[];
  /** Throws why the value cannot be stored; `where` names the record for the message. */
  readonly decode: (value: unknown, where: string, key: Key) => unknown;
  /** The record, for messages: `the vCard of alice@localhost`. */
  readonly what: (key: Key) => string;
}

const jidOf = (key: Key, at = 0) => `${key[at + 1]}@${key[at]}`;
/** A row whose whole meaning is its key (an index): its value is 1. */
const one = (value: unknown, where: string) => {
  if (value !== 1) throw new Error(`${where}: the value must be 1`);
};
/** An index row of an archive: 1, or the kind of the entry it stands for. */
const timeIndex = (value: unknown, where: string) => {
  const kind = (value as { type?: unknown } | null)?.type;
  if (value !== 1 && !(isObject(value) && Object.keys(value).length === 1 && typeof kind === 'string')) {
    throw new Error(`${where}: the value must be 1 or {"type": KIND}`);
  }
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const USER = ['host', 'user'] as const;

const RULES: Readonly<Record<string, TableRule>> = {
  [PASSWD]: { key: [USER], decode: decodeAccount, what: (k) => `the account ${jidOf(k)}` },
  [LAST]: { key: [USER], decode: decodeLast, what: (k) => `the last activity of ${jidOf(k)}` },
  [ROSTER]: { key: [[...USER, 'contact']], decode: decodeRosterItem, what: (k) => `the roster item ${k[2]} of ${jidOf(k)}` },
  [VCARD]: { key: [USER], decode: decodeVcard, what: (k) => `the vCard of ${jidOf(k)}` },
  [PRIVATE]: {
    key: [[...USER, 'namespace']],
    decode: (value, where, key) => decodePrivate(value, where, key[2]),
    what: (k) => `the private element ${k[2]} of ${jidOf(k)}`,
  },
  [PRIVACY]: {
    key: [
      [...USER, "'default'"],
      [...USER, "'list'", 'name'],
    ],
    decode: (value, where, key) => (key.length === 3 ? decodePrivacyDefault(value, where) : decodePrivacyList(value, where)),
    what: (k) => (k.length === 3 ? `the default privacy list of ${jidOf(k)}` : `the privacy list ${k[3]} of ${jidOf(k)}`),
  },
  [SRG]: { key: [['host', 'group']], decode: decodeSharedGroup, what: (k) => `the shared roster group ${k[1]} of ${k[0]}` },
  [SRG_MEMBER]: { key: [['host', 'group', 'member']], decode: one, what: (k) => `the member ${k[2]} of the shared roster group ${k[1]} of ${k[0]}` },
  [SRG_USER]: { key: [[...USER, 'host', 'group']], decode: one, what: (k) => `the shared roster group ${k[3]} of ${k[2]} of ${jidOf(k)}` },
  [API_TOKENS]: { key: [['hash']], decode: decodeToken, what: (k) => `the API token ${k[0]}` },
  [API_TOKENS_BY_ACCOUNT]: { key: [[...USER, 'hash']], decode: one, what: (k) => `the API token ${k[2]} of ${jidOf(k)}` },
  [MUC_ROOM]: { key: [['service', 'room']], decode: decodeRoomRecord, what: (k) => `the room ${k[1]}@${k[0]}` },
  [MUC_REGISTERED]: {
    key: [[...USER, 'service']],
    decode: (value, where) => {
      if (!isObject(value) || typeof value.nick !== 'string' || Object.keys(value).length !== 1) throw new Error(`${where}: the value must be {"nick": TEXT}`);
    },
    what: (k) => `the nick of ${jidOf(k)} on ${k[2]}`,
  },
  [MUC_NICK]: {
    key: [['service', 'nick']],
    decode: (value, where) => {
      if (!isObject(value) || typeof value.user !== 'string' || typeof value.host !== 'string') throw new Error(`${where}: the value must be {"user", "host"}`);
    },
    what: (k) => `the owner of the nick ${k[1]} on ${k[0]}`,
  },
  [OFFLINE]: { key: [[...USER, 'id']], decode: decodeOfflineMessage, what: (k) => `the offline message ${k[2]} of ${jidOf(k)}` },
  [`${OFFLINE}_by_time`]: { key: [['id', ...USER]], decode: one, what: (k) => `the time index of offline message ${k[0]} of ${jidOf(k, 1)}` },
  [`${OFFLINE}_by_expiry`]: { key: [['time', ...USER, 'id']], decode: one, what: (k) => `the expiry of offline message ${k[3]} of ${jidOf(k, 1)}` },
  // An archive's owner is a user, or a room (its service in the place of the host).
  [MAM]: { key: [['owner', 'name', 'id']], decode: decodeArchivedMessage, what: (k) => `the archived message ${k[2]} of ${jidOf(k)}` },
  [`${MAM}_by_time`]: { key: [['id', 'owner', 'name']], decode: timeIndex, what: (k) => `the time index of archived message ${k[0]} of ${jidOf(k, 1)}` },
};

/**
 * Why a record read from a file (a dump line, a backup line, a spool's records) cannot be
 * stored as it is, or undefined: what load, restore and the imports check before they write
 * anything. With `served`, the record's hosts must be served by this node. Tables of extension
 * modules are their modules' own: only their text is checked.
 */
export function recordValueFault(table: string, key: Key, value: unknown, served?: ServedHosts): string | undefined {
  const lone = loneSurrogateIn(value);
  if (lone !== undefined) return `the value holds a lone surrogate at ${lone}, which is not Unicode text`;
  const rule = Object.hasOwn(RULES, table) ? RULES[table] : undefined;
  if (rule === undefined) return undefined;
  const layout = rule.key.find((parts) => parts.length === key.length && parts.every((p, i) => !p.startsWith("'") || `'${key[i]}'` === p));
  if (layout === undefined) return `a key of table ${table} is ${rule.key.map((parts) => `[${parts.join(', ')}]`).join(' or ')}`;
  if (served !== undefined) {
    const host = layout.map((p, i) => (p === 'host' ? key[i] : undefined)).find((h) => h !== undefined && !served.hosts.includes(h));
    if (host !== undefined)
      return `${rule.what(key)}: the host ${host} is not served by this node: it serves ${served.hosts.join(', ')} (hosts in ${served.file})`;
  }
  try {
    rule.decode(value, rule.what(key), key);
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

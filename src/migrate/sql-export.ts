import { resolve } from 'node:path';
import { hostAccounts } from '../features/accounts/records';
import type { ScramKeys, Secret } from '../features/accounts/secret';
import type { FeatureDeps } from '../features/deps';
import type { Features } from '../features';
import { hostLasts } from '../features/last/records';
import { hostRegistrations, hostRooms } from '../features/muc/records';
import type { RoomRecord } from '../features/muc/types';
import type { RoomOptionName } from '../config/muc';
import { hostOffline } from '../features/offline/records';
import { hostPrivacy, type PrivacyItem } from '../features/privacy/records';
import { hostPrivate } from '../features/private/records';
import { hostRosters } from '../features/roster/records';
import { ALL_USERS, hostGroups, hostMembers, isMember, memberText, type SharedGroup } from '../features/srg/records';
import { hostVcards } from '../features/vcard/records';
import { CommandError } from '../lib/errors';
import { bareText } from '../lib/jid';
import { writeFileAtomicStream } from '../lib/files';
import { parseXml, type Element } from '../lib/xml';
import type { Store } from '../storage/types';

/**
 * export_odbc / export2odbc: one host's data as SQL statements for one of ejabberd's PostgreSQL
 * layouts (SQL_SCHEMAS), each INSERT preceded by the DELETE that makes it repeatable, grouped
 * under `-- Mnesia table: NAME` headers as ejabberd wrote them. Strings are quoted for
 * PostgreSQL with standard_conforming_strings on, which the file sets: quotes are doubled and
 * backslashes mean themselves.
 */

/**
 * The layouts a file can target (`--sql-schema`): `pg`, sql/pg.sql (one database per host);
 * `pg-new`, sql/pg.new.sql (`new_sql_schema: true`: a server_host column in each table, hosts
 * sharing one database); `pg-25`, pg.new.sql of ejabberd 25.03 and later, whose users table
 * keeps one row per stored hash, told apart by its `type` column.
 */
export const SQL_SCHEMAS = ['pg', 'pg-new', 'pg-25'] as const;
export type SqlSchema = (typeof SQL_SCHEMAS)[number];

/** What each layout's file says it is for, in its header. */
const SCHEMA_TEXT: Record<SqlSchema, string> = {
  pg: "ejabberd's single-host schema, sql/pg.sql",
  'pg-new': "ejabberd's multi-host schema, sql/pg.new.sql (new_sql_schema: true)",
  'pg-25': "ejabberd 25.03 or later's multi-host schema, sql/pg.new.sql with users.type (one row per stored hash)",
};

/** The users.type of each stored hash in ejabberd 25.03's users table (ejabberd_auth_sql:hash_to_num). */
const USERS_TYPE = { plain: 1, sha1: 2, sha256: 3 } as const;

type SqlValue = string | number | boolean;

/** A value that no SQL literal can stand for; its message says what the value contains. */
class UnfitValue extends Error {}

/** A PostgreSQL literal. Text cannot hold NUL, so a value with one is refused, never cut. */
export function sqlLiteral(v: SqlValue): string {
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new UnfitValue(`${v} is not an integer`);
    return String(v);
  }
  if (v.includes('\u0000')) throw new UnfitValue('a NUL character, which PostgreSQL text cannot hold');
  return `'${v.replace(/'/g, "''")}'`;
}

const where = (cols: Record<string, SqlValue>) =>
  Object.entries(cols)
    .map(([c, v]) => `${c}=${sqlLiteral(v)}`)
    .join(' AND ');

export const del = (table: string, cols: Record<string, SqlValue>) => `DELETE FROM ${table} WHERE ${where(cols)};\n`;
export const insert = (table: string, cols: Record<string, SqlValue>) =>
  `INSERT INTO ${table}(${Object.keys(cols).join(', ')}) VALUES (${Object.values(cols).map(sqlLiteral).join(', ')});\n`;

/**
 * An Erlang term as text, the form ejabberd keeps sr_group.opts in and reads back with
 * erl_scan: binaries hold their UTF-8 bytes as octal escapes, so the text is pure ASCII and
 * reads the same whatever encoding the reader assumes.
 */
export function erlangBinary(s: string): string {
  let out = '<<"';
  for (const byte of Buffer.from(s, 'utf8')) {
    if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return `${out}">>`;
}

function srgOpts(g: SharedGroup, allUsers: boolean): string {
  const opts = [
    `{name,${erlangBinary(g.name)}}`,
    `{description,${erlangBinary(g.description)}}`,
    `{displayed_groups,[${g.displayed.map(erlangBinary).join(',')}]}`,
  ];
  if (allUsers) opts.push('{all_users,true}');
  return `[${opts.join(',')}]`;
}

/** The room options in the order ejabberd's mod_muc_room:make_opts writes them; captcha_whitelist follows apart. */
const MAKE_OPTS_ORDER: readonly Exclude<RoomOptionName, 'captcha_whitelist'>[] = [
  'title',
  'description',
  'allow_change_subj',
  'allow_query_users',
  'allow_private_messages',
  'allow_private_messages_from_visitors',
  'allow_visitor_status',
  'allow_visitor_nickchange',
  'public',
  'public_list',
  'persistent',
  'moderated',
  'members_by_default',
  'members_only',
  'allow_user_invites',
  'password_protected',
  'captcha_protected',
  'password',
  'anonymous',
  'logging',
  'max_users',
  'allow_voice_requests',
  'allow_subscription',
  'mam',
  'presence_broadcast',
  'voice_request_min_interval',
  'vcard',
  'vcard_xupdate',
  'pubsub',
  'enable_hats',
  'lang',
];

/** ejabberd's `{User, Server, Resource}` of a bare JID (a server's JID has an empty user). */
function ljid(jid: string): string {
  const at = jid.indexOf('@');
  const [user, server] = at < 0 ? ['', jid] : [jid.slice(0, at), jid.slice(at + 1)];
  return `{${erlangBinary(user)},${erlangBinary(server)},<<>>}`;
}

function roomOptionTerm(name: Exclude<RoomOptionName, 'captcha_whitelist'>, value: unknown): string {
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (Array.isArray(value)) return `[${value.join(',')}]`;
  // Atoms in ejabberd's record; the other options are binaries.
  if (name === 'allow_private_messages_from_visitors') return String(value);
  if (name === 'vcard_xupdate' && (value === 'undefined' || value === 'external')) return value;
  return erlangBinary(String(value));
}

/**
 * muc_room.opts: the room as ejabberd's mod_muc_room:make_opts keeps it and mod_muc_sql stores
 * it, an Erlang term that restore_room reads back: the options, affiliations with their
 * reasons, the subject as xmpp's `#text{}` records, no occupants' roles and no subscribers.
 */
export function mucRoomOpts(record: RoomRecord): string {
  const o = record.options;
  const opts = MAKE_OPTS_ORDER.map((name) => `{${name},${roomOptionTerm(name, o[name])}}`);
  opts.push(`{captcha_whitelist,[${o.captcha_whitelist.map(ljid).join(',')}]}`);
  opts.push(`{affiliations,[${record.affiliations.map((a) => `{${ljid(a.jid)},{${a.affiliation},${erlangBinary(a.reason)}}}`).join(',')}]}`);
  opts.push('{roles,[]}');
  opts.push(`{subject,${record.subject === '' ? '[]' : `[{text,<<>>,${erlangBinary(record.subject)}}]`}}`);
  opts.push(`{subject_author,${erlangBinary(record.subjectAuthor)}}`);
  opts.push('{hats_users,[]}', '{hibernation_time,undefined}');
  return `[${opts.join(',')}]`;
}

const SUBSCRIPTION_CODE: Record<string, string> = { both: 'B', to: 'T', from: 'F', none: 'N' };
const ASK_CODE: Record<string, string> = { out: 'O', in: 'I', none: 'N' };
const PRIVACY_TYPE: Record<string, string> = { jid: 'j', group: 'g', subscription: 's' };

/** The vcard_search row of a vCard: the fields vCard search (XEP-0055) looks in, and their lower case. */
function vcardSearch(user: string, card: Element): Record<string, SqlValue> {
  const text = (...path: string[]): string => {
    let el: Element | undefined = card;
    for (const name of path) el = el?.getChild(name);
    return el?.getText() ?? '';
  };
  const email = text('EMAIL', 'USERID') || text('EMAIL');
  const fields: [string, string][] = [
    ['fn', text('FN')],
    ['family', text('N', 'FAMILY')],
    ['given', text('N', 'GIVEN')],
    ['middle', text('N', 'MIDDLE')],
    ['nickname', text('NICKNAME')],
    ['bday', text('BDAY')],
    ['ctry', text('ADR', 'CTRY')],
    ['locality', text('ADR', 'LOCALITY')],
    ['email', email],
    ['orgname', text('ORG', 'ORGNAME')],
    ['orgunit', text('ORG', 'ORGUNIT')],
  ];
  const row: Record<string, SqlValue> = { username: user, lusername: user };
  for (const [name, value] of fields) {
    row[name] = value;
    row[`l${name}`] = value.toLowerCase();
  }
  return row;
}

function privacyRow(item: PrivacyItem): Record<string, SqlValue> {
  const has = (s: string) => item.stanzas.includes(s as PrivacyItem['stanzas'][number]);
  return {
    t: item.type === undefined ? 'n' : PRIVACY_TYPE[item.type],
    value: item.value ?? '',
    action: item.action === 'allow' ? 'a' : 'd',
    ord: item.order,
    match_all: item.stanzas.length === 0,
    match_iq: has('iq'),
    match_message: has('message'),
    match_presence_in: has('presence-in'),
    match_presence_out: has('presence-out'),
  };
}

/** What a section reads from: one host of the store, and where to say how far it got. */
interface Source {
  readonly store: Store;
  readonly host: string;
  readonly working: (text: string) => void;
  /** The accounts of the host, for the progress of the first section. */
  readonly users: number;
  readonly schema: SqlSchema;
  /**
   * The host's column, in every WHERE and INSERT, in the multi-host layouts (ejabberd's
   * `%(LServer)H`); nothing in pg.sql's, where the database is the host's.
   */
  readonly sh: Readonly<Record<string, SqlValue>>;
}

/**
 * One part of the file, as ejabberd's export wrote it: the records of one Mnesia table, each
 * record's statements (DELETE, then INSERT) as one text.
 */
interface Section {
  /** The Mnesia table ejabberd named the part after. */
  readonly mnesia: string;
  /** The SQL table the statements fill; errors about a value name it. */
  readonly sqlTable: string;
  /** What the spinner says while the part is written. */
  readonly working?: string;
  rows(from: Source): AsyncIterable<string>;
}

const SECTIONS: readonly Section[] = [
  {
    mnesia: 'passwd',
    sqlTable: 'users',
    async *rows({ store, host, working, users, schema, sh }) {
      let n = 0;
      for await (const [{ user: username }, { secret }] of hostAccounts(store, host)) {
        const owner = { username, ...sh };
        yield (
          del('users', owner) +
          userRows(secret, schema)
            .map((cols) => insert('users', { ...owner, ...cols }))
            .join('')
        );
        if (++n % 1000 === 0) working(`Exported ${n} of ${users} users`);
      }
    },
  },
  {
    mnesia: 'last_activity',
    sqlTable: 'last',
    async *rows({ store, host, sh }) {
      for await (const [{ user: username }, rec] of hostLasts(store, host)) {
        const owner = { username, ...sh };
        yield del('last', owner) + insert('last', { ...owner, seconds: String(rec.timestamp), state: rec.status });
      }
    },
  },
  {
    mnesia: 'muc_room',
    sqlTable: 'muc_room',
    working: 'Exporting rooms',
    async *rows({ store, host, sh }) {
      // A room is found by its service alone, in both layouts: server_host only says whose it is.
      for await (const { service, name, record } of hostRooms(store, host)) {
        yield del('muc_room', { name, host: service }) + insert('muc_room', { name, host: service, ...sh, opts: mucRoomOpts(record) });
      }
    },
  },
  {
    mnesia: 'muc_registered',
    sqlTable: 'muc_registered',
    async *rows({ store, host, sh }) {
      for await (const { service, jid, nick } of hostRegistrations(store, host)) {
        const text = bareText(jid);
        yield del('muc_registered', { jid: text, host: service }) + insert('muc_registered', { jid: text, host: service, ...sh, nick });
      }
    },
  },
  {
    mnesia: 'offline_msg',
    sqlTable: 'spool',
    working: 'Exporting offline messages',
    async *rows({ store, host, sh }) {
      let previous: string | undefined;
      for await (const [{ user: username }, msg] of hostOffline(store, host)) {
        // One DELETE per user: ejabberd's per-message DELETE kept only each user's last message.
        const first = username !== previous;
        previous = username;
        const owner = { username, ...sh };
        yield (first ? del('spool', owner) : '') + insert('spool', { ...owner, xml: msg.xml });
      }
    },
  },
  {
    mnesia: 'privacy',
    sqlTable: 'privacy_list',
    working: 'Exporting privacy lists',
    async *rows({ store, host, sh }) {
      for await (const entry of hostPrivacy(store, host)) {
        const username = entry.jid.user;
        if (entry.kind === 'default') {
          yield del('privacy_default_list', { username, ...sh }) + insert('privacy_default_list', { username, ...sh, name: entry.name });
          continue;
        }
        const owner = { username, ...sh, name: entry.list.name };
        yield (
          `DELETE FROM privacy_list_data WHERE id IN (SELECT id FROM privacy_list WHERE ${where(owner)});\n` +
          del('privacy_list', owner) +
          insert('privacy_list', owner) +
          entry.list.items.map((item) => privacyItemInsert(owner, item)).join('')
        );
      }
    },
  },
  {
    mnesia: 'private_storage',
    sqlTable: 'private_storage',
    async *rows({ store, host, sh }) {
      for await (const { jid, namespace, record } of hostPrivate(store, host)) {
        const owner = { username: jid.user, ...sh, namespace };
        yield del('private_storage', owner) + insert('private_storage', { ...owner, data: record.xml });
      }
    },
  },
  {
    mnesia: 'roster',
    sqlTable: 'rosterusers',
    working: 'Exporting rosters',
    async *rows({ store, host, sh }) {
      for await (const { owner, contact: jid, item } of hostRosters(store, host)) {
        const username = owner.user;
        const row = {
          username,
          ...sh,
          jid,
          nick: item.name,
          subscription: SUBSCRIPTION_CODE[item.subscription],
          ask: ASK_CODE[item.ask],
          askmessage: '',
          server: 'N',
          subscribe: '',
          type: 'item',
        };
        const contact = { username, ...sh, jid };
        yield (
          del('rosterusers', contact) +
          insert('rosterusers', row) +
          del('rostergroups', contact) +
          item.groups.map((grp) => insert('rostergroups', { ...contact, grp })).join('')
        );
      }
    },
  },
  {
    mnesia: 'sr_group',
    sqlTable: 'sr_group',
    async *rows({ store, host, sh }) {
      for await (const [name, g] of hostGroups(store, host)) {
        const all = await isMember(store, { host, group: name }, ALL_USERS);
        yield del('sr_group', { name, ...sh }) + insert('sr_group', { name, ...sh, opts: srgOpts(g, all) });
      }
    },
  },
  {
    mnesia: 'sr_user',
    sqlTable: 'sr_user',
    async *rows({ store, host, sh }) {
      for await (const [grp, member] of hostMembers(store, host)) {
        // @all@ is the group's all_users option in ejabberd, not a member row.
        if (member === ALL_USERS) continue;
        const row = { jid: memberText(member), ...sh, grp };
        yield del('sr_user', row) + insert('sr_user', row);
      }
    },
  },
  {
    mnesia: 'vcard',
    sqlTable: 'vcard',
    working: 'Exporting vCards',
    async *rows({ store, host, sh }) {
      for await (const [{ user: username }, rec] of hostVcards(store, host)) {
        yield del('vcard', { username, ...sh }) + insert('vcard', { username, ...sh, vcard: rec.xml });
      }
    },
  },
  {
    mnesia: 'vcard_search',
    sqlTable: 'vcard_search',
    async *rows({ store, host, sh }) {
      for await (const [{ user: username }, rec] of hostVcards(store, host)) {
        const card = storedVcard(rec.xml, `the stored vCard of ${username}@${host}`);
        yield del('vcard_search', { lusername: username, ...sh }) + insert('vcard_search', { ...vcardSearch(username, card), ...sh });
      }
    },
  },
];

function privacyItemInsert(owner: Record<string, SqlValue>, item: PrivacyItem): string {
  const row = privacyRow(item);
  const values = Object.values(row).map(sqlLiteral).join(', ');
  return `INSERT INTO privacy_list_data(id, ${Object.keys(row).join(', ')}) SELECT id, ${values} FROM privacy_list WHERE ${where(owner)};\n`;
}

function storedVcard(xml: string, what: string): Element {
  try {
    return parseXml(xml, what);
  } catch (err) {
    throw new CommandError('failed', (err as Error).message, { cause: err });
  }
}

/**
 * The users rows of an account: one in pg.sql and in 23.01's pg.new.sql (SCRAM-SHA-1 keys, or
 * the plain password); in 25.03's, one per hash, each with its type, as
 * ejabberd_auth_sql:set_password_scram_t writes them (keys without the `sha256:` prefix that
 * marks them in a legacy row of type 0).
 */
function userRows(s: Secret, schema: SqlSchema): Record<string, SqlValue>[] {
  const typed = schema === 'pg-25';
  if (s.format === 'plain') return [{ ...(typed && { type: USERS_TYPE.plain }), password: s.password }];
  const keys = (type: number, k: ScramKeys) => ({
    ...(typed && { type }),
    password: k.storedKey,
    serverkey: k.serverKey,
    salt: k.salt,
    iterationcount: k.iterations,
  });
  const rows = [keys(USERS_TYPE.sha1, s)];
  if (typed && s.sha256 !== undefined) rows.push(keys(USERS_TYPE.sha256, s.sha256));
  return rows;
}

function fileHeader(host: string, schema: SqlSchema): string {
  const file = schema === 'pg' ? 'pg.sql' : 'pg.new.sql';
  return (
    `-- ejabberd SQL data of host ${host}, written by ctl export_odbc.\n` +
    `-- Schema: ${schema}, ${SCHEMA_TEXT[schema]}.\n` +
    `-- Load it into a database made with ejabberd's ${file}: psql -v ON_ERROR_STOP=1 -1 -f FILE\n` +
    `SET standard_conforming_strings = on;\nSET client_encoding = 'UTF8';\n`
  );
}

/** The layout named by `--sql-schema`, pg.sql's when none is. */
export function sqlSchema(name: string | undefined): SqlSchema {
  if (name === undefined) return 'pg';
  if ((SQL_SCHEMAS as readonly string[]).includes(name)) return name as SqlSchema;
  throw new CommandError('bad_argument', `--sql-schema must be one of ${SQL_SCHEMAS.join(', ')}, got '${name}'`);
}

/** Written to the file in pieces of about this size: one write per statement would be slow. */
const CHUNK_BYTES = 256 * 1024;

/** Gathers texts into writes of about CHUNK_BYTES. */
function chunked(write: (chunk: string) => Promise<void>) {
  let pending: string[] = [];
  let size = 0;
  const flush = async () => {
    const chunk = pending.join('');
    pending = [];
    size = 0;
    await write(chunk);
  };
  return {
    async add(text: string) {
      pending.push(text);
      size += text.length;
      if (size >= CHUNK_BYTES) await flush();
    },
    async end() {
      if (size > 0) await flush();
    },
  };
}

async function writeSection(section: Section, from: Source, add: (text: string) => Promise<void>): Promise<void> {
  if (section.working !== undefined) from.working(section.working);
  // The header is written only if a statement follows, as ejabberd did.
  let header: string | undefined = `-- \n-- Mnesia table: ${section.mnesia}\n--\n`;
  for await (const text of section.rows(from)) {
    if (header !== undefined) await add(header);
    header = undefined;
    await add(text);
  }
}

export interface SqlExport {
  /**
   * Writes the SQL of every record of `host` to `file`, atomically, for the layout `schema`
   * (pg.sql's when undefined; a name not in SQL_SCHEMAS is refused before anything is read).
   * Resolves to the file written and how many accounts it holds.
   */
  exportHost(host: string, file: string, working?: (text: string) => void, schema?: string): Promise<{ path: string; users: number }>;
}

export function createSqlExport(deps: FeatureDeps, features: Features): SqlExport {
  const { store } = deps;
  const { accounts } = features;

  return {
    async exportHost(name, file, working = () => undefined, schemaName) {
      const schema = sqlSchema(schemaName);
      const host = accounts.host(name);
      const path = resolve(file);
      const sh: Record<string, SqlValue> = schema === 'pg' ? {} : { server_host: host };
      const from: Source = { store, host, working, users: await accounts.countUsers(host), schema, sh };
      await writeFileAtomicStream(path, async (write) => {
        const out = chunked(write);
        await out.add(fileHeader(host, schema));
        for (const section of SECTIONS) {
          try {
            await writeSection(section, from, out.add);
          } catch (err) {
            if (!(err instanceof UnfitValue)) throw err;
            throw new CommandError('failed', `Cannot export ${host} to ${path}: a value for the ${section.sqlTable} table contains ${err.message}`);
          }
        }
        await out.end();
      });
      return { path, users: from.users };
    },
  };
}

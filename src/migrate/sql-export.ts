import { resolve } from 'node:path';
import { CommandError } from '../lib/errors';
import { key, prefix, splitKey } from '../storage/keys';
import { TABLES } from '../storage/tables';
import type { AccountRecord, AccountsService, LastRecord, ServiceDeps } from '../services/accounts';
import { writeFileAtomicStream } from '../lib/files';
import type { OfflineMessage } from '../services/offline';
import type { PrivacyItem, PrivacyList } from '../services/privacy';
import type { PrivateRecord } from '../services/private';
import type { RosterItem } from '../services/roster';
import { ALL_USERS, type SharedGroup } from '../services/srg';
import type { VcardRecord } from '../services/vcard';
import { parseXml, type Element } from '../lib/xml';

/**
 * export_odbc / export2odbc: one host's data as SQL statements for ejabberd's SQL schema
 * (sql/pg.sql, single-host layout), each INSERT preceded by the DELETE that makes it
 * repeatable, grouped under `-- Mnesia table: NAME` headers as ejabberd wrote them.
 * Strings are quoted for PostgreSQL with standard_conforming_strings on, which the file sets:
 * quotes are doubled and backslashes mean themselves.
 */

type SqlValue = string | number | boolean;

/** A PostgreSQL literal. Text cannot hold NUL, so a value with one is refused, never cut. */
export function sqlLiteral(v: SqlValue): string {
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error(`${v} is not an integer`);
    return String(v);
  }
  if (v.includes('\u0000')) throw new Error('a NUL character, which PostgreSQL text cannot hold');
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
  const opts = [`{name,${erlangBinary(g.name)}}`, `{description,${erlangBinary(g.description)}}`, `{displayed_groups,[${g.displayed.map(erlangBinary).join(',')}]}`];
  if (allUsers) opts.push('{all_users,true}');
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

/** Written to the file in pieces of about this size: one write per statement would be slow. */
const CHUNK_BYTES = 256 * 1024;

export function createSqlExportService(deps: ServiceDeps, accounts: AccountsService) {
  const { store } = deps;

  return {
    /** Writes the SQL of every record of `host` to `file`, atomically. */
    async exportHost(host: string, file: string, working: (text: string) => void = () => undefined): Promise<boolean> {
      const h = accounts.host(host);
      const path = resolve(file);
      const total = await accounts.countUsers(h);
      const p = prefix(h);
      await writeFileAtomicStream(path, async (write) => {
        let pending: string[] = [];
        let size = 0;
        let header: string | undefined;
        let table = '';
        const out = async (text: string) => {
          pending.push(text);
          size += text.length;
          if (size >= CHUNK_BYTES) {
            const chunk = pending.join('');
            pending = [];
            size = 0;
            await write(chunk);
          }
        };
        /** Starts a section; its header is written only if a statement follows, as ejabberd did. */
        const section = (name: string, sqlTable: string) => {
          header = `-- \n-- Mnesia table: ${name}\n--\n`;
          table = sqlTable;
        };
        const emit = async (...build: (() => string)[]) => {
          let text: string;
          try {
            text = build.map((b) => b()).join('');
          } catch (err) {
            throw new CommandError('failed', `Cannot export ${h} to ${path}: a value for the ${table} table contains ${(err as Error).message}`);
          }
          if (header !== undefined) {
            await out(header);
            header = undefined;
          }
          await out(text);
        };

        await out(
          `-- ejabberd SQL data of host ${h}, written by ctl export_odbc.\n` +
            `-- Load it into a database made with ejabberd's pg.sql: psql -v ON_ERROR_STOP=1 -1 -f FILE\n` +
            `SET standard_conforming_strings = on;\nSET client_encoding = 'UTF8';\n`,
        );

        section('passwd', 'users');
        let n = 0;
        for await (const [k, rec] of store.entries<AccountRecord>(TABLES.passwd, { prefix: p })) {
          const username = splitKey(k)[1];
          const s = rec.secret;
          const cols: Record<string, SqlValue> =
            s.format === 'plain'
              ? { username, password: s.password }
              : { username, password: s.storedKey, serverkey: s.serverKey, salt: s.salt, iterationcount: s.iterations };
          await emit(() => del('users', { username }), () => insert('users', cols));
          if (++n % 1000 === 0) working(`Exported ${n} of ${total} users`);
        }

        section('last_activity', 'last');
        for await (const [k, rec] of store.entries<LastRecord>(TABLES.last, { prefix: p })) {
          const username = splitKey(k)[1];
          await emit(() => del('last', { username }), () => insert('last', { username, seconds: String(rec.timestamp), state: rec.status }));
        }

        working('Exporting offline messages');
        section('offline_msg', 'spool');
        let spoolUser: string | undefined;
        for await (const [k, msg] of store.entries<OfflineMessage>(TABLES.offline, { prefix: p })) {
          const username = splitKey(k)[1];
          // One DELETE per user: ejabberd's per-message DELETE kept only each user's last message.
          const first = username !== spoolUser;
          spoolUser = username;
          await emit(() => (first ? del('spool', { username }) : ''), () => insert('spool', { username, xml: msg.xml }));
        }

        working('Exporting privacy lists');
        section('privacy', 'privacy_list');
        for await (const [k, v] of store.entries<PrivacyList | { name: string }>(TABLES.privacy, { prefix: p })) {
          const [, username, kind] = splitKey(k);
          if (kind === 'default') {
            await emit(() => del('privacy_default_list', { username }), () => insert('privacy_default_list', { username, name: v.name }));
            continue;
          }
          const list = v as PrivacyList;
          const owner = { username, name: list.name };
          await emit(
            () => `DELETE FROM privacy_list_data WHERE id IN (SELECT id FROM privacy_list WHERE ${where(owner)});\n`,
            () => del('privacy_list', owner),
            () => insert('privacy_list', owner),
            ...list.items.map((item) => () => {
              const row = privacyRow(item);
              const values = Object.values(row).map(sqlLiteral).join(', ');
              return `INSERT INTO privacy_list_data(id, ${Object.keys(row).join(', ')}) SELECT id, ${values} FROM privacy_list WHERE ${where(owner)};\n`;
            }),
          );
        }

        section('private_storage', 'private_storage');
        for await (const [k, rec] of store.entries<PrivateRecord>(TABLES.private, { prefix: p })) {
          const [, username, namespace] = splitKey(k);
          await emit(() => del('private_storage', { username, namespace }), () => insert('private_storage', { username, namespace, data: rec.xml }));
        }

        working('Exporting rosters');
        section('roster', 'rosterusers');
        for await (const [k, item] of store.entries<RosterItem>(TABLES.roster, { prefix: p })) {
          const [, username, jid] = splitKey(k);
          await emit(
            () => del('rosterusers', { username, jid }),
            () =>
              insert('rosterusers', {
                username,
                jid,
                nick: item.name,
                subscription: SUBSCRIPTION_CODE[item.subscription],
                ask: ASK_CODE[item.ask],
                askmessage: '',
                server: 'N',
                subscribe: '',
                type: 'item',
              }),
            () => del('rostergroups', { username, jid }),
            ...item.groups.map((grp) => () => insert('rostergroups', { username, jid, grp })),
          );
        }

        section('sr_group', 'sr_group');
        for await (const [k, g] of store.entries<SharedGroup>(TABLES.srg, { prefix: p })) {
          const name = splitKey(k)[1];
          const all = (await store.get(TABLES.srgMember, key(h, name, ALL_USERS))) !== undefined;
          await emit(() => del('sr_group', { name }), () => insert('sr_group', { name, opts: srgOpts(g, all) }));
        }

        section('sr_user', 'sr_user');
        for await (const k of store.keys(TABLES.srgMember, { prefix: p })) {
          const [, grp, jid] = splitKey(k);
          // @all@ is the group's all_users option in ejabberd, not a member row.
          if (jid === ALL_USERS) continue;
          await emit(() => del('sr_user', { jid, grp }), () => insert('sr_user', { jid, grp }));
        }

        working('Exporting vCards');
        section('vcard', 'vcard');
        for await (const [k, rec] of store.entries<VcardRecord>(TABLES.vcard, { prefix: p })) {
          const username = splitKey(k)[1];
          await emit(() => del('vcard', { username }), () => insert('vcard', { username, vcard: rec.xml }));
        }

        section('vcard_search', 'vcard_search');
        for await (const [k, rec] of store.entries<VcardRecord>(TABLES.vcard, { prefix: p })) {
          const username = splitKey(k)[1];
          let card: Element;
          try {
            card = parseXml(rec.xml, `the stored vCard of ${username}@${h}`);
          } catch (err) {
            throw new CommandError('failed', (err as Error).message, { cause: err });
          }
          await emit(() => del('vcard_search', { lusername: username }), () => insert('vcard_search', vcardSearch(username, card)));
        }

        if (size > 0) await write(pending.join(''));
      });
      return true;
    },
  };
}

export type SqlExportService = ReturnType<typeof createSqlExportService>;

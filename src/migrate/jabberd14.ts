import { constants, promises as fs } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { clone } from 'ltx';
import { CommandError, toCommandError } from '../lib/errors';
import { compareBytes, key } from '../storage/keys';
import { TABLES } from '../storage/tables';
import type { BatchOp } from '../storage/types';
import type { AccountRecord, AccountsService, LastRecord, ServiceDeps } from '../services/accounts';
import { formatJid, nodeprep, parseJid } from '../lib/jid';
import { offlineRecord, offlineRows, stampOf } from '../services/offline';
import { cannotRead } from '../lib/files';
import { makeSecret } from '../services/password';
import type { PrivateRecord } from '../services/private';
import type { Ask, RosterItem, Subscription } from '../services/roster';
import type { VcardRecord } from '../services/vcard';
import { MAX_XML_BYTES, parseXml, serialise, type Element } from '../lib/xml';

/**
 * jabberd14's spool: `<spool>/<server>/<user>.xml`, one `<xdb>` element per user whose
 * children are the user's data, told apart by their xmlns (jabberd14's xdb_file module).
 */

const NS_AUTH = 'jabber:iq:auth';
const NS_ROSTER = 'jabber:iq:roster';
const NS_LAST = 'jabber:iq:last';
const NS_VCARD = 'vcard-temp';
const NS_OFFLINE = 'jabber:x:offline';
/** Attributes jabberd14's xdb adds to what it stores, never part of the data. */
const XDB_ATTRS = ['xdbns', 'j_private_flag'];
const PRIVATE_RESERVED = new Set(['jabber:client', 'jabber:server', 'jabber:iq:private']);
const MAX_PASSWORD_BYTES = 1024;

/** One user's data from a spool file, checked completely before anything is written. */
interface SpoolUser {
  readonly password: string;
  readonly roster: Map<string, RosterItem>;
  readonly last?: LastRecord;
  readonly vcard?: string;
  readonly offline: readonly { readonly message: Element; readonly ms: number }[];
  readonly private: Map<string, string>;
}

/** What import_file did, for its one-line report. */
export interface ImportSummary {
  readonly jid: string;
  readonly file: string;
  readonly rosterItems: number;
  readonly offlineMessages: number;
  readonly privateElements: number;
  readonly vcard: boolean;
  readonly last: boolean;
}

/** jabberd14 spool import: import_file and import_dir. */
export function createJabberd14Service(deps: ServiceDeps, accounts: AccountsService) {
  const { store, config } = deps;

  /** The host a spool directory stands for: its name, which must be one of ours. */
  function hostOf(dir: string, subject: string): string {
    const name = basename(dir);
    try {
      return accounts.host(name);
    } catch (err) {
      if (!(err instanceof CommandError)) throw err;
      const start = `Cannot import ${subject}: the spool directory ${dir} stands for the server`;
      if (err.code === 'bad_argument') throw new CommandError('bad_argument', `${start}, but '${name}' is not a host name`, { details: { arg: 'file' } });
      throw new CommandError('not_found', `${start} ${name}, which is not a host of this node: it serves ${config.hosts.join(', ')} (hosts in ${config.file})`);
    }
  }

  /** Imports one file; `skipExisting` turns an existing user into 'exists' instead of an error. */
  async function importOne(file: string, skipExisting: boolean): Promise<ImportSummary | 'exists'> {
    const path = resolve(file);
    const name = basename(path);
    if (!name.endsWith('.xml') || name === '.xml') {
      throw new CommandError('bad_argument', `Cannot import ${path}: a jabberd14 spool file is named USER.xml, in a directory named after the server`, { details: { arg: 'file' } });
    }
    const host = hostOf(dirname(path), path);
    const raw = name.slice(0, -'.xml'.length);
    let user: string;
    try {
      user = nodeprep(raw, 'file');
    } catch (err) {
      const why = (err as Error).message.replace(/^.*\(file\):? ?/, '');
      throw new CommandError('bad_argument', `Cannot import ${path}: the file name gives the user, and '${raw}' is not a user name: ${why}`, { details: { arg: 'file' } });
    }
    const id = `${user}@${host}`;
    if (await accounts.exists(user, host)) {
      if (skipExisting) return 'exists';
      throw new CommandError('conflict', `Cannot import ${path}: user ${id} already exists (an import never merges into an account: unregister it first)`);
    }
    const text = await readInputText(path, 'the jabberd14 spool file', MAX_XML_BYTES);
    const now = deps.clock();
    const data = parseSpool(path, text, user, host, now);
    const ops = await userRows(user, host, data, now);
    await store.batch(ops);
    return {
      jid: id,
      file: path,
      rosterItems: data.roster.size,
      offlineMessages: data.offline.length,
      privateElements: data.private.size,
      vcard: data.vcard !== undefined,
      last: data.last !== undefined,
    };
  }

  /** Every row of the new user, for one atomic batch. */
  async function userRows(user: string, host: string, data: SpoolUser, now: number): Promise<BatchOp[]> {
    const account: AccountRecord = { secret: await makeSecret(data.password, config.authPasswordFormat), created: Math.floor(now / 1000) };
    const ops: BatchOp[] = [{ type: 'put', table: TABLES.passwd, key: key(host, user), value: account }];
    if (data.last) ops.push({ type: 'put', table: TABLES.last, key: key(host, user), value: data.last });
    for (const [jid, item] of data.roster) ops.push({ type: 'put', table: TABLES.roster, key: key(host, user, jid), value: item });
    if (data.vcard !== undefined) ops.push({ type: 'put', table: TABLES.vcard, key: key(host, user), value: { xml: data.vcard } satisfies VcardRecord });
    for (const [ns, xml] of data.private) ops.push({ type: 'put', table: TABLES.private, key: key(host, user, ns), value: { xml } satisfies PrivateRecord });
    // Stamps only need to be unique within this new user's queue: count per millisecond.
    const seqs = new Map<number, number>();
    for (const { message, ms } of data.offline) {
      const seq = seqs.get(ms) ?? 0;
      seqs.set(ms, seq + 1);
      ops.push(...offlineRows(host, user, stampOf(ms, seq), offlineRecord(message, host, ms)));
    }
    return ops;
  }

  return {
    /** import_file: one spool file; the user must not exist yet. */
    async importFile(file: string): Promise<string> {
      const s = (await importOne(file, false)) as ImportSummary;
      return describe(s);
    },

    /**
     * import_dir: every `*.xml` of the directory, in name order. A file that fails is reported
     * and the others go on; users that already exist are skipped, so a run can be repeated
     * after fixing the files that failed. Fails (listing the failures) if any file failed.
     */
    async importDir(dir: string, working: (text: string) => void = () => undefined): Promise<string> {
      const path = resolve(dir);
      let names: string[];
      try {
        names = (await fs.readdir(path)).filter((n) => n.endsWith('.xml') && n !== '.xml').sort(compareBytes);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? 'it does not exist' : code === 'ENOTDIR' ? 'it is not a directory' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (err as Error).message;
        throw new CommandError(code === 'ENOENT' || code === 'ENOTDIR' ? 'not_found' : 'failed', `Cannot read the jabberd14 spool directory ${path}: ${why}`, { cause: err });
      }
      hostOf(path, path);
      let imported = 0;
      let skipped = 0;
      const failures: string[] = [];
      for (const [i, name] of names.entries()) {
        working(`Importing ${name} (${i + 1} of ${names.length} files)`);
        try {
          if ((await importOne(join(path, name), true)) === 'exists') skipped++;
          else imported++;
        } catch (err) {
          failures.push(toCommandError(err, 'import_dir').message);
        }
      }
      const done = `Imported ${imported} ${imported === 1 ? 'user' : 'users'} from ${path}` + (skipped > 0 ? `, skipped ${skipped} that already ${skipped === 1 ? 'exists' : 'exist'}` : '');
      if (failures.length > 0) {
        throw new CommandError('failed', `${done}; ${failures.length} of ${names.length} files failed:\n${failures.join('\n')}`);
      }
      return done;
    },
  };
}

export type Jabberd14Service = ReturnType<typeof createJabberd14Service>;

function describe(s: ImportSummary): string {
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const parts = [
    ...(s.rosterItems > 0 ? [count(s.rosterItems, 'roster item', 'roster items')] : []),
    ...(s.offlineMessages > 0 ? [count(s.offlineMessages, 'offline message', 'offline messages')] : []),
    ...(s.privateElements > 0 ? [count(s.privateElements, 'private element', 'private elements')] : []),
    ...(s.vcard ? ['vCard'] : []),
    ...(s.last ? ['last activity'] : []),
  ];
  return `Imported ${s.jid} from ${s.file}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`;
}

function invalid(path: string, why: string): CommandError {
  return new CommandError('bad_argument', `Invalid jabberd14 spool file ${path}: ${why}`, { details: { arg: 'file' } });
}

/** The data of one spool file, routed by xmlns as jabberd14 stored it; throws on anything wrong. */
export function parseSpool(path: string, text: string, user: string, host: string, now: number): SpoolUser {
  const xdb = parseXml(text, `the jabberd14 spool file ${path}`);
  if (xdb.getName() !== 'xdb') throw invalid(path, `the root element is <${xdb.getName()}>, not <xdb>`);
  let password: string | undefined;
  let last: LastRecord | undefined;
  let vcard: string | undefined;
  const roster = new Map<string, RosterItem>();
  const offline: { message: Element; ms: number }[] = [];
  const priv = new Map<string, string>();
  for (const el of xdb.getChildElements()) {
    const ns = String(el.attrs.xmlns ?? '');
    switch (ns) {
      case NS_AUTH:
        password = el.getText();
        if (password === '') throw invalid(path, `the password (${NS_AUTH}) is empty`);
        if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) throw invalid(path, `the password (${NS_AUTH}) is longer than ${MAX_PASSWORD_BYTES} bytes`);
        break;
      case NS_ROSTER:
        for (const item of el.getChildElements()) rosterItem(path, item, roster);
        break;
      case NS_LAST: {
        const seconds = String(el.attrs.last ?? '');
        if (!/^\d{1,12}$/.test(seconds)) throw invalid(path, `the last activity (${NS_LAST}) has last='${seconds}', not a number of seconds`);
        last = { timestamp: Number(seconds), status: el.getText() };
        break;
      }
      case NS_VCARD:
        vcard = serialise(withoutXdbAttrs(el));
        break;
      case NS_OFFLINE:
        for (const m of el.getChildElements()) offline.push(offlineMessage(path, m, user, host, now));
        break;
      default:
        if (el.attrs.j_private_flag === '1') {
          if (ns === '') throw invalid(path, `the private element <${el.getName()}> has no xmlns`);
          if (PRIVATE_RESERVED.has(ns)) throw invalid(path, `the private element <${el.getName()}> is in the reserved namespace ${ns}`);
          priv.set(ns, serialise(withoutXdbAttrs(el)));
        }
      // Anything else (registration data, filters, browse caches...) has no place here.
    }
  }
  if (password === undefined) {
    throw invalid(path, `it holds no password (${NS_AUTH}): accounts whose password jabberd14 kept only as a hash cannot be imported`);
  }
  return { password, roster, last, vcard, offline, private: priv };
}

function withoutXdbAttrs(el: Element): Element {
  const copy = clone(el);
  for (const a of XDB_ATTRS) delete copy.attrs[a];
  return copy;
}

const SUBSCRIPTIONS: readonly string[] = ['none', 'to', 'from', 'both'];

/** A `<item/>` of the roster; items for the same contact merge, as set_items would. */
function rosterItem(path: string, item: Element, roster: Map<string, RosterItem>): void {
  if (item.getName() !== 'item') return;
  const raw = String(item.attrs.jid ?? '');
  const subscription = String(item.attrs.subscription ?? 'none');
  if (subscription === 'remove') return;
  let jid: string;
  try {
    const j = parseJid(raw, 'jid');
    if (j.resource !== '') throw new Error('a roster holds bare JIDs, without a resource');
    jid = formatJid(j);
  } catch (err) {
    throw invalid(path, `the roster item '${raw}' is not a valid JID: ${(err as Error).message}`);
  }
  if (!SUBSCRIPTIONS.includes(subscription)) throw invalid(path, `the roster item ${jid} has subscription '${subscription}': use none, to, from or both`);
  // ask='subscribe' is our request to the contact; a `subscribe` attribute is jabberd14's record
  // of the contact's pending request to us (its value is the request's status text).
  const ask: Ask = item.attrs.ask === 'subscribe' ? 'out' : item.attrs.subscribe !== undefined ? 'in' : 'none';
  const groups = item.getChildren('group').map((g) => g.getText()).filter((g) => g !== '');
  const old = roster.get(jid);
  roster.set(jid, {
    name: String(item.attrs.name ?? old?.name ?? ''),
    subscription: subscription as Subscription,
    ask,
    groups: [...new Set([...(old?.groups ?? []), ...groups])].sort(compareBytes),
  });
}

/** When jabberd14 received the message (its jabber:x:delay or urn:xmpp:delay stamp), else now. */
function receivedAt(message: Element, now: number): number {
  for (const d of message.getChildElements()) {
    const stamp = String(d.attrs.stamp ?? '');
    if (d.attrs.xmlns === 'jabber:x:delay') {
      const m = /^(\d{4})(\d{2})(\d{2})T(\d{2}):(\d{2}):(\d{2})/.exec(stamp);
      if (m) return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
    } else if (d.attrs.xmlns === 'urn:xmpp:delay') {
      const t = Date.parse(stamp);
      if (Number.isFinite(t)) return t;
    }
  }
  return now;
}

function offlineMessage(path: string, m: Element, user: string, host: string, now: number): { message: Element; ms: number } {
  if (m.getName() !== 'message') throw invalid(path, `the offline queue (${NS_OFFLINE}) holds a <${m.getName()}/>: only messages are kept offline`);
  const message = withoutXdbAttrs(m);
  if (message.attrs.from === undefined || message.attrs.from === '') message.attrs.from = host;
  if (message.attrs.to === undefined || message.attrs.to === '') message.attrs.to = `${user}@${host}`;
  return { message, ms: Math.max(0, receivedAt(m, now)) };
}

/**
 * Reads an input file (a spool file, an old configuration) whole, after checking that it is a
 * regular file no larger than `maxBytes`: a FIFO would block forever and /dev/zero would fill
 * the memory. `what` names the file in errors, e.g. `the jabberd14 spool file`. UTF-8 is
 * required, unless `latin1` says that other bytes are ISO-8859-1 (Erlang's old default).
 */
export async function readInputText(path: string, what: string, maxBytes: number, options: { latin1?: boolean } = {}): Promise<string> {
  const cannot = (why: string, err?: unknown, code: 'not_found' | 'failed' = 'failed') =>
    new CommandError(code, `Cannot read ${what} ${path}: ${why}`, err === undefined ? {} : { cause: err });
  let handle: fs.FileHandle;
  try {
    // Non-blocking, so that a FIFO is refused below instead of waiting for a writer.
    handle = await fs.open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw cannotRead(what, path, err);
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw cannot('it is a directory');
    if (!st.isFile()) throw cannot('it is not a regular file');
    if (st.size > maxBytes) throw cannot(`it is larger than ${maxBytes} bytes`);
    // One byte more than allowed, in case the file grew since stat.
    const buf = Buffer.alloc(Math.min(maxBytes, st.size) + 1);
    let got = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
      if (got === buf.length) break;
    }
    if (got > maxBytes) throw cannot(`it is larger than ${maxBytes} bytes`);
    const bytes = buf.subarray(0, got);
    const bad = firstInvalidUtf8(bytes);
    if (bad < 0) return bytes.toString('utf8');
    if (options.latin1) return bytes.toString('latin1');
    throw cannot(`it is not UTF-8 text (byte ${bad + 1} is invalid)`);
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw cannot((err as Error).message, err);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** The offset of the first byte that is not part of well-formed UTF-8, or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    let n: number;
    let min: number;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) [n, min] = [1, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [n, min] = [2, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    if (i + n >= b.length) return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const x = b[i + k];
      if ((x & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (x & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

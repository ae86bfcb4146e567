import { promises as fs } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { clone } from 'ltx';
import { CommandError, toCommandError } from '../lib/errors';
import { formatJid, nodeprep, parseJid, type BareJid } from '../lib/jid';
import { MAX_XML_BYTES, parseXml, serialise, type Element } from '../lib/xml';
import type { BatchOp } from '../storage/types';
import { accountOps, MAX_PASSWORD_BYTES, type AccountRecord } from '../features/accounts/records';
import { makeSecret } from '../features/accounts/secret';
import type { FeatureDeps } from '../features/deps';
import type { Features } from '../features';
import { lastOps, type LastRecord } from '../features/last/records';
import { offlineRecord, replaceOfflineOps, type OfflineMessage } from '../features/offline/records';
import { isReservedPrivateNamespace, privateOps } from '../features/private/records';
import { normalGroups, NS_ROSTER, rosterItemOps, SUBSCRIPTIONS, type Ask, type RosterItem, type Subscription } from '../features/roster/records';
import { NS_VCARD, vcardOps } from '../features/vcard/records';
import { readInputText } from './input-text';
import { recordValueFault } from './record-value';

/**
 * jabberd14's spool: `<spool>/<server>/<user>.xml`, one `<xdb>` element per user whose
 * children are the user's data, told apart by their xmlns (jabberd14's xdb_file module).
 */

const NS_AUTH = 'jabber:iq:auth';
const NS_LAST = 'jabber:iq:last';
const NS_OFFLINE = 'jabber:x:offline';
/** Attributes jabberd14's xdb adds to what it stores, never part of the data. */
const XDB_ATTRS = ['xdbns', 'j_private_flag'];

/** One user's data from a spool file, checked completely before anything is written. */
interface SpoolUser {
  readonly password: string;
  readonly roster: Map<string, RosterItem>;
  readonly last?: LastRecord;
  readonly vcard?: string;
  /** In the order of the file, each stamped with when jabberd14 received it. */
  readonly offline: readonly OfflineMessage[];
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

/** import_file and import_dir. */
export interface Jabberd14 {
  /** Imports one spool file, whose user must not exist yet; resolves to the one-line report. */
  importFile(file: string): Promise<string>;
  /**
   * Imports every `*.xml` of the directory, in name order. A file that fails is reported and
   * the others go on; users that already exist are skipped, so a run can be repeated after
   * fixing the files that failed. Fails (listing the failures) if any file failed.
   */
  importDir(dir: string, working?: (text: string) => void): Promise<string>;
}

/** jabberd14 spool import. */
export function createJabberd14(deps: FeatureDeps, features: Features): Jabberd14 {
  const { store, config } = deps;
  const { accounts } = features;

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
      throw new CommandError('bad_argument', `Cannot import ${path}: a jabberd14 spool file is named USER.xml, in a directory named after the server`, {
        details: { arg: 'file' },
      });
    }
    const host = hostOf(dirname(path), path);
    const raw = name.slice(0, -'.xml'.length);
    let user: string;
    try {
      user = nodeprep(raw, 'file');
    } catch (err) {
      const why = (err as Error).message.replace(/^.*\(file\):? ?/, '');
      throw new CommandError('bad_argument', `Cannot import ${path}: the file name gives the user, and '${raw}' is not a user name: ${why}`, {
        details: { arg: 'file' },
      });
    }
    const jid: BareJid = { user, host };
    const id = `${user}@${host}`;
    if (await accounts.exists(jid)) {
      if (skipExisting) return 'exists';
      throw new CommandError('conflict', `Cannot import ${path}: user ${id} already exists (an import never merges into an account: unregister it first)`);
    }
    const text = await readInputText(path, 'the jabberd14 spool file', MAX_XML_BYTES);
    const now = deps.clock();
    const data = parseSpool(path, text, user, host, now);
    await writeUser(path, jid, data, now);
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

  /**
   * Writes the new user, with everything it owns, in one atomic batch, once each record passes
   * the checks a dump's would (a time past the year 9999): what a spool holds goes in with the
   * limits of the commands, checked in the one place every file's records are.
   */
  async function writeUser(path: string, jid: BareJid, data: SpoolUser, now: number): Promise<void> {
    const account: AccountRecord = { secret: await makeSecret(data.password, config.authPasswordFormat), created: Math.floor(now / 1000) };
    const ops: BatchOp[] = accountOps(jid, account);
    if (data.last) ops.push(...lastOps(jid, data.last));
    for (const [contact, item] of data.roster) ops.push(...rosterItemOps(jid, contact, item));
    if (data.vcard !== undefined) ops.push(...vcardOps(jid, { xml: data.vcard }));
    for (const [ns, xml] of data.private) ops.push(...privateOps(jid, ns, { xml }));
    if (data.offline.length > 0) ops.push(...(await replaceOfflineOps(store, jid, data.offline)));
    const served = { hosts: config.hosts, file: config.file };
    for (const op of ops) {
      const fault = op.type === 'put' ? recordValueFault(op.table, op.key, op.value, served) : undefined;
      if (fault !== undefined) throw invalid(path, fault);
    }
    await store.batch(ops);
  }

  return {
    async importFile(file) {
      const s = (await importOne(file, false)) as ImportSummary;
      return describe(s);
    },

    async importDir(dir, working = () => undefined) {
      const path = resolve(dir);
      let names: string[];
      try {
        names = (await fs.readdir(path)).filter((n) => n.endsWith('.xml') && n !== '.xml').sort(byBytes);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const why =
          code === 'ENOENT'
            ? 'it does not exist'
            : code === 'ENOTDIR'
              ? 'it is not a directory'
              : code === 'EACCES' || code === 'EPERM'
                ? 'permission denied'
                : (err as Error).message;
        throw new CommandError(code === 'ENOENT' || code === 'ENOTDIR' ? 'not_found' : 'failed', `Cannot read the jabberd14 spool directory ${path}: ${why}`, {
          cause: err,
        });
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
      const done =
        `Imported ${imported} ${imported === 1 ? 'user' : 'users'} from ${path}` +
        (skipped > 0 ? `, skipped ${skipped} that already ${skipped === 1 ? 'exists' : 'exist'}` : '');
      if (failures.length > 0) {
        throw new CommandError('failed', `${done}; ${failures.length} of ${names.length} files failed:\n${failures.join('\n')}`);
      }
      return done;
    },
  };
}

/** UTF-8 byte order: file names sort as ejabberd sorts them. */
function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

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

/** What a spool file holds is data, not an argument: its faults are failures, without a usage line. */
function invalid(path: string, why: string): CommandError {
  return new CommandError('failed', `Invalid jabberd14 spool file ${path}: ${why}`, { details: { arg: 'file' } });
}

/** The data of one spool file, routed by xmlns as jabberd14 stored it; throws on anything wrong. */
export function parseSpool(path: string, text: string, user: string, host: string, now: number): SpoolUser {
  let xdb: Element;
  try {
    xdb = parseXml(text, `the jabberd14 spool file ${path}`);
  } catch (err) {
    throw err instanceof CommandError ? new CommandError('failed', err.message, { details: err.details, cause: err }) : err;
  }
  if (xdb.getName() !== 'xdb') throw invalid(path, `the root element is <${xdb.getName()}>, not <xdb>`);
  let password: string | undefined;
  let last: LastRecord | undefined;
  let vcard: string | undefined;
  const roster = new Map<string, RosterItem>();
  const offline: OfflineMessage[] = [];
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
          if (isReservedPrivateNamespace(ns)) throw invalid(path, `the private element <${el.getName()}> is in the reserved namespace ${ns}`);
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
  if (!(SUBSCRIPTIONS as readonly string[]).includes(subscription))
    throw invalid(path, `the roster item ${jid} has subscription '${subscription}': use none, to, from or both`);
  // ask='subscribe' is our request to the contact; a `subscribe` attribute is jabberd14's record
  // of the contact's pending request to us (its value is the request's status text).
  const ask: Ask = item.attrs.ask === 'subscribe' ? 'out' : item.attrs.subscribe !== undefined ? 'in' : 'none';
  const groups = item
    .getChildren('group')
    .map((g) => g.getText())
    .filter((g) => g !== '');
  const old = roster.get(jid);
  roster.set(jid, {
    name: String(item.attrs.name ?? old?.name ?? ''),
    subscription: subscription as Subscription,
    ask,
    groups: normalGroups([...(old?.groups ?? []), ...groups]),
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

function offlineMessage(path: string, m: Element, user: string, host: string, now: number): OfflineMessage {
  if (m.getName() !== 'message') throw invalid(path, `the offline queue (${NS_OFFLINE}) holds a <${m.getName()}/>: only messages are kept offline`);
  const message = withoutXdbAttrs(m);
  if (message.attrs.from === undefined || message.attrs.from === '') message.attrs.from = host;
  if (message.attrs.to === undefined || message.attrs.to === '') message.attrs.to = `${user}@${host}`;
  return offlineRecord(message, host, Math.max(0, receivedAt(m, now)));
}

/**
 * export_piefxis / export_piefxis_host: XEP-0227 files, as ejabberd lays them out. One pass
 * over each table of a host, in key order, joined by user (offline queues included):
 * the document is streamed, never held whole, whatever the number of users.
 */
import { promises as fs } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CommandError } from '../../lib/errors';
import { fsReason, writeFileAtomicStream } from '../../lib/files';
import { bareText, type BareJid } from '../../lib/jid';
import type { Store } from '../../storage/types';
import { hostAccounts, type AccountRecord } from '../../features/accounts/records';
import { hostOffline, type OfflineMessage } from '../../features/offline/records';
import { hostPrivate, NS_PRIVATE, type PrivateEntry } from '../../features/private/records';
import { hostRosters, NS_ROSTER, type RosterEntry, type RosterItem } from '../../features/roster/records';
import { hostVcards, type VcardRecord } from '../../features/vcard/records';
import type { ScramKeys } from '../../features/accounts/secret';
import { escaper, fileStem, hostFileName, NS_CLIENT, NS_PIE, NS_SCRAM, NS_XI } from './format';

export interface Report {
  /** Warnings: what the caller should know whatever the outcome. */
  readonly progress: (text: string) => void;
  readonly working: (text: string) => void;
  /** What was done, for people. */
  readonly summary: (text: string) => void;
}

/** Exported files are written in pieces of about this many bytes. */
const FLUSH_BYTES = 1 << 20;
/** Holds secrets (passwords, SCRAM keys): for the owner only, as XEP-0227 asks. */
const FILE_MODE = 0o600;

/** UTF-8 byte order, the order of the stores' keys. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** The records of one table for one host, read in key order and handed out user by user. */
class Rows<T> {
  private readonly it: AsyncIterator<T>;
  private head: { user: string; value: T } | undefined | null = undefined;

  constructor(
    records: AsyncIterable<T>,
    private readonly userOf: (record: T) => string,
  ) {
    this.it = records[Symbol.asyncIterator]();
  }

  private async peek() {
    if (this.head === undefined) {
      const next = await this.it.next();
      this.head = next.done ? null : { user: this.userOf(next.value), value: next.value };
    }
    return this.head;
  }

  /** The records of `user`, skipping those of users before it (records left by no account). */
  async take(user: string): Promise<T[]> {
    const out: T[] = [];
    for (let h = await this.peek(); h; h = await this.peek()) {
      if (h.user !== user && compareBytes(h.user, user) > 0) break;
      if (h.user === user) out.push(h.value);
      this.head = undefined;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.it.return?.();
  }
}

type Esc = ReturnType<typeof escaper>;

function credentials(rec: AccountRecord, esc: Esc): { attr: string; child: string } {
  const s = rec.secret;
  if (s.format === 'plain') return { attr: ` password='${esc.attr(s.password)}'`, child: '' };
  const child = scramCredentials('SCRAM-SHA-1', s, esc) + (s.sha256 ? scramCredentials('SCRAM-SHA-256', s.sha256, esc) : '');
  return { attr: '', child };
}

function scramCredentials(mechanism: string, k: ScramKeys, esc: Esc): string {
  return (
    `    <scram-credentials xmlns='${NS_SCRAM}' mechanism='${mechanism}'><iter-count>${k.iterations}</iter-count>` +
    `<salt>${esc.text(k.salt)}</salt><server-key>${esc.text(k.serverKey)}</server-key><stored-key>${esc.text(k.storedKey)}</stored-key></scram-credentials>\n`
  );
}

/**
 * The roster as jabber:iq:roster items, and pending incoming requests as `<presence
 * type='subscribe'/>` (XEP-0227 1.1): a roster item has no way to say "they asked us". An item
 * that is nothing but such a request is left to its presence, as ejabberd does.
 */
function roster(owner: string, rows: readonly { contact: string; item: RosterItem }[], esc: Esc): string {
  let items = '';
  let requests = '';
  for (const { contact: jid, item } of rows) {
    if (item.ask === 'in') requests += `    <presence xmlns='${NS_CLIENT}' type='subscribe' from='${esc.attr(jid)}' to='${esc.attr(owner)}'/>\n`;
    if (item.ask === 'in' && item.subscription === 'none' && item.name === '' && item.groups.length === 0) continue;
    const name = item.name === '' ? '' : ` name='${esc.attr(item.name)}'`;
    const ask = item.ask === 'out' ? ` ask='subscribe'` : '';
    const approved = item.approved ? ` approved='true'` : '';
    const head = `      <item jid='${esc.attr(jid)}'${name} subscription='${item.subscription}'${ask}${approved}`;
    items += item.groups.length === 0 ? `${head}/>\n` : `${head}>${item.groups.map((g) => `<group>${esc.text(g)}</group>`).join('')}</item>\n`;
  }
  return (items === '' ? '' : `    <query xmlns='${NS_ROSTER}'>\n${items}    </query>\n`) + requests;
}

/** A stored message carries no namespace of its own; in the file it must say jabber:client. */
function clientMessage(xml: string): string {
  const start = /^<message(?=[\s/>])([^>]*)>/.exec(xml);
  if (!start || /\sxmlns\s*=/.test(start[1])) return xml;
  return `<message xmlns="${NS_CLIENT}"${xml.slice('<message'.length)}`;
}

/** Writes the file of one host; resolves to its number of users. */
async function writeHost(store: Store, file: string, host: string, esc: Esc, onUser: () => void): Promise<number> {
  const rosters = new Rows(hostRosters(store, host), (e) => e.owner.user);
  const vcards = new Rows<[BareJid, VcardRecord]>(hostVcards(store, host), ([jid]) => jid.user);
  const privates = new Rows(hostPrivate(store, host), (e) => e.jid.user);
  const queues = new Rows<[BareJid, OfflineMessage]>(hostOffline(store, host), ([jid]) => jid.user);
  let users = 0;
  try {
    await writeFileAtomicStream(
      file,
      async (write) => {
        let buffer = `<?xml version='1.0' encoding='UTF-8'?>\n<host xmlns='${NS_PIE}' xmlns:xi='${NS_XI}' jid='${esc.attr(host)}'>\n`;
        for await (const [jid, account] of hostAccounts(store, host)) {
          const offline = (await queues.take(jid.user)).map(([, message]) => message);
          buffer += await userElement(jid, account, offline, { rosters, vcards, privates }, esc);
          users++;
          onUser();
          if (buffer.length >= FLUSH_BYTES) {
            await write(buffer);
            buffer = '';
          }
        }
        await write(`${buffer}</host>\n`);
      },
      FILE_MODE,
    );
  } finally {
    await Promise.all([rosters.close(), vcards.close(), privates.close(), queues.close()]);
  }
  return users;
}

interface HostRecords {
  readonly rosters: Rows<RosterEntry>;
  readonly vcards: Rows<[BareJid, VcardRecord]>;
  readonly privates: Rows<PrivateEntry>;
}

/** The `<user>` element of one account, with everything it owns. */
async function userElement(jid: BareJid, account: AccountRecord, offline: readonly OfflineMessage[], t: HostRecords, esc: Esc): Promise<string> {
  const cred = credentials(account, esc);
  let body = cred.child + roster(bareText(jid), await t.rosters.take(jid.user), esc);
  for (const [, card] of await t.vcards.take(jid.user)) body += `    ${card.xml}\n`;
  const priv = await t.privates.take(jid.user);
  if (priv.length > 0) body += `    <query xmlns='${NS_PRIVATE}'>\n${priv.map(({ record }) => `      ${record.xml}\n`).join('')}    </query>\n`;
  if (offline.length > 0) body += `    <offline-messages>\n${offline.map((m) => `      ${clientMessage(m.xml)}\n`).join('')}    </offline-messages>\n`;
  const head = `  <user name='${esc.attr(jid.user)}'${cred.attr}`;
  return body === '' ? `${head}/>\n` : `${head}>\n${body}  </user>\n`;
}

/**
 * Writes `DIR/STEM_HOST.xml` for each host, then `DIR/STEM.xml` including them: the main file
 * appears last, so its presence means the export is complete. On failure nothing of this
 * export is left behind.
 */
export async function exportPiefxis(store: Store, dir: string, hosts: readonly string[], now: number, report: Report): Promise<boolean> {
  const target = resolve(dir);
  // The first directory this export made, if it made any: removed again on failure.
  let made: string | undefined;
  try {
    made = await fs.mkdir(target, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new CommandError('failed', `Cannot create the directory ${target}: ${fsReason(err)}`, { cause: err });
  }
  const stem = fileStem(now);
  const fixes = { count: 0 };
  const esc = escaper(fixes);
  const written: { file: string; host: string; users: number }[] = [];
  const used = new Set<string>();
  let total = 0;
  try {
    for (const host of hosts) {
      let name = hostFileName(stem, host);
      // Two hosts may differ only by a dot and an underscore (a.b, a_b): both keep a file.
      for (let n = 2; used.has(name); n++) name = hostFileName(stem, host).replace(/\.xml$/, `-${n}.xml`);
      used.add(name);
      const file = join(target, name);
      const users = await writeHost(store, file, host, esc, () => {
        if (++total % 1000 === 0) report.working(`Exported ${total} users (${host})`);
      });
      written.push({ file, host, users });
    }
    const includes = written.map((w) => `  <xi:include href='${esc.attr(basename(w.file))}'/>\n`).join('');
    const main = join(target, `${stem}.xml`);
    await writeFileAtomicStream(
      main,
      (write) => write(`<?xml version='1.0' encoding='UTF-8'?>\n<server-data xmlns='${NS_PIE}' xmlns:xi='${NS_XI}'>\n${includes}</server-data>\n`),
      FILE_MODE,
    );
    const plural = (n: number) => `${n} user${n === 1 ? '' : 's'}`;
    const parts = written.map((w) => `${basename(w.file)} (${w.host}, ${plural(w.users)})`);
    report.summary(`Exported ${plural(total)} to ${main}, which includes ${parts.join(', ')}`);
    if (fixes.count > 0) {
      report.progress(
        `${fixes.count === 1 ? '1 character that XML cannot carry was' : `${fixes.count} characters that XML cannot carry were`} written as U+FFFD`,
      );
    }
    return true;
  } catch (err) {
    await Promise.all(written.map((w) => fs.rm(w.file, { force: true })));
    if (made !== undefined) await removeEmptyDirs(made, target);
    throw err;
  }
}

/** Removes `target` and its parents up to `top`, as long as they are empty. */
async function removeEmptyDirs(top: string, target: string): Promise<void> {
  for (let d = target; ; d = dirname(d)) {
    try {
      await fs.rmdir(d);
    } catch {
      return;
    }
    if (d === top || dirname(d) === d) return;
  }
}

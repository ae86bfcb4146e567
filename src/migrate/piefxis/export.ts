/**
 * export_piefxis / export_piefxis_host: XEP-0227 files, as ejabberd lays them out. One pass
 * over each table of a host, in key order, joined by user: the document is streamed, never
 * held whole, whatever the number of users.
 */
import { promises as fs } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { CommandError } from '../../lib/errors';
import { compareBytes, prefix, splitKey } from '../../storage/keys';
import { TABLES } from '../../storage/tables';
import type { Store } from '../../storage/types';
import type { AccountRecord } from '../../services/accounts';
import { writeFileAtomicStream } from '../../lib/files';
import type { OfflineMessage } from '../../services/offline';
import { fsReason } from '../../lib/files';
import { escaper, fileStem, hostFileName, NS_CLIENT, NS_PIE, NS_PRIVATE, NS_ROSTER, NS_SCRAM, NS_XI } from './format';
import type { PrivateRecord } from '../../services/private';
import type { RosterItem } from '../../services/roster';
import type { VcardRecord } from '../../services/vcard';

export interface Report {
  readonly progress: (text: string) => void;
  readonly working: (text: string) => void;
}

/** Exported files are written in pieces of about this many bytes. */
const FLUSH_BYTES = 1 << 20;
/** Holds secrets (passwords, SCRAM keys): for the owner only, as XEP-0227 asks. */
const FILE_MODE = 0o600;

/** The rows of one table for one host, read in key order and handed out user by user. */
class Rows<T> {
  private readonly it: AsyncIterator<[string, T]>;
  private head: { user: string; rest: string[]; value: T } | undefined | null = undefined;

  constructor(store: Store, table: string, host: string) {
    this.it = store.entries<T>(table, { prefix: prefix(host) })[Symbol.asyncIterator]();
  }

  private async peek() {
    if (this.head === undefined) {
      const next = await this.it.next();
      if (next.done) this.head = null;
      else {
        const [, user, ...rest] = splitKey(next.value[0]);
        this.head = { user, rest, value: next.value[1] };
      }
    }
    return this.head;
  }

  /** The next row, whoever's it is. */
  async next(): Promise<{ user: string; rest: string[]; value: T } | null> {
    const h = await this.peek();
    this.head = undefined;
    return h;
  }

  /** The rows of `user`, skipping those of users before it (rows left by no account). */
  async take(user: string): Promise<{ rest: string[]; value: T }[]> {
    const out: { rest: string[]; value: T }[] = [];
    for (let h = await this.peek(); h; h = await this.peek()) {
      if (h.user !== user && compareBytes(h.user, user) > 0) break;
      if (h.user === user) out.push({ rest: h.rest, value: h.value });
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
  return {
    attr: '',
    child:
      `    <scram-credentials xmlns='${NS_SCRAM}' mechanism='SCRAM-SHA-1'><iter-count>${s.iterations}</iter-count>` +
      `<salt>${esc.text(s.salt)}</salt><server-key>${esc.text(s.serverKey)}</server-key><stored-key>${esc.text(s.storedKey)}</stored-key></scram-credentials>\n`,
  };
}

/**
 * The roster as jabber:iq:roster items, and pending incoming requests as `<presence
 * type='subscribe'/>` (XEP-0227 1.1): a roster item has no way to say "they asked us". An item
 * that is nothing but such a request is left to its presence, as ejabberd does.
 */
function roster(owner: string, rows: { rest: string[]; value: RosterItem }[], esc: Esc): string {
  let items = '';
  let requests = '';
  for (const { rest, value: item } of rows) {
    const jid = rest[0];
    if (item.ask === 'in') requests += `    <presence xmlns='${NS_CLIENT}' type='subscribe' from='${esc.attr(jid)}' to='${esc.attr(owner)}'/>\n`;
    if (item.ask === 'in' && item.subscription === 'none' && item.name === '' && item.groups.length === 0) continue;
    const name = item.name === '' ? '' : ` name='${esc.attr(item.name)}'`;
    const ask = item.ask === 'out' ? ` ask='subscribe'` : '';
    const head = `      <item jid='${esc.attr(jid)}'${name} subscription='${item.subscription}'${ask}`;
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

interface HostTables {
  passwd: Rows<AccountRecord>;
  roster: Rows<RosterItem>;
  vcard: Rows<VcardRecord>;
  private: Rows<PrivateRecord>;
  offline: Rows<OfflineMessage>;
}

/** Writes the file of one host; resolves to its number of users. */
async function writeHost(store: Store, file: string, host: string, esc: Esc, onUser: () => void): Promise<number> {
  const t: HostTables = {
    passwd: new Rows(store, TABLES.passwd, host),
    roster: new Rows(store, TABLES.roster, host),
    vcard: new Rows(store, TABLES.vcard, host),
    private: new Rows(store, TABLES.private, host),
    offline: new Rows(store, TABLES.offline, host),
  };
  let users = 0;
  try {
    await writeFileAtomicStream(
      file,
      async (write) => {
        let buffer = `<?xml version='1.0' encoding='UTF-8'?>\n<host xmlns='${NS_PIE}' xmlns:xi='${NS_XI}' jid='${esc.attr(host)}'>\n`;
        for (let account = await t.passwd.next(); account; account = await t.passwd.next()) {
          const user = account.user;
          const cred = credentials(account.value, esc);
          let body = cred.child + roster(`${user}@${host}`, await t.roster.take(user), esc);
          for (const { value } of await t.vcard.take(user)) body += `    ${value.xml}\n`;
          const priv = await t.private.take(user);
          if (priv.length > 0) body += `    <query xmlns='${NS_PRIVATE}'>\n${priv.map(({ value }) => `      ${value.xml}\n`).join('')}    </query>\n`;
          const offline = await t.offline.take(user);
          if (offline.length > 0) body += `    <offline-messages>\n${offline.map(({ value }) => `      ${clientMessage(value.xml)}\n`).join('')}    </offline-messages>\n`;
          const head = `  <user name='${esc.attr(user)}'${cred.attr}`;
          buffer += body === '' ? `${head}/>\n` : `${head}>\n${body}  </user>\n`;
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
    await Promise.all(Object.values(t).map((rows: Rows<unknown>) => rows.close()));
  }
  return users;
}

/**
 * Writes `DIR/STEM_HOST.xml` for each host, then `DIR/STEM.xml` including them: the main file
 * appears last, so its presence means the export is complete. On failure nothing of this
 * export is left behind.
 */
export async function exportPiefxis(store: Store, dir: string, hosts: readonly string[], now: number, report: Report): Promise<boolean> {
  const target = resolve(dir);
  try {
    await fs.mkdir(target, { recursive: true, mode: 0o700 });
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
    await writeFileAtomicStream(main, (write) => write(`<?xml version='1.0' encoding='UTF-8'?>\n<server-data xmlns='${NS_PIE}' xmlns:xi='${NS_XI}'>\n${includes}</server-data>\n`), FILE_MODE);
    const plural = (n: number) => `${n} user${n === 1 ? '' : 's'}`;
    const parts = written.map((w) => `${basename(w.file)} (${w.host}, ${plural(w.users)})`);
    report.progress(`Exported ${plural(total)} to ${main}, which includes ${parts.join(', ')}`);
    if (fixes.count > 0) {
      report.progress(`${fixes.count === 1 ? '1 character that XML cannot carry was' : `${fixes.count} characters that XML cannot carry were`} written as U+FFFD`);
    }
    return true;
  } catch (err) {
    await Promise.all(written.map((w) => fs.rm(w.file, { force: true })));
    throw err;
  }
}

/**
 * import_piefxis: one reading of the files, then the writing. The reading checks everything
 * (hosts, users, every element it imports) and writes nothing to the database: the users it
 * accepts are staged in a temporary file. The writing then takes whole users from there in
 * large atomic batches, the offline messages of each with them. An account that already exists
 * is skipped with all its data, so re-running an interrupted import completes it. What this
 * node cannot store is skipped with a warning, found while reading: with `strict`, any warning
 * stops the import there, before anything is written.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CommandError } from '../../lib/errors';
import { fsReason } from '../../lib/files';
import { OutsideSubset } from '../../lib/xml-subset';
import type { BareJid } from '../../lib/jid';
import { JsonText } from '../../storage/json';
import type { BatchOp } from '../../storage/types';
import { accountOps, readAccounts, type AccountRecord } from '../../features/accounts/records';
import { makeSecret, unusablePassword, type ScramSecret, type Secret } from '../../features/accounts/secret';
import type { FeatureDeps } from '../../features/deps';
import { replaceOfflineOps, type OfflineMessage } from '../../features/offline/records';
import { privateOps, type PrivateRecord } from '../../features/private/records';
import { rosterItemOps, type RosterItem } from '../../features/roster/records';
import { vcardOps, type VcardRecord } from '../../features/vcard/records';
import type { Report } from './export';
import type { Where } from './format';
import { readPiefxis, type Hosts, type Visitor } from './read';
import { isSkipped, readUser, warningText, type ImportedUser, type Warning } from './user';

/**
 * Users staged and then written per batch: each batch is atomic and holds whole users. Small
 * enough that what the second pass makes of a block (users, records, keys) dies young.
 */
const BLOCK_USERS = 500;
/** Records per batch, about: a batch holds whole users, so a large one may pass it. */
const BLOCK_OPS = 2500;
/** Characters of staged text per batch, about. */
const BLOCK_CHARS = 512 * 1024;
/** The buffer a block is made in: room for BLOCK_CHARS characters and the user that passes it. */
const BLOCK_BYTES = 4 + 4 * BLOCK_CHARS;
/** Skipped users named in the summary; the rest are counted. */
const NAMED = 5;
/** Warnings printed one by one; past this many they are counted. */
const SHOWN_WARNINGS = 100;

interface Totals {
  users: number;
  plain: number;
  scram: number;
  hashed: number;
  rosterItems: number;
  vcards: number;
  privates: number;
  offline: number;
  skipped: string[];
  unusable: string[];
}

/** What the second pass needs of a checked user: its records are JSON text already. */
interface StagedUser {
  readonly host: string;
  readonly user: string;
  readonly password?: string;
  readonly scram?: JsonText<ScramSecret>;
  readonly roster: readonly (readonly [string, JsonText<RosterItem>])[];
  readonly vcard?: JsonText<VcardRecord>;
  readonly privates: readonly (readonly [string, JsonText<PrivateRecord>])[];
  readonly offline: readonly OfflineMessage[];
}

// A staged user is text: fields joined by FIELD, users by USER, which JSON.stringify never
// writes unescaped. The first field is the JSON of what is not a record, the others the JSON of
// the records and of the SCRAM secret, written as they are: the second pass parses neither them
// nor their XML.
const FIELD = '\u0001';
const USER = '\u0002';
const USER_BYTE = USER.charCodeAt(0);

type Head = [
  host: string,
  user: string,
  password: string | null,
  contacts: readonly string[],
  namespaces: readonly string[],
  offline: readonly OfflineMessage[],
];

/** The fields: the head, the SCRAM secret (or nothing), the vCard (or nothing), the roster items, the private elements. */
function stagedText(u: ImportedUser): string {
  const head: Head = [u.host, u.user, u.password ?? null, [...u.roster.keys()], [...u.privates.keys()], u.offline];
  let text = JSON.stringify(head) + FIELD + (u.scram === undefined ? '' : JSON.stringify(u.scram));
  text += FIELD + (u.vcard === undefined ? '' : JSON.stringify({ xml: u.vcard } satisfies VcardRecord));
  for (const item of u.roster.values()) text += FIELD + JSON.stringify(item);
  for (const xml of u.privates.values()) text += FIELD + JSON.stringify({ xml } satisfies PrivateRecord);
  return text;
}

function stagedUser(text: string): StagedUser {
  const fields = text.split(FIELD);
  const [host, user, password, contacts, namespaces, offline] = JSON.parse(fields[0]) as Head;
  const privatesAt = 3 + contacts.length;
  return {
    host,
    user,
    password: password ?? undefined,
    scram: fields[1] === '' ? undefined : new JsonText(fields[1]),
    vcard: fields[2] === '' ? undefined : new JsonText(fields[2]),
    roster: contacts.map((contact, i) => [contact, new JsonText(fields[3 + i])]),
    privates: namespaces.map((ns, i) => [ns, new JsonText(fields[privatesAt + i])]),
    offline,
  };
}

/**
 * The checked users waiting for the second pass, in blocks of staged text in a file of its own.
 * The file is unlinked as soon as it is open (where the system allows it): nothing is left
 * behind, even by a crash, and no other process can open it.
 */
class Staging {
  private size = 0;
  private path?: string;
  /** The block being made: its length, then its users' text. */
  private block = Buffer.allocUnsafe(BLOCK_BYTES);
  private used = 4;
  private users = 0;

  private constructor(private readonly handle: fs.FileHandle) {}

  static async open(): Promise<Staging> {
    let dir: string;
    try {
      dir = await fs.mkdtemp(join(tmpdir(), 'ctl-piefxis-'));
    } catch (err) {
      throw stagingError(tmpdir(), err);
    }
    const path = join(dir, 'users');
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(path, 'wx+', 0o600);
    } catch (err) {
      await fs.rm(dir, { recursive: true, force: true });
      throw stagingError(dir, err);
    }
    const staging = new Staging(handle);
    try {
      await fs.rm(dir, { recursive: true });
    } catch {
      staging.path = dir;
    }
    return staging;
  }

  /**
   * Adds a user's staged text to the block being made. The text goes into the block's buffer at
   * once, outside the JavaScript heap: held as strings until the block is written, the users of a
   * block would outlive the young generation and fill the old one.
   */
  add(text: string): void {
    const need = this.used + 1 + 3 * text.length; // UTF-8 takes at most 3 bytes per UTF-16 unit
    if (need > this.block.length) {
      const larger = Buffer.allocUnsafe(Math.max(need, 2 * this.block.length));
      this.block.copy(larger, 0, 0, this.used);
      this.block = larger;
    }
    if (this.users > 0) this.block[this.used++] = USER_BYTE;
    this.used += this.block.write(text, this.used);
    this.users++;
  }

  /** Writes the block made so far, unless `keep` is false: then it is dropped. */
  async flush(keep = true): Promise<void> {
    const users = this.users;
    const length = this.used - 4;
    this.users = 0;
    this.used = 4;
    if (users === 0 || !keep) return;
    this.block.writeUInt32LE(length, 0);
    try {
      await this.handle.write(this.block, 0, 4 + length, this.size);
    } catch (err) {
      throw stagingError(tmpdir(), err);
    }
    this.size += 4 + length;
    // A block made larger for one large user is not kept for the next.
    if (this.block.length > BLOCK_BYTES) this.block = Buffer.allocUnsafe(BLOCK_BYTES);
  }

  /** The blocks, in the order written. */
  async *read(): AsyncIterable<StagedUser[]> {
    const head = Buffer.alloc(4);
    for (let at = 0; at < this.size;) {
      await this.handle.read(head, 0, 4, at);
      const length = head.readUInt32LE(0);
      const body = Buffer.allocUnsafe(length);
      await this.handle.read(body, 0, length, at + 4);
      at += 4 + length;
      yield body.toString().split(USER).map(stagedUser);
    }
  }

  /** Forgets every block written. */
  async clear(): Promise<void> {
    try {
      await this.handle.truncate(0);
    } catch (err) {
      throw stagingError(tmpdir(), err);
    }
    this.size = 0;
    this.used = 4;
    this.users = 0;
  }

  async close(): Promise<void> {
    await this.handle.close();
    if (this.path !== undefined) await fs.rm(this.path, { recursive: true, force: true });
  }
}

function stagingError(dir: string, err: unknown): CommandError {
  return new CommandError('failed', `Cannot stage the import in a temporary file in ${dir}: ${fsReason(err)}`, { cause: err });
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function named(ids: readonly string[]): string {
  return ids.slice(0, NAMED).join(', ') + (ids.length > NAMED ? ` and ${ids.length - NAMED} more` : '');
}

/** The secret to store: what the file gives, hashed as the configuration asks when it is plain. */
async function secretOf(u: StagedUser, format: 'plain' | 'scram', t: Totals): Promise<Secret | JsonText<ScramSecret>> {
  if (u.scram && (format === 'scram' || u.password === undefined)) {
    t.scram++;
    return u.scram;
  }
  if (u.password !== undefined) {
    if (format === 'scram') t.hashed++;
    else t.plain++;
    return makeSecret(u.password, format);
  }
  t.unusable.push(`${u.user}@${u.host}`);
  return makeSecret(unusablePassword(), format);
}

const jidOf = (u: StagedUser): BareJid => ({ host: u.host, user: u.user });

/** Adds to `ops` the records of a new user but its offline queue. */
function userOps(ops: BatchOp[], u: StagedUser, secret: Secret | JsonText<ScramSecret>, created: number): void {
  const jid = jidOf(u);
  // A secret staged as JSON goes into the record's JSON as it is, in the order JSON.stringify gives.
  const account =
    secret instanceof JsonText ? new JsonText<AccountRecord>(`{"secret":${secret.json},"created":${created}}`) : ({ secret, created } satisfies AccountRecord);
  ops.push(...accountOps(jid, account));
  for (const [contact, item] of u.roster) ops.push(...rosterItemOps(jid, contact, item));
  if (u.vcard !== undefined) ops.push(...vcardOps(jid, u.vcard));
  for (const [ns, rec] of u.privates) ops.push(...privateOps(jid, ns, rec));
}

export interface ImportOptions {
  /** Any warning fails the import before anything is written. */
  readonly strict?: boolean;
}

interface Checked {
  readonly files: number;
  readonly users: number;
  readonly ignored: Map<string, number>;
  readonly warnings: number;
}

/**
 * Reads and checks every user of `path`, staging those to write; a user named twice is kept
 * once, with a warning. `shown` counts the warnings printed, by an earlier reading too: a
 * reading again by saxes meets the same warnings first, and does not print them twice.
 */
async function check(
  path: string,
  hosts: Hosts,
  now: number,
  staging: Staging,
  report: Report,
  options: ImportOptions,
  shown: { warnings: number },
  quick: boolean,
): Promise<Checked> {
  const firstSeen = new Map<string, Where>();
  const ignored = new Map<string, number>();
  let warnings = 0;
  const warn = (w: Warning) => {
    if (++warnings <= SHOWN_WARNINGS && warnings > shown.warnings) {
      report.progress(warningText(w));
      shown.warnings = warnings;
    }
  };
  let checked = 0;
  let blockUsers = 0;
  let blockChars = 0;
  let blockOps = 0;
  const stage = async () => {
    blockUsers = 0;
    blockChars = 0;
    blockOps = 0;
    // With --strict a warning already dooms the import: the rest is only checked.
    await staging.flush(!(options.strict && warnings > 0));
  };
  const visitor: Visitor = {
    async user(el) {
      const u = readUser(el, now);
      if (isSkipped(u)) return warn(u.skipped);
      const id = `${u.user}@${u.host}`;
      const first = firstSeen.get(id);
      if (first) return warn({ where: u.where, user: id, element: '<user>', why: `${id} appears a second time (first in ${first.file}, line ${first.line})` });
      firstSeen.set(id, u.where);
      for (const i of u.ignored) ignored.set(i.label, (ignored.get(i.label) ?? 0) + 1);
      for (const w of u.warnings) warn(w);
      if (++checked % 1000 === 0) report.working(`Checked ${checked} users`);
      const text = stagedText(u);
      staging.add(text);
      blockChars += text.length;
      blockOps += 1 + u.roster.size + (u.vcard === undefined ? 0 : 1) + u.privates.size + 3 * u.offline.length;
      if (++blockUsers >= BLOCK_USERS || blockOps >= BLOCK_OPS || blockChars >= BLOCK_CHARS) await stage();
    },
    ignored(label) {
      ignored.set(label, (ignored.get(label) ?? 0) + 1);
    },
  };
  const files = await readPiefxis(path, hosts, visitor, quick);
  await stage();
  return { files, users: checked, ignored, warnings };
}

export async function importPiefxis(deps: FeatureDeps, file: string, report: Report, options: ImportOptions = {}): Promise<boolean> {
  const { store, config } = deps;
  const path = resolve(file);
  const now = deps.clock();
  const hosts = { hosts: config.hosts, configFile: config.file };

  // Pass 1: every user is read and checked; what is to be written is staged in a file, so the
  // writing does not parse the XML again. The quick parser reads what exports are made of; a
  // file it does not vouch for is read again by saxes, which judges it with its own messages.
  const staging = await Staging.open();
  try {
    const shown = { warnings: 0 };
    let read: Checked;
    try {
      read = await check(path, hosts, now, staging, report, options, shown, true);
    } catch (err) {
      if (!(err instanceof OutsideSubset)) throw err;
      await staging.clear();
      read = await check(path, hosts, now, staging, report, options, shown, false);
    }
    const { files, ignored, warnings } = read;
    if (warnings > SHOWN_WARNINGS) report.progress(`Warning: ${warnings - SHOWN_WARNINGS} more warnings not shown`);
    if (warnings > 0 && options.strict) {
      throw new CommandError(
        'failed',
        `${path} holds ${plural(warnings, 'element')} this node cannot store (${warnings === 1 ? 'the warning' : 'the warnings'} above): with --strict, nothing was imported`,
        { details: { arg: 'file' } },
      );
    }

    // Pass 2: the staged users, written in large batches. Each batch holds whole users and is
    // atomic; the store syncs once, at the end. The next batch is made while one is written.
    const t: Totals = { users: 0, plain: 0, scram: 0, hashed: 0, rosterItems: 0, vcards: 0, privates: 0, offline: 0, skipped: [], unusable: [] };
    const created = Math.floor(now / 1000);
    let done = 0;
    let writing: Promise<void> | undefined;
    for await (const batch of staging.read()) {
      const existing = await readAccounts(store, batch.map(jidOf));
      const fresh = batch.filter((u, i) => {
        if (existing[i] !== undefined) t.skipped.push(`${u.user}@${u.host}`);
        return existing[i] === undefined;
      });
      // PBKDF2 runs on libuv's thread pool: hashing a batch together uses all of it.
      const secrets = await Promise.all(fresh.map((u) => secretOf(u, config.authPasswordFormat, t)));
      const queues = await Promise.all(fresh.map((u) => (u.offline.length > 0 ? replaceOfflineOps(store, jidOf(u), u.offline) : [])));
      const ops: BatchOp[] = [];
      for (let i = 0; i < fresh.length; i++) {
        const u = fresh[i];
        userOps(ops, u, secrets[i], created);
        for (const op of queues[i]) ops.push(op);
        t.users++;
        t.rosterItems += u.roster.length;
        t.vcards += u.vcard === undefined ? 0 : 1;
        t.privates += u.privates.length;
        t.offline += u.offline.length;
      }
      await writing;
      writing = store.batch(ops, { sync: false });
      // Handled here, so that a failure waits for the await above (or below) instead of ending the process.
      writing.catch(() => undefined);
      done += batch.length;
      report.working(`Imported ${done} of ${read.users} users`);
    }
    await writing;
    await store.sync();
    summarise(report, path, files, t, ignored, warnings);
    return true;
  } finally {
    await staging.close();
  }
}

function summarise(report: Report, path: string, files: number, t: Totals, ignored: Map<string, number>, warnings: number): void {
  const from = files === 1 ? path : `${path} and ${plural(files - 1, 'included file')}`;
  const secrets = [
    t.scram > 0 ? `${t.scram} SCRAM` : '',
    t.plain > 0 ? `${t.plain} plain` : '',
    t.hashed > 0 ? `${t.hashed} plain, stored as SCRAM` : '',
  ].filter((s) => s !== '');
  report.summary(
    `Imported ${plural(t.users, 'user')}${secrets.length > 0 ? ` (passwords: ${secrets.join(', ')})` : ''}, ${plural(t.rosterItems, 'roster item')}, ` +
      `${plural(t.vcards, 'vCard')}, ${plural(t.privates, 'private storage element')}, ${plural(t.offline, 'offline message')} from ${from}`,
  );
  if (t.skipped.length > 0) {
    report.summary(`Skipped ${plural(t.skipped.length, 'user that already exists', 'users that already exist')}, and all their data: ${named(t.skipped)}`);
  }
  if (t.unusable.length > 0) {
    report.progress(
      `${plural(t.unusable.length, 'user has', 'users have')} no password this node can use (none given, or only SCRAM mechanisms other than SCRAM-SHA-1): ` +
        `${named(t.unusable)}; set one with change_password`,
    );
  }
  if (warnings > 0) report.summary(`Skipped ${plural(warnings, 'element')} this node cannot store, each named in a warning`);
  if (ignored.size > 0) {
    report.summary(`Ignored what this node does not keep: ${[...ignored].map(([label, n]) => `${n} ${label}`).join(', ')}`);
  }
}

/**
 * import_piefxis: two passes over the files. The first checks everything (hosts, users, every
 * element it imports) and writes nothing; the second writes whole users in atomic batches, the
 * offline messages of each just before. An account that already exists is skipped with all its
 * data, so re-running an interrupted import completes it. What this node cannot store is
 * skipped with a warning, found in the first pass: with `strict`, any warning stops the import
 * there, before anything is written.
 */
import { resolve } from 'node:path';
import { CommandError } from '../../lib/errors';
import type { BareJid } from '../../lib/jid';
import type { BatchOp } from '../../storage/types';
import { accountOps, readAccounts, type AccountRecord } from '../../features/accounts/records';
import { makeSecret, unusablePassword, type Secret } from '../../features/accounts/secret';
import type { FeatureDeps } from '../../features/deps';
import { replaceOfflineOps } from '../../features/offline/records';
import { privateOps } from '../../features/private/records';
import { rosterItemOps } from '../../features/roster/records';
import { vcardOps } from '../../features/vcard/records';
import type { Report } from './export';
import type { Where } from './format';
import { readPiefxis } from './read';
import { isSkipped, readUser, warningText, type ImportedUser, type Warning } from './user';

/** Users written per batch: each batch is atomic and holds whole users. */
const BATCH_USERS = 500;
const BATCH_OPS = 20_000;
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

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function named(ids: readonly string[]): string {
  return ids.slice(0, NAMED).join(', ') + (ids.length > NAMED ? ` and ${ids.length - NAMED} more` : '');
}

/** The secret to store: what the file gives, hashed as the configuration asks when it is plain. */
async function secretOf(u: ImportedUser, format: 'plain' | 'scram', t: Totals): Promise<Secret> {
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

const jidOf = (u: ImportedUser): BareJid => ({ host: u.host, user: u.user });

/** The records of a new user but its offline queue, for one atomic batch. */
function userOps(u: ImportedUser, secret: Secret, created: number): BatchOp[] {
  const jid = jidOf(u);
  const ops = accountOps(jid, { secret, created } satisfies AccountRecord);
  for (const [contact, item] of u.roster) ops.push(...rosterItemOps(jid, contact, item));
  if (u.vcard !== undefined) ops.push(...vcardOps(jid, { xml: u.vcard }));
  for (const [ns, xml] of u.privates) ops.push(...privateOps(jid, ns, { xml }));
  return ops;
}

export interface ImportOptions {
  /** Any warning fails the import before anything is written. */
  readonly strict?: boolean;
}

export async function importPiefxis(deps: FeatureDeps, file: string, report: Report, options: ImportOptions = {}): Promise<boolean> {
  const { store, config } = deps;
  const path = resolve(file);
  const now = deps.clock();
  const hosts = { hosts: config.hosts, configFile: config.file };

  // Pass 1: every user is read and checked; a user named twice is kept once, with a warning.
  const firstSeen = new Map<string, Where>();
  const ignored = new Map<string, number>();
  let warnings = 0;
  const warn = (w: Warning) => {
    if (++warnings <= SHOWN_WARNINGS) report.progress(warningText(w));
  };
  let checked = 0;
  const files = await readPiefxis(path, hosts, {
    user(el) {
      const u = readUser(el, now);
      if (isSkipped(u)) return warn(u.skipped);
      const id = `${u.user}@${u.host}`;
      const first = firstSeen.get(id);
      if (first) return warn({ where: u.where, user: id, element: '<user>', why: `${id} appears a second time (first in ${first.file}, line ${first.line})` });
      firstSeen.set(id, u.where);
      for (const i of u.ignored) ignored.set(i.label, (ignored.get(i.label) ?? 0) + 1);
      for (const w of u.warnings) warn(w);
      if (++checked % 1000 === 0) report.working(`Checked ${checked} users`);
    },
    ignored(label) {
      ignored.set(label, (ignored.get(label) ?? 0) + 1);
    },
  });
  firstSeen.clear();
  if (warnings > SHOWN_WARNINGS) report.progress(`Warning: ${warnings - SHOWN_WARNINGS} more warnings not shown`);
  if (warnings > 0 && options.strict) {
    throw new CommandError(
      'failed',
      `${path} holds ${plural(warnings, 'element')} this node cannot store (${warnings === 1 ? 'the warning' : 'the warnings'} above): with --strict, nothing was imported`,
      { details: { arg: 'file' } },
    );
  }

  // Pass 2: the same reading, now writing.
  const t: Totals = { users: 0, plain: 0, scram: 0, hashed: 0, rosterItems: 0, vcards: 0, privates: 0, offline: 0, skipped: [], unusable: [] };
  const created = Math.floor(now / 1000);
  let pending: ImportedUser[] = [];
  let pendingOps = 0;
  let done = 0;
  const flush = async () => {
    const batch = pending;
    pending = [];
    pendingOps = 0;
    if (batch.length === 0) return;
    const existing = await readAccounts(store, batch.map(jidOf));
    const fresh = batch.filter((u, i) => {
      if (existing[i] !== undefined) t.skipped.push(`${u.user}@${u.host}`);
      return existing[i] === undefined;
    });
    // PBKDF2 runs on libuv's thread pool: hashing a batch together uses all of it.
    const secrets = await Promise.all(fresh.map((u) => secretOf(u, config.authPasswordFormat, t)));
    const queues = await Promise.all(fresh.map((u) => (u.offline.length > 0 ? replaceOfflineOps(store, jidOf(u), u.offline) : [])));
    await store.batch(fresh.flatMap((u, i) => [...userOps(u, secrets[i], created), ...queues[i]]));
    for (const u of fresh) {
      t.users++;
      t.rosterItems += u.roster.size;
      t.vcards += u.vcard === undefined ? 0 : 1;
      t.privates += u.privates.size;
      t.offline += u.offline.length;
    }
    done += batch.length;
    report.working(`Imported ${done} of ${checked} users`);
  };
  const written = new Set<string>();
  await readPiefxis(path, hosts, {
    async user(el) {
      const u = readUser(el, now);
      if (isSkipped(u)) return;
      const id = `${u.user}@${u.host}`;
      if (written.has(id)) return;
      written.add(id);
      pending.push(u);
      pendingOps += 1 + u.roster.size + u.privates.size + 3 * u.offline.length;
      if (pending.length >= BATCH_USERS || pendingOps >= BATCH_OPS) await flush();
    },
    ignored: () => undefined,
  });
  await flush();
  summarise(report, path, files, t, ignored, warnings);
  return true;
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

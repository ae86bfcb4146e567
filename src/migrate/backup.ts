// backup, restore, install_fallback and mnesia_change_nodename; the file format is in backup-file.ts.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { CommandError } from '../lib/errors';
import type { Replacement, Store } from '../storage/types';
import {
  BACKUP_FORMAT,
  BACKUP_VERSION,
  bufferedWriter,
  checkReadable,
  encodeBackupKey,
  isObject,
  readBackup,
  throttle,
  type BackupHeader,
  type BackupSummary,
} from './backup-file';
import { writeFileAtomicStream } from '../lib/files';
import { lineText } from '../lib/lines';
import { jsonTooDeep } from './json-depth';

/** Where install_fallback leaves a backup for the next start: beside the database directory. */
export function fallbackFile(dbDir: string): string {
  return join(dirname(dbDir), 'fallback.backup');
}

/** A node name as the configuration's `node_name` takes it. */
const NODE_NAME = /^[\w.-]+@[\w.-]+$/;

/** Writes a backup of everything `store` holds at this moment; returns the number of records. */
export async function writeBackup(store: Store, path: string, node: string, now: number, working: (text: string) => void): Promise<number> {
  const tell = throttle(working);
  const snapshot = await store.snapshot();
  let records = 0;
  try {
    await writeFileAtomicStream(
      path,
      async (write) => {
        const out = bufferedWriter(write, createHash('sha256'));
        const header: BackupHeader = { format: BACKUP_FORMAT, version: BACKUP_VERSION, node, created: new Date(now).toISOString() };
        out.add(`${JSON.stringify(header)}\n`);
        const counts: Record<string, number> = {};
        for (const table of await snapshot.tables()) {
          const head = `[${JSON.stringify(table)},`;
          let n = 0;
          for await (const [k, json] of snapshot.entriesJson(table)) {
            if (out.add(`${head}${JSON.stringify(encodeBackupKey(k))},${json}]\n`)) await out.flush();
            n++;
            tell(() => `Backed up ${records + n} records (table ${table})`);
          }
          counts[table] = n;
          records += n;
        }
        const sha256 = await out.flush();
        await write(`${JSON.stringify({ end: BACKUP_FORMAT, records, tables: counts, sha256 })}\n`);
      },
      0o600,
    );
  } finally {
    await snapshot.close();
  }
  return records;
}

/**
 * Replaces the contents of `store` with a backup, all at once, or changes nothing. Records go
 * to the store as they are read, which writes them aside; whether they become the contents is
 * only known at the end line's checksum, so the commit waits for it and a fault anywhere
 * aborts. Memory is the store's batches, whatever the size of the backup.
 */
export async function restoreBackup(store: Store, path: string, working: (text: string) => void = () => undefined): Promise<BackupSummary> {
  await checkReadable(path, 'the backup');
  const replacement: Replacement = await store.replaceAll();
  try {
    const summary = await readBackup(path, { record: (t, k, json) => replacement.put(t, k, json), working });
    working(`Writing ${summary.records} records`);
    await replacement.commit();
    return summary;
  } catch (err) {
    await replacement.abort();
    throw err;
  }
}

/** Checks a backup and copies it where the node will restore it at its next start. */
export async function stageFallback(path: string, dbDir: string, working: (text: string) => void): Promise<BackupSummary> {
  await checkReadable(path, 'the backup');
  let summary: BackupSummary | undefined;
  await writeFileAtomicStream(
    fallbackFile(dbDir),
    async (write) => {
      const out = bufferedWriter(write);
      summary = await readBackup(path, { line: async (line) => void (out.add(line.raw) && (await out.flush())), working });
      await out.flush();
    },
    0o600,
  );
  return summary as BackupSummary;
}

/**
 * Restores the backup staged by install_fallback, if there is one, then removes it: run by
 * the node right after opening the database, before it serves anyone. Returns a line for the
 * log, or undefined when nothing was staged. A staged file that is no longer a valid backup
 * stops the start: the operator asked for that data, and silently serving other data is worse.
 */
export async function applyFallback(store: Store, dbDir: string): Promise<string | undefined> {
  const file = fallbackFile(dbDir);
  try {
    await fs.access(file);
  } catch {
    return undefined;
  }
  let summary: BackupSummary;
  try {
    summary = await restoreBackup(store, file);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new CommandError(
      'failed',
      `Cannot install the fallback staged by install_fallback: ${why}. Remove ${file}, or stage another backup with 'ctl install_fallback FILE'`,
      { cause: err },
    );
  }
  await fs.rm(file, { force: true });
  return `installed the fallback ${file}: restored ${summary.records} records (backup of node ${summary.header.node} made ${summary.header.created})`;
}

/**
 * Rewrites the node name in a backup: reads OLD, checks all of it, writes NEW with the new
 * name and a new checksum. The records are copied byte for byte.
 */
export async function changeNodename(
  oldName: string,
  newName: string,
  oldPath: string,
  newPath: string,
  working: (text: string) => void,
): Promise<BackupSummary> {
  if (!NODE_NAME.test(newName)) {
    throw new CommandError('bad_argument', `Invalid node name '${newName}' (newnodename): a node name looks like name@host`, {
      details: { arg: 'newnodename' },
    });
  }
  await checkReadable(oldPath, 'the backup');
  let summary: BackupSummary | undefined;
  await writeFileAtomicStream(
    newPath,
    async (write) => {
      const out = bufferedWriter(write, createHash('sha256'));
      let seenHeader = false;
      summary = await readBackup(oldPath, {
        working,
        line: async (line) => {
          if (!seenHeader) {
            seenHeader = true;
            if (!line.terminated || jsonTooDeep(lineText(line))) return; // readBackup says what is wrong with it
            let h: unknown;
            try {
              h = JSON.parse(lineText(line));
            } catch {
              return; // readBackup says what is wrong with it
            }
            if (isObject(h) && h.format === BACKUP_FORMAT && h.version === BACKUP_VERSION) {
              if (h.node !== oldName) {
                throw new CommandError('failed', `The backup ${oldPath} is of node ${String(h.node)}, not ${oldName}`);
              }
              out.add(`${JSON.stringify({ ...h, node: newName })}\n`);
            }
            return;
          }
          // The end line is rewritten below; records are only copied.
          if (line.raw[0] === 0x7b /* { */) return;
          if (out.add(line.raw)) await out.flush();
        },
      });
      const s = summary;
      const sha256 = await out.flush();
      await write(`${JSON.stringify({ end: BACKUP_FORMAT, records: s.records, tables: sortedCounts(s.tables), sha256 })}\n`);
    },
    0o600,
  );
  return summary as BackupSummary;
}

function sortedCounts(counts: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The node's own name, or `self`: the only master a node that shares no database can have. */
export function setMaster(nodename: string, own: string): void {
  if (nodename === 'self' || nodename === own) return;
  throw new CommandError(
    'not_supported',
    `Cannot make ${nodename} the master node: this node (${own}) shares its database with no other node; use self or ${own}`,
  );
}

import { CommandError } from '../lib/errors';
import { writeFileAtomicStream } from '../lib/files';
import { lineText, readLines } from '../lib/lines';
import type { BatchOp, Key, Store } from '../storage/types';
import { bufferedWriter, checkReadable, throttle } from './backup-file';
import { jsonTooDeep, MAX_JSON_DEPTH } from './json-depth';
import { recordValueFault, type ServedHosts } from './record-value';
import { databaseTables, EXTENSION_TABLE } from './tables';

/**
 * The text dump (README, "Dump file format"): JSON lines, meant for people and tools.
 *
 *   {"format":"ctl-dump","version":1,"node":"ctl@localhost","created":"…","tables":["last","passwd"]}
 *   {"table":"passwd","key":["localhost","alice"],"value":{...}}
 *
 * One record per line, tables in byte order of their names, then keys in byte order; a key is
 * written as the list of its parts.
 */
export const DUMP_FORMAT = 'ctl-dump';
export const DUMP_VERSION = 1;
const MAX_DUMP_LINE = 16 * 1024 * 1024;
/** Records per atomic batch when loading: large enough to be fast, small enough to stay light. */
const LOAD_BATCH = 1000;

const KNOWN: readonly string[] = databaseTables();

/** A key as a dump line holds it: the list of its parts. */
function encodeDumpKey(key: Key): string {
  return JSON.stringify(key);
}

/** The key of a dump line's `key` field, or undefined when it is not one a store can hold. */
function decodeDumpKey(parts: unknown): Key | undefined {
  const ok = Array.isArray(parts) && parts.length > 0 && parts.every((p) => typeof p === 'string' && !p.includes('\u0000'));
  return ok ? (parts as string[]) : undefined;
}

function wellFormed(key: Key): boolean {
  return key.every((p) => (p as string & { isWellFormed(): boolean }).isWellFormed());
}

function unknownTable(table: string, where: string): string {
  return `unknown table '${table}'${where}: the tables are ${KNOWN.join(', ')}`;
}

/** Writes the records of `table` (of every table holding records when undefined) to `path`. */
export async function writeDump(
  store: Store,
  path: string,
  table: string | undefined,
  node: string,
  now: number,
  working: (text: string) => void,
): Promise<number> {
  if (table !== undefined && !KNOWN.includes(table) && !EXTENSION_TABLE.test(table)) {
    throw new CommandError('bad_argument', `Unknown table '${table}' (table): the tables are ${KNOWN.join(', ')}`, { details: { arg: 'table' } });
  }
  const tell = throttle(working);
  const snapshot = await store.snapshot();
  let records = 0;
  try {
    const tables = table === undefined ? await snapshot.tables() : [table];
    await writeFileAtomicStream(
      path,
      async (write) => {
        const out = bufferedWriter(write);
        const header = { format: DUMP_FORMAT, version: DUMP_VERSION, node, created: new Date(now).toISOString(), tables };
        out.add(`${JSON.stringify(header)}\n`);
        for (const t of tables) {
          const head = `{"table":${JSON.stringify(t)},"key":`;
          for await (const [k, json] of snapshot.entriesJson(t)) {
            if (out.add(`${head}${encodeDumpKey(k)},"value":${json}}\n`)) await out.flush();
            records++;
            tell(() => `Dumped ${records} records (table ${t})`);
          }
        }
        await out.flush();
      },
      0o600,
    );
  } finally {
    await snapshot.close();
  }
  return records;
}

interface DumpRecord {
  readonly table: string;
  readonly key: Key;
  readonly value: unknown;
}

/**
 * Reads a dump, checking every line; `each` gets the records in order. Blank lines are
 * skipped, so a dump edited by hand stays loadable.
 */
async function readDump(path: string, served: ServedHosts, each: (r: DumpRecord) => Promise<void> | void): Promise<number> {
  const bad = (why: string, line: number) => new CommandError('failed', `Invalid dump ${path} (line ${line}): ${why}`);
  let header = false;
  let records = 0;
  for await (const line of readLines(path, 'the dump', MAX_DUMP_LINE)) {
    const text = lineText(line);
    if (!header) {
      header = true;
      checkHeader(text, (why) => bad(why, line.number));
      continue;
    }
    if (text.trim() === '') continue;
    await each(parseDumpRecord(text, served, (why) => bad(why, line.number)));
    records++;
  }
  if (!header) throw new CommandError('failed', `Invalid dump ${path}: the file is empty`);
  return records;
}

function checkHeader(text: string, fail: (why: string) => CommandError): void {
  const notDump = () => fail(`not a ctl dump (it does not start with a ${DUMP_FORMAT} header)`);
  if (jsonTooDeep(text)) throw fail(`nested deeper than ${MAX_JSON_DEPTH} levels`);
  let h: unknown;
  try {
    h = JSON.parse(text);
  } catch {
    throw notDump();
  }
  if (typeof h !== 'object' || h === null || (h as { format?: unknown }).format !== DUMP_FORMAT) throw notDump();
  const version = (h as { version?: unknown }).version;
  if (version !== DUMP_VERSION) throw fail(`format version ${JSON.stringify(version)} is not supported (this ctl reads version ${DUMP_VERSION})`);
}

function parseDumpRecord(text: string, served: ServedHosts, fail: (why: string) => CommandError): DumpRecord {
  if (jsonTooDeep(text)) throw fail(`nested deeper than ${MAX_JSON_DEPTH} levels`);
  let r: unknown;
  try {
    r = JSON.parse(text);
  } catch (err) {
    throw fail(`not valid JSON (${(err as Error).message})`);
  }
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw fail('a record must be an object {"table", "key", "value"}');
  const { table, key, value, ...rest } = r as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw fail(`unexpected field ${extra.map((f) => `'${f}'`).join(', ')}`);
  if (typeof table !== 'string') throw fail("the field 'table' must be a table name");
  if (!KNOWN.includes(table) && !EXTENSION_TABLE.test(table)) throw fail(unknownTable(table, ''));
  const parts = decodeDumpKey(key);
  if (!parts) throw fail("the field 'key' must be a non-empty list of strings without NUL characters");
  // JSON can spell a lone surrogate, which no stored key holds.
  if (!wellFormed(parts)) throw fail("the field 'key' must be well-formed Unicode text");
  if (value === undefined || value === null) throw fail("the field 'value' is missing or null");
  const fault = recordValueFault(table, parts, value, served);
  if (fault !== undefined) throw fail(fault);
  return { table, key: parts, value };
}

/**
 * Loads a dump, merging: records in the file overwrite the ones with the same key, others
 * stay. The whole file is checked before the first write, each record as the table's feature
 * decodes it and only for the hosts `served`; records are then written in atomic batches,
 * synced once at the end.
 */
export async function loadDump(store: Store, path: string, served: ServedHosts, working: (text: string) => void): Promise<number> {
  await checkReadable(path, 'the dump');
  const tell = throttle(working);
  let checked = 0;
  const expected = await readDump(path, served, () => {
    checked++;
    tell(() => `Checked ${checked} records`);
  });
  let ops: BatchOp[] = [];
  let written = 0;
  const flush = async () => {
    if (ops.length === 0) return;
    await store.batch(ops, { sync: false });
    written += ops.length;
    ops = [];
    tell(() => `Loaded ${written} of ${expected} records`);
  };
  const changed = (why: string) =>
    new CommandError('failed', `The dump ${path} changed while it was loaded, after ${written} of its records were written: ${why}`);
  let storeError: unknown;
  let count: number;
  try {
    count = await readDump(path, served, async (r) => {
      ops.push({ type: 'put', table: r.table, key: r.key, value: r.value });
      if (ops.length >= LOAD_BATCH) await flush().catch((err) => Promise.reject((storeError = err)));
    }).catch((err: Error) => Promise.reject(err === storeError ? err : changed(err.message)));
    await flush();
  } finally {
    await store.sync();
  }
  if (count !== expected) throw changed(`it now holds ${count} records instead of ${expected}`);
  return count;
}

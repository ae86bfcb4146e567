import { createHash, type Hash } from 'node:crypto';
import { CommandError } from '../lib/errors';
import { openRegularFile } from '../lib/files';
import { lineText, readLines, type Line } from '../lib/lines';
import type { Key } from '../storage/types';
import { jsonTooDeep, MAX_JSON_DEPTH } from './json-depth';
import { recordValueFault } from './record-value';

/**
 * The backup file (README, "Backup file format"): JSON lines.
 *
 *   {"format":"ctl-backup","version":1,"node":"ctl@localhost","created":"2025-01-01T00:00:00.000Z"}
 *   ["passwd","localhost\u0000alice",{...}]            one line per record: table, key, value
 *   {"end":"ctl-backup","records":N,"tables":{"passwd":N,...},"sha256":"…"}
 *
 * Records come table by table in byte order of the names, then in key order. The SHA-256 is
 * over every byte before the end line. Only a file ending with a matching end line is a
 * backup: a truncated or altered one is refused before anything is changed.
 */
export const BACKUP_FORMAT = 'ctl-backup';
export const BACKUP_VERSION = 1;

/**
 * A key as a backup line holds it: its parts joined by NUL, the bytes LevelDB databases have
 * always held, so that backups of every version restore alike. No part holds NUL.
 */
export function encodeBackupKey(key: Key): string {
  return key.join('\u0000');
}

export function decodeBackupKey(text: string): Key {
  return text.split('\u0000');
}

/** Values are at most about 1 MiB of XML (MAX_XML_BYTES), so a record line is well below this. */
export const MAX_BACKUP_LINE = 16 * 1024 * 1024;

/** The names a driver accepts for tables (LevelDB's sublevels: printable ASCII from `#`). */
const TABLE_NAME = /^[#-~]{1,200}$/;

export interface BackupHeader {
  readonly format: string;
  readonly version: number;
  readonly node: string;
  readonly created: string;
}

export interface BackupSummary {
  readonly header: BackupHeader;
  readonly records: number;
  readonly tables: Readonly<Record<string, number>>;
}

/** Calls `say` with a fresh text at most every `ms`: a spinner needs no more, a socket gets less. */
export function throttle(say: (text: string) => void, ms = 200): (text: () => string) => void {
  let next = 0;
  return (text) => {
    const now = Date.now();
    if (now < next) return;
    next = now + ms;
    say(text());
  };
}

/**
 * Gathers lines (texts, or bytes copied from another file) into large writes, hashing what it
 * writes. `add` says when a flush is due.
 */
export function bufferedWriter(write: (chunk: Buffer) => Promise<void>, hash?: Hash) {
  let parts: (string | Buffer)[] = [];
  let bytes = false;
  let size = 0;
  return {
    add(piece: string | Buffer): boolean {
      parts.push(piece);
      if (typeof piece !== 'string') bytes = true;
      size += piece.length;
      return size >= 1 << 20;
    },
    /** Writes what is gathered; resolves to the hash of everything written so far, in hex. */
    async flush(): Promise<string> {
      if (parts.length > 0) {
        const chunk = bytes ? Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))) : Buffer.from((parts as string[]).join(''));
        parts = [];
        bytes = false;
        size = 0;
        hash?.update(chunk);
        await write(chunk);
      }
      return hash ? hash.copy().digest('hex') : '';
    },
  };
}

export interface ReadOptions {
  /**
   * Called for every record, in file order, once its line is checked; the next line is read
   * once a promise it returns resolves, so that a writer slower than the file holds it back.
   */
  readonly record?: (table: string, key: Key, json: string) => unknown;
  /** Called with every line before it is checked (to copy the file while reading it). */
  readonly line?: (line: Line) => Promise<void> | void;
  readonly working?: (text: string) => void;
  /** How to name the file in errors; "the backup" by default. */
  readonly what?: string;
}

/**
 * Reads and checks a whole backup: header, every record, the end line, the counts and the
 * checksum. Any fault throws, naming the file and the line; `record` has then been called for
 * some records, so callers only act on them once this resolves.
 */
export async function readBackup(path: string, options: ReadOptions = {}): Promise<BackupSummary> {
  const what = options.what ?? 'the backup';
  const bad = (why: string, line?: number) => new CommandError('failed', `Invalid backup ${path}${line === undefined ? '' : ` (line ${line})`}: ${why}`);
  const tell = throttle(options.working ?? (() => undefined));
  const hash = createHash('sha256');
  let header: BackupHeader | undefined;
  let end: { records: number; tables: Record<string, number>; sha256: string; line: number } | undefined;
  const counts: Record<string, number> = {};
  let records = 0;
  for await (const line of readLines(path, what, MAX_BACKUP_LINE)) {
    await options.line?.(line);
    if (end) throw bad('there is more after the end line', line.number);
    const text = lineText(line);
    if (!header) header = parseHeader(text, (why) => bad(why, line.number));
    if (!line.terminated) throw bad('the file is truncated (its last line is incomplete)', line.number);
    if (line.number === 1) {
      hash.update(line.raw);
      continue;
    }
    if (text.startsWith('{')) {
      end = { ...parseEnd(text, (why) => bad(why, line.number)), line: line.number };
      continue;
    }
    hash.update(line.raw);
    const { table, key, json } = parseRecord(text, (why) => bad(why, line.number));
    counts[table] = (counts[table] ?? 0) + 1;
    records++;
    const held = options.record?.(table, key, json);
    if (held instanceof Promise) await held;
    tell(() => `Read ${records} records of ${path}`);
  }
  if (!header) throw bad('the file is empty');
  if (!end) throw bad(`the file is truncated (no end line after ${records} records)`);
  if (hash.digest('hex') !== end.sha256) throw bad('the checksum does not match: the file is corrupt', end.line);
  if (end.records !== records) throw bad(`the end line counts ${end.records} records, the file holds ${records}`, end.line);
  const listed = Object.entries(end.tables).sort(([a], [b]) => (a < b ? -1 : 1));
  const found = Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1));
  if (JSON.stringify(listed) !== JSON.stringify(found)) throw bad('the counts per table on the end line do not match the records', end.line);
  return { header, records, tables: counts };
}

function parseJson(text: string, fail: (why: string) => CommandError): unknown {
  if (jsonTooDeep(text)) throw fail(`nested deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(text);
  } catch {
    throw fail('not valid JSON');
  }
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseHeader(text: string, fail: (why: string) => CommandError): BackupHeader {
  if (jsonTooDeep(text)) throw fail(`nested deeper than ${MAX_JSON_DEPTH} levels`);
  let h: unknown;
  try {
    h = JSON.parse(text);
  } catch {
    throw fail(`not a ctl backup (it does not start with a ${BACKUP_FORMAT} header)`);
  }
  if (!isObject(h) || h.format !== BACKUP_FORMAT) throw fail(`not a ctl backup (it does not start with a ${BACKUP_FORMAT} header)`);
  if (h.version !== BACKUP_VERSION) throw fail(`format version ${JSON.stringify(h.version)} is not supported (this ctl reads version ${BACKUP_VERSION})`);
  if (typeof h.node !== 'string' || h.node === '') throw fail('the header names no node');
  if (typeof h.created !== 'string') throw fail('the header has no creation time');
  return { format: h.format, version: h.version, node: h.node, created: h.created };
}

function parseEnd(text: string, fail: (why: string) => CommandError) {
  const e = parseJson(text, fail);
  const ok =
    isObject(e) &&
    e.end === BACKUP_FORMAT &&
    Number.isSafeInteger(e.records) &&
    isObject(e.tables) &&
    Object.values(e.tables).every((n) => Number.isSafeInteger(n)) &&
    typeof e.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(e.sha256);
  if (!ok) throw fail('a malformed end line');
  return { records: e.records as number, tables: e.tables as Record<string, number>, sha256: e.sha256 as string };
}

function parseRecord(text: string, fail: (why: string) => CommandError): { table: string; key: Key; json: string } {
  const r = parseJson(text, fail);
  if (!Array.isArray(r) || r.length !== 3) throw fail('a record must be [table, key, value]');
  const [table, key, value] = r as unknown[];
  if (typeof table !== 'string' || !TABLE_NAME.test(table)) throw fail(`invalid table name ${JSON.stringify(table)}`);
  if (typeof key !== 'string') throw fail('a record key must be a string');
  // JSON can spell a lone surrogate, which no stored key holds.
  if (!(key as string & { isWellFormed(): boolean }).isWellFormed()) throw fail('a record key must be well-formed Unicode text');
  if (value === null) throw fail('a record value cannot be null');
  const parts = decodeBackupKey(key);
  const fault = recordValueFault(table, parts, value);
  if (fault !== undefined) throw fail(fault);
  // The value's text as written, when the line has the form backup writes; else re-encoded.
  const head = `[${JSON.stringify(table)},${JSON.stringify(key)},`;
  const json = text.startsWith(head) && text.endsWith(']') ? text.slice(head.length, -1) : JSON.stringify(value);
  return { table, key: parts, json };
}

/**
 * Fails at once, naming the file, when it cannot be read or is not a regular file (a FIFO
 * would hold the command, and the database with it, until a writer comes): no need to
 * prepare anything.
 */
export async function checkReadable(path: string, what: string): Promise<void> {
  await (await openRegularFile(path, what)).close();
}

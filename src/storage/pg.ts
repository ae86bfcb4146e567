import type { ClientConfig, Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { CommandError } from '../lib/errors';
import { createKeyedLock, createSerial } from '../lib/keyed-lock';
import type { recordArchives, WriterSlot } from './archive';
import { toJson } from './json';
import { writeBehind } from './write-behind';
import { compareEncoded, decodeKey, encodeKey, rangeBounds, SEP } from './keys';
import type { BatchOp, Key, Range, Replacement, Store, StoreSnapshot, UpdateOptions, Updated } from './types';

/**
 * The PostgreSQL driver. Every table of the contract lives in one SQL table, `ctl_kv`: a
 * record is (tbl, key, value) where `key` is the bytes LevelDB holds (the parts joined with
 * NUL, in UTF-8), so that bytea order, which is byte order, is the contract's key order and a
 * prefix is a range of the primary key's index. Values are JSON text in a `text` column, as
 * the contract asks (jsonb would refuse U+0000). Archives are records too, in the tables
 * LevelDB gives them, so dumps and backups read alike from both drivers.
 */

export interface PgOptions {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password?: string;
  /** How many connections the store holds at most. */
  readonly poolSize?: number;
  /** How long to wait for the server to answer a connection, in ms. */
  readonly connectTimeout?: number;
  /**
   * Whether a commit waits for the server's disk: true, except for bulk work, whose commits
   * the server writes out a moment later unless `sync()` asks for them.
   */
  readonly sync?: boolean;
  /** Where files that go with the database are kept (a staged fallback): the home's database directory. */
  readonly location?: string;
}

/**
 * The schema, one step per version; `ctl_schema_version` holds the versions applied. A step
 * is never changed once released: a change of layout is a new step.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE SEQUENCE ctl_kv_seq;
   CREATE TABLE ctl_kv (
     tbl text COLLATE "C" NOT NULL,
     key bytea NOT NULL,
     value text NOT NULL,
     seq bigint NOT NULL DEFAULT nextval('ctl_kv_seq'),
     PRIMARY KEY (tbl, key)
   );`,
];

/** The advisory lock that one migration at a time holds, whatever the process. */
const MIGRATION_LOCK = 7_466_283_001;

/**
 * The advisory locks (ARCHIVE_WRITER_LOCK, slot) of the processes that number archive entries
 * in the database, one slot of 0..ARCHIVE_WRITERS-1 each: a process numbers with the sequence
 * numbers that are its slot modulo ARCHIVE_WRITERS, so that the nodes of a cluster and `ctl`
 * commands run beside them never give two entries one id.
 */
export const ARCHIVE_WRITER_LOCK = 746_628_302;
export const ARCHIVE_WRITERS = 100;

/** The server's code for a transaction it ended to break a deadlock. */
const DEADLOCK = '40P01';

const deadlocked = (err: unknown) => (err as { cause?: { code?: string } }).cause?.code === DEADLOCK;

/** Rows per page of a scan, and per statement of a replacement. */
const PAGE = 1000;
const CHUNK = 5000;
/** At most about this many bytes of records per statement of a replacement. */
const CHUNK_BYTES = 4 << 20;

const UPSERT = `ON CONFLICT (tbl, key) DO UPDATE SET value = EXCLUDED.value, seq = nextval('ctl_kv_seq')`;

/** A batch as one statement: a statement is atomic, and one round trip. */
const BATCH_SQL = `WITH gone AS (
    DELETE FROM ctl_kv k USING unnest($1::text[], $2::bytea[]) AS d(tbl, key) WHERE k.tbl = d.tbl AND k.key = d.key
  )
  INSERT INTO ctl_kv (tbl, key, value) SELECT * FROM unnest($3::text[], $4::bytea[], $5::text[]) ${UPSERT}`;

/** What runs a statement: the pool, or one connection. */
interface Queryable {
  query<R extends QueryResultRow>(text: string, params?: unknown[]): Promise<QueryResult<R>>;
}

/** Opens the database, creating or upgrading its tables on first use. */
export async function openPgStore(options: PgOptions): Promise<Store> {
  const { Pool } = require('pg') as typeof import('pg');
  const where = `PostgreSQL at ${options.host} port ${options.port}`;
  const pool = new Pool({
    ...connectionConfig(options),
    max: options.poolSize ?? 10,
    idleTimeoutMillis: 30_000,
    allowExitOnIdle: true,
  });
  // An idle connection that the server drops is not an error of anybody's: the next query reconnects.
  pool.on('error', () => undefined);
  try {
    await migrate(pool);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw pgError(err, where, options);
  }
  return pgStore(pool, where, options);
}

function connectionConfig(options: PgOptions): ClientConfig {
  return {
    host: options.host,
    port: options.port,
    database: options.database,
    user: options.user,
    password: options.password ?? '',
    connectionTimeoutMillis: options.connectTimeout ?? 5000,
    ...(options.sync === false && { options: '-c synchronous_commit=off' }),
  };
}

async function migrate(pool: Pool): Promise<void> {
  try {
    const { rows } = await pool.query<{ v: number | null }>('SELECT max(version) AS v FROM ctl_schema_version');
    if (current(rows[0]?.v ?? 0)) return;
  } catch (err) {
    if ((err as { code?: string }).code !== '42P01') throw err;
  }
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS ctl_schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM ctl_schema_version');
    const from = rows[0]?.v ?? 0;
    if (!current(from)) {
      for (let v = from + 1; v <= MIGRATIONS.length; v++) {
        await client.query(MIGRATIONS[v - 1]);
        await client.query('INSERT INTO ctl_schema_version (version) VALUES ($1)', [v]);
      }
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Whether the schema is at `version`, this ctl's; a newer one is an error. */
function current(version: number): boolean {
  if (version > MIGRATIONS.length) {
    throw new CommandError('failed', `The database's tables are at schema version ${version}, newer than this ctl knows (${MIGRATIONS.length}): upgrade ctl`);
  }
  return version === MIGRATIONS.length;
}

/** What a failure of the server or the connection means for the operator; other errors as they are. */
function pgError(err: unknown, where: string, options: Pick<PgOptions, 'database' | 'user' | 'connectTimeout'>): unknown {
  if (err instanceof CommandError || err instanceof TypeError) return err;
  const e = err as { code?: string; message?: string };
  const message = e?.message ?? String(err);
  const code = e?.code ?? '';
  const reason =
    code === 'ECONNREFUSED'
      ? 'connection refused (is the server running, and listening there?)'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'no such host'
        : code === '28P01' || code === '28000'
          ? `the server refused user '${options.user}': ${message}`
          : code === '3D000'
            ? `database '${options.database}' does not exist`
            : /connection timeout|timeout expired/i.test(message)
              ? `no answer within ${(options.connectTimeout ?? 5000) / 1000} s`
              : /^(ECONN|EPIPE|EHOST|ENET|ETIMEDOUT)|^57P0/.test(code) || /Connection terminated|not queryable/i.test(message)
                ? message
                : undefined;
  if (reason !== undefined) return new CommandError('unavailable', `Cannot use ${where}: ${reason}`, { cause: err });
  if (code === '42501') return new CommandError('failed', `${where}: user '${options.user}' may not do this: ${message}`, { cause: err });
  return new CommandError('failed', `${where}: ${message}`, { cause: err });
}

/** A key's bytes, as the `key` column holds them. */
const keyBytes = (k: Key): Buffer => Buffer.from(encodeKey(k), 'utf8');
const bytes = (encoded: string): Buffer => Buffer.from(encoded, 'utf8');
const parse = (json: string | undefined) => (json === undefined ? undefined : JSON.parse(json));

/** A batch as the columns of BATCH_SQL: the last operation on each key, deletions and puts apart. */
function batchParams(ops: readonly BatchOp[]): unknown[] | undefined {
  const last = new Map<string, [string, string, string | undefined]>();
  for (const op of ops) {
    const k = encodeKey(op.key);
    const json = op.type === 'put' ? toJson(op.value) : undefined;
    const id = op.table + SEP + SEP + k;
    last.delete(id);
    last.set(id, [op.table, k, json]);
  }
  if (last.size === 0) return undefined;
  const cols: [string[], Buffer[], string[], Buffer[], string[]] = [[], [], [], [], []];
  for (const [table, k, json] of last.values()) {
    if (json === undefined) {
      cols[0].push(table);
      cols[1].push(bytes(k));
    } else {
      cols[2].push(table);
      cols[3].push(bytes(k));
      cols[4].push(json);
    }
  }
  return cols;
}

/** The WHERE clause and parameters of a range of one table; undefined when it selects nothing. */
function rangeSql(table: string, range: Range, cursor: Buffer | undefined): { where: string; params: unknown[] } | undefined {
  const b = rangeBounds(range);
  if (b === undefined) return undefined;
  const params: unknown[] = [table];
  const conds = ['tbl = $1'];
  const add = (op: string, v: Buffer) => {
    params.push(v);
    conds.push(`key ${op} $${params.length}`);
  };
  if (b.gte !== undefined) add('>=', bytes(b.gte));
  if (b.gt !== undefined) add('>', bytes(b.gt));
  if (b.lte !== undefined) add('<=', bytes(b.lte));
  if (b.lt !== undefined) add('<', bytes(b.lt));
  if (cursor) add(range.reverse ? '<' : '>', cursor);
  return { where: conds.join(' AND '), params };
}

/** The rows of a range, a page at a time, each page after the last key seen. */
async function* scan(db: Queryable, table: string, range: Range = {}, values: boolean): AsyncIterable<[Key, string]> {
  let left = range.limit === undefined || range.limit < 0 ? Infinity : range.limit;
  let cursor: Buffer | undefined;
  while (left > 0) {
    const sql = rangeSql(table, range, cursor);
    if (sql === undefined) return;
    const n = Math.min(PAGE, left);
    const { rows } = await db.query<{ key: Buffer; value?: string }>(
      `SELECT key${values ? ', value' : ''} FROM ctl_kv WHERE ${sql.where} ORDER BY key${range.reverse ? ' DESC' : ''} LIMIT ${n}`,
      sql.params,
    );
    for (const row of rows) yield [decodeKey(row.key.toString('utf8')), row.value ?? ''];
    if (rows.length < n) return;
    left -= rows.length;
    cursor = rows[rows.length - 1].key;
  }
}

function pgStore(pool: Pool, where: string, options: PgOptions): Store {
  const fail = (err: unknown) => pgError(err, where, options);
  const query = async <R extends QueryResultRow>(sql: string, params: unknown[], db: Queryable = pool) => {
    try {
      return await db.query<R>(sql, params);
    } catch (err) {
      throw fail(err);
    }
  };
  async function* rows(db: Queryable, table: string, range: Range | undefined, values: boolean): AsyncIterable<[Key, string]> {
    try {
      yield* scan(db, table, range, values);
    } catch (err) {
      throw fail(err);
    }
  }
  const getJson = async (table: string, k: Key, db: Queryable = pool, lock = '') => {
    const { rows } = await query<{ value: string }>(`SELECT value FROM ctl_kv WHERE tbl = $1 AND key = $2${lock}`, [table, keyBytes(k)], db);
    return rows[0]?.value;
  };
  const batch = async (ops: readonly BatchOp[]) => {
    const params = batchParams(ops);
    if (!params) return;
    // A batch the server gave up to break a deadlock wrote nothing: it goes again.
    for (;;) {
      try {
        await query(BATCH_SQL, params);
        return;
      } catch (err) {
        if (!deadlocked(err)) throw err;
      }
    }
  };
  /** A connection of the pool, or the error that names the server. */
  const connection = (): Promise<PoolClient> => pool.connect().catch((err: unknown) => Promise.reject(fail(err)));
  /** Runs `fn` in a transaction on a connection of its own. */
  const transaction = async <T>(fn: (client: PoolClient) => Promise<T>): Promise<T> => {
    const client = await connection();
    try {
      await query('BEGIN', [], client);
      const result = await fn(client);
      await query('COMMIT', [], client);
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  };

  // Updates of one key in this process queue here; across processes the transaction's locks
  // stand guard, and a value changed meanwhile runs `fn` again.
  const keyLock = createKeyedLock();
  const update = async <T>(table: string, k: Key, fn: (current: T | undefined) => Updated<T> | Promise<Updated<T>>, o?: UpdateOptions<T>) => {
    const encoded = encodeKey(k);
    return keyLock.run(table + SEP + SEP + encoded, async () => {
      for (;;) {
        const seen = await getJson(table, k);
        const current = parse(seen) as T | undefined;
        const next = await fn(current);
        if (next === undefined) return current;
        const op: BatchOp = next === null ? { type: 'del', table, key: k } : { type: 'put', table, key: k, value: next };
        const params = batchParams([op, ...(o?.also?.(next) ?? [])]);
        const written = await transaction(async (client) => {
          await query("SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || encode($2, 'hex'), 0))", [table, bytes(encoded)], client);
          if ((await getJson(table, k, client, ' FOR UPDATE')) !== seen) return false;
          await query(BATCH_SQL, params as unknown[], client);
          return true;
        }).catch((err: unknown) => {
          // Two updates whose `also` rows cross: the server gives up one of them, which goes again.
          if (deadlocked(err)) return false;
          throw err;
        });
        if (written) return next === null ? undefined : next;
      }
    });
  };

  const snapshots = new Set<() => Promise<void>>();
  let closing: Promise<void> | undefined;

  // The archive writer slot is held on a connection of its own: the pool closes idle
  // connections, and a session's advisory lock goes with its connection.
  let slot: { slot: number; stride: number; held: boolean; release(): Promise<void> } | undefined;
  let taking: Promise<WriterSlot> | undefined;
  const closed = () => new CommandError('failed', `${where}: the store is closed`);
  const takeSlot = async (): Promise<WriterSlot> => {
    if (closing) throw closed();
    const { Client: PgClient } = require('pg') as typeof import('pg');
    const client = new PgClient({ ...connectionConfig(options), keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
    // Once the connection is gone, so is the lock: the next id takes a slot again.
    let ended: Promise<void> | undefined;
    const lost = () => {
      mine.held = false;
      return (ended ??= client.end().catch(() => undefined));
    };
    const mine = { slot: -1, stride: ARCHIVE_WRITERS, held: false, release: lost };
    client.on('error', lost);
    client.on('end', lost);
    try {
      await client.connect();
      for (let n = 0; n < ARCHIVE_WRITERS && !closing; n++) {
        const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::int, $2::int) AS ok', [ARCHIVE_WRITER_LOCK, n]);
        if (rows[0]?.ok) {
          mine.slot = n;
          mine.held = true;
          return (slot = mine);
        }
      }
    } catch (err) {
      void lost();
      throw fail(err);
    }
    void lost();
    if (closing) throw closed();
    throw new CommandError(
      'failed',
      `${where}: all ${ARCHIVE_WRITERS} archive writer slots are held by other processes on database ${options.database}, so this one cannot number offline messages or archive entries: stop some of them`,
    );
  };
  const writer = (): Promise<WriterSlot> => {
    if (slot?.held) return Promise.resolve(slot);
    return (taking ??= takeSlot().finally(() => (taking = undefined)));
  };

  const store: Store = {
    location: options.location,
    async get<T>(table: string, k: Key) {
      return parse(await getJson(table, k)) as T | undefined;
    },
    async getMany<T>(table: string, ks: readonly Key[]) {
      if (ks.length === 0) return [];
      const encoded = ks.map(encodeKey);
      const { rows } = await query<{ key: Buffer; value: string }>('SELECT key, value FROM ctl_kv WHERE tbl = $1 AND key = ANY($2::bytea[])', [
        table,
        [...new Set(encoded)].map(bytes),
      ]);
      const found = new Map(rows.map((r) => [r.key.toString('utf8'), r.value]));
      return encoded.map((k) => parse(found.get(k))) as (T | undefined)[];
    },
    async put(table: string, k: Key, value: unknown) {
      const key = keyBytes(k);
      await query(`INSERT INTO ctl_kv (tbl, key, value) VALUES ($1, $2, $3) ${UPSERT}`, [table, key, toJson(value)]);
    },
    async del(table: string, k: Key) {
      await query('DELETE FROM ctl_kv WHERE tbl = $1 AND key = $2', [table, keyBytes(k)]);
    },
    batch: (ops) => batch(ops),
    update,
    async *entries<T>(table: string, range?: Range): AsyncIterable<[Key, T]> {
      for await (const [k, json] of rows(pool, table, range, true)) yield [k, JSON.parse(json) as T];
    },
    async *keys(table: string, range?: Range): AsyncIterable<Key> {
      for await (const [k] of rows(pool, table, range, false)) yield k;
    },
    archive: (name, o) => archives()(name, o),
    async sync() {
      if (options.sync !== false) return;
      // A synchronous commit of a transaction that has an id waits for the log up to it, so
      // for every commit before it.
      await transaction(async (client) => {
        await query('SET LOCAL synchronous_commit TO on', [], client);
        await query('SELECT txid_current()', [], client);
      });
    },
    async snapshot(): Promise<StoreSnapshot> {
      const client = await connection();
      // The first statement of a repeatable-read transaction fixes what it sees: now.
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT 1');
      } catch (err) {
        client.release();
        throw fail(err);
      }
      // One statement at a time on its connection, however many tables a reader goes through at once.
      const serial = createSerial();
      const one: Queryable = { query: (text, params) => serial.run(() => client.query(text, params)) };
      let released = false;
      const close = async () => {
        if (released) return;
        released = true;
        snapshots.delete(close);
        await one.query('COMMIT').catch(() => undefined);
        client.release();
      };
      snapshots.add(close);
      const live = () => {
        if (released) throw new Error('snapshot is closed');
      };
      return {
        async tables() {
          live();
          const { rows: names } = await query<{ tbl: string }>(
            `WITH RECURSIVE t(tbl) AS (
               (SELECT tbl FROM ctl_kv ORDER BY tbl LIMIT 1)
               UNION ALL
               SELECT (SELECT k.tbl FROM ctl_kv k WHERE k.tbl > t.tbl ORDER BY k.tbl LIMIT 1) FROM t WHERE t.tbl IS NOT NULL
             ) SELECT tbl FROM t WHERE tbl IS NOT NULL`,
            [],
            one,
          );
          return names.map((r) => r.tbl).sort(compareEncoded);
        },
        async *entriesJson(table: string, range?: Range): AsyncIterable<[Key, string]> {
          live();
          yield* rows(one, table, range, true);
        },
        close,
      };
    },
    async replaceAll(): Promise<Replacement> {
      // One transaction, open from the start on a connection of its own (not the pool's, which
      // may have a single connection that readers need meanwhile): the records go in as they
      // come, a chunk at a time, and no other connection sees them before the commit. The
      // server throws the transaction away on an abort, and on a crash of this process or of
      // itself, so a crash leaves the old contents; the commit is one step of the server's.
      if (closing) throw closed();
      const { Client: PgClient } = require('pg') as typeof import('pg');
      const client = new PgClient(connectionConfig(options));
      client.on('error', () => undefined);
      let mark: string;
      try {
        await client.connect();
        await client.query('BEGIN');
        // The records to remove are those written before now: each write takes a new number,
        // and so do the records this transaction writes.
        const { rows: marks } = await client.query<{ n: string }>("SELECT nextval('ctl_kv_seq') AS n");
        mark = marks[0].n;
      } catch (err) {
        await client.end().catch(() => undefined);
        throw fail(err);
      }
      let chunk = new Map<string, [string, string, string]>();
      let size = 0;
      const writes = writeBehind<[string, string, string][]>((records) =>
        query(
          `INSERT INTO ctl_kv (tbl, key, value) SELECT * FROM unnest($1::text[], $2::bytea[], $3::text[]) ${UPSERT}`,
          [records.map((r) => r[0]), records.map((r) => bytes(r[1])), records.map((r) => r[2])],
          client,
        ).then(() => undefined),
      );
      let finished = false;
      let ended: Promise<void> | undefined;
      const unfinished = () => {
        if (finished) throw new Error('replacement is already committed or aborted');
      };
      const end = () => {
        snapshots.delete(abort);
        return (ended ??= client.end().catch(() => undefined));
      };
      const send = (): Promise<void> => {
        const records = [...chunk.values()];
        chunk = new Map();
        size = 0;
        return writes.send(records);
      };
      /** Set by the commit: an abort then waits for it rather than cutting in. */
      let committing: Promise<void> | undefined;
      const abort = async () => {
        if (committing) return committing.catch(() => undefined);
        if (ended) return end();
        finished = true;
        await writes.drain();
        await client.query('ROLLBACK').catch(() => undefined);
        await end();
      };
      // Closing the store ends an unfinished replacement as an abort would.
      snapshots.add(abort);
      return {
        put(table: string, k: Key, json: string) {
          unfinished();
          if (writes.failed !== undefined) throw writes.failed;
          const encoded = encodeKey(k);
          // One statement may not write a key twice: the later record wins within a chunk,
          // and over chunks the upsert does.
          const id = table + SEP + SEP + encoded;
          chunk.delete(id);
          chunk.set(id, [table, encoded, json]);
          size += table.length + encoded.length + json.length;
          return chunk.size >= CHUNK || size >= CHUNK_BYTES ? send() : undefined;
        },
        commit() {
          unfinished();
          finished = true;
          return (committing = (async () => {
            try {
              if (chunk.size > 0) void send();
              await writes.drain();
              if (writes.failed !== undefined) throw writes.failed;
              await query('DELETE FROM ctl_kv WHERE seq < $1', [mark], client);
              await query('COMMIT', [], client);
            } catch (err) {
              await client.query('ROLLBACK').catch(() => undefined);
              throw err;
            } finally {
              await end();
            }
            archived?.forget();
          })());
        },
        abort,
      };
    },
    close() {
      closing ??= (async () => {
        await Promise.all([...snapshots].map((close) => close()));
        await taking?.catch(() => undefined);
        await slot?.release();
        await pool.end();
      })();
      return closing;
    },
  };
  // Archives (MAM, MUC history) are built on their first use: most commands never touch one.
  let archived: ReturnType<typeof recordArchives> | undefined;
  const archives = () => (archived ??= (require('./archive') as typeof import('./archive')).recordArchives(store, writer));
  return store;
}

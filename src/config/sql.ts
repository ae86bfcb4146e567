import { resolve } from 'node:path';

/** Where the node keeps its data when ctl.yml says `default_db: sql`: a PostgreSQL database. */
export interface SqlConfig {
  readonly type: 'pgsql';
  readonly server: string;
  readonly port: number;
  readonly database: string;
  readonly username: string;
  /** `sql_password`; absent with `sql_password_file`, or with neither (an empty password). */
  readonly password?: string;
  /** `sql_password_file`, absolute: a file holding the password (ctl's own option). */
  readonly passwordFile?: string;
  readonly poolSize: number;
}

/** The options ejabberd.yml names the database with, which ctl reads. */
export const SQL_KEYS: ReadonlySet<string> = new Set([
  'default_db',
  'sql_type',
  'sql_server',
  'sql_port',
  'sql_database',
  'sql_username',
  'sql_password',
  'sql_password_file',
  'sql_pool_size',
]);

/** A whole-number option of `values` within min..max, its fallback when absent, or what is wrong with it. */
export function wholeOption(
  values: ReadonlyMap<string, unknown>,
  key: string,
  fallback: number,
  min: number,
  max: number,
): number | { key: string; error: string } {
  const v = values.get(key);
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    return { key, error: `'${key}' must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}` };
  return v;
}

export type SqlParse = { readonly sql: SqlConfig | undefined } | { readonly error: string; readonly key: string };

/**
 * The SQL options of one file, as `key → value`; `base` is the file's directory. Undefined
 * unless `default_db: sql`; ejabberd's defaults for what is left out.
 */
export function parseSql(values: ReadonlyMap<string, unknown>, base: string): SqlParse {
  const fail = (key: string, error: string) => ({ key, error });
  const db = values.get('default_db');
  if (db !== undefined && db !== 'sql' && db !== 'mnesia') {
    return fail('default_db', "'default_db' must be sql (a PostgreSQL database, named by the sql_* options) or mnesia (the node's own database, the default)");
  }
  if (db !== 'sql') {
    const stray = [...values.keys()].find((k) => k !== 'default_db');
    return stray === undefined ? { sql: undefined } : fail(stray, `'${stray}' is used only with 'default_db: sql', which this file does not say`);
  }
  const text = (key: string, fallback: string): string | { key: string; error: string } => {
    const v = values.get(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || v === '') return fail(key, `'${key}' must be a non-empty string`);
    return v;
  };
  const whole = (key: string, fallback: number, min: number, max: number) => wholeOption(values, key, fallback, min, max);
  const type = values.get('sql_type') ?? 'pgsql';
  if (type !== 'pgsql') {
    return fail('sql_type', `'sql_type' must be pgsql: ctl keeps its data in PostgreSQL only${typeof type === 'string' ? ` (not ${type})` : ''}`);
  }
  const server = text('sql_server', 'localhost');
  const port = whole('sql_port', 5432, 1, 65535);
  const database = text('sql_database', 'ejabberd');
  const username = text('sql_username', 'ejabberd');
  const poolSize = whole('sql_pool_size', 10, 1, 1000);
  for (const v of [server, port, database, username, poolSize]) if (typeof v === 'object') return v;
  const password = values.get('sql_password');
  const file = values.get('sql_password_file');
  if (password !== undefined && typeof password !== 'string' && typeof password !== 'number') return fail('sql_password', "'sql_password' must be a string");
  if (file !== undefined) {
    if (password !== undefined) return fail('sql_password_file', "'sql_password_file' and 'sql_password' say the same thing: keep one");
    if (typeof file !== 'string' || file === '') return fail('sql_password_file', "'sql_password_file' must be the path of a file holding the password");
  }
  return {
    sql: {
      type: 'pgsql',
      server: server as string,
      port: port as number,
      database: database as string,
      username: username as string,
      ...(password !== undefined && { password: String(password) }),
      ...(typeof file === 'string' && { passwordFile: resolve(base, file) }),
      poolSize: poolSize as number,
    },
  };
}

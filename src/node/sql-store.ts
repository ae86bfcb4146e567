import { readFileSync } from 'node:fs';
import type { Home } from '../config/home';
import type { SqlConfig } from '../config/sql';
import { CommandError } from '../lib/errors';
import type { Store } from '../storage/types';

/** Opens the PostgreSQL database that ctl.yml names (`default_db: sql`). */
/** `sync: false` for bulk work: commits do not wait for the server's disk until `sync()`. */
export async function openSqlStore(sql: SqlConfig, home: Home, options: { sync?: boolean } = {}): Promise<Store> {
  const password = sql.passwordFile === undefined ? sql.password : readPassword(sql.passwordFile);
  const { openPgStore } = await import('../storage/pg');
  return openPgStore({
    host: sql.server,
    port: sql.port,
    database: sql.database,
    user: sql.username,
    password,
    poolSize: sql.poolSize,
    sync: options.sync,
    // A staged fallback is kept in the home, as with LevelDB.
    location: home.dbDir,
  });
}

/** The file's text without the line break an editor or `echo` leaves at its end. */
function readPassword(file: string): string {
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    const { fsReason } = require('../lib/files') as typeof import('../lib/files');
    throw new CommandError('failed', `Cannot read sql_password_file ${file}: ${fsReason(err)}`, { cause: err });
  }
}

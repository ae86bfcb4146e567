import type { Home } from '../config/home';
import type { SqlConfig } from '../config/sql';
import { readPasswordFile } from '../lib/files';
import type { Store } from '../storage/types';

/** Opens the PostgreSQL database that ctl.yml names (`default_db: sql`). */
/** `sync: false` for bulk work: commits do not wait for the server's disk until `sync()`. */
export async function openSqlStore(sql: SqlConfig, home: Home, options: { sync?: boolean } = {}): Promise<Store> {
  const password = sql.passwordFile === undefined ? sql.password : readPasswordFile('sql_password_file', sql.passwordFile);
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

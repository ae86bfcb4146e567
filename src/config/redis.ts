import { resolve } from 'node:path';
import { wholeOption } from './sql';

/**
 * The Redis a cluster keeps its transient facts in: which nodes are alive, who is connected
 * where, and the stanza bus between nodes. Absent: the node serves alone.
 */
export interface RedisConfig {
  readonly server: string;
  readonly port: number;
  readonly db: number;
  readonly password?: string;
  /** `redis_password_file`, absolute (ctl's own option, as `sql_password_file`). */
  readonly passwordFile?: string;
  /** `cluster_lease`, in milliseconds: how long a node that stops renewing its lease still counts as alive. */
  readonly leaseMs: number;
}

/** ejabberd's names for its Redis, and ctl's own `cluster_lease` and password file. */
export const REDIS_KEYS: ReadonlySet<string> = new Set(['redis_server', 'redis_port', 'redis_db', 'redis_password', 'redis_password_file', 'cluster_lease']);

export type RedisParse = { readonly redis: RedisConfig | undefined } | { readonly error: string; readonly key: string };

/** The Redis options of one file; undefined unless `redis_server` is given. */
export function parseRedis(values: ReadonlyMap<string, unknown>, base: string): RedisParse {
  const fail = (key: string, error: string) => ({ key, error });
  const server = values.get('redis_server');
  if (server === undefined) {
    const stray = [...values.keys()][0];
    return stray === undefined
      ? { redis: undefined }
      : fail(stray, `'${stray}' is used only with 'redis_server', the Redis of the cluster, which this file does not name`);
  }
  if (typeof server !== 'string' || server === '') return fail('redis_server', "'redis_server' must be the host name or address of the cluster's Redis");
  const port = wholeOption(values, 'redis_port', 6379, 1, 65535);
  const db = wholeOption(values, 'redis_db', 0, 0, 15);
  if (typeof port === 'object') return port;
  if (typeof db === 'object') return db;
  const lease = values.get('cluster_lease') ?? 15;
  if (typeof lease !== 'number' || !(lease >= 1 && lease <= 300)) {
    return fail('cluster_lease', `'cluster_lease' must be a number of seconds from 1 to 300, got ${JSON.stringify(lease)}`);
  }
  const password = values.get('redis_password');
  const file = values.get('redis_password_file');
  if (password !== undefined && typeof password !== 'string' && typeof password !== 'number')
    return fail('redis_password', "'redis_password' must be a string");
  if (file !== undefined) {
    if (password !== undefined) return fail('redis_password_file', "'redis_password_file' and 'redis_password' say the same thing: keep one");
    if (typeof file !== 'string' || file === '') return fail('redis_password_file', "'redis_password_file' must be the path of a file holding the password");
  }
  return {
    redis: {
      server,
      port,
      db,
      ...(password !== undefined && { password: String(password) }),
      ...(typeof file === 'string' && { passwordFile: resolve(base, file) }),
      leaseMs: Math.round(lease * 1000),
    },
  };
}

import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { freePort } from '../helpers/ports';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway PostgreSQL server for the tests of export_odbc: Debian's `postgresql` package,
 * started on a Unix socket in a temporary directory (no TCP), as the `postgres` user when the
 * tests run as root (PostgreSQL refuses root). Fails loudly when it cannot be started: the
 * export is only tested for real if it is loaded into a real server.
 */
export interface Postgres {
  /** Runs SQL text with psql in database `db`, stopping at the first error; resolves to stdout. */
  psql(db: string, sql: string, options?: { singleTransaction?: boolean }): Promise<string>;
  /** The rows of a query, through json_agg so that any text survives intact. */
  rows<T = Record<string, unknown>>(db: string, query: string): Promise<T[]>;
  /** The port it listens on: on 127.0.0.1 too when started with `tcp`, for servers that need TCP (ejabberd). */
  readonly port: number;
  stop(): Promise<void>;
}

const INSTALL = 'install it with: apt-get install -y postgresql';

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  if (versions.length === 0) throw new Error(`PostgreSQL is not installed (no ${root}/<version>/bin/initdb): ${INSTALL}`);
  versions.sort((a, b) => Number(b) - Number(a));
  return join(root, versions[0], 'bin');
}

function run(cmd: string, args: readonly string[], input?: string): Promise<string> {
  const asPostgres = process.getuid?.() === 0;
  const [file, argv] = asPostgres ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, [...args]];
  return new Promise((resolveRun, reject) => {
    const child = execFile(
      file,
      argv,
      { maxBuffer: 256 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C.UTF-8', PGCLIENTENCODING: 'UTF8' } },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || err.message}`));
        else resolveRun(stdout);
      },
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

export async function startPostgres(options: { readonly tcp?: boolean } = {}): Promise<Postgres> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'ctl-pg-'));
  if (process.getuid?.() === 0) {
    try {
      chownSync(dir, Number((await run('id', ['-u'])).trim()), Number((await run('id', ['-g'])).trim()));
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`Cannot run PostgreSQL as the postgres user (${(err as Error).message.trim()}): ${INSTALL}`);
    }
  }
  const data = join(dir, 'data');
  const port = await freePort();
  let started = false;
  const stop = async () => {
    if (started) await run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    await run(join(bin, 'pg_ctl'), [
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-k ${dir} -p ${port} -c listen_addresses=${options.tcp ? '127.0.0.1' : ''} -c fsync=off`,
      'start',
    ]);
    started = true;
  } catch (err) {
    await stop();
    throw new Error(`Cannot start PostgreSQL for the export tests: ${(err as Error).message}`);
  }
  const psql = (db: string, sql: string, options: { singleTransaction?: boolean } = {}) =>
    run(
      join(bin, 'psql'),
      [
        '-X',
        '-q',
        '-A',
        '-t',
        '-h',
        dir,
        '-p',
        String(port),
        '-U',
        'postgres',
        '-d',
        db,
        '-v',
        'ON_ERROR_STOP=1',
        ...(options.singleTransaction ? ['-1'] : []),
        '-f',
        '-',
      ],
      sql,
    );
  return {
    psql,
    port,
    async rows<T>(db: string, query: string): Promise<T[]> {
      const out = (await psql(db, `SELECT coalesce(json_agg(q), '[]') FROM (${query}) q;`)).trim();
      return JSON.parse(out) as T[];
    },
    stop,
  };
}

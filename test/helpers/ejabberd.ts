/**
 * A real ejabberd (Debian's package, /usr/sbin/ejabberdctl) for the tests that compare ctl with
 * it: its own configuration, spool and log directories in a temporary directory, a node name
 * and cookie of its own, its Erlang distribution on a random loopback port instead of epmd (so
 * it meets no other Erlang node or ejabberd on the machine), and mod_http_api at /api on another
 * random loopback port, where admin@localhost (basic auth) may call every command.
 *
 * With `sql`, it keeps every host's data in PostgreSQL (`default_db: sql`, `auth_method: sql`),
 * each host in a database of its own with its own password format, and caches nothing, so what
 * a test writes into those databases is what ejabberd answers. With `sql.newSchema`, the tables
 * are pg.new.sql's (a server_host column in each).
 *
 * ejabberdctl run as root switches to the `ejabberd` user itself, so the directories belong to
 * that user. Starting takes seconds: share one server per test file.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort } from './http-node';
import { alive, waitGone, type ProcResult } from './proc';

// Shared with the benchmarks, which are plain JavaScript.
const { answersHttp } = require('./http-answers') as { answersHttp(port: number, ms: number): Promise<boolean> };

export const EJABBERDCTL = '/usr/sbin/ejabberdctl';

/** The version of the installed package, e.g. `23.01` (Debian's `23.01-1`), for test names. */
export function ejabberdVersion(): string {
  try {
    const v = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'ejabberd'], { encoding: 'utf8', timeout: 10_000 });
    return v.replace(/-[^-]*$/, '');
  } catch {
    return 'not installed';
  }
}

export interface Ejabberd {
  /** The version `ejabberdctl status` names, e.g. `23.01`. */
  readonly version: string;
  /** The JSON API, e.g. `http://127.0.0.1:PORT/api`. */
  readonly url: string;
  readonly admin: { readonly jid: string; readonly password: string };
  /** A directory the tests may write files in (password files and the like). */
  readonly dir: string;
  /** The real ejabberdctl on this server; never rejects. */
  ejabberdctl(args: readonly string[]): Promise<ProcResult>;
  stop(): Promise<void>;
}

export interface EjabberdOptions {
  /** PostgreSQL on 127.0.0.1 at `port`, user `user` without a password; per host (the first is admin's), its database. */
  readonly sql?: {
    readonly port: number;
    readonly user: string;
    readonly hosts: readonly { readonly host: string; readonly database: string; readonly passwordFormat: 'plain' | 'scram' }[];
    /** ejabberd's `new_sql_schema: true`: the multi-host layout of pg.new.sql, where hosts may share a database. */
    readonly newSchema?: boolean;
  };
}

const START_MS = 60_000;

/** Runs a program, never rejecting, killed after `ms`. */
function run(cmd: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; ms?: number } = {}): Promise<ProcResult> {
  const child = spawn(cmd, args, { cwd: options.cwd, env: options.env, timeout: options.ms ?? 60_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end();
  return new Promise((done) => {
    child.on('error', (err) => done({ status: null, stdout, stderr: stderr + String(err) }));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

function sqlConfig(sql: NonNullable<EjabberdOptions['sql']>): string {
  const [first] = sql.hosts;
  const hostConfig = sql.hosts.map((h) => `  ${h.host}:\n    sql_database: ${h.database}\n    auth_password_format: ${h.passwordFormat}\n`).join('');
  return `default_db: sql
auth_method: sql
${sql.newSchema ? 'new_sql_schema: true\n' : ''}use_cache: false
sql_type: pgsql
sql_server: "127.0.0.1"
sql_port: ${sql.port}
sql_username: ${sql.user}
sql_password: ""
sql_database: ${first.database}
host_config:
${hostConfig}`;
}

function config(httpPort: number, options: EjabberdOptions): string {
  const hosts = options.sql ? options.sql.hosts.map((h) => h.host) : ['localhost'];
  return `hosts:
${hosts.map((h) => `  - ${h}\n`).join('')}${options.sql ? sqlConfig(options.sql) : ''}loglevel: info
listen:
  -
    port: ${httpPort}
    ip: "127.0.0.1"
    module: ejabberd_http
    request_handlers:
      /api: mod_http_api
acl:
  admin:
    user: "admin@${hosts[0]}"
api_permissions:
  "console commands":
    from: ejabberd_ctl
    who: all
    what: "*"
  "admin over http":
    from: mod_http_api
    who:
      acl: admin
    what: "*"
modules:
  mod_admin_extra: {}
  mod_last: {}
  mod_offline: {}
  mod_private: {}
  mod_roster: {}
  mod_shared_roster: {}
  mod_vcard: {}
  mod_http_api: {}
`;
}

/** Starts a fresh ejabberd with admin@localhost registered; throws (after stopping it) when it does not come up. */
export async function startEjabberd(options: EjabberdOptions = {}): Promise<Ejabberd> {
  if (!existsSync(EJABBERDCTL)) throw new Error(`${EJABBERDCTL} is missing: install Debian's ejabberd package (.ci/run does)`);
  const dir = mkdtempSync(join(tmpdir(), 'ctl-ejabberd-'));
  chmodSync(dir, 0o755);
  const [etc, spool, logs] = ['etc', 'spool', 'logs'].map((d) => join(dir, d));
  for (const d of [etc, spool, logs]) mkdirSync(d);
  const [httpPort, distPort] = [await freePort(), await freePort()];
  const node = `ctltest${randomBytes(4).toString('hex')}@localhost`;
  const pidFile = join(spool, 'ejabberd.pid');
  writeFileSync(join(etc, 'ejabberd.yml'), config(httpPort, options));
  // Sourced by ejabberdctl both for the node and for each call: the same node, port and cookie.
  writeFileSync(
    join(etc, 'ejabberdctl.cfg'),
    `ERLANG_NODE=${node}\nERL_DIST_PORT=${distPort}\nERL_OPTIONS="-setcookie ${randomBytes(12).toString('hex')} -env ERL_CRASH_DUMP_BYTES 0"\nEJABBERD_PID_PATH=${pidFile}\n`,
  );
  writeFileSync(join(etc, 'inetrc'), '');
  if (process.getuid?.() === 0) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'ejabberd'], { encoding: 'utf8' }).trim());
    const [u, g] = [id('-u'), id('-g')];
    for (const p of [dir, etc, spool, logs, ...readdirSync(etc).map((f) => join(etc, f))]) chownSync(p, u, g);
  }
  const flags = ['--config-dir', etc, '--spool', spool, '--logs', logs];
  const env = { ...process.env, HOME: spool };
  const ejabberdctl = (args: readonly string[]) => run(EJABBERDCTL, [...flags, ...args], { cwd: dir, env });
  let pid: number | undefined;

  async function stop(): Promise<void> {
    if (pid === undefined && existsSync(pidFile)) pid = Number(readFileSync(pidFile, 'utf8').trim()) || undefined;
    if (pid !== undefined && alive(pid)) {
      await run(EJABBERDCTL, [...flags, 'stop'], { cwd: dir, env, ms: 20_000 });
      if (!(await waitGone(pid, 15_000))) {
        process.kill(pid, 'SIGKILL');
        await waitGone(pid, 5_000);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }

  try {
    const started = await run(EJABBERDCTL, [...flags, 'start'], { cwd: dir, env, ms: START_MS });
    if (started.status !== 0) throw new Error(`ejabberdctl start failed: ${started.stdout}${started.stderr}`);
    if (!(await answersHttp(httpPort, START_MS))) throw new Error(`ejabberd did not answer on port ${httpPort}:\n${logTail(logs)}`);
    pid = Number(readFileSync(pidFile, 'utf8').trim());
    const status = await ejabberdctl(['status']);
    const version = /ejabberd (\d+\.\d+)\S* is running/.exec(status.stdout)?.[1];
    if (status.status !== 0 || version === undefined) throw new Error(`ejabberdctl status: ${status.stdout}${status.stderr}`);
    const adminHost = options.sql?.hosts[0].host ?? 'localhost';
    const admin = { jid: `admin@${adminHost}`, password: 'secret' };
    const reg = await ejabberdctl(['register', 'admin', adminHost, admin.password]);
    if (reg.status !== 0) throw new Error(`ejabberdctl register admin: ${reg.stdout}${reg.stderr}`);
    const work = join(dir, 'work');
    mkdirSync(work);
    return { version, url: `http://127.0.0.1:${httpPort}/api`, admin, dir: work, ejabberdctl, stop };
  } catch (err) {
    const tail = logTail(logs);
    await stop();
    throw new Error(`${(err as Error).message}\n${tail}`);
  }
}

function logTail(logs: string): string {
  try {
    return readFileSync(join(logs, 'ejabberd.log'), 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * get_roster lines without the pending-request field, sorted: ejabberdctl 23.01 prints it as
 * 'undefined' or 'subscribe', ctl as none, in or out.
 */
export function rosterFields(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) =>
      l
        .split('\t')
        .filter((_, i) => i !== 3)
        .join('\t'),
    )
    .sort();
}

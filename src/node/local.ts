import { existsSync, mkdirSync } from 'node:fs';
import { scopeOf, type Command } from '../core/command';
import type { Services } from './services';
import type { Store } from '../storage/types';
import type { Home } from '../config/home';
import { loadConfig, type Config } from '../config/config';
import { createContext, type Context } from '../core/context';
import { CommandError } from '../lib/errors';
import { execute } from '../core/executor';
import type { Registry } from '../core/registry';
import type { CommandRunner } from '../core/runner';
import type { ExtensionControl } from '../core/extensions';
import { createScopedSerial } from '../lib/scoped-serial';

export interface LocalOptions {
  readonly home: Home;
  readonly registry: Registry;
  /** How long to wait for another process to release the database, in ms; 0 waits forever. */
  readonly lockTimeout: number;
  readonly clock?: () => number;
  /** Many commands in a row (`ctl batch`): writes are synced once, when the runner closes. */
  readonly bulk?: boolean;
  /** Imports fail on what they would skip with a warning (`--strict`). */
  readonly strict?: boolean;
  /** The ejabberd SQL layout export_odbc writes (`--sql-schema`). */
  readonly sqlSchema?: string;
  /** Where long commands report their steps, and what they are doing now. */
  readonly progress?: (text: string) => void;
  readonly working?: (text: string) => void;
  readonly summary?: (text: string) => void;
  /** Opens the store; by default the one ctl.yml names: PostgreSQL with `default_db: sql`, else LevelDB. */
  readonly openStore?: (home: Home, options: { lockTimeout: number; sync: boolean }) => Promise<Store>;
}

/**
 * A runner without a node: the database is opened on the first command that needs it and
 * held until close, so a batch pays for one open.
 */
export function createLocalRunner(options: LocalOptions): CommandRunner {
  const clock = options.clock ?? Date.now;
  let config: Config | undefined;
  let store: Promise<Store> | undefined;
  // A promise, so that commands side by side open the database and build the services once.
  let services: Promise<Services> | undefined;
  let opened: Services | undefined;

  const getConfig = () => (config ??= loadConfig(options.home.configFile));
  let extensions: ExtensionControl | undefined;
  // Without a node the module commands work on the home's files: built and checked, not run.
  const fileExtensions = () => {
    const { createFileExtensions } = require('./extensions/runtime') as typeof import('./extensions/runtime');
    return (extensions ??= createFileExtensions({ homeDir: options.home.dir, config: getConfig, registry: options.registry }));
  };
  const openStore =
    options.openStore ??
    ((home: Home, o: { lockTimeout: number; sync: boolean }) => {
      const sql = getConfig().sql;
      return sql ? (require('./sql-store') as typeof import('./sql-store')).openSqlStore(sql, home, o) : openLevel(home, o);
    });

  async function openServices(cfg: Config): Promise<Services> {
    store ??= openStore(options.home, { lockTimeout: options.lockTimeout, sync: !options.bulk });
    const { createServices } = await import('./services');
    const { featureDeps } = await import('../features/deps');
    return (opened = createServices(featureDeps({ store: await store, config: cfg, clock })));
  }

  async function context(command: Command): Promise<Context> {
    const cfg = getConfig();
    if (command.needs === 'node' && command.handler) {
      throw new CommandError('unavailable', `${command.name} needs a running node, and none is running on ${options.home.dir}: start it with 'ctl start'`);
    }
    if (command.needs === 'store') await (services ??= openServices(cfg));
    return createContext({
      command: command.name,
      config: cfg,
      registry: options.registry,
      clock,
      services: opened,
      progress: options.progress,
      working: options.working,
      summary: options.summary,
      strict: options.strict,
      sqlSchema: options.sqlSchema,
      extensions: fileExtensions,
    });
  }

  // Commands run in the order they were asked for, as on a node: each after those before it
  // that touch what it touches (see `Command.scope`), so that a batch's registrations of
  // different accounts run side by side and their writes reach the database together.
  const serial = createScopedSerial();
  // Work that waits for nothing but a command's arguments (hashing a password) starts a few
  // commands ahead of their turn, for commands that wait for one before them (a second
  // registration of the same account, or a command with no scope): the cores stay busy meanwhile.
  // Registrations of different accounts need none of it: they run side by side, as many as a
  // batch has in flight, each hashing as it runs, and the database's writes wait behind those
  // hashes in the thread pool. A command that has begun does its own work: preparing it then
  // would do it twice.
  const waiting: Queued[] = [];
  const prepareAhead = () => {
    for (const job of waiting.slice(0, PREPARED_AHEAD)) {
      if (job.prepared) continue;
      job.prepared = true;
      try {
        job.release = job.command.prepare?.(job.args, getConfig());
      } catch {
        // The configuration's error is the command's, met when its turn comes.
      }
    }
  };
  return {
    run(command, args) {
      const job: Queued = { command, args };
      waiting.push(job);
      const ran = serial.run(scopeOf(command, args), async () => {
        waiting.splice(waiting.indexOf(job), 1);
        prepareAhead();
        return execute(command, args, await context(command));
      });
      prepareAhead();
      const done = () => job.release?.();
      void ran.then(done, done);
      return ran;
    },
    async close() {
      const opened = await store?.catch(() => undefined);
      if (!opened) return;
      try {
        if (options.bulk) await opened.sync();
      } finally {
        await opened.close();
      }
    },
  };
}

/** How many commands waiting for their turn have their work prepared (see `Command.prepare`). */
const PREPARED_AHEAD = 2;

interface Queued {
  readonly command: Command;
  readonly args: Record<string, unknown>;
  prepared?: boolean;
  release?: () => void;
}

async function openLevel(home: Home, options: { lockTimeout: number; sync: boolean }): Promise<Store> {
  if (!existsSync(home.dbDir)) {
    try {
      mkdirSync(home.dbDir, { recursive: true, mode: 0o700 });
    } catch (err) {
      const { mkdirReason } = require('../lib/files') as typeof import('../lib/files');
      throw new CommandError('failed', `Cannot create the directory ${home.dbDir}: ${mkdirReason(err)}`, { cause: err });
    }
  }
  const { openLevelStore } = await import('../storage/level');
  // Nobody else waits on this process while it reads: a read on this thread is several times faster.
  return openLevelStore(home.dbDir, { ...options, syncReads: true });
}

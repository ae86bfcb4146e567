import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { NodeControl } from '../core/context';
import { CommandError } from '../lib/errors';
import { createExtensibleRegistry, type Registry } from '../core/registry';
import { createNodeExtensions } from './extensions/runtime';
import { openLevelStore } from '../storage/level';
import type { Store } from '../storage/types';
import { createControlServer } from '../transports/socket/server';
import { connectControl } from '../transports/socket/client';
import { loadConfig } from '../config/config';
import { readOrCreateCookie } from './cookie';
import { clusterControl, createCluster } from './cluster-control';
import type { ClusterLink } from '../xmpp/cluster-link';
import { createDispatcher } from './dispatch';
import type { Home } from '../config/home';
import { createLogger } from './logger';
import { createHttpDeps, startListeners, stopListeners, type HttpListeners, type ListenerHooks } from './http';
import { certificateLoader } from '../xmpp/c2s/certificate';
import { createServices, type Services } from './services';
import { configChanges, type ChangePart } from './reload';
import { createGate, type Gate } from '../lib/gate';
import { createEventBus } from '../lib/events';
import { createKeyedLock } from '../lib/keyed-lock';
import { createAuthGuard } from '../lib/auth-limiter';
import { unsynced } from '../storage/unsynced';
import type { FeatureEvents } from '../features/events';
import type { BareJid } from '../lib/jid';
import type { Server } from 'node:http';
import type { XmppControl } from '../core/sessions';
import type { MucControl } from '../core/muc';
import type { XmppServer } from '../xmpp/server';

export interface NodeOptions {
  readonly home: Home;
  readonly registry: Registry;
  readonly version: string;
  /** How long to wait for a `ctl` that holds the database, in ms. */
  readonly lockTimeout: number;
  /** Where the log is echoed when the node runs in the foreground. */
  readonly echo?: { write(s: string): unknown };
  /** The environment: `CTL_C2S_PORT` moves the client listener a configuration without `listen` gets. */
  readonly env?: NodeJS.ProcessEnv;
}

/** What the session commands see before the XMPP server runs, and after it stopped: nobody. */
const NO_SESSIONS: XmppControl = {
  sessions: () => [],
  userSessions: () => [],
  kickUser: () => 0,
  kickSession: () => false,
  setPresence: async () => false,
  sendToSession: () => false,
  route: async () => undefined,
  announce: () => 0,
  shutdown: () => undefined,
  onlineSessions: () => 0,
  localSessions: () => 0,
};

const mucUnavailable = (): never => {
  throw new CommandError('unavailable', 'The XMPP server is not running, so the MUC service and its rooms cannot be reached');
};

/** What the room commands see before the XMPP server runs, and after it stopped: an error. */
const NO_MUC: MucControl = {
  services: mucUnavailable,
  createRoom: async () => mucUnavailable(),
  createRooms: async () => mucUnavailable(),
  destroyRoom: async () => mucUnavailable(),
  destroyRooms: async () => mucUnavailable(),
  exists: async () => mucUnavailable(),
  options: async () => mucUnavailable(),
  changeOption: async () => mucUnavailable(),
  setAffiliation: async () => mucUnavailable(),
  affiliations: async () => mucUnavailable(),
  occupants: async () => mucUnavailable(),
  rooms: async () => mucUnavailable(),
  unusedRooms: async () => mucUnavailable(),
  emptyRooms: async () => mucUnavailable(),
  userRooms: async () => mucUnavailable(),
  inviteDirect: async () => mucUnavailable(),
  unregisterNick: async () => mucUnavailable(),
};

/** `CTL_C2S_PORT`, when set: the port of the implicit client listener (0: any free port). */
function implicitPort(env: NodeJS.ProcessEnv): number | undefined {
  const text = env.CTL_C2S_PORT;
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw new CommandError('failed', `CTL_C2S_PORT must be a port number from 0 to 65535, got '${text}'`);
  return Number(text);
}

export interface RunningNode {
  readonly control: NodeControl;
  /** Resolves once the node has stopped and let go of everything. */
  readonly stopped: Promise<void>;
}

/**
 * Starts the node: configuration, log, database, control socket, pid file. Refuses when a
 * node already answers on this home; cleans up what a killed node left behind.
 */
export async function startNode(options: NodeOptions): Promise<RunningNode> {
  try {
    return await start(options);
  } catch (err) {
    throw operational(err);
  }
}

async function start(options: NodeOptions): Promise<RunningNode> {
  const { home } = options;
  mkdirSync(dirname(home.socket), { recursive: true, mode: 0o700 });
  await refuseIfRunning(home);
  let config = loadConfig(home.configFile);
  // What the process keeps from its start: no reload or restart changes them.
  const startedWith = { nodeName: config.nodeName, socketGroup: config.socketGroup };
  const c2sPort = implicitPort(options.env ?? process.env);
  const socketGid = config.socketGroup === undefined ? undefined : groupId(config.socketGroup);
  const logger = createLogger(home.logFile, config.loglevel, options.echo);
  /** What stops the start once the log is open: logged, and then the log closed. */
  const failed = (err: unknown) => {
    const e = operational(err);
    logger.error(e instanceof Error ? e.message : String(e));
    logger.close();
    return e;
  };
  const openStore = async (cfg = config) => {
    if (cfg.sql) return (await import('./sql-store')).openSqlStore(cfg.sql, home);
    mkdirSync(home.dbDir, { recursive: true, mode: 0o700 });
    // Point reads on the event loop: a read of LevelDB's memtable or block cache takes microseconds,
    // and its trip through the thread pool cost the loop more than the read itself.
    return openLevelStore(home.dbDir, { lockTimeout: options.lockTimeout, syncReads: true });
  };
  let cookie: string;
  let store: Store;
  try {
    cookie = (() => {
      try {
        return readOrCreateCookie(home.cookieFile);
      } catch (err) {
        throw operational(err, home.cookieFile);
      }
    })();
    store = await openStore();
  } catch (err) {
    throw failed(err);
  }
  // A backup staged by install_fallback replaces the database before anyone is served.
  const installFallback = async (): Promise<boolean> => {
    const installed = await (await import('../migrate/backup')).applyFallback(store, home.dbDir);
    if (installed) logger.info(installed);
    return installed !== undefined;
  };
  let fallbackInstalled: boolean;
  try {
    fallbackInstalled = await installFallback();
  } catch (err) {
    await store.close();
    throw failed(err);
  }
  // The bus and the locks outlive restarts: the XMPP server's subscriptions stay in place.
  const listenerFailed = (err: unknown, event: string) => logger.error(`${event} listener failed: ${(err as Error).message}`);
  const events = createEventBus<FeatureEvents>(listenerFailed);
  // What the other nodes of a cluster tell of their changes, as the cluster relays it.
  const elsewhere = createEventBus<FeatureEvents>(listenerFailed);
  const locks = createKeyedLock();
  // One count of failed logins for every listener, kept across reloads and restarts.
  const authGuard = createAuthGuard({ limit: () => config.authFailureLimit, warn: (line) => logger.warning(line) });
  let xmpp: XmppServer | undefined;
  // The cluster outlives restarts, as the bus does: each new XMPP server links to it.
  const cluster = config.redis ? await createCluster(config.redis, config, home, logger) : undefined;
  if (cluster) (await import('../features/tokens/cache')).hearOtherNodes(events, elsewhere);
  let link: ClusterLink | undefined;
  /** The room commands: in a cluster, each runs where its room is served. */
  let rooms: MucControl | undefined;
  // Extension modules add their commands to the node's registry while it serves.
  const registry = createExtensibleRegistry(options.registry);
  const extensions = createNodeExtensions({ homeDir: home.dir, config: () => config, registry, logger, store: () => store, xmpp: () => xmpp });
  const buildServices = () => {
    const deps = { config, clock: Date.now, events, locks, isOnline: (jid: BareJid) => xmpp?.isOnline(jid) ?? false };
    return { synced: createServices({ ...deps, store }), bulk: createServices({ ...deps, store: unsynced(store) }) };
  };
  let services: { synced: Services; bulk: Services } = buildServices();
  const gate = createGate();
  const exclusive = gate.exclusive;
  let startedAt = Date.now();
  let stopping: Promise<void> | undefined;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));

  const startXmpp = async () => {
    const { startXmppServer } = await import('../xmpp/server');
    xmpp = await startXmppServer({
      elsewhere,
      config: () => config,
      home: home.dir,
      features: () => services.synced,
      events,
      logger,
      nodeName: config.nodeName,
      implicitPort: c2sPort,
      authGuard,
    });
    extensions.attachXmpp();
    if (cluster) {
      const { linkCluster } = await import('../xmpp/cluster-link');
      const { clusterMuc } = await import('../xmpp/cluster-muc');
      link = linkCluster({ remote: xmpp.remote, cluster, events, elsewhere, logger });
      rooms = clusterMuc(xmpp.muc, link);
      await cluster.attach(link.handlers);
    }
  };
  const stopXmpp = async () => {
    const running = xmpp;
    xmpp = undefined;
    await running?.stop({ condition: 'system-shutdown' });
    link?.close();
    link = undefined;
    rooms = undefined;
  };
  const listenerHooks: ListenerHooks = {
    websocket: (server: Server, path: string, ip: string) => xmpp?.attachWebSocket(server, path, ip),
    certificate: certificateLoader(() => config, home.dir),
  };

  const control: NodeControl = {
    name: config.nodeName,
    version: options.version,
    cookie,
    uptimeSeconds: () => Math.floor((Date.now() - startedAt) / 1000),
    activeResources: () => process.getActiveResourcesInfo().length,
    stopAccepting: async () => xmpp?.stopAccepting(),
    get xmpp() {
      return xmpp?.control ?? NO_SESSIONS;
    },
    get muc() {
      return rooms ?? xmpp?.muc ?? NO_MUC;
    },
    extensions,
    ...(cluster && { cluster: clusterControl(cluster, () => link) }),
    s2sConnections: () => 0,
    loglevel: () => logger.level(),
    setLoglevel(level) {
      logger.setLevel(level);
      logger.info(`log level set to ${level}`);
    },
    async reopenLog() {
      logger.reopen();
    },
    async rotateLog() {
      logger.rotate();
    },
    async reloadConfig(report = () => undefined) {
      const next = loadConfig(home.configFile);
      const changes = configChanges(config, next, startedWith);
      config = next;
      services = buildServices();
      logger.setLevel(config.loglevel);
      // New hosts serve new streams at once (the hub reads the configuration); listeners follow `listen`.
      // A listener that cannot listen is reported; the rest of the file is applied all the same.
      const failed = new Map<ChangePart, string>();
      await xmpp?.reload().catch((err: Error) => failed.set('c2s', err.message));
      await startListeners(config, httpDeps, logger, listenerHooks, http).then(
        (running) => (http = running),
        (err: Error) => failed.set('http', err.message),
      );
      logger.info(`configuration reloaded from ${home.configFile}`);
      const lines = changes.filter((c) => !failed.has(c.part)).map((c) => c.text);
      for (const line of lines.length > 0 || failed.size > 0 ? lines : ['No change: the file says what the node already runs']) {
        logger.info(line);
        report(line);
      }
      if (failed.size > 0) {
        const why = `${[...failed.values()].join('; ')}; the rest of ${home.configFile} is applied, and the log says which listeners are open: run reload_config again once that is fixed`;
        logger.error(why);
        throw new CommandError('failed', why);
      }
    },
    async restart() {
      const next = loadConfig(home.configFile);
      logger.info('restarting');
      await stopListeners(http.values());
      http = new Map();
      await stopXmpp();
      let installed = false;
      await exclusive(async () => {
        await store.close();
        store = await openStore(next);
        // A restart is a start for install_fallback, as in ejabberd; a staged file that fails
        // is logged and kept (it stops the next start), the node serves what it had.
        installed = await installFallback().catch((err: Error) => (logger.error(err.message), false));
      });
      config = next;
      services = buildServices();
      try {
        await plainly(startXmpp);
        if (installed) databaseReplaced();
        http = await plainly(() => startListeners(config, httpDeps, logger, listenerHooks));
      } catch (err) {
        // The database and the control socket are back; what could not listen is said, and logged.
        const why = `${(err as Error).message}; the node answers ctl, but serves ${xmpp ? 'no HTTP listener' : 'no XMPP clients and no HTTP listener'} until a restart succeeds`;
        logger.error(why);
        throw new CommandError('failed', why);
      }
      logger.reopen();
      logger.setLevel(config.loglevel);
      startedAt = Date.now();
      logger.info('restarted');
    },
    stop() {
      stopping ??= (async () => {
        logger.info('stopping');
        server.server.close();
        await stopListeners(http.values());
        // The streams end before the database closes: their last activity is stored.
        await stopXmpp();
        await cluster?.stop();
        await extensions.stopAll();
        await exclusive(() => store.close());
        rmSync(home.socket, { force: true });
        rmSync(home.pidFile, { force: true });
        logger.info('stopped');
        // Replies already on their way (the one to `stop` itself) are sent before connections end.
        setImmediate(() => {
          server.closeConnections();
          logger.close();
          resolveStopped();
        });
      })();
      return stopping;
    },
  };

  /**
   * The database was replaced (restore, a fallback installed): the tokens this node and, as the
   * cluster relays it, the other nodes verified may be gone. After a start or a restart, said
   * once the cluster link is up.
   */
  const databaseReplaced = () => events.emit('api-tokens-revoked', {});

  // A command that replaced the database (restore) leaves the features' memories of it stale:
  // accounts known to exist, rosters and lists the XMPP server keeps for online users.
  const commandGate: Gate = {
    shared: gate.shared,
    exclusive: (fn) =>
      gate.exclusive(async () => {
        try {
          return await fn();
        } finally {
          services = buildServices();
          databaseReplaced();
        }
      }),
  };
  const { dispatch, run } = createDispatcher(registry, control, () => ({ config, store, services, stopping: stopping !== undefined }), commandGate);
  const server = createControlServer(dispatch);
  const httpDeps = createHttpDeps({
    registry,
    run: (command, args, caller) => run(command, args, { caller }),
    current: () => ({ config, services: services.synced }),
    logger,
    guard: authGuard,
  });
  let http: HttpListeners = new Map();
  rmSync(home.socket, { force: true });
  try {
    checkSocketPath(home.socket);
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.server.listen(home.socket, () => resolve());
    });
    chmodSync(home.socket, socketGid === undefined ? 0o600 : 0o660);
    if (socketGid !== undefined) chownSync(home.socket, -1, socketGid);
    // The group reaches the socket through run/: traverse only, never list; without a group
    // (or after one was removed from ctl.yml) run/ is the owner's alone again.
    if (socketGid !== undefined) chownSync(dirname(home.socket), -1, socketGid);
    chmodSync(dirname(home.socket), socketGid === undefined ? 0o700 : 0o710);
    // `ctl start` returns once the socket answers: by then the pid file names the node.
    writeFileSync(home.pidFile, `${process.pid}\n`);
    await plainly(startXmpp);
    await cluster?.start();
    if (fallbackInstalled) databaseReplaced();
    await extensions.loadInstalled();
    http = await plainly(() => startListeners(config, httpDeps, logger, listenerHooks));
  } catch (err) {
    // A node that could not finish starting must not linger half-started.
    server.server.close();
    await stopListeners(http.values());
    await stopXmpp();
    await cluster?.stop();
    await extensions.stopAll();
    await store.close();
    rmSync(home.socket, { force: true });
    rmSync(home.pidFile, { force: true });
    throw failed(err);
  }
  logger.info(`node ${config.nodeName} started (ctl ${options.version}, pid ${process.pid}, socket ${home.socket})`);
  return { control, stopped };
}

/** A port that cannot be had or a certificate that cannot be read is the operator's to fix, not a crash. */
async function plainly<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw err instanceof CommandError ? err : new CommandError('failed', (err as Error).message);
  }
}

const FILE_OPERATIONS: Readonly<Record<string, string>> = {
  mkdir: 'create the directory',
  open: 'open',
  read: 'read',
  write: 'write',
  rm: 'remove',
  unlink: 'remove',
  rename: 'rename',
  chmod: 'set the mode of',
  chown: 'set the group of',
  listen: 'listen on',
  bind: 'listen on',
  stat: 'read',
  scandir: 'read the directory',
};

/**
 * A file or socket the node could not use (a missing directory, a file where a directory should
 * be, a permission) is the operator's to fix: said in words, naming the path, never a crash.
 */
function operational(err: unknown, path?: string): unknown {
  const e = err as NodeJS.ErrnoException & { address?: string };
  if (err instanceof CommandError || !(err instanceof Error) || typeof e.code !== 'string' || typeof e.syscall !== 'string') return err;
  const where = e.path ?? e.address ?? path;
  const { fsReason, mkdirReason } = require('../lib/files') as typeof import('../lib/files');
  // rmSync reports a directory with a code of its own.
  const why = e.syscall === 'mkdir' ? mkdirReason(e) : fsReason(e.code === 'ERR_FS_EISDIR' ? { ...e, code: 'EISDIR' } : e);
  const what = FILE_OPERATIONS[e.syscall] ?? e.syscall;
  return new CommandError('failed', `Cannot ${what}${where === undefined ? '' : ` ${where}`}: ${why}`, { cause: err });
}

/** The longest path a Unix socket may have on Linux (sun_path less its terminating NUL). */
const MAX_SOCKET_PATH = 107;

/** A longer socket path would be cut short without a word, and the socket made elsewhere. */
function checkSocketPath(path: string): void {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH) {
    throw new CommandError(
      'failed',
      `Cannot listen on ${path}: the path is ${bytes} bytes long, and a Unix socket's may be at most ${MAX_SOCKET_PATH}: choose a shorter home (--home)`,
    );
  }
}

/** The id of the group that may use the socket (ctl_socket_group): a name or a number. */
function groupId(name: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  const line = readFileSync('/etc/group', 'utf8')
    .split('\n')
    .find((l) => l.split(':')[0] === name);
  if (!line) throw new CommandError('failed', `ctl_socket_group: no group named '${name}'`);
  return Number(line.split(':')[2]);
}

async function refuseIfRunning(home: Home): Promise<void> {
  const client = await connectControl(home.socket, 2000).catch(() => undefined);
  if (client) {
    client.close();
    throw new CommandError('conflict', `A node is already running on ${home.dir}${pidNote(home)}`);
  }
  const pid = readPid(home.pidFile);
  if (pid !== undefined && pid !== process.pid && isCtlProcess(pid)) {
    throw new CommandError(
      'conflict',
      `Process ${pid} (in ${home.pidFile}) is a node of ${home.dir} that does not answer on ${home.socket}: stop it (kill ${pid}) first`,
    );
  }
  // What a killed node left behind is not a live node.
  rmSync(home.pidFile, { force: true });
  rmSync(home.socket, { force: true });
}

function pidNote(home: Home): string {
  const pid = readPid(home.pidFile);
  return pid === undefined ? '' : ` (pid ${pid})`;
}

export function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isCtlProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('ctl');
  } catch {
    return false;
  }
}

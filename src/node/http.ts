import type { Server } from 'node:http';
import type { Caller } from '../core/access';
import type { Registry } from '../core/registry';
import type { Command } from '../core/command';
import type { Services } from './services';
import { createHttpServer } from '../transports/http/server';
import { unauthenticated, type HttpDeps } from '../transports/http/common';
import type { Config } from '../config/config';
import { DEFAULT_IDLE_TIMEOUT, type Listener } from '../config/listen';
import { boundConnections, defaultMaxConnections, DEFAULT_MAX_CONNECTIONS_PER_IP } from '../lib/connection-limits';
import type { Socket } from 'node:net';
import { bareText } from '../lib/jid';
import type { Logger } from './logger';

export interface HttpContext {
  readonly registry: Registry;
  readonly run: (command: Command, args: Record<string, unknown>, caller: Caller) => Promise<unknown>;
  /** The configuration and services at the moment of the call: the node may have restarted. */
  readonly current: () => { config: Config; services: Services };
  readonly logger: Logger;
}

/** How HTTP and XML-RPC callers prove who they are: an account's password, or an API token. */
export function createHttpDeps(ctx: HttpContext): HttpDeps {
  const callerOf = (jid: string): Caller => ({ jid, admin: ctx.current().config.admins.includes(jid) });
  const deps: HttpDeps = {
    registry: ctx.registry,
    run: ctx.run,
    async authenticatePassword(user, server, password) {
      const { services } = ctx.current();
      let ok = false;
      let jid = '';
      try {
        const j = services.accounts.jid(user, server);
        jid = bareText(j);
        ok = await services.accounts.checkPassword(j, password);
      } catch {
        ok = false;
      }
      if (!ok) throw unauthenticated('Invalid user name or password');
      return callerOf(jid);
    },
    async authenticateToken(token) {
      const jid = await ctx.current().services.tokens.verify(token);
      if (!jid) throw unauthenticated('Invalid or expired token');
      return callerOf(bareText(jid));
    },
    async authenticate(header) {
      const m = /^(Basic|Bearer)\s+(\S+)\s*$/i.exec(header ?? '');
      if (!m) throw unauthenticated('Authentication required: HTTP basic auth as an account (user@host:password) or a bearer token');
      if (m[1].toLowerCase() === 'bearer') return deps.authenticateToken(m[2]);
      const decoded = Buffer.from(m[2], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const jid = colon < 0 ? '' : decoded.slice(0, colon);
      const at = jid.lastIndexOf('@');
      if (at <= 0) throw unauthenticated('Invalid credentials: basic auth takes user@host:password');
      return deps.authenticatePassword(jid.slice(0, at), jid.slice(at + 1), decoded.slice(colon + 1));
    },
  };
  return deps;
}

const HANDLER_NAMES = { api: 'JSON API', xmlrpc: 'XML-RPC', ws: 'XMPP over WebSocket' } as const;

/** The HTTP listeners that run, by what they are configured to be. */
export type HttpListeners = ReadonlyMap<string, Server>;

const listenerKey = (l: Listener) => JSON.stringify([l.ip, l.port, [...l.handlers]]);

/** What each running listener was last configured with: a reload changes its bounds in place. */
const configured = new WeakMap<Server, Listener>();

/**
 * Makes the running listeners those `config` names: keeps the unchanged ones, opens the new
 * ones, then closes the removed ones. Fails naming the listener that cannot listen, and then
 * leaves `running` as it was. WebSocket paths are handed to `websocket`, which answers their
 * upgrade requests.
 */
export async function startListeners(
  config: Config,
  deps: HttpDeps,
  logger: Logger,
  websocket?: (server: Server, path: string, ip: string) => void,
  running: HttpListeners = new Map(),
): Promise<HttpListeners> {
  const next = new Map<string, Server>();
  const opened: Server[] = [];
  try {
    for (const l of config.listeners) {
      const key = listenerKey(l);
      const kept = running.get(key);
      if (kept) {
        configured.set(kept, l);
        next.set(key, kept);
        continue;
      }
      const server = await openListener(l, deps, logger, websocket);
      opened.push(server);
      next.set(key, server);
    }
  } catch (err) {
    await stopListeners(opened);
    throw err;
  }
  await stopListeners([...running].filter(([key]) => !next.has(key)).map(([, server]) => server));
  return next;
}

async function openListener(l: Listener, deps: HttpDeps, logger: Logger, websocket?: (server: Server, path: string, ip: string) => void): Promise<Server> {
  const requests = new Map([...l.handlers].filter(([, h]) => h !== 'ws'));
  const server = createHttpServer({ ...l, handlers: requests }, deps);
  for (const [path, h] of l.handlers) if (h === 'ws' && websocket) websocket(server, path, l.ip);
  configured.set(server, l);
  boundListener(server, logger);
  await new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) => reject(new Error(`Cannot listen on ${l.ip} port ${l.port}: ${listenReason(err)}`));
    server.once('error', failed);
    server.listen(l.port, l.ip, () => {
      server.removeListener('error', failed);
      // Later errors (accept failing for want of file descriptors) are the operator's to see, not a crash.
      server.on('error', (err: Error) => logger.error(`HTTP listener on ${l.ip} port ${l.port}: ${err.message}`));
      resolve();
    });
  });
  const handlers = [...l.handlers.entries()].map(([path, h]) => `${path} ${HANDLER_NAMES[h]}`).join(', ');
  logger.info(`listening on http://${l.ip}:${(server.address() as { port: number }).port} (${handlers})`);
  return server;
}

/**
 * Bounds what one listener holds, so that a flood of connections cannot take the descriptors the
 * node needs (its database, its control socket): past max_connections, or
 * max_connections_per_ip from one address, a new connection is closed as soon as it is
 * accepted; one with no request under way for idle_timeout is closed. WebSocket streams, once
 * upgraded, are XMPP's: they count towards the bounds but never time out here.
 */
function boundListener(server: Server, logger: Logger): void {
  const settings = () => configured.get(server)!;
  const where = () => `HTTP listener on ${settings().ip} port ${settings().port}`;
  const admit = boundConnections(
    server,
    () => ({
      maxConnections: settings().maxConnections ?? defaultMaxConnections(),
      maxConnectionsPerIp: settings().maxConnectionsPerIp ?? DEFAULT_MAX_CONNECTIONS_PER_IP,
    }),
    (why) => logger.warning(`${where()}: ${why}`),
  );
  const idle = () => {
    const ms = settings().idleTimeout ?? DEFAULT_IDLE_TIMEOUT;
    return Number.isFinite(ms) ? ms : 0;
  };
  const busy = new WeakMap<Socket, number>();
  // A socket's timeout with no listener of the server's own destroys it.
  server.on('connection', (socket: Socket) => {
    if (!admit(socket)) return void socket.destroy();
    socket.setTimeout(idle());
  });
  server.on('request', (req, res) => {
    const socket = req.socket;
    busy.set(socket, (busy.get(socket) ?? 0) + 1);
    socket.setTimeout(0);
    res.once('close', () => {
      const left = (busy.get(socket) ?? 1) - 1;
      busy.set(socket, left);
      // Between requests the shorter of keep-alive's timeout and ours.
      const keepAlive = server.keepAliveTimeout;
      if (left === 0 && !socket.destroyed) socket.setTimeout(keepAlive > 0 && (idle() === 0 || keepAlive < idle()) ? keepAlive : idle());
    });
  });
  server.on('upgrade', (_req, socket: Socket) => socket.setTimeout(0));
}

/** Why a port cannot be had, in the words the XMPP client listeners use. */
function listenReason(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return 'the port is in use';
    case 'EACCES':
      return 'permission denied (ports below 1024 need privileges)';
    case 'EADDRNOTAVAIL':
      return 'no such address on this machine';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the address does not resolve';
    default:
      return err.message;
  }
}

export async function stopListeners(servers: Iterable<Server>): Promise<void> {
  await Promise.all(
    [...servers].map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        }),
    ),
  );
}

import type { Server } from 'node:http';
import type { Caller } from '../core/access';
import type { Registry } from '../core/registry';
import type { Command } from '../core/command';
import type { Services } from './services';
import { createHttpServer } from '../transports/http/server';
import { rateLimited, unauthenticated, type HttpDeps, type Peer } from '../transports/http/common';
import type { AuthAttempt, AuthGuard } from '../lib/auth-limiter';
import type { Config } from '../config/config';
import { isTrustedProxy } from '../config/access';
import { DEFAULT_IDLE_TIMEOUT, type Listener } from '../config/listen';
import { boundConnections, defaultMaxConnections, DEFAULT_MAX_CONNECTIONS_PER_IP } from '../lib/connection-limits';
import type { Socket } from 'node:net';
import type { Server as HttpsServer } from 'node:https';
import type { Certificate } from '../xmpp/c2s/certificate';
import { bareText } from '../lib/jid';
import type { Logger } from './logger';

export interface HttpContext {
  readonly registry: Registry;
  readonly run: (command: Command, args: Record<string, unknown>, caller: Caller) => Promise<unknown>;
  /** The configuration and services at the moment of the call: the node may have restarted. */
  readonly current: () => { config: Config; services: Services };
  readonly logger: Logger;
  /** The node's one count of failed logins, shared with its XMPP listeners. */
  readonly guard: AuthGuard;
}

/** How HTTP and XML-RPC callers prove who they are: an account's password, or an API token. */
export function createHttpDeps(ctx: HttpContext): HttpDeps {
  const callerOf = (jid: string): Caller => ({ jid, admin: ctx.current().config.admins.includes(jid) });
  const attempt = (peer: Peer, mechanism: string, user: string): AuthAttempt => ({ address: peer.address, port: peer.port, via: peer.via, mechanism, user });
  /** Refuses an address that failed too often, before anything of its request is checked. */
  const admit = (a: AuthAttempt) => {
    const wait = ctx.guard.refused(a);
    if (wait !== undefined) throw rateLimited(wait);
  };
  const fail = (a: AuthAttempt, reason: string, message: string) => {
    ctx.guard.failed(a, reason);
    return unauthenticated(message);
  };

  async function password(user: string, server: string, secret: string, a: AuthAttempt): Promise<Caller> {
    admit(a);
    const { services } = ctx.current();
    let ok = false;
    let jid = '';
    try {
      const j = services.accounts.jid(user, server);
      jid = bareText(j);
      ok = await services.accounts.checkPassword(j, secret);
    } catch {
      ok = false;
    }
    if (!ok) throw fail(a, 'bad-password', 'Invalid user name or password');
    return callerOf(jid);
  }

  async function token(secret: string, a: AuthAttempt, account?: string): Promise<Caller> {
    admit(a);
    const jid = await ctx.current().services.tokens.verify(secret);
    if (!jid || (account !== undefined && bareText(jid) !== account.toLowerCase())) throw fail(a, 'bad-token', 'Invalid or expired token');
    return callerOf(bareText(jid));
  }

  return {
    registry: ctx.registry,
    run: ctx.run,
    trustedProxy: (address) => isTrustedProxy(ctx.current().config.trustedProxies, address),
    authenticatePassword: (user, server, secret, peer) => password(user, server, secret, attempt(peer, 'password', `${user}@${server}`)),
    authenticateToken: (secret, peer, account) => token(secret, attempt(peer, 'token', account ?? ''), account),
    async authenticate(header, peer) {
      const m = /^(Basic|Bearer)\s+(\S+)\s*$/i.exec(header ?? '');
      // No credentials of a kind the node takes: nothing was tried, nothing is logged.
      if (!m) throw unauthenticated('Authentication required: HTTP basic auth as an account (user@host:password) or a bearer token');
      if (m[1].toLowerCase() === 'bearer') return token(m[2], attempt(peer, 'bearer', ''));
      const decoded = Buffer.from(m[2], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      // Without a colon the whole of it may be a password: the log is not told.
      const jid = colon < 0 ? '' : decoded.slice(0, colon);
      const at = jid.lastIndexOf('@');
      const a = attempt(peer, 'basic', jid);
      if (at <= 0) {
        admit(a);
        throw fail(a, 'malformed', 'Invalid credentials: basic auth takes user@host:password');
      }
      return password(jid.slice(0, at), jid.slice(at + 1), decoded.slice(colon + 1), a);
    },
  };
}

const HANDLER_NAMES = { api: 'JSON API', xmlrpc: 'XML-RPC', ws: 'XMPP over WebSocket' } as const;

/** The HTTP listeners that run, by what they are configured to be. */
export type HttpListeners = ReadonlyMap<string, Server>;

/** What makes two configured HTTP listeners the same one: a change of any of it reopens the listener. */
export const listenerKey = (l: Listener) => JSON.stringify([l.ip, l.port, l.tls, [...l.handlers]]);

/** What each running listener was last configured with: a reload changes its bounds in place. */
const configured = new WeakMap<Server, Listener>();

/** What listeners need of the rest of the node. */
export interface ListenerHooks {
  /** Answers the upgrade requests of a WebSocket path. */
  readonly websocket?: (server: Server, path: string, ip: string) => void;
  /** The certificate of `tls: true` listeners, and whether the configuration now names another. */
  readonly certificate: { load(): Certificate; changed(): boolean };
}

/**
 * Makes the running listeners those `config` names: keeps the unchanged ones, opens the new
 * ones, then closes the removed ones. Fails naming the listener that cannot listen, and then
 * leaves `running` as it was. Kept HTTPS listeners take a changed certificate for their next
 * connections.
 */
export async function startListeners(
  config: Config,
  deps: HttpDeps,
  logger: Logger,
  hooks: ListenerHooks,
  running: HttpListeners = new Map(),
): Promise<HttpListeners> {
  const next = new Map<string, Server>();
  const opened: Server[] = [];
  let certificate: Certificate | undefined;
  // Read once per call, and only when a listener speaks TLS: the self-signed one is made on first use.
  const tls = () => (certificate ??= hooks.certificate.load());
  try {
    const renew = hooks.certificate.changed();
    for (const l of config.listeners) {
      const key = listenerKey(l);
      const kept = running.get(key);
      if (kept) {
        configured.set(kept, l);
        if (l.tls && renew) (kept as HttpsServer).setSecureContext(tls());
        next.set(key, kept);
        continue;
      }
      const server = await openListener(l, deps, logger, hooks.websocket, l.tls ? tls() : undefined);
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

async function openListener(
  l: Listener,
  deps: HttpDeps,
  logger: Logger,
  websocket: ListenerHooks['websocket'],
  certificate: Certificate | undefined,
): Promise<Server> {
  const requests = new Map([...l.handlers].filter(([, h]) => h !== 'ws'));
  const server = createHttpServer({ ...l, handlers: requests }, deps, certificate);
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
  logger.info(`listening on ${l.tls ? 'https' : 'http'}://${l.ip}:${(server.address() as { port: number }).port} (${handlers})`);
  return server;
}

/** How much longer than keep-alive's advertised timeout Node's server waits for a next request (ms). */
const KEEP_ALIVE_SLACK = 1000;

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
    // Node's server clears the socket's timeout when a request comes after keep-alive's and sets
    // keep-alive's again (plus up to a second of slack) once no response is left to write: when
    // that one is the shorter, it is ours too, and a request needs no timers of its own beyond
    // clearing the one set at connection.
    const keepAlive = server.keepAliveTimeout;
    const ours = idle();
    if (keepAlive > 0 && (ours === 0 || keepAlive + KEEP_ALIVE_SLACK <= ours)) {
      if (socket.timeout !== 0) socket.setTimeout(0);
      return;
    }
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

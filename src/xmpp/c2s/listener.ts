/**
 * The `ejabberd_c2s` listeners: a TCP server per configured port, STARTTLS or direct TLS, each
 * accepted socket handed to a `C2sConnection`.
 */
import * as net from 'node:net';
import type { C2sListener } from '../../config/listen';
import type { StreamError } from '../api';
import { C2sConnection, peerAddress, type C2sEnv } from './connection';
import { openFilesLimits } from '../../lib/open-files';
import { boundConnections, defaultMaxConnections, DEFAULT_MAX_CONNECTIONS_PER_IP } from '../../lib/connection-limits';

export type { C2sEnv, C2sLogger, C2sTimeouts } from './connection';

/** How often running out of file descriptors is logged while it lasts. */
const EMFILE_LOG_INTERVAL = 60_000;

/** A listening c2s server and the streams it accepted. */
export class C2sServer extends net.Server {
  readonly streams = new Set<C2sConnection>();
  private emfileLoggedAt = 0;
  /** Whether one more connection fits max_connections_per_ip (max_connections is the server's own). */
  private readonly admit: (socket: net.Socket) => boolean;

  constructor(
    readonly listener: C2sListener,
    private readonly env: C2sEnv,
  ) {
    super({ noDelay: true });
    this.admit = boundConnections(
      this,
      () => ({
        maxConnections: listener.maxConnections ?? defaultMaxConnections(),
        maxConnectionsPerIp: listener.maxConnectionsPerIp ?? DEFAULT_MAX_CONNECTIONS_PER_IP,
      }),
      (why) => env.logger.warning(`c2s listener on ${listener.ip} port ${listener.port}: ${why}`),
    );
    this.on('connection', (socket: net.Socket) => (this.admit(socket) ? this.accept(socket) : socket.destroy()));
  }

  /** Closes every stream with `error` (system-shutdown when the node stops) and stops listening. */
  closeAll(error?: StreamError): Promise<void> {
    const closed = new Promise<void>((resolve) => this.close(() => resolve()));
    for (const conn of [...this.streams]) conn.close(error);
    return closed;
  }

  private accept(socket: net.Socket): void {
    const kind = this.listener.tls ? 'c2s_tls' : 'c2s';
    const conn = new C2sConnection(socket, this.env, this.listener, { ip: peerAddress(socket.remoteAddress), port: socket.remotePort ?? 0, kind }, socket);
    this.streams.add(conn);
    socket.once('close', () => this.streams.delete(conn));
    if (this.listener.tls) conn.startDirectTls();
  }

  /** Errors after listening began: accept failing for want of file descriptors, mostly. */
  acceptError(err: NodeJS.ErrnoException): void {
    if (err.code === 'EMFILE' || err.code === 'ENFILE') {
      const now = Date.now();
      if (now - this.emfileLoggedAt < EMFILE_LOG_INTERVAL) return;
      this.emfileLoggedAt = now;
      this.env.logger.error(
        `out of file descriptors (open files limit ${openFilesLimits()?.soft ?? 'unknown'}): refusing connections on ${this.listener.ip} port ${this.listener.port}`,
      );
      return;
    }
    this.env.logger.error(`c2s listener on ${this.listener.ip} port ${this.listener.port}: ${err.message}`);
  }
}

/** Starts listening; rejects with a sentence naming the address when the port cannot be had. */
export function listenC2s(listener: C2sListener, env: C2sEnv): Promise<C2sServer> {
  const server = new C2sServer(listener, env);
  return new Promise((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) => reject(new Error(listenError(listener, err)));
    server.once('error', failed);
    server.listen({ port: listener.port, host: listener.ip }, () => {
      server.removeListener('error', failed);
      server.on('error', (err: NodeJS.ErrnoException) => server.acceptError(err));
      resolve(server);
    });
  });
}

/** Closes a c2s server and all its streams with `error`. */
export function closeC2s(server: C2sServer, error?: StreamError): Promise<void> {
  return server.closeAll(error);
}

/** How many streams a c2s server holds open. */
export function c2sConnectionCount(server: C2sServer): number {
  return server.streams.size;
}

function listenError(listener: C2sListener, err: NodeJS.ErrnoException): string {
  const where = `Cannot listen on ${listener.ip} port ${listener.port}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return `${where}: the port is in use`;
    case 'EACCES':
      return `${where}: permission denied (ports below 1024 need privileges)`;
    case 'EADDRNOTAVAIL':
      return `${where}: no such address on this machine`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${where}: the address does not resolve`;
    default:
      return `${where}: ${err.message}`;
  }
}

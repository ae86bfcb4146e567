import type { Server, Socket } from 'node:net';
import { openFilesLimits } from './open-files';

/** How many connections a listener holds, in all and from one address. */
export interface ConnectionLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
}

/** From one address, unless configured: a flood from one host must not take a listener's whole share. */
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 100;

/**
 * A listener's share of the open-files limit, unless configured: a quarter, so that a saturated
 * listener (or two) still leaves descriptors for the database, the log and the control socket.
 */
export function defaultMaxConnections(): number {
  const soft = openFilesLimits()?.soft;
  if (soft === undefined) return 1000;
  return Math.max(16, Math.min(10_000, Math.floor(soft / 4)));
}

/** How often a listener logs the connections it refuses, while it refuses them. */
const REFUSAL_LOG_INTERVAL = 60_000;

/**
 * Bounds the connections of `server`: past `maxConnections` in all the server closes a new one
 * as soon as it is accepted, and `admit` says whether one more from the same address fits
 * (counting it when it does). `limits` is read at each connection, so a reload may change it.
 * `refused` is told, at most once a minute, why connections are being closed.
 */
export function boundConnections(server: Server, limits: () => ConnectionLimits, refused: (why: string) => void): (socket: Socket) => boolean {
  const perAddress = new Map<string, number>();
  let loggedAt = 0;
  const say = (why: string) => {
    const now = Date.now();
    if (now - loggedAt < REFUSAL_LOG_INTERVAL) return;
    loggedAt = now;
    refused(why);
  };
  server.maxConnections = limits().maxConnections;
  server.on('drop', (data?: { remoteAddress?: string }) =>
    say(`max_connections (${server.maxConnections}) reached: refusing connections${data?.remoteAddress ? `, the latest from ${data.remoteAddress}` : ''}`),
  );
  return (socket) => {
    const { maxConnections, maxConnectionsPerIp } = limits();
    server.maxConnections = maxConnections;
    const address = socket.remoteAddress ?? '';
    const count = perAddress.get(address) ?? 0;
    if (count >= maxConnectionsPerIp) {
      say(`max_connections_per_ip (${maxConnectionsPerIp}) reached: refusing connections from ${address}`);
      return false;
    }
    perAddress.set(address, count + 1);
    socket.once('close', () => {
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left === 0) perAddress.delete(address);
      else perAddress.set(address, left);
    });
    return true;
  };
}

import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Caller } from '../../core/access';
import { CommandError, type ErrorCode } from '../../lib/errors';
import { decodeUtf8 } from '../../lib/utf8';
import type { Registry } from '../../core/registry';
import type { Command } from '../../core/command';

/** Who is asking, for the log and the limit on failed logins: the peer's address and port, and the transport. */
export interface Peer {
  readonly address: string;
  readonly port: number;
  readonly via: 'http' | 'xmlrpc';
}

/**
 * The client of a request: the connection's peer, or, when that peer is a trusted proxy, the
 * last address of X-Forwarded-For that is not one of the trusted proxies (every proxy appends
 * the address it got the request from, so entries left of an untrusted one may be forged).
 */
export function peerOf(req: IncomingMessage, via: Peer['via'], trusted: (address: string) => boolean): Peer {
  const socket = { address: req.socket.remoteAddress ?? '', port: req.socket.remotePort ?? 0, via };
  const header = req.headers['x-forwarded-for'];
  if (header === undefined || !trusted(socket.address)) return socket;
  const hops = (Array.isArray(header) ? header.join(',') : header).split(',').map((h) => h.trim());
  let client = socket.address;
  for (let i = hops.length - 1; i >= 0 && trusted(client); i--) {
    if (isIP(hops[i]) === 0) break;
    client = hops[i];
  }
  return client === socket.address ? socket : { address: client, port: 0, via };
}

/** What an HTTP transport needs from the node. */
export interface HttpDeps {
  readonly registry: Registry;
  /** Runs a command as `caller` through the node's one call path. */
  run(command: Command, args: Record<string, unknown>, caller: Caller): Promise<unknown>;
  /**
   * The caller named by an Authorization header, or an error: 401 when missing or wrong, 429
   * (`details.retryAfter`, seconds) while `peer` is refused for its failed logins.
   */
  authenticate(authorization: string | undefined, peer: Peer): Promise<Caller>;
  authenticatePassword(user: string, server: string, password: string, peer: Peer): Promise<Caller>;
  /** `account`, when given, is the one the token must belong to. */
  authenticateToken(token: string, peer: Peer, account?: string): Promise<Caller>;
  /** Whether a connection from `address` is a proxy whose X-Forwarded-For is believed. */
  trustedProxy(address: string): boolean;
}

export const MAX_BODY = 1024 * 1024;

/** HTTP statuses of the error codes; a new code does not compile until it has one. */
export const HTTP_STATUS = {
  bad_argument: 400,
  unknown_command: 404,
  not_found: 404,
  conflict: 409,
  not_allowed: 403,
  not_supported: 501,
  not_implemented: 501,
  unavailable: 503,
  failed: 400,
  internal: 500,
} as const satisfies Record<ErrorCode, number>;

/** A failed authentication: 401, not 403, so that a client knows to send credentials. */
export function unauthenticated(message: string): CommandError {
  return new CommandError('not_allowed', message, { details: { unauthenticated: true } });
}

/** Refused without a look at the credentials: the address failed too often of late. */
export function rateLimited(retryAfter: number): CommandError {
  return new CommandError('not_allowed', `Too many failed logins from this address: try again in ${retryAfter} s`, { details: { status: 429, retryAfter } });
}

export function statusOf(err: CommandError): number {
  return err.details?.unauthenticated ? 401 : HTTP_STATUS[err.code];
}

const EMPTY = Buffer.alloc(0);

function tooLarge(): CommandError {
  return new CommandError('bad_argument', `The request body is larger than ${MAX_BODY} bytes`, { details: { status: 413 } });
}

/**
 * The request body, refused (413) beyond MAX_BODY. Read from the stream's events rather than
 * its async iterator, which costs more than the rest of a small request: a body of one chunk
 * is that chunk, not a copy.
 */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    let size = 0;
    const done = () => {
      req.off('data', data);
      req.off('end', end);
      req.off('error', failed);
      req.off('close', closed);
    };
    const data = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        done();
        // As the stream's iterator does when its reader gives up, the rest is not read: the
        // request is destroyed apart from its socket, which still carries the answer.
        (req as unknown as { socket: null }).socket = null;
        req.destroy();
        return reject(tooLarge());
      }
      if (first === undefined) first = chunk;
      else (more ??= [first]).push(chunk);
    };
    const end = () => {
      done();
      resolve(more ? Buffer.concat(more, size) : (first ?? EMPTY));
    };
    const failed = (err: Error) => {
      done();
      reject(err);
    };
    // Closed before its end: the client went away with the body half sent.
    const closed = () => {
      done();
      reject(new CommandError('bad_argument', 'The request body was cut short'));
    };
    req.on('data', data);
    req.on('end', end);
    req.on('error', failed);
    req.on('close', closed);
  });
}

/** The request body as text; bytes that are not UTF-8 are refused, never read as U+FFFD. */
export async function readText(req: IncomingMessage): Promise<string> {
  const text = decodeUtf8(await readBody(req));
  if (text === undefined) throw new CommandError('bad_argument', 'The request body is not valid UTF-8');
  return text;
}

/** The media type of a Content-Type header, lower case, without its parameters; '' when absent. */
export function mediaType(contentType: string | undefined): string {
  if (contentType === 'application/json') return contentType;
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

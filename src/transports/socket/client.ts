import { connect, type Socket } from 'node:net';
import { CommandError, isErrorCode } from '../../lib/errors';
import { createLineReader, heldWriter, type ProgressKind, type Reply, type Request, type RequestId } from './protocol';

/** A request as the caller gives it: the client numbers it. */
type Call = WithoutId<Request>;
type WithoutId<R> = R extends unknown ? Omit<R, 'id'> : never;

export interface ControlClient {
  /** Sends a request and resolves with its result; progress goes to `onProgress`. */
  call(request: Call, onProgress?: (text: string, kind?: ProgressKind) => void): Promise<unknown>;
  /** False once the connection is gone (the node died or did not answer): every call now fails at once. */
  connected(): boolean;
  close(): void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  onProgress?: (text: string, kind?: ProgressKind) => void;
  timer?: NodeJS.Timeout;
}

/**
 * Connects to the node's control socket. Resolves `undefined` when no node runs there (no
 * socket, or a socket left behind by a node that died); fails with `unavailable` when a node
 * seems to be there but cannot be reached, saying which path, why, and what to do.
 */
export function connectControl(path: string, timeoutMs: number): Promise<ControlClient | undefined> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            socket.destroy();
            reject(unreachable(path, `it did not accept the connection within ${timeoutMs / 1000} s (is the node hung?)`, 'check its log, or stop it'));
          }, timeoutMs)
        : undefined;
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(createClient(socket, path, timeoutMs));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') return resolve(undefined);
      if (err.code === 'EACCES' || err.code === 'EPERM') {
        return reject(unreachable(path, 'permission denied', "run ctl as the node's user, or set ctl_socket_group in ctl.yml and join that group"));
      }
      reject(unreachable(path, err.message, 'check that the path is the socket of a ctl node'));
    });
  });
}

function unreachable(path: string, why: string, what: string): CommandError {
  return new CommandError('unavailable', `Cannot reach the node at ${path}: ${why}; ${what}`);
}

function createClient(socket: Socket, path: string, timeoutMs: number): ControlClient {
  const pending = new Map<RequestId, Pending>();
  let nextId = 1;
  let closing = false;
  /** Why the connection is gone: later calls fail with it at once instead of waiting for a timeout. */
  let lost: CommandError | undefined;

  // Any frame for a request shows the node is alive: the timeout counts silence, not duration.
  const arm = (id: RequestId, p: Pending) => {
    clearTimeout(p.timer);
    if (timeoutMs > 0) {
      p.timer = setTimeout(() => {
        pending.delete(id);
        const err = unreachable(path, `no answer within ${timeoutMs / 1000} s (is the node hung?)`, 'check its log, or raise --timeout');
        p.reject(err);
        if (pending.size === 0) {
          lost ??= err;
          socket.destroy();
        }
      }, timeoutMs);
    }
  };

  const failAll = (err: Error) => {
    for (const [, p] of pending) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    pending.clear();
  };

  socket.on(
    'data',
    createLineReader(
      (line) => {
        let reply: Reply;
        try {
          reply = JSON.parse(line) as Reply;
        } catch {
          return failAll(new CommandError('internal', `The node at ${path} sent a malformed reply`));
        }
        const p = reply.id === null ? undefined : pending.get(reply.id);
        if (!p) return;
        if ('alive' in reply) return arm(reply.id, p);
        if ('progress' in reply) {
          arm(reply.id, p);
          return p.onProgress?.(reply.progress, reply.transient ? 'working' : reply.summary ? 'summary' : undefined);
        }
        clearTimeout(p.timer);
        pending.delete(reply.id as RequestId);
        if (reply.ok) p.resolve(reply.result);
        else {
          const code = isErrorCode(reply.error.code) ? reply.error.code : 'internal';
          p.reject(new CommandError(code, reply.error.message, { details: reply.error.details }));
        }
      },
      () => failAll(new CommandError('internal', `The node at ${path} sent an oversized reply`)),
    ),
  );
  socket.on('error', () => undefined);
  socket.on('close', () => {
    if (closing) return;
    lost ??= unreachable(path, 'the node closed the connection', 'check its log');
    failAll(lost);
  });

  const out = heldWriter(socket);

  return {
    call(request, onProgress) {
      if (lost) return Promise.reject(lost);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const p: Pending = { resolve, reject, onProgress };
        pending.set(id, p);
        arm(id, p);
        out.write(JSON.stringify({ id, ...request }));
      });
    },
    connected: () => lost === undefined,
    close() {
      closing = true;
      out.flush();
      socket.end();
    },
  };
}

import { createServer, type Server, type Socket } from 'node:net';
import { toCommandError } from '../../lib/errors';
import { asRequest, createLineReader, heldWriter, HEARTBEAT, MAX_FRAME, type ProgressKind, type Reply, type Request } from './protocol';

/**
 * What the node does with one request: its result, or a thrown error. `connection` is the same
 * object for every request of one connection: what one caller sends in order, it expects run
 * in that order (a batch registers a user, then checks it).
 */
export type RequestHandler = (request: Request, progress: (text: string, kind?: ProgressKind) => void, connection: object) => Promise<unknown>;

export interface ControlServer {
  readonly server: Server;
  /** Ends every connection once what was written to it has been sent. */
  closeConnections(): void;
  connectionCount(): number;
}

/** The node's side of the control socket: frames in, handler calls, replies out. */
export function createControlServer(handle: RequestHandler): ControlServer {
  /** Each connection, with what writes the replies it holds. */
  const sockets = new Map<Socket, () => void>();
  // A client may half-close once it has sent its requests (`printf ... | nc -U`): the replies
  // still go back, and the node ends its side when the last one is written.
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    const connection = {};
    const out = heldWriter(socket);
    let inFlight = 0;
    let ended = false;
    const endWhenDone = () => {
      if (!ended || inFlight !== 0) return;
      out.flush();
      socket.end();
    };
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.on('end', () => {
      ended = true;
      endWhenDone();
    });
    sockets.set(socket, out.flush);
    const send = (reply: Reply) => {
      if (socket.destroyed || !socket.writable) return;
      out.write(JSON.stringify(reply));
    };
    const fail = (id: Request['id'] | null, message: string) => send({ id, ok: false, error: { code: 'bad_argument', message } });

    socket.on(
      'data',
      createLineReader(
        (line, utf8) => {
          if (line.trim() === '') return;
          let frame: unknown;
          try {
            frame = JSON.parse(line);
          } catch (err) {
            return fail(null, `Malformed request (not JSON): ${(err as Error).message}`);
          }
          const request = utf8 ? asRequest(frame) : 'the frame is not valid UTF-8';
          if (typeof request === 'string') {
            const id = (frame as { id?: unknown })?.id;
            return fail(typeof id === 'number' || typeof id === 'string' ? id : null, `Malformed request: ${request}`);
          }
          inFlight++;
          void serve(request, send, connection).finally(() => {
            inFlight--;
            endWhenDone();
          });
        },
        () => fail(null, `Request too large: the limit is ${MAX_FRAME} bytes`),
      ),
    );
  });

  async function serve(request: Request, send: (reply: Reply) => void, connection: object): Promise<void> {
    const alive = setInterval(() => send({ id: request.id, alive: true }), HEARTBEAT);
    try {
      const result = await handle(
        request,
        (text, kind) => send({ id: request.id, progress: text, ...(kind === 'working' ? { transient: true } : kind === 'summary' ? { summary: true } : {}) }),
        connection,
      );
      send({ id: request.id, ok: true, result: result === undefined ? null : result });
    } catch (err) {
      const e = toCommandError(err);
      const debug = 'command' in request && request.debug;
      const stack = debug && e.code === 'internal' ? (e.cause as Error | undefined)?.stack : undefined;
      const details = stack ? { ...e.details, stack } : e.details;
      send({ id: request.id, ok: false, error: { code: e.code, message: e.message, ...(details ? { details } : {}) } });
    } finally {
      clearInterval(alive);
    }
  }

  return {
    server,
    closeConnections() {
      for (const [s, flush] of sockets) {
        flush();
        s.end();
      }
    },
    connectionCount: () => sockets.size,
  };
}

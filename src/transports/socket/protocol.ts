/**
 * The control-socket protocol: newline-delimited JSON over a Unix socket. A client may send
 * many requests without waiting; every reply carries the id of its request.
 *
 *   request   {"id": 1, "command": "register", "args": {"user": "alice", ...}, "bulk"?: true, "debug"?: true, "strict"?: true,
 *             "sqlSchema"?: "pg-new"}
 *             {"id": 2, "op": "ping"}            the node answers {"id": 2, "ok": true, "result": "pong"}
 *             {"id": 3, "op": "sync"}            makes every write so far durable (end of a batch)
 *   progress  {"id": 1, "progress": "Waiting 60 seconds"}   zero or more, before the reply;
 *             with "transient": true, a status for a spinner rather than a line to keep;
 *             with "summary": true, what the command did, for people
 *   alive     {"id": 1, "alive": true}           every HEARTBEAT ms while the request runs, so a
 *                                                client can tell a long command from a hung node
 *   reply     {"id": 1, "ok": true, "result": <value>}
 *             {"id": 1, "ok": false, "error": {"code": "conflict", "message": "...", "details"?: {...}}}
 *
 * A frame that is not valid JSON, not a request, or longer than MAX_FRAME gets an error reply
 * with `"id": null`, and the connection goes on.
 */

import type { Socket } from 'node:net';
import type { ErrorCode } from '../../lib/errors';
import { decodeUtf8, loneSurrogateIn } from '../../lib/utf8';

export const MAX_FRAME = 16 * 1024 * 1024;
export const HEARTBEAT = 500;

export type Request =
  | {
      readonly id: RequestId;
      readonly command: string;
      readonly args: Record<string, unknown>;
      readonly bulk?: boolean;
      readonly debug?: boolean;
      readonly strict?: boolean;
      readonly sqlSchema?: string;
    }
  | { readonly id: RequestId; readonly op: 'ping' | 'sync' };

export type RequestId = number | string;

/** A progress frame: a line to keep (none), a spinner's status (`working`), or a summary. */
export type ProgressKind = 'working' | 'summary';

export interface WireError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

export type Reply =
  | { readonly id: RequestId | null; readonly ok: true; readonly result: unknown }
  | { readonly id: RequestId | null; readonly ok: false; readonly error: WireError }
  | { readonly id: RequestId; readonly progress: string; readonly transient?: true; readonly summary?: true }
  | { readonly id: RequestId; readonly alive: true };

/**
 * Lines for `socket`, held until the end of the event loop's turn and written as one text: a
 * batch has many on their way, and a corked socket still hands the kernel each line as its own
 * buffer. `flush` writes what is held at once (before the socket ends).
 */
export function heldWriter(socket: Pick<Socket, 'destroyed' | 'writable' | 'write'>): { write(line: string): void; flush(): void } {
  let held = '';
  const flush = () => {
    const text = held;
    held = '';
    if (text !== '' && !socket.destroyed && socket.writable) socket.write(text);
  };
  return {
    write(line) {
      if (held === '') setImmediate(flush);
      held += `${line}\n`;
    },
    flush,
  };
}

/**
 * Splits a byte stream into lines, refusing any line longer than `max` bytes: the rest of such
 * a line is skipped, and `onOversized` is told once per line. A line that is not UTF-8 comes
 * with `utf8` false, its bad bytes read as U+FFFD, so that its id can still be read.
 */
export function createLineReader(onLine: (line: string, utf8: boolean) => void, onOversized: () => void, max = MAX_FRAME) {
  let chunks: Buffer[] = [];
  let size = 0;
  let skipping = false;
  return (data: Buffer) => {
    let start = 0;
    for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10, start)) {
      const piece = data.subarray(start, nl);
      start = nl + 1;
      if (skipping) {
        skipping = false;
        continue;
      }
      if (size + piece.length > max) {
        onOversized();
      } else {
        chunks.push(piece);
        const bytes = Buffer.concat(chunks);
        const text = decodeUtf8(bytes);
        onLine(text ?? bytes.toString('utf8'), text !== undefined);
      }
      chunks = [];
      size = 0;
    }
    const rest = data.subarray(start);
    if (skipping || rest.length === 0) return;
    if (size + rest.length > max) {
      chunks = [];
      size = 0;
      skipping = true;
      onOversized();
      return;
    }
    chunks.push(rest);
    size += rest.length;
  };
}

/** Checks that a parsed frame is a request; returns why not otherwise. */
export function asRequest(frame: unknown): Request | string {
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return 'a request must be a JSON object';
  const f = frame as Record<string, unknown>;
  if (typeof f.id !== 'number' && typeof f.id !== 'string') return 'a request needs an "id" (a number or a string)';
  if ('op' in f) return f.op === 'ping' || f.op === 'sync' ? (f as Request) : `unknown op ${JSON.stringify(f.op)}`;
  if (typeof f.command !== 'string') return 'a request needs a "command" (a string)';
  if (typeof f.args !== 'object' || f.args === null || Array.isArray(f.args)) return 'a request needs "args" (a JSON object)';
  // JSON can spell a lone surrogate, which UTF-8 cannot carry: "p\ud800" and "p\udfff" would be one password.
  const lone = loneSurrogateIn(f.args);
  if (lone !== undefined) return `the argument ${lone} holds a lone surrogate, which is not Unicode text`;
  if (f.sqlSchema !== undefined && typeof f.sqlSchema !== 'string') return '"sqlSchema" must be a string';
  return f as Request;
}

/**
 * `ctl --url`: commands run on a server's JSON API (ejabberd's mod_http_api, or a ctl node's
 * /api) instead of here. This runner only translates: named arguments out as JSON, the answer
 * back into the command's result, HTTP errors into the errors a local run would raise.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isAbsolute } from 'node:path';
import type { Command } from '../../core/command';
import { Reshaped, type CommandRunner } from '../../core/runner';
import { CommandError, isErrorCode, type ErrorCode } from '../../lib/errors';
import type { Field, Type } from '../../schema/types';

export interface RemoteTarget {
  /** The API's base, e.g. `http://127.0.0.1:5280/api`; a command is POSTed to `URL/NAME`. */
  readonly url: string;
  /** The Authorization header, when the caller has credentials. */
  readonly authorization?: string;
  /** How long to wait for an answer, in ms; 0 waits forever. */
  readonly timeout: number;
}

/**
 * Where ejabberd names an argument otherwise than ctl does: ctl's name → ejabberd's. ejabberd
 * 23.01 reads some old names itself (add_rosteritem's `localserver`), not these; a server
 * that says one of the names on the right is missing is sent the call again with them.
 */
const EJABBERD_NAMES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  add_rosteritem: { localserver: 'localhost', server: 'host' },
  delete_rosteritem: { localserver: 'localhost', server: 'host' },
  srg_create: { name: 'label' },
  get_roster: { server: 'host' },
  get_offline_count: { server: 'host' },
  user_resources: { server: 'host' },
  send_stanza_c2s: { server: 'host' },
};

/** How long a message from the server may be before it is cut: an HTML error page is not a message. */
const MAX_MESSAGE = 300;

export function createHttpRunner(target: RemoteTarget): CommandRunner {
  const base = new URL(target.url.replace(/\/+$/, ''));
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new CommandError('bad_argument', `--url must be an http:// or https:// address, got '${target.url}'`);
  }
  const secure = base.protocol === 'https:';
  // One connection, kept open: `ctl batch` sends its lines one after the other over it.
  const agent = secure ? new HttpsAgent({ keepAlive: true, maxSockets: 1 }) : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  const where = `${base.origin}${base.pathname}`;
  /** Set once the server has shown it names arguments as ejabberd does. */
  let ejabberdNames = false;

  function post(name: string, body: unknown): Promise<{ status: number; text: string }> {
    const payload = Buffer.from(JSON.stringify(body), 'utf8');
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/json',
      'Content-Length': payload.length,
      Accept: 'application/json',
    };
    if (target.authorization !== undefined) headers.Authorization = target.authorization;
    const send = secure ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        {
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port,
          path: `${base.pathname}/${encodeURIComponent(name)}`,
          method: 'POST',
          headers,
          agent,
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      if (target.timeout > 0) {
        req.setTimeout(target.timeout, () => req.destroy(new CommandError('unavailable', `${where} did not answer within ${target.timeout / 1000} s`)));
      }
      req.on('error', reject);
      req.end(payload);
    });
  }

  async function call(command: Command, args: Record<string, unknown>): Promise<unknown> {
    const renames = EJABBERD_NAMES[command.name];
    let answer = await post(command.name, ejabberdNames && renames ? renamed(args, renames) : args);
    const missing = renames && !ejabberdNames ? missingArgument(answer) : undefined;
    if (renames && missing !== undefined && Object.values(renames).includes(missing)) {
      ejabberdNames = true;
      answer = await post(command.name, renamed(args, renames));
    }
    if (answer.status < 200 || answer.status > 299) throw httpError(command, answer, where);
    let json: unknown;
    try {
      json = JSON.parse(answer.text);
    } catch {
      throw new CommandError('failed', `${where} answered ${command.name} with something that is not JSON: ${shorten(answer.text)}`);
    }
    return fromJson(command.result, json);
  }

  return {
    async run(command, args) {
      for (const name of command.paths ?? []) {
        const path = args[name];
        if (typeof path === 'string' && !isAbsolute(path)) {
          throw new CommandError(
            'not_supported',
            `${command.name}: with --url the ${name} is a file on the server's disk, so it must be an absolute path, got '${path}'`,
            { details: { arg: name } },
          );
        }
      }
      try {
        return await call(command, args);
      } catch (err) {
        if (err instanceof CommandError) throw err;
        // A server that stops or restarts may close the connection before it answers.
        if (command.lifecycle && isConnectionLoss(err)) return command.result.type.kind === 'rescode' ? true : '';
        if (typeof (err as NodeJS.ErrnoException).code !== 'string') throw err;
        throw networkError(err, where);
      }
    },
    async close() {
      agent.destroy();
    },
  };
}

function renamed(args: Record<string, unknown>, names: Readonly<Record<string, string>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(args).map(([k, v]) => [names[k] ?? k, v]));
}

/** ejabberd's 400 for an argument it wanted and did not get: `"Request have missing argument: host"`. */
function missingArgument(answer: { status: number; text: string }): string | undefined {
  if (answer.status !== 400) return undefined;
  return /^"Request have missing argument: (\w+)"$/.exec(answer.text.trim())?.[1];
}

function isConnectionLoss(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE' || (err as Error).message === 'socket hang up';
}

function networkError(err: unknown, where: string): CommandError {
  const e = err as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    ECONNREFUSED: 'connection refused (is the server running, and listening there?)',
    ENOTFOUND: 'no such host',
    EAI_AGAIN: 'the host name cannot be resolved now',
    ECONNRESET: 'the server closed the connection',
    EHOSTUNREACH: 'the host is unreachable',
    ENETUNREACH: 'the network is unreachable',
    ETIMEDOUT: 'the connection timed out',
  };
  return new CommandError('unavailable', `Cannot reach ${where}: ${why[e.code ?? ''] ?? e.message}`, { cause: err });
}

/** What an error status stands for when the body does not say it in ctl's words. */
function codeOfStatus(status: number): ErrorCode {
  if (status === 401 || status === 403) return 'not_allowed';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 501) return 'not_implemented';
  if (status === 503) return 'unavailable';
  return 'failed';
}

/**
 * A ctl node says `{"status":"error","code":"conflict","message":...}`: its code is ours, so the
 * exit status is what a local run gives. ejabberd says the same with a number for code, or
 * sends a bare JSON string; the HTTP status then decides.
 */
function httpError(command: Command, answer: { status: number; text: string }, where: string): CommandError {
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    body = answer.text.trim();
  }
  const obj = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;
  const message = shorten(String(obj ? (obj.message ?? answer.text) : body) || `HTTP ${answer.status}`);
  if (obj && isErrorCode(obj.code)) {
    const details = typeof obj.argument === 'string' ? { arg: obj.argument } : undefined;
    return new CommandError(obj.code, message, { details });
  }
  // ejabberd's answer for a name that is no command it knows (code 40).
  if (answer.status === 404 && obj?.code === 40) {
    return new CommandError('unknown_command', `The server at ${where} has no command '${command.name}' (${message})`);
  }
  const status = answer.status === 401 ? ` (HTTP 401 from ${where}: check the credentials)` : answer.status === 403 ? ` (HTTP 403 from ${where})` : '';
  return new CommandError(codeOfStatus(answer.status), `${message}${status}`);
}

function shorten(text: string): string {
  const line = text.trim().split('\n')[0];
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE)}…` : line;
}

/**
 * The answer as the value the command's result type declares. Scalars may come wrapped in an
 * object of one member, as ctl and ejabberd's API version 0 send them (`{"res": 3}`; ejabberd
 * names the member after its own result, which may not be ours). An answer of another shape
 * (a server whose command returns something else) is kept in the shape it has.
 */
export function fromJson(result: Field, json: unknown): unknown {
  const value = decode(result.type, json);
  if (value !== NO_FIT) return value;
  const shape = inferField(result.name, json);
  return new Reshaped(shape, coerce(shape.type, json));
}

const NO_FIT = Symbol('no fit');

function decode(t: Type, json: unknown): unknown {
  if (json === NO_FIT) return NO_FIT;
  switch (t.kind) {
    case 'rescode':
      if (typeof json === 'boolean') return json;
      return typeof json === 'number' ? json === 0 : NO_FIT;
    case 'restuple':
      return typeof json === 'string' ? json : NO_FIT;
    case 'integer':
      if (typeof json === 'number' && Number.isInteger(json)) return json;
      return decode(t, unwrap(json));
    case 'string':
    case 'binary':
    case 'atom':
      if (typeof json === 'string') return json;
      return decode(t, unwrap(json));
    case 'list': {
      if (!Array.isArray(json)) return NO_FIT;
      const out = json.map((v) => decode(t.elem.type, v));
      return out.includes(NO_FIT) ? NO_FIT : out;
    }
    case 'tuple': {
      if (typeof json !== 'object' || json === null || Array.isArray(json)) return NO_FIT;
      const obj = json as Record<string, unknown>;
      if (Object.keys(obj).length !== t.fields.length) return NO_FIT;
      const out: Record<string, unknown> = {};
      for (const f of t.fields) {
        if (!Object.hasOwn(obj, f.name)) return NO_FIT;
        const v = decode(f.type, obj[f.name]);
        if (v === NO_FIT) return NO_FIT;
        out[f.name] = v;
      }
      return out;
    }
  }
}

/** The value of an object of one member; NO_FIT for anything else. */
function unwrap(json: unknown): unknown {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return NO_FIT;
  const values = Object.values(json);
  return values.length === 1 ? values[0] : NO_FIT;
}

function inferField(name: string, json: unknown): Field {
  if (Array.isArray(json)) return { name, type: { kind: 'list', elem: inferField(name, json[0] ?? '') } };
  if (typeof json === 'object' && json !== null) {
    return { name, type: { kind: 'tuple', fields: Object.entries(json).map(([k, v]) => inferField(k, v)) } };
  }
  return { name, type: { kind: typeof json === 'number' ? 'integer' : 'string' } };
}

function coerce(t: Type, json: unknown): unknown {
  if (t.kind === 'list') return Array.isArray(json) ? json.map((v) => coerce(t.elem.type, v)) : [];
  if (t.kind === 'tuple') {
    const obj = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
    return Object.fromEntries(t.fields.map((f) => [f.name, coerce(f.type, obj[f.name])]));
  }
  if (typeof json === 'object' && json !== null) return JSON.stringify(json);
  return json === null || json === undefined ? '' : t.kind === 'integer' && typeof json === 'number' ? json : String(json);
}

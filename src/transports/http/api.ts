import type { IncomingMessage, ServerResponse } from 'node:http';
import { CommandError, toCommandError } from '../../lib/errors';
import { lookup } from '../../core/executor';
import { callerArgs } from '../../core/args';
import { decodeWord } from '../../schema/cli';
import { toJson } from '../../schema/json';
import { isScalar, type Type } from '../../schema/types';
import { loneSurrogateIn } from '../../lib/utf8';
import { mediaType, peerOf, readText, statusOf, type HttpDeps } from './common';

/**
 * The JSON API (ejabberd's mod_http_api): `POST /api/<command>` with a JSON object of named
 * arguments, or `GET /api/<command>?name=value` for a read-only command whose arguments are
 * all scalars; the reply is the result in the API's JSON shape, or
 * `{"status":"error","code":...,"message":...}`.
 *
 * A GET never changes anything and a POST must say it carries JSON: a link, an image or a
 * cross-site form (which can only send text/plain, urlencoded or multipart bodies) in a browser
 * that holds the credentials cannot run a command.
 */
export async function handleApi(req: IncomingMessage, res: ServerResponse, name: string, deps: HttpDeps): Promise<void> {
  try {
    if (name === '') return send(res, 200, listing(deps));
    const commandName = decodePath(name, req.url ?? '');
    if (req.method !== 'POST' && req.method !== 'GET') {
      const known = deps.registry.get(commandName);
      const allow = known?.readOnly ? 'GET, POST' : 'POST';
      throw new CommandError('bad_argument', `Use ${allow === 'POST' ? 'POST' : 'POST or GET'}, not ${req.method}`, { details: { status: 405, allow } });
    }
    const caller = await deps.authenticate(req.headers.authorization, peerOf(req, 'http', deps.trustedProxy));
    const command = lookup(deps.registry, commandName);
    if (req.method === 'GET' && !command.readOnly) {
      throw new CommandError('bad_argument', `${command.name} changes state: call it with POST and a JSON body`, { details: { status: 405 } });
    }
    if (req.method === 'POST') requireJson(req.headers['content-type']);
    const args = req.method === 'GET' ? queryArgs(command, req.url ?? '') : await bodyArgs(req);
    const value = await deps.run(command, args, caller);
    send(res, 200, toJson(command.result, value));
  } catch (err) {
    const e = toCommandError(err);
    const status = (e.details?.status as number | undefined) ?? statusOf(e);
    if (status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="ctl", charset="UTF-8"');
    if (status === 405) res.setHeader('Allow', (e.details?.allow as string | undefined) ?? 'POST');
    if (status === 429) res.setHeader('Retry-After', String(e.details?.retryAfter as number));
    send(res, status, { status: 'error', code: e.code, message: e.message });
  }
}

/** The command name of the path, percent-decoded; a malformed encoding is the client's error. */
function decodePath(name: string, url: string): string {
  if (!name.includes('%')) return name;
  try {
    return decodeURIComponent(name);
  } catch {
    throw new CommandError('bad_argument', `The request path is not valid percent-encoded UTF-8: ${url.split('?')[0]}`);
  }
}

function requireJson(contentType: string | undefined): void {
  const type = mediaType(contentType);
  if (type === 'application/json') return;
  const message =
    type === '' ? 'The request body must be application/json (send Content-Type: application/json)' : `The request body must be application/json, not ${type}`;
  throw new CommandError('bad_argument', message, { details: { status: 415 } });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

async function bodyArgs(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readText(req);
  if (body.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    throw new CommandError('bad_argument', `The request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CommandError('bad_argument', 'The request body must be a JSON object of named arguments');
  }
  // The body is UTF-8, so a lone surrogate can only come from a \u escape of one.
  const lone = SURROGATE_ESCAPE.test(body) ? loneSurrogateIn(parsed) : undefined;
  if (lone !== undefined) throw new CommandError('bad_argument', `The request body holds a lone surrogate in ${lone}, which is not Unicode text`);
  return parsed as Record<string, unknown>;
}

/** Query values are text, decoded as the command line decodes words (integers included). */
function queryArgs(command: ReturnType<typeof lookup>, url: string): Record<string, unknown> {
  const fields = callerArgs(command);
  const nonScalar = fields.find((f) => !isScalar(f.type));
  if (nonScalar) {
    throw new CommandError('bad_argument', `${command.name} takes a ${nonScalar.type.kind} (${nonScalar.name}): call it with POST and a JSON body`, {
      details: { status: 405, allow: 'POST' },
    });
  }
  // fromEntries keeps a '__proto__' key as an argument, for the executor to refuse.
  return Object.fromEntries(
    queryPairs(url).map(([k, v]) => {
      const field = fields.find((f) => f.name === k);
      return [k, field ? decodeWord(field, v) : v];
    }),
  );
}

/**
 * The name=value pairs of the query, percent-decoded strictly: URLSearchParams reads bytes that
 * are not UTF-8 as U+FFFD (p%FFw and p%FEw would be one password) and keeps a bad escape as text.
 */
function queryPairs(url: string): [string, string][] {
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1).split('#')[0] : '';
  return query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const [k, v] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
      const name = decodeQuery(k);
      const value = decodeQuery(v);
      if (name === undefined || value === undefined) {
        throw new CommandError('bad_argument', `The query argument '${name ?? k}' is not valid percent-encoded UTF-8`);
      }
      return [name, value];
    });
}

function decodeQuery(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** `GET /api`: every command with its arguments and result, from the registry. */
function listing(deps: HttpDeps) {
  const label = (t: Type): unknown =>
    t.kind === 'list'
      ? { list: { name: t.elem.name, type: label(t.elem.type) } }
      : t.kind === 'tuple'
        ? { tuple: t.fields.map((f) => ({ name: f.name, type: label(f.type) })) }
        : t.kind;
  return deps.registry.list().map((c) => ({
    name: c.name,
    desc: c.desc,
    policy: c.policy,
    implemented: c.handler !== undefined,
    args: callerArgs(c).map((a) => ({ name: a.name, type: label(a.type) })),
    result: { name: c.result.name, type: label(c.result.type) },
  }));
}

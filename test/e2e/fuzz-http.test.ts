/**
 * The HTTP JSON API under a seeded stream of hostile requests, each written byte for byte:
 * mutated bodies of real commands, wrong content types, paths and queries that are not valid
 * percent-encoded UTF-8, bodies that are not UTF-8, lone surrogates, deep nesting, bodies over
 * the limit. Every answer is a JSON result or a JSON error with a 4xx status (a 500 only from a
 * command whose crash is documented), the node still answers, and a refused request left the
 * database as it was. Callers authenticate with a valid bearer token: credentials are not fuzzed.
 */
import { callerArgs } from '../../src/core/args';
import { decodeUtf8 } from '../../src/lib/utf8';
import { isScalar } from '../../src/schema/types';
import type { ControlClient } from '../helpers/fuzz';
import {
  argsFor,
  BAD_UTF8,
  CRASHING,
  fuzzableCommands,
  jsonText,
  mutateBytes,
  nested,
  Pairs,
  randomName,
  Raw,
  rawHttp,
  requestHead,
  Rng,
  shown,
  openFuzzNode,
  closeFuzzNode,
  UnchangedCheck,
  type Json,
  type RawResponse,
} from '../helpers/fuzz';
import type { HttpNode } from '../helpers/http-node';

jest.setTimeout(240_000);

const SEED = 0x5eed_0002;
const INPUTS = 1200;

let n: HttpNode;
let client: ControlClient;
let token: string;
beforeAll(async () => ({ n, client, token } = await openFuzzNode()));
afterAll(() => closeFuzzNode({ n, client }));

const commands = fuzzableCommands();
const names = commands.map((c) => c.name);
/** The commands a GET may call: read-only, with scalar arguments only (a list or tuple is 405). */
const gettable = commands.filter((c) => c.readOnly && callerArgs(c).every((f) => isScalar(f.type)));

/** What a request must get, beyond a clean answer. */
interface Expect {
  /** The status it must have, and what its message must say. */
  readonly status?: number;
  readonly message?: RegExp;
  /** The command it names, when it names one exactly: a 500 is excused for a documented crash. */
  readonly command?: string;
}

interface Input {
  readonly method: string;
  readonly path: Buffer;
  readonly contentType?: string;
  readonly body: Buffer;
  readonly expect: Expect;
}

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/json ;x=y'];
const OTHER_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/jsonx',
  'text/json',
  'application/xml',
  '*/*',
  ';application/json',
];

/** A percent-encoding that is not UTF-8, or no percent-encoding at all. */
const BAD_PERCENT = ['%', '%z1', '%4', '%c3', '%ff', '%ed%a0%80', '%c0%af', '%e2%82'];

/** A body of named arguments, with a lone surrogate spelled in one of its strings when `lone`. */
function argsBody(rng: Rng, args: Pairs, lone: boolean): { body: Buffer; member?: string } {
  if (!lone) return { body: Buffer.from(jsonText(args)) };
  const strings = args.pairs.filter(([, v]) => typeof v === 'string');
  if (strings.length === 0) return { body: Buffer.from(jsonText(args)) };
  const [member] = rng.pick(strings);
  const pairs = args.pairs.map(([k, v]) => [k, k === member ? new Raw(`"${rng.pick(['\\ud800', '\\udfff', 'a\\udbffb', '\\udc00\\ud800'])}"`) : v] as const);
  // A key given twice is read as its last value: the surrogate must be that one.
  return { body: Buffer.from(jsonText(new Pairs(pairs.filter(([k], i) => pairs.findIndex(([j]) => j === k) === i)))), member };
}

function input(rng: Rng): Input {
  const command = rng.pick(commands);
  const auth = { method: 'POST', contentType: 'application/json' };
  const path = Buffer.from(`/api/${command.name}`);
  const kind = rng.int(20);
  if (kind < 6) return { ...auth, path, body: Buffer.from(jsonText(argsFor(rng, command))), expect: { command: command.name } };
  if (kind < 9) return { ...auth, path, body: mutateBytes(rng, Buffer.from(jsonText(argsFor(rng, command)))), expect: { command: command.name } };
  if (kind === 9) {
    const { body, member } = argsBody(rng, argsFor(rng, command), true);
    return {
      ...auth,
      path,
      body,
      // Another member may hold one already, and come first.
      expect:
        member === undefined ? { command: command.name } : { status: 400, message: /^The request body holds a lone surrogate in /, command: command.name },
    };
  }
  if (kind === 10) {
    const text = Buffer.from(jsonText(argsFor(rng, command)));
    const at = 1 + rng.int(text.length - 1);
    const body = Buffer.concat([text.subarray(0, at), rng.pick(BAD_UTF8), text.subarray(at)]);
    return { ...auth, path, body, expect: { status: 400, message: /^The request body is not valid UTF-8$/, command: command.name } };
  }
  if (kind === 11) {
    const type = rng.pick([...OTHER_TYPES, undefined]);
    return { method: 'POST', path, contentType: type, body: Buffer.from(jsonText(argsFor(rng, command))), expect: { status: 415, command: command.name } };
  }
  if (kind === 12) {
    const type = rng.pick(JSON_TYPES);
    return { method: 'POST', path, contentType: type, body: Buffer.from(jsonText(argsFor(rng, command))), expect: { command: command.name } };
  }
  if (kind === 13) {
    // At the end, where no letter of the name can complete it.
    const bad = Buffer.from(`/api/${command.name}${rng.pick(BAD_PERCENT)}`);
    return { ...auth, path: bad, body: Buffer.from('{}'), expect: { status: 400, message: /not valid percent-encoded UTF-8/ } };
  }
  if (kind === 14) {
    // A name spelled with percent-encodings, or mangled, or with bytes in the path as they are.
    const name = randomName(rng, names);
    const spelled = rng.chance(0.5)
      ? [...name].map((c) => (rng.chance(0.3) ? encodeURIComponent(c).replace(/^[a-z_0-9]$/i, (x) => `%${x.charCodeAt(0).toString(16)}`) : c)).join('')
      : name;
    const raw = rng.chance(0.2)
      ? Buffer.concat([Buffer.from('/api/'), rng.pick([Buffer.from('é'), Buffer.from([0xff]), Buffer.from(' '), Buffer.from('\t')]), Buffer.from(spelled)])
      : Buffer.from(`/api/${spelled}`);
    return { ...auth, path: raw, body: Buffer.from(jsonText(argsFor(rng, command))), expect: {} };
  }
  if (kind === 15) return { ...auth, path, body: Buffer.from(jsonText(deepBody(rng, command.name))), expect: { status: 400, command: command.name } };
  if (kind === 16) {
    const body = rng.pick<Json>([
      [],
      'x',
      1,
      null,
      true,
      new Raw(''),
      new Raw('   '),
      new Raw('{'),
      new Raw('{}{}'),
      new Raw('{"a":1}x'),
      new Raw('\ufeff{}'),
      new Raw('{"a":1,}'),
    ]);
    return { ...auth, path, body: Buffer.from(jsonText(body)), expect: { command: command.name } };
  }
  if (kind === 17) return { ...auth, path, body: Buffer.from(`{"x":"${'y'.repeat(1024 * 1024)}"}`), expect: { status: 413, command: command.name } };
  if (kind === 18) return getInput(rng);
  return {
    ...auth,
    method: rng.pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'get', 'FROB']),
    path,
    body: Buffer.from('{}'),
    expect: { command: command.name },
  };
}

/** A body whose one argument is nested far past any type a command takes. */
function deepBody(rng: Rng, name: string): Json {
  const command = commands.find((c) => c.name === name);
  const args = argsFor(rng, command!).pairs.filter(([k]) => k !== '');
  const depth = rng.pick([65, 1000, 100_000]);
  if (args.length === 0) return new Pairs([['deep', nested(depth, rng.chance(0.5))]]);
  const i = rng.int(args.length);
  return new Pairs(args.map(([k, v], j) => [k, j === i ? nested(depth, rng.chance(0.5), v) : v] as const));
}

/** GET of a read-only command with query arguments: some well spelled, some not percent-encoded UTF-8. */
function getInput(rng: Rng): Input {
  const command = rng.pick(gettable);
  const pairs = argsFor(rng, command).pairs.map(([k, v]) => [k, typeof v === 'string' || typeof v === 'number' ? String(v) : jsonText(v)] as const);
  let bad = false;
  const query = pairs
    .map(([k, v]) => {
      let value = encodeURIComponent(v);
      if (rng.chance(0.3)) {
        const at = rng.int(value.length + 1);
        const spliced = rng.pick(['%ff', '%ed%a0%80', '%c3', '%c0%af', '%fe%ff']);
        value = `${value.slice(0, at)}${spliced}${value.slice(at)}`;
        bad = true;
      }
      return `${encodeURIComponent(k)}=${value}`;
    })
    .join('&');
  return {
    method: 'GET',
    path: Buffer.from(`/api/${command.name}?${query}`),
    body: Buffer.alloc(0),
    expect: bad ? { status: 400, message: /not valid percent-encoded UTF-8/, command: command.name } : { command: command.name },
  };
}

/** What is wrong with a response, or undefined when it is a JSON result or a clean JSON error. */
function badResponse(r: RawResponse, req: Input): string | undefined {
  const text = decodeUtf8(r.body);
  if (text === undefined) return 'a body that is not UTF-8';
  // Node's own parser refuses a request line it cannot read (or too long: 431), before any handler sees it.
  if ((r.status === 400 || r.status === 431) && r.headers['content-type'] === undefined && text === '') return undefined;
  if (req.method === 'HEAD') return r.status >= 400 && r.status < 500 ? undefined : `status ${r.status}`;
  if (r.headers['content-type'] !== 'application/json') return `content type ${r.headers['content-type']}`;
  let body: { status?: unknown; code?: unknown; message?: unknown };
  try {
    body = JSON.parse(text);
  } catch {
    return 'a body that is not JSON';
  }
  const crash = req.expect.command !== undefined && CRASHING.has(req.expect.command);
  if (r.status === 200) return undefined;
  const unsupported = r.status === 501 && (body?.code === 'not_implemented' || body?.code === 'not_supported');
  if (r.status >= 500 && !(r.status === 500 && crash) && !unsupported) return `status ${r.status}`;
  if (r.status < 400) return `status ${r.status}`;
  if (body?.status !== 'error' || typeof body.code !== 'string' || typeof body.message !== 'string' || body.message === '')
    return 'an error without code and message';
  if (/\n\s+at /.test(body.message)) return 'a stack trace in the message';
  // A command not implemented yet says so before it looks at its arguments.
  if (r.status === 501) return undefined;
  // A command the caller may not run over HTTP is refused before its arguments are read.
  const forbidden = r.status === 403 && body.code === 'not_allowed' && req.expect.status === 400;
  if (req.expect.status !== undefined && r.status !== req.expect.status && !forbidden) return `status ${r.status}, not ${req.expect.status}`;
  if (req.expect.message && !req.expect.message.test(body.message)) return `a message that does not match ${req.expect.message}`;
  return undefined;
}

test(`${INPUTS} seeded hostile HTTP requests: JSON answers, never a 500, a node that answers, nothing changed by a refused request`, async () => {
  const rng = new Rng(SEED);
  const unchanged = new UnchangedCheck(client, n.dir);
  const problems: string[] = [];
  let refused = 0;
  let expected = 0;
  for (let i = 0; i < INPUTS && problems.length < 5; i++) {
    const req = input(rng);
    const headers: [string, string][] = [['Authorization', `Bearer ${token}`]];
    if (req.contentType !== undefined) headers.push(['Content-Type', req.contentType]);
    const what = `${req.method} ${shown(req.path)} ${req.contentType ?? '(no type)'} ${shown(req.body)}`;
    await unchanged.before();
    let r: RawResponse;
    try {
      r = await rawHttp(n.url, requestHead(req.method, req.path, headers, req.body), req.body);
    } catch (err) {
      problems.push(`${(err as Error).message}: ${what}`);
      continue;
    }
    if (req.expect.status !== undefined) expected++;
    const bad = badResponse(r, req);
    if (bad) problems.push(`${bad}: ${what} gave ${r.status} ${shown(r.body)}`);
    if (r.status !== 200) refused++;
    const changed = await unchanged.after(r.status !== 200);
    if (changed) problems.push(`${changed}: ${what} gave ${r.status} ${shown(r.body)}`);
    if (i % 50 === 49 && (await client.ping()).result !== 'pong') problems.push(`no pong after ${what}`);
  }
  expect(problems).toEqual([]);
  expect(await client.ping()).toEqual({ id: 'ping', ok: true, result: 'pong' });
  const echo = await rawHttp(
    n.url,
    requestHead(
      'POST',
      '/api/echo_string',
      [
        ['Authorization', `Bearer ${token}`],
        ['Content-Type', 'application/json'],
      ],
      Buffer.from('{"thisstring":"still here"}'),
    ),
    Buffer.from('{"thisstring":"still here"}'),
  );
  expect([echo.status, echo.body.toString()]).toEqual([200, '{"thatstring":"still here"}']);
  // The stream must reach the handlers and be refused there too, or it tests nothing.
  expect(refused).toBeGreaterThan(INPUTS / 3);
  expect(refused).toBeLessThan(INPUTS);
  expect(expected).toBeGreaterThan(INPUTS / 4);
  expect(unchanged.checked).toBe(refused);
});

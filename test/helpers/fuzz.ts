/**
 * What the fuzz tests share: a seeded generator (the same inputs on every run, so that a failure
 * can be replayed), mutations of valid requests, arguments of the right and the wrong types for
 * real commands, a raw control-socket client, and a digest of everything the node stores.
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { allCommands } from '../../commands';
import { callerArgs } from '../../src/core/args';
import type { Command } from '../../src/core/command';
import type { Field, Type } from '../../src/schema/types';
import { resolveHome } from '../../src/config/home';
import { startHttpNode, type HttpNode } from './http-node';

/** mulberry32: a tiny PRNG whose whole state is one 32-bit number. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** A whole number in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

/** JSON text written as it stands: numbers no double holds, escapes, anything. */
export class Raw {
  constructor(readonly text: string) {}
}

/** An object written with its keys in this order, repeated keys included. */
export class Pairs {
  constructor(readonly pairs: readonly (readonly [string, Json])[]) {}
}

export type Json = null | boolean | number | string | Raw | Pairs | Json[] | { [k: string]: Json };

export function jsonText(v: Json): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof Pairs) return `{${v.pairs.map(([k, x]) => `${JSON.stringify(k)}:${jsonText(x)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(jsonText).join(',')}]`;
  if (v !== null && typeof v === 'object') return jsonText(new Pairs(Object.entries(v)));
  return JSON.stringify(v);
}

/** Bytes that are not UTF-8: a lone continuation, a cut sequence, an overlong form, a surrogate, 0xff. */
export const BAD_UTF8 = [Buffer.from([0x80]), Buffer.from([0xc3]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xff, 0xfe])];

/** A depth of nesting: mostly a few hundred levels, now and then far more than a call stack can follow. */
export function depthOf(rng: Rng): number {
  return rng.chance(0.1) ? 100_000 : 1 + rng.int(400);
}

/** A value nested `depth` levels deep, in arrays or in objects. */
export function nested(depth: number, objects: boolean, core: Json = 1): Raw {
  return new Raw(objects ? `${'{"a":'.repeat(depth)}${jsonText(core)}${'}'.repeat(depth)}` : `${'['.repeat(depth)}${jsonText(core)}${']'.repeat(depth)}`);
}

/** Mutates bytes: flips, cuts, repeats and splices in random or non-UTF-8 bytes. */
export function mutateBytes(rng: Rng, input: Buffer, rounds = 1 + rng.int(3)): Buffer {
  let b = Buffer.from(input);
  for (let r = 0; r < rounds && b.length > 0; r++) {
    const at = rng.int(b.length);
    switch (rng.int(6)) {
      case 0:
        b[at] ^= 1 << rng.int(8);
        break;
      case 1:
        b = b.subarray(0, at);
        break;
      case 2: {
        const len = 1 + rng.int(Math.min(32, b.length - at));
        b = Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
        break;
      }
      case 3:
        b = Buffer.concat([b.subarray(0, at), rng.pick(BAD_UTF8), b.subarray(at)]);
        break;
      case 4:
        b = Buffer.concat([b.subarray(0, at), rng.bytes(1 + rng.int(8)), b.subarray(at)]);
        break;
      default:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + rng.int(8))]);
    }
  }
  return b;
}

/** Integers at and beyond every edge: past 2^53, past a Date, fractions, -0, exponents. */
const NUMBERS: readonly Json[] = [
  0,
  1,
  -1,
  7,
  365,
  2 ** 31,
  -(2 ** 31) - 1,
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  8_640_000_000_001,
  100_000_000,
  1.5,
  new Raw('-0'),
  new Raw('1e308'),
  new Raw('1e400'),
  new Raw('9007199254740993'),
  new Raw('123456789012345678901234567890'),
  new Raw('0.0000000000000000000001'),
];

/** Texts a command must refuse or store faithfully: names, JIDs, markup, controls, long ones. */
const TEXTS: readonly Json[] = [
  'localhost',
  'bob',
  'alice',
  'carol',
  'nowhere.example',
  '',
  ' ',
  'a@b/c',
  'alice@localhost',
  'alice@localhost/res',
  'straße',
  'ALICE',
  '😀',
  'x\u0000y',
  'u\u0085v',
  'zw\u200bsp',
  'rtl\u202eo',
  new Raw('"lone \\ud800 surrogate"'),
  new Raw('"\\udfff"'),
  '<x/>',
  '<query xmlns="jabber:iq:privacy"><list name="l"><item action="allow" order="1"/></list></query>',
  '<message to="bob@localhost"><body>hi</body></message>',
  '<!DOCTYPE a [<!ENTITY e "e">]><a>&e;</a>',
  '<a>',
  'FN',
  'N',
  'chat',
  'normal',
  'both',
  'none',
  'online',
  'available',
  'Friends;Work',
  '../../etc/passwd',
  '%s%n',
  '12abc',
  '1e3',
  'x'.repeat(3000),
];

/** Host names for the arguments that take one. */
const HOSTS: readonly Json[] = ['localhost', 'localhost', 'nowhere.example', '', 'LOCALHOST', 'local host', 'conference.localhost'];

const HOSTISH = /host|server|service/;

/** A value of the field's type, drawn from edges and ordinary values. */
export function valueOf(rng: Rng, field: Field, depth = 0): Json {
  const t = field.type;
  if (t.kind === 'integer') return rng.pick(NUMBERS);
  if (t.kind === 'list') return depth > 3 ? [] : Array.from({ length: rng.int(4) }, () => valueOf(rng, t.elem, depth + 1));
  if (t.kind === 'tuple') return Object.fromEntries(t.fields.map((f) => [f.name, valueOf(rng, f, depth + 1)]));
  return HOSTISH.test(field.name) ? rng.pick(HOSTS) : rng.pick(TEXTS);
}

/** A value of another type than the field's (or of no type a command takes). */
export function wrongValue(rng: Rng, type: Type): Json {
  const choices: Json[] = [null, true, false, {}, [], [1, 'a'], { a: 1 }, nested(depthOf(rng), rng.chance(0.5))];
  if (type.kind !== 'integer') choices.push(rng.pick(NUMBERS));
  if (type.kind === 'integer') choices.push('5', '', 'x', '0x10', new Raw('"12abc"'));
  if (type.kind === 'list' || type.kind === 'tuple') choices.push('a,b', 'a:b');
  return rng.pick(choices);
}

/** Commands a fuzzer may call: none stops, restarts, reconfigures the node, or names files. */
export function fuzzableCommands(): Command[] {
  const off = new Set(['reload_config', 'set_loglevel', 'reopen_log', 'rotate_log', 'delete_old_users', 'delete_old_users_vhost', 'push_alltoall']);
  return allCommands.filter((c) => !c.lifecycle && !c.exclusive && !c.paths && !off.has(c.name));
}

/** The commands whose crash is their documented behaviour. */
export const CRASHING = new Set(['this_crashes', 'this_wrong_args', 'this_wrong_return']);

/**
 * Named arguments for `command`: mostly values of the right types, then now and then one
 * missing, one unknown, one of the wrong type, one deep or a key given twice.
 */
export function argsFor(rng: Rng, command: Command): Pairs {
  const fields = callerArgs(command);
  let pairs: (readonly [string, Json])[] = fields.map((f) => [f.name, valueOf(rng, f)] as const);
  const damage = rng.int(8);
  if (damage === 0 && pairs.length > 0) pairs.splice(rng.int(pairs.length), 1);
  if (damage === 1) pairs.push([rng.pick(['extra', '', '__proto__', 'constructor', 'user ', 'USER']), rng.pick(TEXTS)]);
  if (damage === 2 && pairs.length > 0) {
    const i = rng.int(pairs.length);
    pairs[i] = [pairs[i][0], wrongValue(rng, fields[i].type)];
  }
  if (damage === 3 && pairs.length > 0) {
    const i = rng.int(pairs.length);
    pairs.push([pairs[i][0], valueOf(rng, fields[i])]);
  }
  if (damage === 4 && pairs.length > 0) {
    const i = rng.int(pairs.length);
    pairs[i] = [pairs[i][0], nested(depthOf(rng), rng.chance(0.5), valueOf(rng, fields[i]))];
  }
  if (damage === 5) pairs = [];
  return new Pairs(pairs);
}

/** A command name a caller might send by mistake or on purpose. */
export function randomName(rng: Rng, names: readonly string[]): string {
  const name = rng.pick(names);
  switch (rng.int(7)) {
    case 0:
      return name.toUpperCase();
    case 1:
      return name.slice(0, rng.int(name.length));
    case 2:
      return `${name}_`;
    case 3:
      return rng.pick(['', ' ', '__proto__', 'constructor', 'hasOwnProperty', 'toString', '..', 'a/b', 'é', '\u0000', 'x'.repeat(300)]);
    case 4:
      return name.replace('_', '-');
    default:
      return name;
  }
}

/** A reply frame of the control socket: what `call` gives back. */
export interface Frame {
  readonly id?: unknown;
  readonly ok?: unknown;
  readonly result?: unknown;
  readonly error?: { readonly code?: unknown; readonly message?: unknown; readonly details?: unknown };
}

/** How many replies the node owes for these bytes: one per line that is not blank. */
export function framesIn(payload: Buffer): number {
  let n = 0;
  let start = 0;
  for (let nl = payload.indexOf(10); nl >= 0; nl = payload.indexOf(10, start)) {
    if (payload.subarray(start, nl).toString('utf8').trim() !== '') n++;
    start = nl + 1;
  }
  return n;
}

/** A raw control-socket connection: bytes out, parsed reply frames back (alive and progress frames dropped). */
export class ControlClient {
  private buffer = '';
  private readonly replies: Frame[] = [];
  private waiting?: () => void;
  private closed = false;
  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buffer += d;
      for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        let frame: Frame & { alive?: unknown; progress?: unknown };
        try {
          frame = JSON.parse(line);
        } catch {
          frame = { error: { code: 'not JSON', message: line } };
        }
        if (!('alive' in frame) && !('progress' in frame)) this.replies.push(frame);
      }
      this.waiting?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiting?.();
    });
    socket.on('error', () => undefined);
  }

  static open(path: string): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      socket.once('error', reject);
      socket.once('connect', () => resolve(new ControlClient(socket)));
    });
  }

  /** Sends `payload` and waits for `n` replies; fails after `ms` or when the node hangs up. */
  async send(payload: Buffer | string, n: number, ms = 30_000): Promise<Frame[]> {
    this.socket.write(payload);
    const deadline = Date.now() + ms;
    while (this.replies.length < n) {
      if (this.closed) throw new Error(`the node closed the connection with ${n - this.replies.length} replies owed`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply within ${ms} ms (${this.replies.length} of ${n})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.replies.splice(0, n);
  }

  private id = 0;
  /** Runs one command by name, its arguments as given. */
  async call(command: string, args: Record<string, unknown>): Promise<Frame> {
    const [reply] = await this.send(`${JSON.stringify({ id: `c${++this.id}`, command, args })}\n`, 1);
    return reply;
  }

  async ping(): Promise<Frame> {
    const [reply] = await this.send(`{"id":"ping","op":"ping"}\n`, 1);
    return reply;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** What is wrong with a reply frame, or undefined when it is a result or a clean error. */
export function badFrame(frame: Frame, command?: string): string | undefined {
  const id = frame.id;
  if (id !== null && typeof id !== 'number' && typeof id !== 'string') return 'the reply has no id';
  if (frame.ok === true) return 'result' in frame ? undefined : 'a result frame without a result';
  if (frame.ok !== false) return 'neither a result nor an error';
  const e = frame.error;
  if (typeof e?.code !== 'string' || typeof e.message !== 'string' || e.message === '') return 'an error without code and message';
  if (e.code === 'internal' && !(command && CRASHING.has(command))) return `an internal error (a crash): ${e.message}`;
  if (/\n\s+at /.test(e.message)) return 'a stack trace in the message';
  return undefined;
}

/**
 * A digest of every record the node stores: its dump (through the node, as any caller would
 * ask for it) without the header line, which holds the time of the dump.
 */
export async function storeDigest(client: ControlClient, dir: string): Promise<string> {
  const file = join(dir, 'digest.dump');
  const reply = await client.call('dump', { file });
  if (reply.ok !== true) throw new Error(`dump failed: ${JSON.stringify(reply)}`);
  const text = readFileSync(file, 'utf8');
  rmSync(file);
  return createHash('sha256')
    .update(text.slice(text.indexOf('\n') + 1))
    .digest('hex');
}

/**
 * Keeps a digest of the store, to check that refused inputs leave it as it was: an accepted
 * input (which may change it) only marks it stale, and it is taken again before the next input.
 */
export class UnchangedCheck {
  private digest?: string;
  checked = 0;
  constructor(
    private readonly client: ControlClient,
    private readonly dir: string,
  ) {}
  /** Before an input: the digest the store must still have if the input is refused. */
  async before(): Promise<void> {
    this.digest ??= await storeDigest(this.client, this.dir);
  }
  /** After an input: what changed, if it was refused and the store is not what it was. */
  async after(refused: boolean): Promise<string | undefined> {
    if (!refused) {
      this.digest = undefined;
      return undefined;
    }
    this.checked++;
    const now = await storeDigest(this.client, this.dir);
    return now === this.digest ? undefined : 'the input was refused but the database changed';
  }
}

/** An input for a failure message: short enough to read, exact enough to replay. */
export function shown(input: Buffer | string): string {
  const text = typeof input === 'string' ? input : input.toString('latin1');
  return JSON.stringify(text.length > 600 ? `${text.slice(0, 300)}…(${text.length} chars)…${text.slice(-200)}` : text);
}

/** Records every fuzz test starts from: an account with a roster, a vCard, private data, last activity, an offline message, a group. */
export const SEED_RECORDS: readonly (readonly [string, Record<string, unknown>])[] = [
  ['register', { user: 'alice', host: 'localhost', password: 'pw' }],
  ['add_rosteritem', { localuser: 'alice', localserver: 'localhost', user: 'bob', server: 'localhost', nick: 'Bob', group: 'Friends', subs: 'both' }],
  ['set_vcard', { user: 'alice', host: 'localhost', name: 'FN', content: 'Alice' }],
  ['private_set', { user: 'alice', host: 'localhost', element: '<storage xmlns="storage:bookmarks"/>' }],
  ['set_last', { user: 'alice', host: 'localhost', timestamp: 1700000000, status: 'away' }],
  ['send_message', { type: 'chat', from: 'bob@localhost', to: 'alice@localhost', subject: '', body: 'hello' }],
  ['srg_create', { group: 'team', host: 'localhost', name: 'Team', description: '', display: 'team' }],
];

/** Stores SEED_RECORDS through the node. */
export async function seedStore(client: ControlClient): Promise<void> {
  for (const [command, args] of SEED_RECORDS) {
    const reply = await client.call(command, args);
    if (reply.ok !== true) throw new Error(`${command} failed: ${JSON.stringify(reply)}`);
  }
}

/** A bearer token of admin@localhost, made through the node. */
export async function adminToken(client: ControlClient): Promise<string> {
  const reply = await client.call('api_token_create', { user: 'admin', host: 'localhost', days: 30 });
  if (reply.ok !== true || typeof reply.result !== 'string') throw new Error(`api_token_create failed: ${JSON.stringify(reply)}`);
  return reply.result;
}

/** What a fuzz test file runs against: a node with HTTP, a control connection to it, the seed data, an admin token. */
export interface FuzzNode {
  readonly n: HttpNode;
  readonly client: ControlClient;
  readonly token: string;
}

export async function openFuzzNode(): Promise<FuzzNode> {
  const n = await startHttpNode();
  const client = await ControlClient.open(resolveHome({ home: n.dir }).socket);
  await seedStore(client);
  return { n, client, token: await adminToken(client) };
}

export async function closeFuzzNode(node: Partial<FuzzNode>): Promise<void> {
  node.client?.close();
  await node.n?.stop();
}

export interface RawResponse {
  readonly status: number;
  /** Header names in lower case. */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/**
 * One HTTP/1.1 request written byte for byte (a path or header no client library would send),
 * on a connection of its own; the response is read until the node closes it.
 */
export function rawHttp(url: string, head: Buffer | string, body: Buffer = Buffer.alloc(0), ms = 30_000): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no response within ${ms} ms`));
    }, ms);
    let failed: Error | undefined;
    socket.on('data', (d: Buffer) => chunks.push(d));
    // A node that answers before the body is all sent (413) may reset the connection under it.
    socket.on('error', (err) => (failed = err));
    socket.on('close', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      if (all.length === 0) return reject(failed ?? new Error('the node closed the connection without a response'));
      const split = all.indexOf('\r\n\r\n');
      const lines = all
        .subarray(0, split < 0 ? all.length : split)
        .toString('latin1')
        .split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status, headers, body: split < 0 ? Buffer.alloc(0) : all.subarray(split + 4) });
    });
    socket.once('connect', () => {
      // Connection: close ends it once the response is written; a half-close could cut it short.
      socket.write(Buffer.concat([Buffer.from(head), body]));
    });
  });
}

/** The head of a request, with Content-Length for `body` and Connection: close. */
export function requestHead(method: string, path: Buffer | string, headers: readonly (readonly [string, string])[], body: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`${method} `),
    Buffer.from(path),
    Buffer.from(
      ` HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}Content-Length: ${body.length}\r\n\r\n`,
    ),
  ]);
}

/**
 * The control socket under a seeded stream of hostile frames: mutated requests of real
 * commands, broken JSON, wrong types, deep nesting, bytes that are not UTF-8. After every input
 * each reply is a JSON result or a clean error, the node still answers, a refused input left
 * the database as it was, and a frame that is not UTF-8 or spells a lone surrogate in an
 * argument is refused, naming the argument.
 */
import { decodeUtf8, loneSurrogateIn } from '../../src/lib/utf8';
import type { ControlClient } from '../helpers/fuzz';
import {
  argsFor,
  badFrame,
  BAD_UTF8,
  depthOf,
  framesIn,
  fuzzableCommands,
  jsonText,
  mutateBytes,
  nested,
  Pairs,
  randomName,
  Raw,
  Rng,
  shown,
  openFuzzNode,
  closeFuzzNode,
  UnchangedCheck,
  type Json,
} from '../helpers/fuzz';
import type { HttpNode } from '../helpers/http-node';

jest.setTimeout(240_000);

const SEED = 0x5eed_0001;
const INPUTS = 1500;

let n: HttpNode;
let client: ControlClient;
beforeAll(async () => ({ n, client } = await openFuzzNode()));
afterAll(() => closeFuzzNode({ n, client }));

const commands = fuzzableCommands();
const names = commands.map((c) => c.name);

/** One frame of a real command with arguments of mostly the right types. */
function commandFrame(rng: Rng, id: Json): Pairs {
  const command = rng.pick(commands);
  return new Pairs([
    ['id', id],
    ['command', command.name],
    ['args', argsFor(rng, command)],
  ]);
}

/** A frame broken in its structure: its id, command, args, op, flags of the wrong kinds. */
function brokenFrame(rng: Rng, i: number): Json {
  const frame = commandFrame(rng, i).pairs.slice();
  const wrong: Json[] = [null, true, 1.5, new Raw('1e400'), [], {}, [i], { id: i }, '', nested(depthOf(rng), rng.chance(0.5))];
  switch (rng.int(9)) {
    case 0:
      frame[0] = ['id', rng.pick(wrong)];
      break;
    case 1:
      frame[1] = ['command', rng.pick(wrong)];
      break;
    case 2:
      frame[2] = ['args', rng.pick([...wrong, 'a', [1, 2], new Raw('"\\ud800"')])];
      break;
    case 3:
      return new Pairs([
        ['id', i],
        ['op', rng.pick(['ping', 'sync', 'PING', 'reboot', '', null, 1, ['ping'], { op: 'ping' }])],
      ]);
    case 4:
      frame.push([rng.pick(['bulk', 'debug']), rng.pick([true, false, ...wrong])]);
      break;
    case 5:
      frame.push(['command', randomName(rng, names)]);
      break;
    case 6:
      frame.splice(rng.int(3), 1);
      break;
    case 7:
      return rng.pick([[jsonText(new Pairs(frame))], nested(depthOf(rng), true, new Pairs(frame)), 'ping', 42, null, new Raw(' ')]);
    default:
      frame[1] = ['command', randomName(rng, names)];
  }
  return new Pairs(frame);
}

/** The bytes of one input: a frame, broken, mutated, or several on one write. */
function input(rng: Rng, i: number): Buffer {
  const kind = rng.int(10);
  if (kind < 4) return Buffer.from(`${jsonText(commandFrame(rng, i))}\n`);
  if (kind < 7) return Buffer.from(`${jsonText(brokenFrame(rng, i))}\n`);
  if (kind < 9) return Buffer.concat([mutateBytes(rng, Buffer.from(jsonText(commandFrame(rng, i)))), Buffer.from('\n')]);
  const text = Buffer.from(jsonText(commandFrame(rng, i)));
  const at = rng.int(text.length);
  return Buffer.concat([text.subarray(0, at), rng.pick(BAD_UTF8), text.subarray(at), Buffer.from(`\n${jsonText(commandFrame(rng, `${i}b`))}\n`)]);
}

/** The lines of a payload, as bytes. */
function linesOf(payload: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  for (let start = 0, nl = payload.indexOf(10); nl >= 0; start = nl + 1, nl = payload.indexOf(10, start)) lines.push(payload.subarray(start, nl));
  return lines;
}

interface Expected {
  /** The command each request names, by id: the frames that parse. */
  readonly commandOf: Map<unknown, string>;
  /** The ids whose request must be refused, with what the message must name: bytes that are not UTF-8, or a lone surrogate in an argument. */
  readonly refuse: Map<unknown, string>;
}

function expected(payload: Buffer): Expected {
  const commandOf = new Map<unknown, string>();
  const refuse = new Map<unknown, string>();
  const fine = new Set<unknown>();
  for (const bytes of linesOf(payload)) {
    const text = decodeUtf8(bytes);
    let frame: { id?: unknown; command?: unknown; args?: unknown };
    try {
      frame = JSON.parse(text ?? bytes.toString('utf8')) as typeof frame;
    } catch {
      continue; // Not a request: its reply has no id and no command to excuse a crash.
    }
    if (frame === null || typeof frame !== 'object') continue;
    if (typeof frame.command === 'string') commandOf.set(frame.id, frame.command);
    if (typeof frame.id !== 'number' && typeof frame.id !== 'string') continue;
    // A frame that is no request in other ways may be refused for those first.
    const request = typeof frame.command === 'string' && !('op' in frame) && typeof frame.args === 'object' && !Array.isArray(frame.args);
    const lone = request ? loneSurrogateIn(frame.args) : undefined;
    if (text === undefined) refuse.set(frame.id, 'UTF-8');
    else if (lone !== undefined) refuse.set(frame.id, lone.split('.')[0]);
    else fine.add(frame.id);
  }
  // Two requests with one id: their replies cannot be told apart.
  for (const id of fine) refuse.delete(id);
  return { commandOf, refuse };
}

test(`${INPUTS} seeded hostile frames: clean replies, a node that answers, nothing changed by a refused input`, async () => {
  const rng = new Rng(SEED);
  const unchanged = new UnchangedCheck(client, n.dir);
  const problems: string[] = [];
  let refused = 0;
  let mustName = 0;
  for (let i = 0; i < INPUTS && problems.length < 5; i++) {
    const payload = input(rng, i);
    await unchanged.before();
    const frames = await client.send(payload, framesIn(payload)).catch((err: Error) => {
      problems.push(`${err.message} after ${shown(payload)}`);
      return [];
    });
    const { commandOf, refuse } = expected(payload);
    for (const frame of frames) {
      const bad = badFrame(frame, commandOf.get(frame.id));
      if (bad) problems.push(`${bad}: ${shown(payload)} gave ${shown(JSON.stringify(frame))}`);
      const named = refuse.get(frame.id);
      if (named !== undefined) mustName++;
      if (named !== undefined && (frame.ok !== false || !String(frame.error?.message).includes(named))) {
        problems.push(`not refused naming ${named}: ${shown(payload)} gave ${shown(JSON.stringify(frame))}`);
      }
    }
    const wasRefused = frames.length > 0 && frames.every((f) => f.ok === false);
    if (wasRefused) refused++;
    const changed = await unchanged.after(wasRefused);
    if (changed) problems.push(`${changed}: ${shown(payload)} gave ${shown(JSON.stringify(frames))}`);
    if (i % 50 === 49 && (await client.ping()).result !== 'pong') problems.push(`no pong after ${shown(payload)}`);
  }
  expect(problems).toEqual([]);
  expect(await client.ping()).toEqual({ id: 'ping', ok: true, result: 'pong' });
  // The stream must reach the handlers and be refused there too, or it tests nothing.
  expect(refused).toBeGreaterThan(INPUTS / 3);
  expect(unchanged.checked).toBe(refused);
  expect(mustName).toBeGreaterThan(INPUTS / 20);
});

import { connect, type Socket } from 'node:net';
import { allCommands } from '../../commands';
import { createRegistry } from '../../src/core/registry';
import { startNode, type RunningNode } from '../../src/node/daemon';
import { resolveHome } from '../../src/config/home';
import { MAX_FRAME } from '../../src/transports/socket/protocol';
import { tempHome } from '../helpers/cli';

let home: ReturnType<typeof tempHome>;
let node: RunningNode;
let socketPath: string;

beforeEach(async () => {
  home = tempHome();
  const h = resolveHome({ home: home.dir });
  socketPath = h.socket;
  node = await startNode({ home: h, registry: createRegistry(allCommands), version: '9.9.9', lockTimeout: 5000 });
});

afterEach(async () => {
  await node.control.stop();
  await node.stopped;
  home.cleanup();
});

/** A raw connection that collects reply frames (parsed) as they come. */
function raw(): Promise<{ socket: Socket; replies: Record<string, unknown>[]; next: (n?: number) => Promise<Record<string, unknown>[]> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const replies: Record<string, unknown>[] = [];
    let buffer = '';
    let waiting: { n: number; resolve: () => void } | undefined;
    socket.on('data', (d) => {
      buffer += d.toString();
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const frame = JSON.parse(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        if (!('alive' in frame)) replies.push(frame);
      }
      if (waiting && replies.length >= waiting.n) waiting.resolve();
    });
    socket.once('error', reject);
    socket.once('connect', () =>
      resolve({
        socket,
        replies,
        /** The next `n` replies not taken yet, once they have all come. */
        next: (n = 1) =>
          new Promise((done) => {
            const take = () => done(replies.splice(0, n));
            if (replies.length >= n) take();
            else waiting = { n, resolve: take };
          }),
      }),
    );
  });
}

test('answers a request with its id, result or error', async () => {
  const c = await raw();
  c.socket.write('{"id":1,"command":"echo_string","args":{"thisstring":"hi"}}\n');
  expect(await c.next()).toEqual([{ id: 1, ok: true, result: 'hi' }]);
  c.socket.write('{"id":"x","command":"register","args":{"user":"a","host":"nowhere","password":"p"}}\n');
  const [reply] = await c.next();
  expect(reply).toMatchObject({ id: 'x', ok: false, error: { code: 'not_found' } });
  expect((reply.error as { message: string }).message).toMatch(/^Unknown host 'nowhere'/);
  c.socket.write('{"id":2,"op":"ping"}\n{"id":3,"command":"frob","args":{}}\n');
  expect(await c.next(2)).toEqual([
    { id: 2, ok: true, result: 'pong' },
    { id: 3, ok: false, error: { code: 'unknown_command', message: "Unknown command 'frob'" } },
  ]);
  c.socket.destroy();
});

test('the node validates every request itself: types, missing and unknown arguments', async () => {
  const c = await raw();
  c.socket.write('{"id":1,"command":"echo_integer","args":{"thisinteger":"5"}}\n');
  c.socket.write('{"id":2,"command":"register","args":{"user":"a","host":"localhost"}}\n');
  c.socket.write('{"id":3,"command":"echo_string","args":{"thisstring":"x","extra":1}}\n');
  const replies = (await c.next(3)).sort((a, b) => (a.id as number) - (b.id as number));
  expect(replies.map((r) => [r.id, (r.error as { code: string }).code, (r.error as { message: string }).message])).toEqual([
    [1, 'bad_argument', "Bad value for argument 'thisinteger': expected an integer"],
    [2, 'bad_argument', "Missing argument 'password' for register"],
    [3, 'bad_argument', "Unknown argument 'extra' for echo_string"],
  ]);
  c.socket.destroy();
});

test('garbage and malformed requests get an error reply, and the connection goes on', async () => {
  const c = await raw();
  c.socket.write('this is not json\n[1,2]\n{"command":"echo_string","args":{}}\n{"id":7,"command":"echo_string"}\n{"id":8,"op":"reboot"}\n');
  const errors = await c.next(5);
  expect(errors.map((r) => [r.id, (r.error as { message: string }).message.replace(/:.*/s, '')])).toEqual([
    [null, 'Malformed request (not JSON)'],
    [null, 'Malformed request'],
    [null, 'Malformed request'],
    [7, 'Malformed request'],
    [8, 'Malformed request'],
  ]);
  c.socket.write('{"id":9,"command":"echo_string","args":{"thisstring":"still here"}}\n');
  expect(await c.next()).toEqual([{ id: 9, ok: true, result: 'still here' }]);
  c.socket.destroy();
});

test('a request split across writes (half frames) is read whole', async () => {
  const c = await raw();
  const frame = '{"id":1,"command":"echo_string","args":{"thisstring":"ünïcödé ✓"}}\n';
  const bytes = Buffer.from(frame);
  for (let i = 0; i < bytes.length; i += 7) {
    c.socket.write(bytes.subarray(i, i + 7));
    await new Promise((r) => setTimeout(r, 1));
  }
  expect(await c.next()).toEqual([{ id: 1, ok: true, result: 'ünïcödé ✓' }]);
  c.socket.destroy();
});

test('an oversized frame is refused with an error reply; the node keeps serving', async () => {
  const c = await raw();
  const huge = `{"id":1,"command":"echo_string","args":{"thisstring":"${'x'.repeat(MAX_FRAME + 10)}"}}\n`;
  c.socket.write(huge);
  c.socket.write('{"id":2,"command":"echo_string","args":{"thisstring":"after"}}\n');
  expect(await c.next(2)).toEqual([
    { id: null, ok: false, error: { code: 'bad_argument', message: `Request too large: the limit is ${MAX_FRAME} bytes` } },
    { id: 2, ok: true, result: 'after' },
  ]);
  c.socket.destroy();
  const other = await raw();
  other.socket.write('{"id":1,"op":"ping"}\n');
  expect(await other.next()).toEqual([{ id: 1, ok: true, result: 'pong' }]);
  other.socket.destroy();
});

test('many requests in flight on one connection are all answered, matched by id', async () => {
  const c = await raw();
  const n = 200;
  let frames = '';
  for (let i = 0; i < n; i++) {
    frames +=
      JSON.stringify({
        id: i,
        command: i % 2 ? 'register' : 'echo_integer',
        args: i % 2 ? { user: `u${i}`, host: 'localhost', password: 'p' } : { thisinteger: i },
      }) + '\n';
  }
  c.socket.write(frames);
  const replies = await c.next(n);
  const byId = new Map(replies.map((r) => [r.id, r]));
  for (let i = 0; i < n; i++) {
    expect(byId.get(i)).toEqual({ id: i, ok: true, result: i % 2 ? `User u${i}@localhost successfully registered` : i });
  }
  c.socket.destroy();
});

test('a dropped connection in the middle of a frame does not disturb the node', async () => {
  const c = await raw();
  c.socket.write('{"id":1,"command":"echo_str');
  c.socket.destroy();
  const d = await raw();
  d.socket.write('{"id":1,"op":"ping"}\n');
  expect(await d.next()).toEqual([{ id: 1, ok: true, result: 'pong' }]);
  d.socket.destroy();
});

test('a client that half-closes after its request still gets the reply, then the node ends the connection', async () => {
  const socket = connect(socketPath);
  let received = '';
  socket.on('data', (d) => (received += d.toString()));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.once('connect', () => {
    socket.write('{"id":1,"op":"ping"}\n{"id":2,"command":"register","args":{"user":"halfopen","host":"localhost","password":"p"}}\n');
    socket.end();
  });
  await closed;
  const replies = received
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((f) => !('alive' in f))
    .sort((a, b) => (a.id as number) - (b.id as number));
  expect(replies).toEqual([
    { id: 1, ok: true, result: 'pong' },
    { id: 2, ok: true, result: 'User halfopen@localhost successfully registered' },
  ]);
});

test('a frame whose bytes are not UTF-8 is refused with its id, and nothing is stored', async () => {
  const c = await raw();
  // Read as U+FFFD, p\xffw and p\xfew would be one password.
  const frame = Buffer.concat([
    Buffer.from('{"id":1,"command":"register","args":{"user":"carol","host":"localhost","password":"p'),
    Buffer.from([0xff]),
    Buffer.from('w"}}\n'),
  ]);
  c.socket.write(frame);
  expect(await c.next()).toEqual([{ id: 1, ok: false, error: { code: 'bad_argument', message: 'Malformed request: the frame is not valid UTF-8' } }]);
  c.socket.write('{"id":2,"command":"check_account","args":{"user":"carol","host":"localhost"}}\n');
  expect(await c.next()).toMatchObject([{ id: 2, ok: true, result: false }]);
  c.socket.destroy();
});

test('a lone surrogate in an argument is refused naming the argument, and nothing is stored', async () => {
  const c = await raw();
  c.socket.write('{"id":1,"command":"register","args":{"user":"carol","host":"localhost","password":"p\\ud800"}}\n');
  c.socket.write('{"id":2,"command":"echo_list_string","args":{"thislist":["a","\\udfff"]}}\n');
  const replies = (await c.next(2)).sort((a, b) => (a.id as number) - (b.id as number));
  expect(replies).toEqual([
    {
      id: 1,
      ok: false,
      error: { code: 'bad_argument', message: 'Malformed request: the argument password holds a lone surrogate, which is not Unicode text' },
    },
    {
      id: 2,
      ok: false,
      error: { code: 'bad_argument', message: 'Malformed request: the argument thislist.1 holds a lone surrogate, which is not Unicode text' },
    },
  ]);
  c.socket.write('{"id":3,"command":"check_account","args":{"user":"carol","host":"localhost"}}\n');
  expect(await c.next()).toMatchObject([{ id: 3, ok: true, result: false }]);
  c.socket.destroy();
});

test('a frame nested 100 000 deep is refused, and the node goes on', async () => {
  const c = await raw();
  const deep = (open: string, close: string) => `${open.repeat(100_000)}"x"${close.repeat(100_000)}`;
  c.socket.write(`{"id":1,"command":"echo_list_string","args":{"thislist":${deep('[', ']')}}}\n`);
  c.socket.write(`{"id":2,"command":"echo_string","args":{"thisstring":${deep('{"a":', '}')}}}\n`);
  const replies = (await c.next(2)).sort((a, b) => (a.id as number) - (b.id as number));
  expect(replies).toMatchObject([
    { id: 1, ok: false, error: { code: 'bad_argument' } },
    { id: 2, ok: false, error: { code: 'bad_argument' } },
  ]);
  c.socket.write('{"id":3,"op":"ping"}\n');
  expect(await c.next()).toEqual([{ id: 3, ok: true, result: 'pong' }]);
  c.socket.destroy();
});

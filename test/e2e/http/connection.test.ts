/**
 * What a client sees of the JSON API's connections: keep-alive and pipelined requests are
 * answered in order on one connection, a body is read whole however it is split, a client that
 * leaves halfway through its body leaves the node serving, and only a lone surrogate among
 * JSON's escapes is refused. The listener's idle_timeout is longer than keep-alive's, which
 * then closes a connection left idle between requests.
 */
import { connect, type Socket } from 'node:net';
import { startHttpNode, type HttpNode } from '../../helpers/http-node';

jest.setTimeout(60_000);
let n: HttpNode;
beforeAll(async () => (n = await startHttpNode('    idle_timeout: 20\n')));
afterAll(() => n.stop());

const AUTH = `Basic ${Buffer.from('admin@localhost:secret').toString('base64')}`;
const port = () => Number(new URL(n.url).port);

function request(path: string, body: string, extra = ''): string {
  return `POST ${path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${AUTH}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
}

/** An open connection, and every byte it has received so far. */
async function open(): Promise<{ socket: Socket; received: () => Buffer; closed: Promise<void> }> {
  const socket = connect(port(), '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  const text = () => Buffer.concat(chunks);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, received: text, closed };
}

async function until(what: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The responses in `bytes`, in order: each its status and body. */
function responses(bytes: Buffer): [number, string][] {
  const out: [number, string][] = [];
  let rest = bytes;
  while (rest.subarray(0, 9).toString('latin1') === 'HTTP/1.1 ') {
    const end = rest.indexOf('\r\n\r\n');
    const head = rest.subarray(0, end).toString('latin1');
    const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1]);
    if (rest.length < end + 4 + length) break;
    out.push([Number(head.slice(9, 12)), rest.subarray(end + 4, end + 4 + length).toString('utf8')]);
    rest = rest.subarray(end + 4 + length);
  }
  return out;
}

const post = async (path: string, body: unknown) => {
  const r = await fetch(`${n.url}${path}`, {
    method: 'POST',
    headers: { Authorization: AUTH, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return [r.status, await r.text()];
};

test('requests written together on one connection are all answered, in order, on that connection', async () => {
  const c = await open();
  const echo = (s: string) => request('/api/echo_string', JSON.stringify({ thisstring: s }));
  c.socket.write(echo('one') + request('/api/check_account', '{"user":"nobody","host":"localhost"}') + echo('three'));
  await until(() => responses(c.received()).length === 3);
  expect(responses(c.received())).toEqual([
    [200, '{"thatstring":"one"}'],
    [200, '1'],
    [200, '{"thatstring":"three"}'],
  ]);
  // Still open for the next one.
  c.socket.write(echo('four'));
  await until(() => responses(c.received()).length === 4);
  expect(responses(c.received())[3]).toEqual([200, '{"thatstring":"four"}']);
  c.socket.destroy();
});

test('a body that arrives in pieces is read whole', async () => {
  const c = await open();
  const text = 'é'.repeat(40_000);
  const whole = Buffer.from(request('/api/echo_string', JSON.stringify({ thisstring: text })));
  // 7 001 bytes at a time: pieces that end inside a two-byte character.
  for (let i = 0; i < whole.length; i += 7001) {
    c.socket.write(whole.subarray(i, i + 7001));
    await new Promise((r) => setTimeout(r, 5));
  }
  await until(() => responses(c.received()).length === 1);
  const [status, answer] = responses(c.received())[0];
  expect(status).toBe(200);
  // Compared as a whole: a diff of 40 000 characters says nothing more.
  expect(answer === JSON.stringify({ thatstring: text })).toBe(true);
  c.socket.destroy();
});

test('a client that leaves halfway through its body gets nothing done, and the node serves the next one', async () => {
  const c = await open();
  const body = JSON.stringify({ user: 'halfway', host: 'localhost', password: 'pw' });
  const whole = request('/api/register', body);
  c.socket.write(whole.slice(0, whole.length - 10));
  await new Promise((r) => setTimeout(r, 100));
  c.socket.destroy();
  await c.closed;
  expect(await post('/api/check_account', { user: 'halfway', host: 'localhost' })).toEqual([200, '1']);
  expect(await post('/api/echo_string', { thisstring: 'still here' })).toEqual([200, '{"thatstring":"still here"}']);
});

test('escapes that are not lone surrogates are taken as JSON means them: a pair, and an escaped backslash before u', async () => {
  const body = '{"user":"escapes","host":"localhost","password":"\\ud83d\\ude00 \\\\ud800"}';
  const r = await fetch(`${n.url}/api/register`, { method: 'POST', headers: { Authorization: AUTH, 'Content-Type': 'application/json' }, body });
  expect(r.status).toBe(200);
  expect(await post('/api/check_password', { user: 'escapes', host: 'localhost', password: '\u{1f600} \\ud800' })).toEqual([200, '0']);
  // The pair's halves apart are still refused.
  const lone = '{"user":"escapes2","host":"localhost","password":"\\ude00\\ud83d"}';
  const refused = await fetch(`${n.url}/api/register`, { method: 'POST', headers: { Authorization: AUTH, 'Content-Type': 'application/json' }, body: lone });
  expect([refused.status, await refused.text()]).toEqual([400, expect.stringContaining('lone surrogate in password')]);
});

test('a connection left idle after a request is closed once keep-alive times out, well before idle_timeout', async () => {
  const c = await open();
  c.socket.write(request('/api/echo_string', '{"thisstring":"x"}'));
  await until(() => responses(c.received()).length === 1);
  const answered = Date.now();
  await c.closed;
  // Node's keep-alive is 5 s, and it waits up to a second more.
  expect(Date.now() - answered).toBeGreaterThanOrEqual(4500);
  expect(Date.now() - answered).toBeLessThan(9000);
});

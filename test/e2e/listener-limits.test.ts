/**
 * A flood of idle connections is bounded per listener and per address, idle HTTP connections
 * are closed, and the control socket answers all along.
 */
import { connect, type Socket } from 'node:net';
import { freePort, startHttpNode, type HttpNode } from '../helpers/http-node';
import { parseListen } from '../../src/config/listen';

jest.setTimeout(120_000);

let n: HttpNode;
let httpPort: number;
let c2sPort: number;

beforeAll(async () => {
  c2sPort = await freePort();
  // The HTTP listener's own options follow its request_handlers; then a c2s listener.
  n = await startHttpNode(
    `    max_connections: 30\n    max_connections_per_ip: 20\n    idle_timeout: 1\n  - port: ${c2sPort}\n    ip: "127.0.0.1"\n    module: ejabberd_c2s\n    max_connections_per_ip: 20\n`,
  );
  httpPort = Number(new URL(n.url).port);
});
afterAll(() => n.stop());

interface Conn {
  readonly socket: Socket;
  closed: boolean;
  readonly close: Promise<void>;
}

/** Opens `count` connections from `from`, each once connected, and notes which the node closes. */
async function flood(port: number, count: number, from = '127.0.0.1'): Promise<Conn[]> {
  const out: Conn[] = [];
  for (let i = 0; i < count; i++) {
    const socket = connect({ port, host: '127.0.0.1', localAddress: from });
    socket.on('error', () => undefined);
    const conn = { socket, closed: false } as Conn & { close: Promise<void> };
    (conn as { close: Promise<void> }).close = new Promise((resolve) =>
      socket.once('close', () => {
        conn.closed = true;
        resolve();
      }),
    );
    await new Promise<void>((resolve) => {
      socket.once('connect', () => resolve());
      socket.once('close', () => resolve());
    });
    out.push(conn);
  }
  return out;
}

/** Resolves once `count` of `conns` are closed. */
function closedCount(conns: readonly Conn[], count: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (conns.filter((c) => c.closed).length >= count ? resolve() : setTimeout(check, 20));
    check();
  });
}

/** A ping over the control socket, as `ctl ping` sends it. */
function controlPing(): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = connect(`${n.dir}/run/ctl.sock`);
    let data = '';
    socket.on('data', (d) => {
      data += d.toString();
      if (data.includes('\n')) {
        socket.destroy();
        resolve(JSON.parse(data.slice(0, data.indexOf('\n'))));
      }
    });
    socket.once('error', reject);
    socket.once('connect', () => socket.write('{"id":1,"op":"ping"}\n'));
  });
}

/** One HTTP request on a connection the test holds: the node still serves it. */
function statusOn(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    socket.on('data', (d) => {
      data += d.toString();
      if (data.includes('\r\n')) resolve(data.slice(0, data.indexOf('\r\n')));
    });
    socket.write(`GET /api/nothing HTTP/1.1\r\nHost: x\r\n\r\n`);
  });
}

test('HTTP: 20 idle connections from one address, 30 in all; the others are closed, the control socket answers, idle ones time out', async () => {
  const first = await flood(httpPort, 26);
  await closedCount(first, 6);
  const second = await flood(httpPort, 26, '127.0.0.2');
  await closedCount(second, 16);
  expect(await controlPing()).toEqual({ id: 1, ok: true, result: 'pong' });
  const held = [...first, ...second].filter((c) => !c.closed);
  expect(held).toHaveLength(30);
  expect([first.filter((c) => !c.closed).length, second.filter((c) => !c.closed).length]).toEqual([20, 10]);
  // Those it holds, it serves.
  expect(await statusOn(held[0].socket)).toBe('HTTP/1.1 401 Unauthorized');
  // Left idle, every one of them is closed; then the listener takes connections again.
  await Promise.all(held.map((c) => c.close));
  const res = await fetch(`${n.url}/api/status`, { headers: { Authorization: `Basic ${Buffer.from('admin@localhost:secret').toString('base64')}` } });
  expect(res.status).toBe(200);
});

test('XMPP clients: 20 connections from one address; the others are closed, and those held speak XMPP', async () => {
  const conns = await flood(c2sPort, 25);
  await closedCount(conns, 5);
  expect(await controlPing()).toEqual({ id: 1, ok: true, result: 'pong' });
  const held = conns.filter((c) => !c.closed);
  expect(held).toHaveLength(20);
  const reply = await new Promise<string>((resolve) => {
    held[0].socket.once('data', (d) => resolve(d.toString()));
    held[0].socket.write(
      `<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`,
    );
  });
  expect(reply).toContain('<stream:stream');
  for (const c of held) c.socket.destroy();
  await Promise.all(held.map((c) => c.close));
  // Once they are gone, a new one is taken.
  const again = await flood(c2sPort, 1);
  expect(again[0].closed).toBe(false);
  again[0].socket.destroy();
});

test('the bounds are checked when ctl.yml is read, naming the option', () => {
  const http = (extra: Record<string, unknown>) =>
    parseListen([{ port: 5280, module: 'ejabberd_http', request_handlers: { '/api': 'mod_http_api' }, ...extra }]);
  expect(http({ max_connections: 0 })).toBe("'listen' item 1: 'max_connections' must be a positive whole number of connections or infinity");
  expect(http({ max_connections_per_ip: 'many' })).toBe("'listen' item 1: 'max_connections_per_ip' must be a positive whole number of connections or infinity");
  expect(http({ idle_timeout: -1 })).toBe("'listen' item 1: 'idle_timeout' must be a number of seconds (at most 86400) or infinity");
  expect(http({ max_connections: 'infinity', max_connections_per_ip: 5, idle_timeout: 0.5 })).toMatchObject({
    http: [{ maxConnections: Infinity, maxConnectionsPerIp: 5, idleTimeout: 500 }],
  });
  expect(parseListen([{ port: 5222, module: 'ejabberd_c2s', max_connections_per_ip: 3 }])).toMatchObject({ c2s: [{ maxConnectionsPerIp: 3 }] });
});

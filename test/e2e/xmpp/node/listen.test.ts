/**
 * The node as an XMPP server: its client listeners as the configuration asks, a real client
 * stream on a loopback socket, and the session commands acting on it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { allCommands } from '../../../../commands';
import { resolveHome } from '../../../../src/config/home';
import { createRegistry } from '../../../../src/core/registry';
import { startNode, type RunningNode } from '../../../../src/node/daemon';
import { runCli, tempHome } from '../../../helpers/cli';
import { freePort } from '../../../helpers/http-node';
import { eventually, presentedCertificate, rawStream, STREAM_HEADER, type RawStream } from '../../../helpers/xmpp';

jest.setTimeout(30_000);

const homes: ReturnType<typeof tempHome>[] = [];
const nodes: RunningNode[] = [];
const blockers: Server[] = [];
const sockets: Socket[] = [];
const streams: RawStream[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of streams.splice(0)) s.destroy();
  for (const n of nodes.splice(0)) {
    await n.control.stop();
    await n.stopped;
  }
  for (const b of blockers.splice(0)) await new Promise((r) => b.close(r));
  for (const h of homes.splice(0)) h.cleanup();
});

function home(config?: string) {
  const h = tempHome('ctl-xmpp-node-');
  homes.push(h);
  if (config !== undefined) writeFileSync(join(h.dir, 'ctl.yml'), config);
  return h;
}

async function start(dir: string, env: NodeJS.ProcessEnv = { CTL_C2S_PORT: '0' }): Promise<RunningNode> {
  const node = await startNode({ home: resolveHome({ home: dir }), registry: createRegistry(allCommands), version: '9.9.9', lockTimeout: 5000, env });
  nodes.push(node);
  return node;
}

/** A port something else holds for the length of the test. */
async function busyPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  blockers.push(server);
  return (server.address() as { port: number }).port;
}

const log = (dir: string) => readFileSync(join(dir, 'log', 'ctl.log'), 'utf8');
const c2sConfig = (port: number, extra = '') => `listen:\n  - port: ${port}\n    ip: "127.0.0.1"\n    module: ejabberd_c2s\n${extra}`;

/** A raw client stream, closed at the end of the test. */
function client(port: number): RawStream {
  const stream = rawStream(port);
  streams.push(stream);
  return stream;
}

const header = STREAM_HEADER();

/** Logs in with PLAIN (offered on a loopback listener) and binds `resource`. */
async function login(port: number, user: string, password: string, resource: string) {
  const c = client(port);
  c.send(header);
  await c.until(/<mechanism>PLAIN<\/mechanism>[\s\S]*<\/stream:features>/);
  c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${user}\0${password}`).toString('base64')}</auth>`);
  await c.until(/<success/);
  c.send(header);
  await c.until(/<bind[\s\S]*<\/stream:features>/);
  c.send(`<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
  await c.until(/<jid>[^<]+<\/jid>/);
  return c;
}

test('an explicit c2s listener serves clients; the session commands see and act on the live session', async () => {
  const port = await freePort();
  const h = home(c2sConfig(port));
  await runCli(['register', 'alice', 'localhost', 'secret', '--home', h.dir]);
  await start(h.dir);
  expect(log(h.dir)).toContain(`listening for XMPP clients on 127.0.0.1 port ${port} (STARTTLS)`);

  const alice = await login(port, 'alice', 'secret', 'phone');
  expect(await alice.until(/<jid>/)).toContain('<jid>alice@localhost/phone</jid>');
  alice.send('<presence><show>away</show><status>at lunch</status><priority>3</priority></presence>');

  const ctl = (...argv: string[]) => h.ctl(argv);
  expect(await ctl('connected_users')).toEqual({ status: 0, stdout: 'alice@localhost/phone\n', stderr: '' });
  expect(await ctl('connected_users_number')).toEqual({ status: 0, stdout: '1\n', stderr: '' });
  expect((await ctl('get_last', 'alice', 'localhost')).stdout).toBe('Online\n');
  expect((await ctl('stats', 'onlineusers')).stdout).toBe('1\n');
  const info = await eventually(
    () => ctl('user_sessions_info', 'alice', 'localhost'),
    (r) => r.stdout.includes('away'),
  );
  expect(info.stdout).toMatch(/^c2s\t127\.0\.0\.1\t\d+\t3\tctl@localhost\t\d+\taway\tphone\tat lunch\n$/);

  expect(await ctl('send_stanza_c2s', 'alice', 'localhost', 'phone', "<message from='localhost'><body>from the operator</body></message>")).toMatchObject({
    status: 0,
  });
  await alice.until(/<body>from the operator<\/body>/);

  expect(await ctl('kick_user', 'alice', 'localhost')).toEqual({ status: 0, stdout: '1\n', stderr: '' });
  await alice.until(/<stream:error><policy-violation xmlns=["']urn:ietf:params:xml:ns:xmpp-streams["']\/><text [^>]*>has been kicked<\/text><\/stream:error>/);
  await alice.until(/<\/stream:stream>/);
});

test('stop closes every stream with system-shutdown', async () => {
  const port = await freePort();
  const h = home(c2sConfig(port));
  await runCli(['register', 'bob', 'localhost', 'pw', '--home', h.dir]);
  const node = await start(h.dir);
  const bob = await login(port, 'bob', 'pw', 'desk');
  nodes.splice(nodes.indexOf(node), 1);
  await node.control.stop();
  await node.stopped;
  await bob.until(/<stream:error><system-shutdown xmlns=["']urn:ietf:params:xml:ns:xmpp-streams["']\/><\/stream:error><\/stream:stream>$/);
});

test('an explicit listener whose port is taken stops the start with a plain message', async () => {
  const port = await busyPort();
  const h = home(c2sConfig(port));
  const err = await start(h.dir).then(
    () => undefined,
    (e: Error & { code?: string }) => e,
  );
  expect(err?.message).toBe(`Cannot listen on 127.0.0.1 port ${port}: the port is in use`);
  expect(err?.code).toBe('failed');
  expect(log(h.dir)).toContain(`[error] Cannot listen on 127.0.0.1 port ${port}: the port is in use\n`);
  // Nothing was left half-started: the same home starts once the port is free.
  await new Promise((r) => blockers.pop()!.close(r));
  await start(h.dir);
});

test('without listen, a taken default port is skipped with a warning and the node runs', async () => {
  const port = await busyPort();
  const h = home('hosts: [localhost]\n');
  const node = await start(h.dir, { CTL_C2S_PORT: String(port) });
  expect(log(h.dir)).toContain(
    `[warning] Cannot listen on 127.0.0.1 port ${port}: the port is in use; the node runs without a client listener (configure one under 'listen' to choose the port)`,
  );
  expect(node.control.xmpp.onlineSessions()).toBe(0);
  expect((await h.ctl(['connected_users_number'])).stdout).toBe('0\n');
});

test('without listen, the default listener takes the port CTL_C2S_PORT names', async () => {
  const port = await freePort();
  const h = home();
  await start(h.dir, { CTL_C2S_PORT: String(port) });
  expect(log(h.dir)).toContain(`listening for XMPP clients on 127.0.0.1 port ${port} (STARTTLS)`);
  const c = client(port);
  c.send(header);
  await c.until(/<starttls xmlns=["']urn:ietf:params:xml:ns:xmpp-tls["']\/>/);
});

test('reload_config opens the listeners the file now has and closes those it lost', async () => {
  const [first, second] = [await freePort(), await freePort()];
  const h = home(c2sConfig(first));
  await start(h.dir);
  writeFileSync(join(h.dir, 'ctl.yml'), c2sConfig(second));
  expect(await h.ctl(['reload_config'])).toEqual({
    status: 0,
    stdout: '',
    stderr: `Applied: listen: XMPP client listener on 127.0.0.1 port ${first} (STARTTLS) closed\nApplied: listen: XMPP client listener on 127.0.0.1 port ${second} (STARTTLS) opened\n`,
  });
  const c = client(second);
  c.send(header);
  await c.until(/<stream:features>/);
  const refused = connect(first, '127.0.0.1');
  sockets.push(refused);
  await expect(new Promise((resolve, reject) => refused.on('connect', resolve).on('error', reject))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
});

test('reload_config moves an HTTP listener and keeps the unchanged ones serving', async () => {
  const [kept, first, second] = [await freePort(), await freePort(), await freePort()];
  const http = (port: number, path: string) =>
    `  - port: ${port}\n    ip: "127.0.0.1"\n    module: ejabberd_http\n    request_handlers:\n      ${path}: mod_http_api\n`;
  const h = home(`listen:\n${http(kept, '/api')}${http(first, '/api')}`);
  await start(h.dir);
  const status = (port: number) =>
    fetch(`http://127.0.0.1:${port}/api/status`, { method: 'POST', body: '{}' }).then(
      (r) => r.status,
      (err: { cause?: { code?: string } }) => err.cause?.code,
    );
  expect(await status(first)).toBe(401);
  writeFileSync(join(h.dir, 'ctl.yml'), `listen:\n${http(kept, '/api')}${http(second, '/api')}`);
  expect(await h.ctl(['reload_config'])).toEqual({
    status: 0,
    stdout: '',
    stderr: `Applied: listen: HTTP listener on 127.0.0.1 port ${first} (/api) closed\nApplied: listen: HTTP listener on 127.0.0.1 port ${second} (/api) opened\n`,
  });
  expect(await status(second)).toBe(401);
  expect(await status(kept)).toBe(401);
  expect(await status(first)).toBe('ECONNREFUSED');
  expect(log(h.dir).match(new RegExp(`listening on http://127.0.0.1:${kept} `, 'g'))).toHaveLength(1);
});

test('an ejabberd_http_ws path serves XMPP over WebSocket beside the JSON API', async () => {
  const port = await freePort();
  const h = home(
    `listen:\n  - port: ${port}\n    ip: "127.0.0.1"\n    module: ejabberd_http\n    request_handlers:\n      /api: mod_http_api\n      /ws: ejabberd_http_ws\n`,
  );
  await start(h.dir);
  expect(log(h.dir)).toContain(`listening on http://127.0.0.1:${port} (/api JSON API, /ws XMPP over WebSocket)`);
  const { WebSocket } = await import('ws');
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, 'xmpp');
  const frames: string[] = [];
  const features = new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`no stream features; frames: ${frames.join(' | ')}`)), 5000);
    ws.on('message', (data) => {
      frames.push(String(data));
      if (String(data).includes('<stream:features')) {
        clearTimeout(deadline);
        resolve();
      }
    });
    ws.on('error', reject);
  });
  ws.on('open', () => ws.send("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>"));
  try {
    await features;
    expect(frames[0]).toMatch(/^<open [^>]*xmlns=["']urn:ietf:params:xml:ns:xmpp-framing["']/);
    expect(frames.join('')).toMatch(/<mechanism>SCRAM-SHA-1<\/mechanism>/);
  } finally {
    ws.terminate();
  }
  // The HTTP API on the same port still answers (with its own authentication error).
  const res = await fetch(`http://127.0.0.1:${port}/api/connected_users_number`, { method: 'POST', body: '{}' });
  expect(res.status).toBe(401);
});

test('admin commands reach live sessions: roster pushes, and ban_account and unregister end the streams', async () => {
  const port = await freePort();
  const h = home(c2sConfig(port));
  for (const u of ['alice', 'bob']) await runCli(['register', u, 'localhost', 'pw', '--home', h.dir]);
  await start(h.dir);
  const alice = await login(port, 'alice', 'pw', 'phone');
  alice.send("<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>");
  await alice.until(/<iq [^>]*id=["']r1["']/);

  expect((await h.ctl(['add_rosteritem', 'alice', 'localhost', 'carol', 'localhost', 'Carol', 'Friends', 'both'])).status).toBe(0);
  await alice.until(/<iq type=["']set["'][^>]*><query xmlns=["']jabber:iq:roster["'][^>]*><item [^>]*jid=["']carol@localhost["'][^>]*>/);
  expect((await h.ctl(['delete_rosteritem', 'alice', 'localhost', 'carol', 'localhost'])).status).toBe(0);
  await alice.until(/<item [^>]*subscription=["']remove["']/);

  expect((await h.ctl(['ban_account', 'alice', 'localhost', 'Spamming'])).status).toBe(0);
  await alice.until(/<stream:error>[\s\S]*<\/stream:stream>$/);

  const bob = await login(port, 'bob', 'pw', 'desk');
  expect((await h.ctl(['unregister', 'bob', 'localhost'])).status).toBe(0);
  await bob.until(/<stream:error>[\s\S]*<\/stream:stream>$/);
  expect((await h.ctl(['connected_users'])).stdout).toBe('');
});

test('restart ends the streams with system-shutdown and serves clients again on the same port', async () => {
  const port = await freePort();
  const h = home(c2sConfig(port));
  await runCli(['register', 'bob', 'localhost', 'pw', '--home', h.dir]);
  await start(h.dir);
  const before = await login(port, 'bob', 'pw', 'desk');
  expect(await h.ctl(['restart'])).toEqual({ status: 0, stdout: '', stderr: '' });
  await before.until(/<system-shutdown xmlns=["']urn:ietf:params:xml:ns:xmpp-streams["']\/>/);
  await login(port, 'bob', 'pw', 'desk');
  expect((await h.ctl(['connected_users'])).stdout).toBe('bob@localhost/desk\n');
});

test('a restore that drops the account of an online user is seen at once: the node forgets what it knew of the database', async () => {
  const port = await freePort();
  const h = home(c2sConfig(port));
  await start(h.dir);
  expect((await h.ctl(['register', 'bob', 'localhost', 'pw'])).status).toBe(0);
  const backup = join(h.dir, 'before-alice.backup');
  expect((await h.ctl(['backup', backup])).status).toBe(0);
  expect((await h.ctl(['register', 'alice', 'localhost', 'secret'])).status).toBe(0);
  await login(port, 'alice', 'secret', 'phone');
  expect(await h.ctl(['check_account', 'alice', 'localhost'])).toMatchObject({ status: 0 });
  expect((await h.ctl(['restore', backup])).status).toBe(0);
  expect(await h.ctl(['check_account', 'alice', 'localhost'])).toMatchObject({ status: 1 });
  expect(await h.ctl(['registered_users', 'localhost'])).toMatchObject({ status: 0, stdout: 'bob\n' });
});

test('certfiles globs match directories too, as in ejabberd’s /etc/letsencrypt/live/*/*.pem', async () => {
  const port = await freePort();
  const h = home();
  const live = join(h.dir, 'letsencrypt', 'live', 'example.org');
  mkdirSync(live, { recursive: true });
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=example.org',
      '-keyout',
      join(live, 'privkey.pem'),
      '-out',
      join(live, 'fullchain.pem'),
    ],
    {
      stdio: 'pipe',
    },
  );
  writeFileSync(join(h.dir, 'ctl.yml'), `${c2sConfig(port, '    tls: true\n    starttls: false\n')}certfiles:\n  - letsencrypt/live/*/*.pem\n`);
  await start(h.dir);
  expect(await presentedCertificate(port)).toContain('CN = example.org');
});

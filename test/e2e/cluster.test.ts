/**
 * Three nodes in separate homes, one PostgreSQL database and one Redis, all real: clients on
 * different nodes see each other's presence, exchange messages and share a room; every node's
 * commands see the whole cluster; a node killed with SIGKILL has its users offline on the
 * others within its lease and a sweep, and what is sent to them is stored; leave_cluster,
 * join_cluster and remove_node change what list_cluster says; a lost Redis leaves each node
 * serving its own users, and the cluster forms again when Redis is back.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempHome } from '../helpers/cli';
import { curl } from '../helpers/http-node';
import { tokenHash } from '../../src/features/tokens/records';
import { ctlProcess, ensureBuilt, killNodes, trackNodes, waitGone, type ProcResult } from '../helpers/proc';
import { freePort } from '../helpers/ports';
import { startRedis, type TestRedis } from '../helpers/redis';
import { eventually, got, received, slixmppLive, type LivePeer, type PeerRun } from '../helpers/xmpp';
import { startPostgres, type Postgres } from './sql-export-pg';

jest.setTimeout(180_000);

const LEASE_S = 2;
const NAMES = ['n1@localhost', 'n2@localhost', 'n3@localhost'];
const ROOM = 'lounge@conference.localhost';

interface TestNode {
  readonly name: string;
  readonly home: string;
  readonly port: number;
  /** The JSON API's. */
  readonly http: number;
  readonly tracker: ReturnType<typeof trackNodes>;
  pid: number;
}

let pg: Postgres;
let redis: TestRedis;
const homes: ReturnType<typeof tempHome>[] = [];
const nodes: TestNode[] = [];

const ctl = (n: TestNode, args: readonly string[]): Promise<ProcResult> => ctlProcess(n.home, args);
const lines = (...xs: string[]) => xs.map((x) => `${x}\n`).join('');
const okOut = (stdout: string) => ({ status: 0, stdout, stderr: '' });

beforeAll(async () => {
  ensureBuilt();
  [pg, redis] = await Promise.all([startPostgres({ tcp: true }), startRedis()]);
  await pg.psql('postgres', 'CREATE DATABASE cluster;');
  for (const name of NAMES) {
    const home = tempHome('ctl-cluster-');
    homes.push(home);
    const port = await freePort();
    const http = await freePort();
    writeFileSync(
      join(home.dir, 'ctl.yml'),
      [
        'hosts: ["localhost"]',
        `node_name: ${name}`,
        'default_db: sql',
        'sql_server: 127.0.0.1',
        `sql_port: ${pg.port}`,
        'sql_database: cluster',
        'sql_username: postgres',
        'redis_server: 127.0.0.1',
        `redis_port: ${redis.port}`,
        `cluster_lease: ${LEASE_S}`,
        'listen:',
        `  - {port: ${port}, ip: "127.0.0.1", module: ejabberd_c2s, starttls: true}`,
        `  - {port: ${http}, ip: "127.0.0.1", module: ejabberd_http, request_handlers: {"/api": mod_http_api}}`,
        '',
      ].join('\n'),
    );
    nodes.push({ name, home: home.dir, port, http, tracker: trackNodes(() => home.dir), pid: 0 });
  }
  const [n1] = nodes;
  for (const u of ['ann', 'ben', 'cat'])
    expect(await ctl(n1, ['register', u, 'localhost', 'pw'])).toEqual(okOut(`User ${u}@localhost successfully registered\n`));
  // Everyone is everyone's contact, both ways.
  for (const [a, b] of [
    ['ann', 'ben'],
    ['ann', 'cat'],
    ['ben', 'cat'],
  ]) {
    expect((await ctl(n1, ['add_rosteritem', a, 'localhost', b, 'localhost', b, 'Friends', 'both'])).status).toBe(0);
    expect((await ctl(n1, ['add_rosteritem', b, 'localhost', a, 'localhost', a, 'Friends', 'both'])).status).toBe(0);
  }
  for (const n of nodes) {
    try {
      n.pid = await n.tracker.startNode();
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${readFileSync(join(n.home, 'log', 'ctl.log'), 'utf8')}`);
    }
  }
}, 180_000);

afterAll(async () => {
  for (const n of nodes) await killNodes(n.tracker.pids, n.home);
  if (!process.env.KEEP_HOMES) for (const h of homes) h.cleanup();
  await redis?.stop();
  await pg?.stop();
});

const [N1, N2, N3] = [0, 1, 2];
const client = (user: string, node: number, extra: Record<string, unknown> = {}) => ({
  jid: `${user}@localhost/${user[0]}`,
  password: 'pw',
  port: nodes[node].port,
  ...extra,
});

async function finished(live: LivePeer): Promise<PeerRun> {
  const r = await live.done;
  const errors = r.events.filter((e) => e.event === 'error');
  if (r.status !== 0 || errors.length > 0)
    throw new Error(`the clients failed (${r.status}):\n${r.events.map((e) => JSON.stringify(e)).join('\n')}\n${r.stderr}`);
  return r;
}

test('a node that is no member yet is a cluster of one, and join_cluster refuses what it cannot join', async () => {
  const [n1, n2] = nodes;
  expect(await ctl(n1, ['list_cluster'])).toEqual(okOut(lines('n1@localhost')));
  expect(await ctl(n2, ['join_cluster', 'n2@localhost'])).toEqual({
    status: 2,
    stdout: '',
    stderr: 'Error: n2@localhost is this node: name another node of the cluster to join\nUsage: ctl join_cluster node\n',
  });
  const nobody = await ctl(n2, ['join_cluster', 'nobody@localhost']);
  expect(nobody.status).not.toBe(0);
  expect(nobody.stderr).toBe(`Error: No running node named nobody@localhost in the Redis at 127.0.0.1:${redis.port}: start it, or check its node_name\n`);
  expect(await ctl(n1, ['list_cluster'])).toEqual(okOut(lines('n1@localhost')));
});

test('join_cluster: the others join the first node, say what they did, and every node lists the same three', async () => {
  const [, n2, n3] = nodes;
  const joined = await ctl(n2, ['join_cluster', 'n1@localhost']);
  expect(joined.status).toBe(0);
  expect(joined.stdout).toBe('');
  expect(joined.stderr).toMatch(/^n2@localhost joined cluster n1@localhost, which n1@localhost serves in; its nodes: n1@localhost, n2@localhost\. /);
  expect(joined.stderr).toContain(`PostgreSQL database cluster at 127.0.0.1:${pg.port}`);
  expect((await ctl(n3, ['join_cluster', 'n2@localhost'])).status).toBe(0);
  for (const n of nodes) expect(await ctl(n, ['list_cluster'])).toEqual(okOut(lines(...NAMES)));
  const again = await ctl(n3, ['join_cluster', 'n1@localhost']);
  expect(again).toEqual({ status: 1, stdout: '', stderr: 'Error: n3@localhost is already in cluster n1@localhost, with n1@localhost\n' });
  const status = await ctl(n2, ['status']);
  expect(status.stdout).toContain(`It is a node of cluster n1@localhost, whose Redis at 127.0.0.1:${redis.port} answers`);
});

/** The HTTP status of an API call to node `n` with a bearer token. */
const withToken = async (n: TestNode, token: string) =>
  (
    await curl([
      '-H',
      `Authorization: Bearer ${token}`,
      '-H',
      'Content-Type: application/json',
      '-X',
      'POST',
      '--data-binary',
      '{}',
      `http://127.0.0.1:${n.http}/api/get_offline_count`,
    ])
  ).status;

/** 401 once node `n` refuses the token (as another node's change reaches it over Redis), else what it answers after 2 s. */
const refused = (n: TestNode, token: string) =>
  eventually(
    () => withToken(n, token),
    (s) => s === 401,
    2000,
  );

test('a token revoked on one node, or whose account one node removes, is refused by the other nodes that verified it', async () => {
  const [n1, n2, n3] = nodes;
  expect((await ctl(n1, ['register', 'dee', 'localhost', 'pw'])).status).toBe(0);
  const [revoked, kept] = await Promise.all([1, 2].map(async () => (await ctl(n1, ['api_token_create', 'dee', 'localhost', '0'])).stdout.trim()));
  for (const n of nodes) for (const t of [revoked, kept]) expect(await withToken(n, t)).toBe(200);
  expect(await ctl(n1, ['api_token_revoke', tokenHash(revoked).slice(0, 12)])).toEqual(okOut(''));
  expect(await withToken(n1, revoked)).toBe(401);
  // The revocation reaches the other nodes over Redis, a moment after it is committed.
  for (const n of [n2, n3]) expect(await refused(n, revoked)).toBe(401);
  for (const n of nodes) expect(await withToken(n, kept)).toBe(200);
  expect((await ctl(n3, ['unregister', 'dee', 'localhost'])).status).toBe(0);
  expect(await withToken(n3, kept)).toBe(401);
  for (const n of [n1, n2]) expect(await refused(n, kept)).toBe(401);
});

test('a fallback installed at a restart of one node: the other nodes refuse the tokens it removed', async () => {
  const [n1, n2, n3] = nodes;
  expect((await ctl(n1, ['register', 'erin', 'localhost', 'pw'])).status).toBe(0);
  const backup = join(n1.home, 'before-token.backup');
  expect(await ctl(n1, ['backup', backup])).toEqual(okOut(''));
  const token = (await ctl(n1, ['api_token_create', 'erin', 'localhost', '0'])).stdout.trim();
  // Verified, and so remembered, by every node.
  for (const n of nodes) expect(await withToken(n, token)).toBe(200);
  expect(await ctl(n1, ['install_fallback', backup])).toEqual(okOut(''));
  expect(await ctl(n1, ['restart'])).toEqual(okOut(''));
  // The backup was made before the token: the shared database no longer holds it.
  expect(await withToken(n1, token)).toBe(401);
  for (const n of [n2, n3]) expect(await refused(n, token)).toBe(401);
  expect((await ctl(n2, ['check_account', 'erin', 'localhost'])).status).toBe(0);
});

describe('clients on three nodes', () => {
  let live: LivePeer;
  let run: PeerRun;

  test('see each other, exchange messages, share a room; the session commands of every node agree', async () => {
    live = slixmppLive(
      'steps',
      {
        clients: { a: client('ann', N1), b: client('ben', N2), c: client('cat', N3), b2: { ...client('ben', N3), jid: 'ben@localhost/b2' } },
        steps: [
          { as: 'a', wait: ["from='ben@localhost/b'"], label: 'ann-sees-ben' },
          { as: 'a', wait: ["from='cat@localhost/c'"], label: 'ann-sees-cat' },
          { as: 'b', wait: ["from='cat@localhost/c'"], label: 'ben-sees-cat' },
          { as: 'a', send: "<message to='ben@localhost' type='chat' id='m1'><body>hello ben</body></message>" },
          { as: 'b', wait: ['<body>hello ben</body>', "from='ann@localhost/a'"], label: 'ben-gets' },
          { as: 'b', send: "<message to='ann@localhost/a' type='chat' id='m2'><body>hi ann</body></message>" },
          { as: 'a', wait: ['<body>hi ann</body>', "from='ben@localhost/b'"], label: 'ann-gets' },
          ...[1, 2, 3, 4, 5].map((i) => ({ as: 'c', send: `<message to='ann@localhost' type='chat' id='o${i}'><body>n${i}</body></message>` })),
          ...[1, 2, 3, 4, 5].map((i) => ({ as: 'a', wait: [`<body>n${i}</body>`], label: `order-${i}` })),
          { as: 'a', plugin: 'xep_0045', call: 'join_muc_wait', args: [ROOM, 'Ann'], kwargs: { timeout: 5 }, label: 'ann-joins' },
          { as: 'a', configure: ROOM, fields: {}, label: 'instant' },
          { as: 'b', plugin: 'xep_0045', call: 'join_muc_wait', args: [ROOM, 'Ben'], kwargs: { timeout: 5 }, label: 'ben-joins' },
          { as: 'c', plugin: 'xep_0045', call: 'join_muc_wait', args: [ROOM, 'Cat'], kwargs: { timeout: 5 }, label: 'cat-joins' },
          { as: 'a', wait: [`from='${ROOM}/Cat'`], label: 'ann-sees-cat-join' },
          { as: 'c', send: `<message to='${ROOM}' type='groupchat' id='g1'><body>hello room</body></message>` },
          { as: 'a', wait: ['<body>hello room</body>', `from='${ROOM}/Cat'`], label: 'ann-hears' },
          { as: 'b', wait: ['<body>hello room</body>', `from='${ROOM}/Cat'`], label: 'ben-hears' },
          { as: 'c', wait: ['<body>hello room</body>', "id='g1'"], label: 'cat-echo' },
          // A roster push reaches the user's resource on another node.
          { as: 'b', iq: "<iq type='set' id='r1'><query xmlns='jabber:iq:roster'><item jid='zed@localhost' name='Zed'/></query></iq>", label: 'roster-set' },
          { as: 'b2', wait: ["type='set'", "jid='zed@localhost'", "name='Zed'"], label: 'roster-push' },
          { checkpoint: 'together' },
          // Meanwhile commands on other nodes act on these sessions.
          { as: 'b', wait: ["from='ann@localhost/a'", '<show>away</show>', '<status>on a call</status>'], label: 'ann-away' },
          { as: 'c', wait: ["from='ann@localhost/a'", '<show>away</show>'], label: 'ann-away-c' },
          { as: 'b', wait: ['<body>from the admin</body>'], label: 'admin-stanza' },
          { as: 'b2', wait_closed: true, label: 'kicked' },
          { checkpoint: 'commanded' },
          // Meanwhile n3 is killed: what is sent to cat at once is stored, not lost; then cat goes
          // offline on the others, in the room too.
          { as: 'a', send: "<message to='cat@localhost' type='chat' id='away0'><body>right after the kill</body></message>" },
          { as: 'a', wait: ["from='cat@localhost/c'", "type='unavailable'"], label: 'cat-offline', timeout: 20 },
          { as: 'b', wait: ["from='cat@localhost/c'", "type='unavailable'"], label: 'cat-offline-b', timeout: 20 },
          { as: 'a', wait: [`from='${ROOM}/Cat'`, "type='unavailable'"], label: 'cat-leaves-room', timeout: 20 },
          { as: 'a', send: "<message to='cat@localhost' type='chat' id='away1'><body>while you were away</body></message>" },
          { as: 'b', send: "<message to='cat@localhost/c' type='chat' id='away2'><body>to your old resource</body></message>" },
          { checkpoint: 'stored' },
        ],
        timeout: 120,
        step_timeout: 15,
      },
      { timeoutMs: 150_000 },
    );
    await live.checkpoint('together', 60_000);
    for (const [i, n] of nodes.entries()) {
      expect(await ctl(n, ['connected_users'])).toEqual(okOut(lines('ann@localhost/a', 'ben@localhost/b', 'ben@localhost/b2', 'cat@localhost/c')));
      expect(await ctl(n, ['connected_users_number'])).toEqual(okOut('4\n'));
      expect(await ctl(n, ['stats', 'onlineusers'])).toEqual(okOut('4\n'));
      expect(await ctl(n, ['stats', 'onlineusersnode'])).toEqual(okOut(i === N3 ? '2\n' : '1\n'));
      const info = (await ctl(n, ['connected_users_info'])).stdout.trim().split('\n');
      // Each session's node is the one its client connected to.
      expect(info.map((l) => [l.split('\t')[0], l.split('\t')[5]])).toEqual([
        ['ann@localhost/a', 'n1@localhost'],
        ['ben@localhost/b', 'n2@localhost'],
        ['ben@localhost/b2', 'n3@localhost'],
        ['cat@localhost/c', 'n3@localhost'],
      ]);
    }
    const [n1, n2, n3] = nodes;
    // The room commands of every node see the room where the node of its first occupant serves it.
    expect(await ctl(n2, ['create_room', 'quiet', 'conference.localhost', 'localhost'])).toEqual(okOut(''));
    const occupants = await ctl(n1, ['get_room_occupants', 'lounge', 'conference.localhost']);
    expect(occupants.stdout.split('\n').map((l) => l.split('\t').slice(0, 2))).toEqual([
      ['ann@localhost/a', 'Ann'],
      ['ben@localhost/b', 'Ben'],
      ['cat@localhost/c', 'Cat'],
      [''],
    ]);
    const unused = await ctl(n1, ['rooms_unused_list', 'global', '0']);
    expect(unused.stdout).toBe(lines('quiet@conference.localhost'));
    for (const n of nodes) {
      expect(await ctl(n, ['get_room_occupants', 'lounge', 'conference.localhost'])).toEqual(occupants);
      expect(await ctl(n, ['get_room_occupants_number', 'lounge', 'conference.localhost'])).toEqual(okOut('3\n'));
      expect(await ctl(n, ['muc_online_rooms', 'global'])).toEqual(okOut(lines(ROOM, 'quiet@conference.localhost')));
      expect(await ctl(n, ['get_user_rooms', 'ben', 'localhost'])).toEqual(okOut(lines(ROOM)));
      expect(await ctl(n, ['rooms_unused_list', 'global', '0'])).toEqual(unused);
    }
    const twice = await ctl(n3, ['create_room', 'quiet', 'conference.localhost', 'localhost']);
    expect(twice).toEqual({ status: 1, stdout: '', stderr: 'Error: Room already exists: quiet@conference.localhost\n' });
    expect(await ctl(n3, ['change_room_option', 'lounge', 'conference.localhost', 'title', 'The lounge'])).toEqual(okOut(''));
    expect((await ctl(n2, ['get_room_options', 'lounge', 'conference.localhost'])).stdout).toContain('title\tThe lounge\n');
    expect(await ctl(n1, ['destroy_room', 'quiet', 'conference.localhost'])).toEqual(okOut(''));
    for (const n of nodes) expect(await ctl(n, ['muc_online_rooms', 'global'])).toEqual(okOut(lines(ROOM)));
    expect(await ctl(n3, ['set_presence', 'ann', 'localhost', 'a', 'available', 'away', 'on a call', '5'])).toEqual(okOut(''));
    const stanza = "<message from='admin@localhost' to='ben@localhost/b' type='chat'><body>from the admin</body></message>";
    expect(await ctl(n1, ['send_stanza_c2s', 'ben', 'localhost', 'b', stanza])).toEqual(okOut(''));
    expect(await ctl(n1, ['kick_session', 'ben', 'localhost', 'b2', 'moved'])).toEqual(okOut(''));
    live.resume();
    await live.checkpoint('commanded', 30_000);
    expect(await ctl(n2, ['status_list', 'away'])).toEqual(okOut('ann\tlocalhost\ta\t5\ton a call\n'));
    expect(await ctl(n3, ['connected_users'])).toEqual(okOut(lines('ann@localhost/a', 'ben@localhost/b', 'cat@localhost/c')));
  });

  test('kill -9 of a node: its users are offline on the others within the lease and a sweep, and messages to them are stored', async () => {
    const [n1, n2, n3] = nodes;
    const killed = Date.now();
    process.kill(n3.pid, 'SIGKILL');
    await waitGone(n3.pid, 10_000);
    live.resume();
    const gone = await eventually(
      () => ctl(n1, ['connected_users']),
      (r) => !r.stdout.includes('cat@'),
      20_000,
    );
    expect(gone).toEqual(okOut(lines('ann@localhost/a', 'ben@localhost/b')));
    // The bound: the lease, a sweep (a third of it), and the time to ask.
    expect(Date.now() - killed).toBeLessThan(LEASE_S * 1000 * 3 + 3000);
    const elsewhere = await eventually(
      () => ctl(n2, ['connected_users']),
      (r) => !r.stdout.includes('cat@'),
      20_000,
    );
    expect(elsewhere).toEqual(okOut(lines('ann@localhost/a', 'ben@localhost/b')));
    expect(Date.now() - killed).toBeLessThan(LEASE_S * 1000 * 3 + 3000);
    await live.checkpoint('stored', 30_000);
    expect(await ctl(n1, ['list_cluster'])).toEqual(okOut(lines('n1@localhost', 'n2@localhost')));
    expect(await ctl(n2, ['get_offline_count', 'cat', 'localhost'])).toEqual(okOut('3\n'));
    expect(n3.tracker.pids.size).toBeGreaterThan(0);
  });

  test('the killed node restarts, purges what it left, rejoins its cluster, and its user gets what was stored', async () => {
    const n3 = nodes[N3];
    n3.pid = await n3.tracker.startNode();
    for (const n of nodes)
      await eventually(
        () => ctl(n, ['list_cluster']),
        (r) => r.stdout === lines(...NAMES),
        10_000,
      );
    const cat = slixmppLive(
      'steps',
      {
        clients: { c: client('cat', N3, { resource: 'c' }) },
        steps: [
          { as: 'c', wait: ['<body>right after the kill</body>'], label: 'at-once' },
          { as: 'c', wait: ['<body>while you were away</body>'], label: 'first' },
          { as: 'c', wait: ['<body>to your old resource</body>'], label: 'second' },
          { checkpoint: 'got' },
          { as: 'c', wait_closed: true, label: 'kicked' },
        ],
        timeout: 30,
      },
      { timeoutMs: 40_000 },
    );
    await cat.checkpoint('got', 30_000);
    // kick_user on another node than the user's.
    expect(await ctl(nodes[N1], ['kick_user', 'cat', 'localhost'])).toEqual(okOut('1\n'));
    cat.resume();
    const r = await finished(cat);
    expect(got(r, 'first')).toContain("from='ann@localhost/a'");
    expect(await ctl(nodes[N1], ['get_offline_count', 'cat', 'localhost'])).toEqual(okOut('0\n'));
    live.resume();
    run = await finished(live);
    expect(got(run, 'ben-gets')).toContain("type='chat'");
  });
});

test('leave_cluster from another member drains the node; join_cluster brings it back', async () => {
  const [n1, , n3] = nodes;
  const cat = slixmppLive(
    'steps',
    { clients: { c: client('cat', N3) }, steps: [{ checkpoint: 'on' }, { as: 'c', wait_closed: true, label: 'closed' }], timeout: 40 },
    { timeoutMs: 50_000 },
  );
  await cat.checkpoint('on', 20_000);
  await eventually(
    () => ctl(n1, ['connected_users']),
    (r) => r.stdout.includes('cat@localhost/c'),
    10_000,
  );
  cat.resume();
  const left = await ctl(n1, ['leave_cluster', 'n3@localhost']);
  expect(left).toEqual({
    status: 0,
    stdout: '',
    stderr: 'n3@localhost left cluster n1@localhost: its clients were disconnected (system-shutdown) and its sessions removed; it now serves alone\n',
  });
  const r = await finished(cat);
  expect(r.events.find((e) => e.event === 'stream_error')?.condition).toBe('system-shutdown');
  expect(await ctl(n1, ['list_cluster'])).toEqual(okOut(lines('n1@localhost', 'n2@localhost')));
  expect(await ctl(n3, ['list_cluster'])).toEqual(okOut(lines('n3@localhost')));
  expect(await ctl(n1, ['connected_users'])).toEqual(okOut(''));
  // Not a running member any more.
  const twice = await ctl(n1, ['leave_cluster', 'n3@localhost']);
  expect(twice.status).not.toBe(0);
  expect(twice.stderr).toMatch(/^Error: n3@localhost is not a running node of cluster n1@localhost/);
  // It stays out across a restart.
  expect((await ctl(n3, ['stop'])).status).toBe(0);
  await waitGone(n3.pid, 10_000);
  n3.pid = await n3.tracker.startNode();
  expect(await ctl(n3, ['list_cluster'])).toEqual(okOut(lines('n3@localhost')));
  expect((await ctl(n3, ['join_cluster', 'n1@localhost'])).status).toBe(0);
  for (const n of nodes) expect(await ctl(n, ['list_cluster'])).toEqual(okOut(lines(...NAMES)));
});

test('remove_node forgets a node that is gone, and refuses one that runs or one it never knew', async () => {
  const [n1, n2, n3] = nodes;
  const running = await ctl(n1, ['remove_node', 'n2@localhost']);
  expect(running).toEqual({ status: 1, stdout: '', stderr: "Error: n2@localhost is running: 'ctl leave_cluster n2@localhost' drains it\n" });
  const unknown = await ctl(n1, ['remove_node', 'zz@localhost']);
  expect(unknown.status).not.toBe(0);
  expect(unknown.stderr).toBe('Error: No node named zz@localhost in cluster n1@localhost\n');
  // stop_kindly tells the users of its node, not those of the others.
  const peers = slixmppLive(
    'steps',
    {
      clients: { a: client('ann', N1), c: client('cat', N3) },
      steps: [
        { as: 'a', wait: ["from='cat@localhost/c'"], label: 'sees-cat' },
        { checkpoint: 'on' },
        { as: 'c', wait: ['<body>going down</body>'], label: 'told', timeout: 15 },
        { as: 'c', wait_closed: true, label: 'closed' },
        { as: 'a', wait: ["from='cat@localhost/c'", "type='unavailable'"], label: 'cat-gone' },
      ],
      timeout: 40,
    },
    { timeoutMs: 50_000 },
  );
  await peers.checkpoint('on', 20_000);
  peers.resume();
  const stopped = await ctl(n3, ['stop_kindly', '0', 'going down']);
  expect(stopped).toEqual({ status: 0, stdout: '', stderr: expect.stringContaining('Sending announcement to connected users: going down... 1 sessions') });
  const told = await finished(peers);
  expect(received(told, 'c').filter((x) => x.includes('<body>going down</body>'))).toHaveLength(1);
  expect(received(told, 'a').filter((x) => x.includes('going down'))).toEqual([]);
  await waitGone(n3.pid, 10_000);
  expect(await ctl(n1, ['remove_node', 'n3@localhost'])).toEqual({
    status: 0,
    stdout: '',
    stderr: 'Removed n3@localhost from cluster n1@localhost: 0 session(s) it left were purged\n',
  });
  expect(await ctl(n2, ['list_cluster'])).toEqual(okOut(lines('n1@localhost', 'n2@localhost')));
  expect((await ctl(n1, ['remove_node', 'n3@localhost'])).status).not.toBe(0);
});

test('a lost Redis: each node serves its own users and says so in status; when Redis is back the cluster forms again', async () => {
  const [n1, n2] = nodes;
  const live = slixmppLive(
    'steps',
    {
      clients: { a: client('ann', N1), b: client('ben', N2) },
      steps: [
        { as: 'a', wait: ["from='ben@localhost/b'"], label: 'sees-ben' },
        { checkpoint: 'lost' },
        { checkpoint: 'back' },
        { as: 'a', send: "<message to='ben@localhost/b' type='chat' id='r1'><body>after the storm</body></message>" },
        { as: 'b', wait: ['<body>after the storm</body>'], label: 'ben-gets' },
      ],
      timeout: 60,
    },
    { timeoutMs: 70_000 },
  );
  await live.checkpoint('lost', 30_000);
  await redis.kill();
  const status = await eventually(
    () => ctl(n1, ['status']),
    (r) => r.stdout.includes('unreachable'),
    10_000,
  );
  expect(status.stdout).toMatch(
    new RegExp(
      `It is a node of cluster n1@localhost, but Redis at 127\\.0\\.0\\.1:${redis.port} is unreachable since \\S+: it serves its own clients alone until Redis is back`,
    ),
  );
  expect(await ctl(n1, ['connected_users'])).toEqual(okOut(lines('ann@localhost/a')));
  expect(await ctl(n1, ['list_cluster'])).toEqual(okOut(lines('n1@localhost')));
  await redis.restart();
  for (const n of [n1, n2])
    await eventually(
      () => ctl(n, ['connected_users']),
      (r) => r.stdout === lines('ann@localhost/a', 'ben@localhost/b'),
      15_000,
    );
  expect(await ctl(n2, ['list_cluster'])).toEqual(okOut(lines('n1@localhost', 'n2@localhost')));
  live.resume();
  live.resume();
  await finished(live);
  expect(readFileSync(join(n1.home, 'log', 'ctl.log'), 'utf8')).toContain(`cluster: lost Redis at 127.0.0.1:${redis.port}`);
});

test('a node whose ctl.yml names no Redis serves alone, and the cluster commands say how to cluster it', async () => {
  const home = tempHome('ctl-alone-');
  try {
    writeFileSync(join(home.dir, 'ctl.yml'), `node_name: solo@localhost\nlisten:\n  - {port: ${await freePort()}, ip: "127.0.0.1", module: ejabberd_c2s}\n`);
    const tracker = trackNodes(() => home.dir);
    await tracker.startNode();
    try {
      expect(await ctlProcess(home.dir, ['list_cluster'])).toEqual(okOut('solo@localhost\n'));
      const r = await ctlProcess(home.dir, ['join_cluster', 'n1@localhost']);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/^Error: solo@localhost serves alone: a cluster keeps its sessions in Redis, so name it in ctl.yml \(redis_server/);
      expect((await ctlProcess(home.dir, ['remove_node', 'n1@localhost'])).stderr).toMatch(/^Error: solo@localhost serves alone/);
    } finally {
      await killNodes(tracker.pids, home.dir);
    }
  } finally {
    home.cleanup();
  }
});

test('a node whose Redis does not answer at its start still starts, serves alone, and says why', async () => {
  const home = tempHome('ctl-noredis-');
  try {
    const closed = await freePort();
    writeFileSync(
      join(home.dir, 'ctl.yml'),
      `node_name: lone@localhost\nredis_server: 127.0.0.1\nredis_port: ${closed}\nlisten:\n  - {port: ${await freePort()}, ip: "127.0.0.1", module: ejabberd_c2s}\n`,
    );
    const tracker = trackNodes(() => home.dir);
    await tracker.startNode();
    try {
      const status = await ctlProcess(home.dir, ['status']);
      expect(status.status).toBe(0);
      expect(status.stdout).toContain(`It is a node of cluster lone@localhost, but Redis at 127.0.0.1:${closed} is unreachable since `);
      expect(await ctlProcess(home.dir, ['list_cluster'])).toEqual(okOut('lone@localhost\n'));
      expect(await ctlProcess(home.dir, ['join_cluster', 'n1@localhost'])).toEqual({
        status: 3,
        stdout: '',
        stderr: `Error: The cluster's Redis at 127.0.0.1:${closed} is unreachable: this node serves alone until it is back\n`,
      });
      const said = `cluster: Redis at 127.0.0.1:${closed} does not answer; serving this node's users alone until it does`;
      const log = await eventually(
        async () => readFileSync(join(home.dir, 'log', 'ctl.log'), 'utf8'),
        (text) => text.includes(said),
        5000,
      );
      expect(log).toContain(said);
    } finally {
      await killNodes(tracker.pids, home.dir);
    }
  } finally {
    home.cleanup();
  }
});

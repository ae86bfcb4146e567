'use strict';
/**
 * Multi-user chat: a room's fan-out to its occupants against the same deliveries one to one
 * between the same clients (generator in its own process, `muc-client.js`); rooms created from
 * a rooms file against registrations by `ctl batch`, both through a running node; and the
 * node's start-up with 100 000 stored rooms against an empty database (rooms load on demand).
 * `node test/bench/muc.js [--quick]` runs it alone.
 */
const { spawn, spawnSync } = require('node:child_process');
const { existsSync, readFileSync, readdirSync, statSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { CTL, ctl, dist, median, openServices, runAlone, since, tempHome } = require('./lib');
const { bulkUsers, certificate, child, logins, nodeTarget, started } = require('./xmpp');

const SERVICE = 'conference.localhost';
const OCCUPANTS = 200;
/** Groupchat senders, each keeping WINDOW messages in flight until every occupant has them. */
const SENDERS = 4;
const WINDOW = 4;
/** The paced runs' load, in deliveries per second: well within what either way manages here. */
const PACED_DELIVERIES = 5000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const x = (a, b) => `${(a / b).toFixed(2)}x`;
const perSecond = (n) => `${n.toFixed(0)}/s`;
const ms = (n) => `${n.toFixed(1)} ms`;
const lost = (r) => (r.lost || r.errors ? `, ${r.lost} lost, ${r.errors} errors` : '');

/** The median of each field of `results` (runs of one kind). */
function medianOf(results) {
  const out = {};
  for (const k of Object.keys(results[0])) out[k] = median(results.map((r) => r[k]));
  return out;
}

/**
 * 200 sessions in one room. Throughput: groupchat from SENDERS senders against chat from each
 * of the 200 to the next, the same deliveries in all and the same deliveries in flight. Latency:
 * both paced at the same deliveries per second.
 */
async function fanout({ quick }) {
  const rounds = quick ? 1 : 3;
  const roomMessages = quick ? 100 : 500;
  const pacedSeconds = quick ? 1 : 3;
  const cert = certificate(tempHome());
  const node = await nodeTarget(OCCUPANTS, cert);
  const client = child('muc-client.js');
  try {
    await logins(client, node.plain, bulkUsers(0, OCCUPANTS), 'SCRAM-SHA-1', true);
    ctl(node.home, ['create_room', 'bench', SERVICE, 'localhost']);
    const room = `bench@${SERVICE}`;
    const joined = await client.request({ op: 'join', room, count: OCCUPANTS, concurrency: 10 });
    const inside = Number(ctl(node.home, ['get_room_occupants_number', 'bench', SERVICE]).stdout.trim());
    if (inside !== OCCUPANTS) throw new Error(`${OCCUPANTS} joined ${room}, the node counts ${inside} occupants`);

    const muc = { kind: 'groupchat', room, senders: SENDERS, occupants: OCCUPANTS };
    const chat = { kind: 'chat', users: OCCUPANTS };
    const deliveries = roomMessages * OCCUPANTS;
    const closed = {
      muc: { op: 'closed', ...muc, messages: roomMessages, window: WINDOW },
      chat: { op: 'closed', ...chat, messages: deliveries, window: SENDERS * WINDOW },
    };
    const paced = {
      muc: { op: 'paced', ...muc, rate: PACED_DELIVERIES / OCCUPANTS, seconds: pacedSeconds },
      chat: { op: 'paced', ...chat, rate: PACED_DELIVERIES, seconds: pacedSeconds },
    };
    // Untimed, a little of each first: the code of both paths is compiled before it is timed.
    await client.request({ ...closed.muc, messages: 20 });
    await client.request({ ...closed.chat, messages: 20 * OCCUPANTS });
    const runs = { closedMuc: [], closedChat: [], pacedMuc: [], pacedChat: [] };
    for (let i = 0; i < rounds; i++) {
      runs.closedMuc.push(await client.request(closed.muc));
      runs.closedChat.push(await client.request(closed.chat));
    }
    for (let i = 0; i < rounds; i++) {
      runs.pacedMuc.push(await client.request(paced.muc));
      runs.pacedChat.push(await client.request(paced.chat));
    }
    const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, medianOf(v)]));
    const latency = (r) => `p50 ${ms(r.p50)}, p99 ${ms(r.p99)}`;
    const inFlight = SENDERS * WINDOW * OCCUPANTS;
    return [
      [`${OCCUPANTS} sessions join one room, 10 at a time`, `${((OCCUPANTS / joined.ms) * 1000).toFixed(0)} joins/s`, `${ms(joined.ms)} in all`],
      [
        `1:1 chat, each of ${OCCUPANTS} to the next, ${deliveries} deliveries, ${inFlight} in flight (baseline)`,
        perSecond(m.closedChat.perSecond),
        `1.00x${lost(m.closedChat)}`,
      ],
      [
        `groupchat, ${SENDERS} senders x ${WINDOW} in flight to ${OCCUPANTS} occupants, ${deliveries} deliveries`,
        perSecond(m.closedMuc.perSecond),
        `${x(m.closedMuc.perSecond, m.closedChat.perSecond)}${lost(m.closedMuc)}`,
      ],
      [`1:1 chat at ${PACED_DELIVERIES} deliveries/s, ${pacedSeconds} s (baseline)`, latency(m.pacedChat), `1.00x${lost(m.pacedChat)}`],
      [
        `groupchat at ${PACED_DELIVERIES / OCCUPANTS} messages/s to ${OCCUPANTS} occupants, each delivery`,
        latency(m.pacedMuc),
        `p99 ${x(m.pacedMuc.p99, m.pacedChat.p99)}${lost(m.pacedMuc)}`,
      ],
      [
        `groupchat at ${PACED_DELIVERIES / OCCUPANTS} messages/s, until every occupant has it`,
        `p99 ${ms(m.pacedMuc.allP99)}`,
        `p99 ${x(m.pacedMuc.allP99, m.pacedChat.p99)}`,
      ],
    ];
  } finally {
    await client.stop();
    await node.stop();
  }
}

/** A home for a node that serves localhost with plain passwords; its client listener takes any free port. */
const plainHome = () => tempHome('hosts: [localhost]\nauth_password_format: plain\n');
const NODE_ENV = { ...process.env, CTL_C2S_PORT: '0' };

/**
 * `ctl start` on `home`, timed until the node writes its pid file: it does so last, once the
 * XMPP server (and with it the MUC service) and the listeners are up.
 */
async function start(home) {
  const pidFile = join(home, 'run', 'ctl.pid');
  const t0 = process.hrtime.bigint();
  const proc = spawn(process.execPath, [CTL, 'start', '--home', home], { env: NODE_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((r) => proc.once('exit', r));
  while (!existsSync(pidFile)) {
    if (proc.exitCode !== null) throw new Error(`ctl start exited ${proc.exitCode}: ${stderr}`);
    await sleep(2);
  }
  const took = since(t0);
  const code = await exited;
  if (code !== 0) throw new Error(`ctl start exited ${code}: ${stderr}`);
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  started.add(pid);
  return { ms: took, stop: () => stop(home, pid) };
}

/** Whether the process runs: one that ended after its parent (`ctl start`) is a zombie until init reaps it, which may take seconds. */
function running(pid) {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

async function stop(home, pid) {
  spawnSync(process.execPath, [CTL, 'stop', '--home', home], { timeout: 20_000 });
  // Whatever `stop` managed, the process goes.
  for (let i = 0; i < 1000 && running(pid); i++) await sleep(5);
  if (running(pid)) process.kill(pid, 'SIGKILL');
  started.delete(pid);
}

const roomLines = (prefix, n) => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(6, '0')}@${SERVICE}`).join('\n') + '\n';

/** The lines `ctl muc_online_rooms` printed, which must be `count`. */
function listed(out, count, what) {
  const lines = out.split('\n').filter((l) => l !== '').length;
  if (lines !== count) throw new Error(`muc_online_rooms listed ${lines} rooms ${what}, ${count} expected`);
}

/**
 * `ctl create_rooms_file` of `count` rooms through a running node, against the same count of
 * plain registrations by `ctl batch` through it: one command writing that many records by the
 * bulk path.
 */
async function roomsFile({ quick }) {
  const count = quick ? 2000 : 10_000;
  const home = plainHome();
  const node = await start(home);
  try {
    const file = join(home, 'rooms.txt');
    writeFileSync(file, roomLines('b', count));
    const registrations = Array.from({ length: count }, (_, i) => `register user${i} localhost pw${i}`).join('\n');
    const batch = ctl(home, ['batch'], registrations).ms;
    const all = ctl(home, ['create_rooms_file', file]).ms;
    listed(ctl(home, ['muc_online_rooms', SERVICE]).stdout, count, 'after the file');
    return [
      [`ctl batch: ${count} plain registrations through the node (baseline)`, ms(batch), `1.00x (${perSecond((count / batch) * 1000)})`],
      [`ctl create_rooms_file: ${count} rooms through the node`, ms(all), `${x(all, batch)} (${perSecond((count / all) * 1000)})`],
    ];
  } finally {
    await node.stop();
  }
}

/** `count` persistent rooms written into a stopped node's database through the feature API, as a rooms file would make them. */
async function writeRooms(home, count) {
  const { DEFAULT_ROOM_OPTIONS } = dist('src/config/muc');
  const { store, services } = await openServices(home);
  try {
    const now = Date.now();
    const record = {
      options: { ...DEFAULT_ROOM_OPTIONS, persistent: true },
      affiliations: [],
      subject: '',
      subjectAuthor: '',
      createdAt: now,
      lastActivity: now,
    };
    for (let i = 0; i < count; i += 5000) {
      const rooms = [];
      for (let j = i; j < Math.min(count, i + 5000); j++) rooms.push({ service: SERVICE, name: `r${String(j).padStart(6, '0')}`, record });
      await services.muc.createRooms(rooms);
    }
  } finally {
    await store.close();
  }
}

/**
 * Start-up of a node with `count` stored rooms against one with none, the two taking turns
 * (after an untimed start of each: the first replays what the writes left in LevelDB's log);
 * then the first `muc_online_rooms global` of each, which reads every stored room.
 */
async function startup({ quick }) {
  const count = quick ? 20_000 : 100_000;
  const rounds = quick ? 3 : 9;
  const [empty, full] = [plainHome(), plainHome()];
  const t0 = process.hrtime.bigint();
  await writeRooms(full, count);
  const written = since(t0);
  for (const home of [empty, full]) await (await start(home)).stop();
  const times = [[], []];
  for (let i = 0; i < rounds; i++) {
    for (const [j, home] of [empty, full].entries()) {
      const node = await start(home);
      times[j].push(node.ms);
      await node.stop();
    }
  }
  const [base, withRooms] = times.map(median);
  const mib = (dir) => `${(readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0) / 2 ** 20).toFixed(1)} MiB`;
  const listing = [];
  for (const [home, n] of [
    [empty, 0],
    [full, count],
  ]) {
    const node = await start(home);
    try {
      const first = ctl(home, ['muc_online_rooms', 'global']);
      listed(first.stdout, n, `on a node with ${n} stored`);
      listing.push(first.ms);
    } finally {
      await node.stop();
    }
  }
  return [
    [`${count} rooms written through the feature API (setup)`, ms(written), `database ${mib(join(full, 'db'))} after the starts`],
    [`ctl start until the node is up, empty database (baseline)`, ms(base), '1.00x'],
    [`ctl start until the node is up, ${count} stored rooms`, ms(withRooms), `${x(withRooms, base)} (goal ~1.0x: rooms load on demand)`],
    [`first ctl muc_online_rooms global, no rooms (baseline)`, ms(listing[0]), '1.00x'],
    [`first ctl muc_online_rooms global, ${count} stored rooms`, ms(listing[1]), x(listing[1], listing[0])],
  ];
}

async function bench(options) {
  return [...(await fanout(options)), ...(await roomsFile(options)), ...(await startup(options))];
}

module.exports = { bench };

if (require.main === module) runAlone('Multi-user chat (client swarm in its own process; 1:1 chat, ctl batch and an empty database as the baselines)', bench);

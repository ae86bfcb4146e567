'use strict';
/**
 * The XMPP server under load, with the generator in a process of its own (`xmpp-client.js`):
 * SCRAM logins per second, messages per second client to client, the latency of bursts, and
 * resident memory per idle session over plain TCP and TLS. The baseline, measured in the same
 * run with the same generator, is a bare Node relay of the same bytes (`xmpp-relay.js`).
 * `node test/bench/xmpp.js [--quick]` runs it alone.
 */
const { spawn, spawnSync } = require('node:child_process');
const net = require('node:net');
const { readFileSync, writeFileSync } = require('node:fs');
const { join, resolve } = require('node:path');
const { CTL, ctl, dist, median, runAlone, tempHome } = require('./lib');

const REQUEST_TIMEOUT_MS = 180_000;
const LOGIN_CONCURRENCY = 200;
/** Accounts of the bulk path share this many secrets: the client's PBKDF2 is paid once per secret. */
const SECRETS = 50;

/** Processes this benchmark started and has not stopped yet: `killAll()` ends them on an interrupt. */
const started = new Set();

function killAll() {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  started.clear();
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A command run with the open-files limit raised to the hard limit (10 000 sockets need it). */
const unlimited = (cmd, args) => ['bash', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', cmd, ...args]];

/** A bench script as a child process answering `request(msg)` over IPC, one request at a time. */
function child(script) {
  const [cmd, args] = unlimited(process.execPath, [resolve(__dirname, script)]);
  const proc = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  started.add(proc.pid);
  const exited = new Promise((r) => proc.once('exit', r)).then(() => started.delete(proc.pid));
  const request = (msg) =>
    new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`${script}: no answer to ${msg.op} within ${REQUEST_TIMEOUT_MS / 1000} s`)), REQUEST_TIMEOUT_MS);
      const onExit = (code) => fail(new Error(`${script} exited (${code}) during ${msg.op}`));
      proc.once('exit', onExit);
      proc.once('message', (reply) => {
        clearTimeout(timer);
        proc.off('exit', onExit);
        if (reply.error) fail(new Error(`${script} ${msg.op}: ${reply.error}`));
        else ok(reply);
      });
      proc.send(msg);
    });
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGKILL');
    await exited;
  };
  return { request, stop };
}

async function freePort() {
  const server = net.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/** A P-256 certificate for localhost (cheap handshakes), shared by the node and the relay. */
function certificate(dir) {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const r = spawnSync('openssl', [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2'],
    ...['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-keyout', key, '-out', cert],
  ]);
  if (r.status !== 0) throw new Error(`openssl could not make a certificate: ${r.stderr}`);
  const pem = join(dir, 'localhost.pem');
  writeFileSync(pem, readFileSync(key, 'utf8') + readFileSync(cert, 'utf8'));
  return { key, cert, pem };
}

/** Resident memory of a process, in bytes. */
function rss(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
}

const bulkUser = (i) => `u${String(i).padStart(6, '0')}`;
const bulkUsers = (from, to) => Array.from({ length: to - from }, (_, k) => [bulkUser(from + k), `pw${(from + k) % SECRETS}`]);
const scramUser = (i) => `s${String(i).padStart(5, '0')}`;
const scramUsers = (n) => Array.from({ length: n }, (_, i) => [scramUser(i), `pw-${i}`]);

/** `count` accounts written straight into the store of a stopped node, their secrets shared by groups. */
async function writeAccounts(home, count) {
  const { openLevelStore } = dist('src/storage/level');
  const { accountOps } = dist('src/features/accounts/records');
  const { makeSecret } = dist('src/features/accounts/secret');
  const secrets = await Promise.all(Array.from({ length: SECRETS }, (_, i) => makeSecret(`pw${i}`, 'scram')));
  const store = await openLevelStore(join(home, 'db'));
  try {
    const created = Math.floor(Date.now() / 1000);
    for (let i = 0; i < count; i += 5000) {
      const ops = [];
      for (let j = i; j < Math.min(count, i + 5000); j++)
        ops.push(...accountOps({ host: 'localhost', user: bulkUser(j) }, { secret: secrets[j % SECRETS], created }));
      await store.batch(ops);
    }
  } finally {
    await store.close();
  }
}

/** The node of a fresh home serving c2s on free ports, plain and direct TLS, with `bulk` accounts. */
async function nodeTarget(bulk, cert) {
  const [plainPort, tlsPort] = [await freePort(), await freePort()];
  const home = tempHome(
    [
      'hosts: [localhost]',
      `certfiles: ["${cert.pem}"]`,
      'listen:',
      `  - port: ${plainPort}`,
      '    ip: "127.0.0.1"',
      '    module: ejabberd_c2s',
      // Every bench client connects from 127.0.0.1; the swarm may hold more streams than a
      // quarter of the open-files limit, the default bound.
      '    max_connections_per_ip: infinity',
      '    max_connections: infinity',
      `  - port: ${tlsPort}`,
      '    ip: "127.0.0.1"',
      '    module: ejabberd_c2s',
      '    max_connections_per_ip: infinity',
      '    max_connections: infinity',
      '    tls: true',
      '',
    ].join('\n'),
  );
  await writeAccounts(home, bulk);
  let pid;
  const start = () => {
    const [cmd, args] = unlimited(process.execPath, [CTL, 'start', '--home', home]);
    const r = spawnSync(cmd, args);
    if (r.status !== 0) throw new Error(`the node did not start: ${r.stderr}${r.stdout}`);
    pid = Number(readFileSync(join(home, 'run', 'ctl.pid'), 'utf8').trim());
    started.add(pid);
  };
  const stop = async () => {
    if (pid === undefined) return;
    spawnSync(process.execPath, [CTL, 'stop', '--home', home], { timeout: 20_000 });
    // Whatever `stop` managed, the process goes.
    for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    started.delete(pid);
    pid = undefined;
  };
  start();
  return {
    name: 'node',
    home,
    plain: { port: plainPort, tls: false },
    tls: { port: tlsPort, tls: true },
    pid: () => pid,
    restart: async () => {
      await stop();
      start();
    },
    stop,
  };
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function relayTarget(cert) {
  let relay;
  let info;
  const start = async () => {
    relay = child('xmpp-relay.js');
    info = await relay.request({ op: 'listen', key: cert.key, cert: cert.cert });
  };
  await start();
  return {
    name: 'bare relay',
    get plain() {
      return { port: info.plainPort, tls: false };
    },
    get tls() {
      return { port: info.tlsPort, tls: true };
    },
    pid: () => info.pid,
    restart: async () => {
      await relay.stop();
      await start();
    },
    stop: () => relay.stop(),
  };
}

/** Logins of `users` (all must succeed); logins per second. */
async function logins(client, server, users, mechanism, keep) {
  const r = await client.request({ op: 'login', server, users, mechanism, concurrency: LOGIN_CONCURRENCY, keep });
  if (r.failed) throw new Error(`${r.failed} of ${users.length} logins to port ${server.port} failed, e.g. ${r.errors.join('; ')}`);
  return (users.length / r.ms) * 1000;
}

/** RSS per idle session at each of `sizes` concurrent sessions, on a freshly started server. */
async function memory(client, target, kind, sizes) {
  await target.restart();
  const server = target[kind];
  // A few logins first, untimed and closed: code loaded on first use is not a session's cost.
  await logins(client, server, bulkUsers(0, 20), 'SCRAM-SHA-1', false);
  await sleep(1000);
  const before = rss(target.pid());
  const out = [];
  let open = 0;
  for (const n of sizes) {
    const perSecond = await logins(client, server, bulkUsers(open, n), 'SCRAM-SHA-1', true);
    open = n;
    await sleep(1500);
    out.push({ n, perSession: (rss(target.pid()) - before) / n, perSecond });
  }
  await client.request({ op: 'closeAll' });
  return out;
}

/**
 * Logins per second of each target for each mechanism: the client's keys cached by a first,
 * untimed round, then the median of `rounds` rounds, the targets taking turns.
 */
async function loginRates(client, targets, users, rounds) {
  const out = Object.fromEntries(targets.map((t) => [t.name, {}]));
  for (const m of ['SCRAM-SHA-1', 'SCRAM-SHA-256']) {
    for (const t of targets) await logins(client, t.plain, users, m, false);
    const times = targets.map(() => []);
    for (let i = 0; i < rounds; i++) for (const [j, t] of targets.entries()) times[j].push(await logins(client, t.plain, users, m, false));
    for (const [j, t] of targets.entries()) out[t.name][m] = median(times[j]);
  }
  return out;
}

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
const x = (a, b) => `${(a / b).toFixed(2)}x`;

/** The rows of one measurement: the relay's as the baseline, the node's as a ratio of it and against its goal. */
function compare(label, results, value, goal, worse = (n, b) => x(n, b)) {
  const [b, n] = [results['bare relay'], results.node];
  const rows = [[`${label}, bare relay (baseline)`, value(b), '1.00x']];
  if (n) rows.push([`${label}, node`, value(n), `${worse(n, b)}${goal ? ` (goal ${goal})` : ''}${lost(n)}`]);
  return rows;
}

async function bench({ quick, relayOnly = false }) {
  const sizes = quick ? [1000, 2000] : [1000, 10_000];
  const loginUsers = quick ? 300 : 1000;
  const pairs = 50;
  const burstUsers = Math.min(1000, loginUsers);
  const cert = certificate(tempHome());
  const client = child('xmpp-client.js');
  const targets = [];
  try {
    targets.push(await relayTarget(cert));
    const rows = [];
    if (!relayOnly) {
      const node = await nodeTarget(sizes.at(-1), cert);
      targets.push(node);
      const t0 = process.hrtime.bigint();
      const lines = scramUsers(loginUsers).map(([u, p]) => `register ${u} localhost ${p}`);
      ctl(node.home, ['batch'], lines.join('\n'));
      const perSecond = loginUsers / (Number(process.hrtime.bigint() - t0) / 1e9);
      rows.push([`ctl batch through the node: ${loginUsers} registrations, SCRAM secrets`, `${perSecond.toFixed(0)}/s`, '']);
    }

    const mem = { plain: {}, tls: {} };
    for (const kind of ['plain', 'tls']) for (const t of targets) mem[kind][t.name] = await memory(client, t, kind, sizes);
    for (const t of targets) await t.restart();
    const rates = await loginRates(client, targets, scramUsers(loginUsers), 3);
    const flow = {};
    const bursts = [{}, {}];
    for (const t of targets) {
      await logins(client, t.plain, scramUsers(loginUsers), 'SCRAM-SHA-256', true);
      flow[t.name] = await client.request({ op: 'messages', pairs, seconds: quick ? 2 : 5, window: 100 });
      // A pause, untimed: what the node still does after the deliveries (archives, say) is done.
      await sleep(1000);
      bursts[0][t.name] = await client.request({ op: 'burst', users: burstUsers, count: 20, spreadMs: 2000 });
      bursts[1][t.name] = await client.request({ op: 'burst', users: burstUsers, count: 20, spreadMs: 0 });
      await client.request({ op: 'closeAll' });
    }

    const perSecond = (r) => `${r.toFixed(0)}/s`;
    for (const m of ['SCRAM-SHA-1', 'SCRAM-SHA-256']) {
      const byTarget = Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, v[m]]));
      rows.push(...compare(`${m} logins, ${loginUsers} clients ${LOGIN_CONCURRENCY} at a time, median of rounds`, byTarget, perSecond, '>= 1000/s'));
    }
    rows.push(
      ...compare(
        `messages client to client, ${pairs} pairs, 100 in flight each`,
        flow,
        (r) => perSecond(r.perSecond),
        '>= 30000/s',
        (n, b) => x(n.perSecond, b.perSecond),
      ),
    );
    const latency = (r) => (r.received ? `p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms` : 'nothing arrived');
    for (const [i, how] of ['bursts spread over 2 s', 'all at once'].entries()) {
      rows.push(
        ...compare(`${burstUsers} users x 20 messages, ${how}`, bursts[i], latency, 'p99 < 50 ms', (n, b) => (n.received ? `p99 ${x(n.p99, b.p99)}` : '-')),
      );
    }
    for (const kind of ['plain', 'tls']) {
      for (const [i, n] of sizes.entries()) {
        const at = Object.fromEntries(Object.entries(mem[kind]).map(([k, v]) => [k, v[i].perSession]));
        rows.push(...compare(`RSS per idle session, ${n} sessions, ${kind === 'tls' ? 'TLS' : 'plain TCP'}`, at, kib, kind === 'plain' ? '<= 25 KiB' : ''));
      }
      for (const [name, m] of Object.entries(mem[kind]))
        rows.push([`logins/s filling the ${name} to ${sizes.at(-1)} ${kind} sessions (shared secrets)`, perSecond(m.at(-1).perSecond), '']);
    }
    return rows;
  } finally {
    await client.stop();
    for (const t of targets) await t.stop();
  }
}

const lost = (r) => (r.lost || r.errors ? `, ${r.lost} lost, ${r.errors} errors` : '');

module.exports = { bench, bulkUsers, certificate, child, freePort, killAll, logins, nodeTarget, started };

if (require.main === module) {
  const relayOnly = process.argv.includes('--relay-only');
  runAlone('XMPP server under load (generator in its own process)', (o) => bench({ ...o, relayOnly }));
}

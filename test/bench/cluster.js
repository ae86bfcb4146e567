'use strict';
/**
 * Clusters: two nodes on one PostgreSQL and one Redis (each started here, on loopback, in
 * temporary directories). Messages per second and p99 latency between clients on different
 * nodes, against clients on one node of the same cluster (the baseline, same run); and the time
 * from a kill -9 of a node until the survivor no longer lists its user.
 */
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const { chownSync, mkdtempSync, readFileSync, readdirSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { CTL, ctl, tempHome } = require('./lib');
const { child, freePort, started } = require('./xmpp');
const budgets = require('./budgets');

const LEASE_S = 2;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Debian's PostgreSQL as the `postgres` user when run as root (it refuses root), on TCP loopback. */
async function startPostgres() {
  const root = '/usr/lib/postgresql';
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  const bin = (name) => join(root, version, 'bin', name);
  const dir = mkdtempSync(join(tmpdir(), 'ctl-bench-pg-'));
  const asRoot = process.getuid() === 0;
  if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  const as = (cmd, args) => (asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);
  const sh = (cmd, args) => execFileSync(...as(cmd, args), { stdio: 'pipe' });
  const port = await freePort();
  sh(bin('initdb'), ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres']);
  sh(bin('pg_ctl'), ['-D', join(dir, 'data'), '-w', '-l', join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  sh(bin('psql'), ['-h', dir, '-p', String(port), '-U', 'postgres', '-c', 'CREATE DATABASE cluster']);
  return {
    port,
    stop() {
      spawnSync(...as(bin('pg_ctl'), ['-D', join(dir, 'data'), '-m', 'immediate', 'stop']));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startRedis() {
  const port = await freePort();
  const proc = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (
      spawnSync('redis-cli', ['-p', String(port), 'ping'])
        .stdout?.toString()
        .startsWith('PONG')
    )
      break;
    await sleep(50);
  }
  return { port, stop: () => proc.kill('SIGKILL') };
}

/** Alive and not a zombie: a killed node may wait for a parent that never reaps it. */
function alive(pid) {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const pidOf = (home) => Number(readFileSync(join(home, 'run', 'ctl.pid'), 'utf8').trim());

function startNode(home) {
  const r = spawnSync('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', process.execPath, CTL, 'start', '--home', home]);
  if (r.status !== 0) throw new Error(`the node did not start: ${r.stderr}`);
  const pid = pidOf(home);
  started.add(pid);
  return pid;
}

async function bench({ quick }) {
  const pairs = quick ? 10 : 25;
  const users = Array.from({ length: 2 * pairs }, (_, i) => [`c${String(i).padStart(4, '0')}`, `pw-${i}`]);
  const [pg, redis] = [await startPostgres(), await startRedis()];
  const client = child('xmpp-client.js');
  const nodes = [];
  try {
    for (const name of ['b1@localhost', 'b2@localhost']) {
      const port = await freePort();
      const home = tempHome(
        [
          'hosts: [localhost]',
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
          `  - {port: ${port}, ip: "127.0.0.1", module: ejabberd_c2s, max_connections_per_ip: infinity}`,
          '',
        ].join('\n'),
      );
      nodes.push({ name, home, server: { port, tls: false } });
    }
    const [a, b] = nodes;
    ctl(a.home, ['batch'], users.map(([u, p]) => `register ${u} localhost ${p}`).join('\n'));
    for (const n of nodes) n.pid = startNode(n.home);
    ctl(b.home, ['join_cluster', a.name]);

    /** Logs the users in, user i on `placeOf(i)`, in order: the swarm pairs session 2k with 2k+1. */
    const place = async (placeOf) => {
      for (const [i, user] of users.entries()) {
        const r = await client.request({ op: 'login', server: placeOf(i).server, users: [user], mechanism: 'SCRAM-SHA-256', concurrency: 1, keep: true });
        if (r.failed) throw new Error(`login of ${user[0]} failed: ${r.errors.join('; ')}`);
      }
      // Every node knows every session before the clock starts.
      for (let i = 0; i < 100 && !ctl(a.home, ['connected_users_number']).stdout.startsWith(String(users.length)); i++) await sleep(50);
    };
    const measure = async () => {
      const flow = await client.request({ op: 'messages', pairs, seconds: quick ? 2 : 5, window: 50 });
      // One burst's p99 is its tenth-worst delivery: one pause of the collector or the scheduler
      // sets it. The round of median p99 stands for the placement.
      const bursts = [];
      for (let r = 0; r < (quick ? 3 : 5); r++) {
        await sleep(500);
        bursts.push(await client.request({ op: 'burst', users: users.length, count: 20, spreadMs: 1000 }));
      }
      const burst = [...bursts].sort((x, y) => x.p99 - y.p99)[bursts.length >> 1];
      await client.request({ op: 'closeAll' });
      await sleep(500);
      return { flow, burst };
    };
    await place(() => a);
    const one = await measure();
    await place((i) => (i % 2 === 0 ? a : b));
    const cross = await measure();

    // A dead node: its user's session on the survivor's list until the lease expires and a sweep purges it.
    await client.request({ op: 'login', server: a.server, users: [users[0]], mechanism: 'SCRAM-SHA-256', concurrency: 1, keep: true });
    await client.request({ op: 'login', server: b.server, users: [users[1]], mechanism: 'SCRAM-SHA-256', concurrency: 1, keep: true });
    const victim = `${users[1][0]}@localhost`;
    for (let i = 0; i < 100 && !ctl(a.home, ['connected_users']).stdout.includes(victim); i++) await sleep(50);
    const t0 = Date.now();
    process.kill(b.pid, 'SIGKILL');
    while (alive(b.pid)) await sleep(10);
    started.delete(b.pid);
    while (ctl(a.home, ['connected_users']).stdout.includes(victim)) {
      if (Date.now() - t0 > 60_000) throw new Error(`${victim} still listed 60 s after its node died`);
      await sleep(50);
    }
    const cleanupMs = Date.now() - t0;
    await client.request({ op: 'closeAll' }).catch(() => undefined);

    const throughput = cross.flow.perSecond / one.flow.perSecond;
    const p99 = cross.burst.p99 / one.burst.p99;
    budgets.record('cluster.throughput', { value: `${cross.flow.perSecond.toFixed(0)}/s`, ratio: throughput });
    budgets.record('cluster.p99', { value: `${cross.burst.p99.toFixed(1)} ms`, ratio: p99 });
    budgets.record('cluster.cleanup', { value: `${(cleanupMs / 1000).toFixed(2)} s`, ratio: cleanupMs / (LEASE_S * 1000), time: cleanupMs });
    const lost = (r) => (r.lost || r.errors ? ` (${r.lost} lost, ${r.errors} errors)` : '');
    return [
      [`messages, ${pairs} pairs, 50 in flight each, both clients on one node (baseline)`, `${one.flow.perSecond.toFixed(0)}/s${lost(one.flow)}`, '1.00x'],
      [
        `messages, ${pairs} pairs, 50 in flight each, clients on different nodes`,
        `${cross.flow.perSecond.toFixed(0)}/s${lost(cross.flow)}`,
        `${throughput.toFixed(2)}x`,
      ],
      [
        `${users.length} users x 20 messages over 1 s, one node, round of median p99 (baseline)`,
        `p50 ${one.burst.p50.toFixed(1)} ms, p99 ${one.burst.p99.toFixed(1)} ms`,
        '1.00x',
      ],
      [
        `${users.length} users x 20 messages over 1 s, across nodes, round of median p99`,
        `p50 ${cross.burst.p50.toFixed(1)} ms, p99 ${cross.burst.p99.toFixed(1)} ms${lost(cross.burst)}`,
        `p99 ${p99.toFixed(2)}x`,
      ],
      [
        `kill -9 of a node until the survivor no longer lists its user (lease ${LEASE_S} s)`,
        `${(cleanupMs / 1000).toFixed(2)} s`,
        `${(cleanupMs / (LEASE_S * 1000)).toFixed(2)}x the lease`,
      ],
    ];
  } finally {
    await client.stop();
    for (const n of nodes) {
      if (n.pid && alive(n.pid)) {
        spawnSync(process.execPath, [CTL, 'stop', '--home', n.home], { timeout: 20_000 });
        if (alive(n.pid)) process.kill(n.pid, 'SIGKILL');
      }
      started.delete(n.pid);
    }
    redis.stop();
    pg.stop();
  }
}

module.exports = { bench };

'use strict';
/**
 * `ctl restore` of a large backup as its own process: how much memory it takes beyond the
 * restore of a tiny backup, at two sizes four times apart, and how fast it goes. A restore
 * that holds the backup's records until it commits grows with the file; a streamed one stays
 * within its batches whatever the size. Requires the built code.
 */
const { spawn } = require('node:child_process');
const { readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');
const { CTL, ctl, dist, openServices, runAlone, tempHome } = require('./lib');
const budgets = require('./budgets');

const { rowsOf } = require('./piefxis');

const HOST = 'localhost';

const mb = (bytes) => `${(bytes / 1048576).toFixed(1)} MB`;

/** Fills the home's database with `users` users (account, 3 contacts, a vCard: 5 records each). */
async function fill(home, users) {
  const { makeSecret } = dist('src/features/accounts/secret');
  const secret = await makeSecret('pw', 'scram');
  const { store } = await openServices(home);
  try {
    for (const ops of rowsOf(users, secret)) await store.batch(ops);
    await store.sync();
  } finally {
    await store.close();
  }
}

/** A backup of `users` users, made by `ctl backup` in a home of its own; its path. */
async function backupOf(users) {
  const home = tempHome(`hosts: [${HOST}]\n`);
  await fill(home, users);
  const file = join(home, 'users.backup');
  ctl(home, ['backup', file]);
  return file;
}

/** The peak of `RssAnon` (sampled) and `VmHWM` (the kernel's peak RSS) of a process, in bytes. */
function peaks(pid, into) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => Number((status.match(new RegExp(`^${name}:\\s+(\\d+)`, 'm')) ?? [])[1]) * 1024;
    if (kb('RssAnon') > into.anon) into.anon = kb('RssAnon');
    if (kb('VmHWM') > into.rss) into.rss = kb('VmHWM');
  } catch {
    // gone already
  }
}

/**
 * `ctl restore FILE` over a database holding that backup already: its peak memory in bytes
 * and its time in ms. The memory it owns is its anonymous memory; its resident set also holds
 * the pages of the database's files that LevelDB maps to read them, which are the kernel's
 * cache of those files, shown beside.
 */
async function restore(file) {
  const home = tempHome(`hosts: [${HOST}]\n`);
  ctl(home, ['restore', file]);
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [CTL, 'restore', file, '--home', home], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const peak = { anon: 0, rss: 0 };
  const timer = setInterval(() => peaks(child.pid, peak), 10);
  const code = await new Promise((resolve) => child.on('exit', resolve));
  clearInterval(timer);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (code !== 0) throw new Error(`ctl restore exited ${code}: ${stderr}`);
  return { ...peak, ms };
}

async function bench({ quick }) {
  const users = quick ? 20_000 : 200_000;
  const tiny = await backupOf(1);
  const quarter = await backupOf(users / 4);
  const big = await backupOf(users);
  const sizes = { quarter: statSync(quarter).size, big: statSync(big).size };
  // Interleaved, the median of three: the machine is shared.
  const runs = { tiny: [], quarter: [], big: [] };
  for (let i = 0; i < 3; i++) {
    runs.tiny.push(await restore(tiny));
    runs.quarter.push(await restore(quarter));
    runs.big.push(await restore(big));
  }
  const median = (xs, f) => xs.map(f).sort((a, b) => a - b)[1];
  const of = (name) => ({ anon: median(runs[name], (r) => r.anon), rss: median(runs[name], (r) => r.rss), ms: median(runs[name], (r) => r.ms) });
  const base = of('tiny');
  const row = (name, n) => {
    const m = of(name);
    const bytes = sizes[name];
    const extra = Math.max(0, m.anon - base.anon);
    // The time of the records alone: a whole process minus a process that restores almost nothing.
    const rate = bytes / 1048576 / (Math.max(1, m.ms - base.ms) / 1000);
    return {
      extra,
      share: extra / bytes,
      cells: [
        `ctl restore of ${n / 1000}k users, ${(n * 5) / 1000}k records, ${mb(bytes)}`,
        `${mb(m.anon)} anon, ${mb(m.rss)} RSS`,
        `+${mb(extra)} anon (${(extra / bytes).toFixed(2)}x the file), +${mb(Math.max(0, m.rss - base.rss))} RSS, ${(m.ms / 1000).toFixed(2)} s, ${rate.toFixed(1)} MB/s`,
      ],
    };
  };
  const q = row('quarter', users / 4);
  const b = row('big', users);
  // Bounded memory is a constant, its batches and the collector's slack: what a backup four
  // times larger adds, per byte it adds, is near zero but for the collector's whims (up to
  // some 0.2x); a restore that holds its records grows by a few bytes per byte.
  const growth = Math.max(0, b.extra - q.extra) / (sizes.big - sizes.quarter);
  // Below some 50 MB of backup the collector's heap is still growing to its usual size, so
  // the small sizes of --quick say nothing of the budget.
  if (!quick) budgets.record('restore.memory', { value: mb(Math.max(0, b.extra - q.extra)), ratio: growth });
  return [
    ['ctl restore of 1 user (baseline)', `${mb(base.anon)} anon, ${mb(base.rss)} RSS`, `${(base.ms / 1000).toFixed(2)} s`],
    q.cells,
    b.cells,
    [
      'anonymous memory the larger backup adds, per byte it adds',
      mb(Math.max(0, b.extra - q.extra)),
      `${growth.toFixed(2)}x (budget 0.25x${quick ? ', not at --quick sizes' : ''}); beyond the baseline ${b.share.toFixed(2)}x the file`,
    ],
  ];
}

module.exports = { bench };

if (require.main === module) runAlone('Restore of a large backup (peak memory of the process)', bench);

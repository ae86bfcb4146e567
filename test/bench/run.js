#!/usr/bin/env node
'use strict';
/**
 * `npm run bench`: the performance budgets of DESIGN.md §8, measured as ratios against a
 * baseline taken in the same run (these machines are noisy, so absolute times mean little).
 * Runs against the built `dist/`; `npm run bench` builds first. `--quick` makes smaller runs,
 * `--budgets` only the sections that have a budget (test/bench/budgets.js), `--only WORD` those whose title holds WORD. Exits 1 when a
 * measure is over its budget.
 */
const { pbkdf2Sync } = require('node:crypto');
const { constants } = require('node:os');
const { join } = require('node:path');
const { cleanup, ctl, dist, interleaved, median, print, run, tempHome } = require('./lib');
const roster = require('./roster');
const vcard = require('./vcard');
const messages = require('./messages');
const httpApi = require('./http');
const backup = require('./backup');
const piefxis = require('./piefxis');
const accounts = require('./accounts');
const xmpp = require('./xmpp');
const muc = require('./muc');
const cluster = require('./cluster');
const budgets = require('./budgets');

const quick = process.argv.includes('--quick');
const budgetsOnly = process.argv.includes('--budgets');
/** `--only WORD`: the sections whose title holds WORD (any case). */
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1]?.toLowerCase() : undefined;

/** `node -e 0` with the node that runs `ctl`: the start-up every process pays. */
const node = () => run(process.execPath, ['-e', '0']);

/** Homes whose node this run started and has not stopped yet. */
const running = new Set();

/** Runs `fn()` with a node started in `home`, and stops the node afterwards. */
async function withNode(home, fn) {
  ctl(home, ['start']);
  running.add(home);
  try {
    return await fn();
  } finally {
    running.delete(home);
    ctl(home, ['stop']);
  }
}

async function startup() {
  const home = tempHome();
  ctl(home, ['register', 'alice', 'localhost', 's3cret']);
  const [base, check, echo] = await interleaved(quick ? 7 : 25, [
    node,
    () => ctl(home, ['check_account', 'alice', 'localhost']),
    () => ctl(home, ['echo_string', 'x']),
  ]);
  budgets.record('startup.local', { value: `${check.toFixed(1)} ms`, ratio: check / base });
  return [
    ['node -e 0 (baseline)', `${base.toFixed(1)} ms`, '1.00x'],
    ['ctl check_account (opens the database)', `${check.toFixed(1)} ms`, `${(check / base).toFixed(2)}x (budget 1.5x)`],
    ['ctl echo_string (no database)', `${echo.toFixed(1)} ms`, `${(echo / base).toFixed(2)}x`],
  ];
}

function forwarded() {
  const home = tempHome();
  return withNode(home, async () => {
    ctl(home, ['register', 'alice', 'localhost', 's3cret']);
    const [base, check] = await interleaved(quick ? 7 : 25, [node, () => ctl(home, ['check_account', 'alice', 'localhost'])]);
    budgets.record('startup.forwarded', { value: `${check.toFixed(1)} ms`, ratio: check / base });
    const count = quick ? 5000 : 20_000;
    const plainHome = tempHome('auth_password_format: plain\n');
    const { perSecond, emptyMs } = await withNode(plainHome, () => batchRate(plainHome, count));
    budgets.record('batch.plain.node', { value: `${perSecond.toFixed(0)}/s`, rate: perSecond });
    return [
      ['node -e 0 (baseline)', `${base.toFixed(1)} ms`, '1.00x'],
      ['ctl check_account, forwarded to a running node', `${check.toFixed(1)} ms`, `${(check / base).toFixed(2)}x (budget 1.3x)`],
      [
        `ctl batch through the node: ${count} registrations, plain`,
        `${perSecond.toFixed(0)}/s`,
        `start-up of a one-line batch (${emptyMs.toFixed(0)} ms) taken out`,
      ],
    ];
  });
}

/**
 * Registrations per second of one `ctl batch` of `count` lines, its start-up (the median of
 * batches of one line that reads the user table, so that they open the database and load the
 * accounts, or connect, as well) taken out: a rate of the batch, not of one process. An empty
 * batch opens no database: taking out only its time would count the opening as registrations'.
 */
function batchRate(home, count) {
  const lines = Array.from({ length: count }, (_, i) => `register user${i} localhost pw${i}`).join('\n');
  const emptyMs = median(Array.from({ length: 3 }, () => ctl(home, ['batch'], 'registered_users localhost\n').ms));
  const { ms } = ctl(home, ['batch'], lines);
  return { perSecond: (count / Math.max(ms - emptyMs, 1)) * 1000, emptyMs };
}

/** SCRAM registrations per second one core can hash: both keys (SHA-1 and SHA-256) of 4096 iterations. */
function pbkdf2Rate(count) {
  const salt = Buffer.alloc(16, 1);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    pbkdf2Sync(`pw${i}`, salt, 4096, 20, 'sha1');
    pbkdf2Sync(`pw${i}`, salt, 4096, 32, 'sha256');
  }
  return (count / Number(process.hrtime.bigint() - t0)) * 1e9;
}

/**
 * `rounds` batches, each on a fresh home, SCRAM ones with the one-core baseline measured beside
 * each: the round with the median ratio is the one shown. A SCRAM batch takes about a second,
 * which one pause of a shared machine can stretch.
 */
async function batch(format, count, singles, rounds = 1) {
  await new Promise(setImmediate); // a turn of the event loop first, where a signal is handled
  const measured = Array.from({ length: rounds }, () => {
    const home = tempHome(`auth_password_format: ${format}\n`);
    const { perSecond } = batchRate(home, count);
    return { home, perSecond, core: format === 'plain' ? 1 : pbkdf2Rate(Math.min(count, 200)) };
  });
  const { home, perSecond, core } = [...measured].sort((a, b) => a.perSecond / a.core - b.perSecond / b.core)[Math.floor(rounds / 2)];
  const singleMs = median(Array.from({ length: singles }, (_, i) => ctl(home, ['register', `single${i}`, 'localhost', 'pw']).ms));
  const rows = [
    [
      `ctl batch: ${count} registrations, ${format}${rounds > 1 ? ` (median of ${rounds} rounds)` : ''}`,
      `${perSecond.toFixed(0)} registrations/s`,
      `${((perSecond * singleMs) / 1000).toFixed(0)}x one process per registration (${(1000 / singleMs).toFixed(1)}/s)`,
    ],
  ];
  if (format === 'plain') budgets.record('batch.plain.local', { value: `${perSecond.toFixed(0)}/s`, rate: perSecond });
  else {
    budgets.record('batch.scram.local', { value: `${perSecond.toFixed(0)}/s`, ratio: perSecond / core });
    rows.push(['PBKDF2 of both SCRAM keys on one core (baseline)', `${core.toFixed(0)} registrations/s`, `batch: ${(perSecond / core).toFixed(2)}x`]);
  }
  return rows;
}

async function manyUsers(count) {
  const home = tempHome('auth_password_format: plain\n');
  const { openLevelStore } = dist('src/storage/level');
  const { accountOps, hostUsers } = dist('src/features/accounts/records');
  const store = await openLevelStore(join(home, 'db'));
  let iterate;
  try {
    const created = Math.floor(Date.now() / 1000);
    for (let i = 0; i < count; i += 10_000) {
      const ops = [];
      for (let j = i; j < Math.min(count, i + 10_000); j++) {
        ops.push(...accountOps({ host: 'localhost', user: `user${String(j).padStart(6, '0')}` }, { secret: { format: 'plain', password: 'pw' }, created }));
      }
      await store.batch(ops);
    }
    // The baseline: a plain iteration of the table, in this process, as registered_users must read it.
    const rounds = [];
    for (let r = 0; r < 3; r++) {
      const t0 = process.hrtime.bigint();
      let n = 0;
      for await (const _ of hostUsers(store, 'localhost')) n++;
      rounds.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (n !== count) throw new Error(`iterated ${n} users`);
    }
    iterate = median(rounds);
  } finally {
    await store.close();
  }
  const listings = [];
  const [check, list] = await interleaved(quick ? 3 : 7, [
    () => ctl(home, ['check_account', 'user000001', 'localhost']),
    () => listings.push(ctl(home, ['registered_users', 'localhost']).stdout),
  ]);
  // Checked outside the timed rounds: splitting the listing is no part of what `ctl` costs.
  if (listings.some((out) => out.split('\n').length !== count + 1)) throw new Error('registered_users lost users');
  // The listing's own time: the process minus one that opens the same database and reads one record.
  const listing = list - check;
  const per100k = (listing * 100_000) / count;
  budgets.record('listing.100k', { value: `${per100k.toFixed(0)} ms`, ratio: listing / iterate, time: per100k });
  return [
    [`iteration of the user table in-process, ${count} users (baseline)`, `${iterate.toFixed(1)} ms`, '1.00x'],
    [`ctl check_account with ${count} users`, `${check.toFixed(1)} ms`, ''],
    [
      `ctl registered_users, ${count} users`,
      `${list.toFixed(1)} ms`,
      `${listing.toFixed(0)} ms for the listing, ${(listing / iterate).toFixed(2)}x the iteration (${per100k.toFixed(0)} ms per 100 000 users)`,
    ],
  ];
}

/** Interrupted, the run still stops its nodes and removes its homes. */
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    xmpp.killAll();
    for (const home of running) {
      try {
        ctl(home, ['stop']);
      } catch {
        // The node may have gone already; the home goes anyway.
      }
    }
    cleanup();
    process.exit(128 + constants.signals[signal]);
  });
}

/** The sections: [title, run, has a budget]; `--budgets` runs only those with one. */
const SECTIONS = [
  ['Start-up without a node (median wall time of whole processes)', startup, true],
  ['Through a running node', forwarded, true],
  [
    'Batch throughput (no node)',
    async () => [...(await batch('plain', quick ? 5000 : 20_000, quick ? 3 : 9)), ...(await batch('scram', quick ? 200 : 1000, quick ? 3 : 9, quick ? 1 : 5))],
    true,
  ],
  ['Listing at scale', () => manyUsers(quick ? 20_000 : 100_000), true],
  ['Removing idle accounts', () => accounts.bench({ quick }), false],
  ['Rosters', () => roster.bench({ quick }), false],
  ['vCards and private storage', () => vcard.bench({ quick }), false],
  ['Offline messages', () => messages.bench({ quick }), false],
  ['HTTP JSON API (keep-alive, 127.0.0.1)', () => httpApi.bench({ quick }), true],
  ['Backup, restore, dump, load', () => backup.bench({ quick }), false],
  ['Restore of a large backup (peak memory)', () => require('./restore').bench({ quick }), true],
  ['XEP-0227 export and import', () => piefxis.bench({ quick }), true],
  ['XMPP server under load (client swarm in its own process, bare Node relay as the baseline)', () => xmpp.bench({ quick }), false],
  ['Clusters: two nodes on PostgreSQL and Redis (clients on one node as the baseline)', () => cluster.bench({ quick }), true],
  ['Multi-user chat (client swarm in its own process; 1:1 chat, ctl batch and an empty database as the baselines)', () => muc.bench({ quick }), false],
];

(async () => {
  // A section that fails is reported and the others still run: its budgets show as not measured.
  let broken = 0;
  try {
    for (const [title, section, budgeted] of SECTIONS) {
      if (budgetsOnly && !budgeted) continue;
      if (only !== undefined && !title.toLowerCase().includes(only)) continue;
      try {
        print(title, await section());
      } catch (err) {
        broken++;
        console.error(`\n${title}: failed: ${err && err.stack ? err.stack : err}`);
      }
    }
  } finally {
    cleanup();
  }
  const over = budgets.report();
  if (over > 0) console.log(`\n${over} over budget`);
  if (broken > 0) console.log(`\n${broken} section(s) failed`);
  if (over > 0 || broken > 0) process.exitCode = 1;
})().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

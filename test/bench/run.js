#!/usr/bin/env node
'use strict';
/**
 * `npm run bench`: the performance budgets of DESIGN.md §8, measured as ratios against a
 * baseline taken in the same run (these machines are noisy, so absolute times mean little).
 * Runs against the built `dist/`; `npm run bench` builds first. `--quick` makes smaller runs.
 */
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

const quick = process.argv.includes('--quick');

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
    const count = quick ? 2000 : 20_000;
    const lines = Array.from({ length: count }, (_, i) => `register user${i} localhost pw${i}`).join('\n');
    const plainHome = tempHome('auth_password_format: plain\n');
    const perSecond = await withNode(plainHome, () => (count / ctl(plainHome, ['batch'], lines).ms) * 1000);
    return [
      ['node -e 0 (baseline)', `${base.toFixed(1)} ms`, '1.00x'],
      ['ctl check_account, forwarded to a running node', `${check.toFixed(1)} ms`, `${(check / base).toFixed(2)}x (budget 1.5x)`],
      [`ctl batch through the node: ${count} registrations, plain`, `${perSecond.toFixed(0)}/s`, ''],
    ];
  });
}

async function batch(format, count, singles) {
  await new Promise(setImmediate); // a turn of the event loop first, where a signal is handled
  const home = tempHome(`auth_password_format: ${format}\n`);
  const lines = Array.from({ length: count }, (_, i) => `register user${i} localhost pw${i}`).join('\n');
  const { ms } = ctl(home, ['batch'], lines);
  const perSecond = (count / ms) * 1000;
  const singleMs = median(Array.from({ length: singles }, (_, i) => ctl(home, ['register', `single${i}`, 'localhost', 'pw']).ms));
  return [
    `ctl batch: ${count} registrations, ${format}`,
    `${perSecond.toFixed(0)} registrations/s`,
    `${((perSecond * singleMs) / 1000).toFixed(0)}x one process per registration (${(1000 / singleMs).toFixed(1)}/s)`,
  ];
}

async function manyUsers(count) {
  const home = tempHome('auth_password_format: plain\n');
  const { openLevelStore } = dist('src/storage/level');
  const { accountOps } = dist('src/features/accounts/records');
  const store = await openLevelStore(join(home, 'db'));
  try {
    const created = Math.floor(Date.now() / 1000);
    for (let i = 0; i < count; i += 10_000) {
      const ops = [];
      for (let j = i; j < Math.min(count, i + 10_000); j++) {
        ops.push(...accountOps({ host: 'localhost', user: `user${String(j).padStart(6, '0')}` }, { secret: { format: 'plain', password: 'pw' }, created }));
      }
      await store.batch(ops);
    }
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
  return [
    [`ctl check_account with ${count} users (baseline)`, `${check.toFixed(1)} ms`, '1.00x'],
    [`ctl registered_users, ${count} users`, `${list.toFixed(1)} ms`, `${(list / check).toFixed(2)}x (${(list - check).toFixed(0)} ms for the listing)`],
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

(async () => {
  try {
    print('Start-up without a node (median wall time of whole processes)', await startup());
    print('Through a running node', await forwarded());
    print('Batch throughput (no node)', [await batch('plain', quick ? 1000 : 10_000, quick ? 3 : 9), await batch('scram', quick ? 200 : 1000, quick ? 3 : 9)]);
    print('Listing at scale', await manyUsers(quick ? 20_000 : 100_000));
    print('Removing idle accounts', await accounts.bench({ quick }));
    print('Rosters', await roster.bench({ quick }));
    print('vCards and private storage', await vcard.bench({ quick }));
    print('Offline messages', await messages.bench({ quick }));
    print('HTTP JSON API (keep-alive, 127.0.0.1)', await httpApi.bench({ quick }));
    print('Backup, restore, dump, load', await backup.bench({ quick }));
    print('XEP-0227 export and import', await piefxis.bench({ quick }));
    print('XMPP server under load (client swarm in its own process, bare Node relay as the baseline)', await xmpp.bench({ quick }));
    print('Multi-user chat (client swarm in its own process; 1:1 chat, ctl batch and an empty database as the baselines)', await muc.bench({ quick }));
  } finally {
    cleanup();
  }
})().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

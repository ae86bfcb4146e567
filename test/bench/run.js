#!/usr/bin/env node
'use strict';
/**
 * `npm run bench`: the performance budgets of DESIGN.md §8, measured as ratios against a
 * baseline taken in the same run (these machines are noisy, so absolute times mean little).
 * Runs against the built `dist/`; `npm run bench` builds first.
 */
const { spawnSync } = require('node:child_process');
const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');

const CTL = resolve(__dirname, '../../bin/ctl');
const quick = process.argv.includes('--quick');
const homes = [];

function tempHome(config) {
  const dir = mkdtempSync(join(tmpdir(), 'ctl-bench-'));
  homes.push(dir);
  if (config) writeFileSync(join(dir, 'ctl.yml'), config);
  return dir;
}

function run(cmd, args, input) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { input, maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs the candidates interleaved, so load on the machine hits all of them alike. */
function interleaved(rounds, candidates) {
  const times = candidates.map(() => []);
  for (let i = 0; i < rounds; i++) candidates.forEach((c, j) => times[j].push(c()));
  return times.map(median);
}

function startup() {
  const home = tempHome();
  run(CTL, ['register', 'alice', 'localhost', 's3cret', '--home', home]);
  const [node, check, echo] = interleaved(quick ? 7 : 25, [
    () => run('node', ['-e', '0']).ms,
    () => run(CTL, ['check_account', 'alice', 'localhost', '--home', home]).ms,
    () => run(CTL, ['echo_string', 'x']).ms,
  ]);
  return [
    ['node -e 0 (baseline)', `${node.toFixed(1)} ms`, '1.00x'],
    ['ctl check_account (opens the database)', `${check.toFixed(1)} ms`, `${(check / node).toFixed(2)}x (budget 1.5x)`],
    ['ctl echo_string (no database)', `${echo.toFixed(1)} ms`, `${(echo / node).toFixed(2)}x`],
  ];
}

function forwarded() {
  const home = tempHome();
  run(CTL, ['start', '--home', home]);
  try {
    run(CTL, ['register', 'alice', 'localhost', 's3cret', '--home', home]);
    const [node, check] = interleaved(quick ? 7 : 25, [
      () => run('node', ['-e', '0']).ms,
      () => run(CTL, ['check_account', 'alice', 'localhost', '--home', home]).ms,
    ]);
    const count = quick ? 2000 : 20_000;
    const lines = Array.from({ length: count }, (_, i) => `register user${i} localhost pw${i}`).join('\n');
    const plainHome = tempHome('auth_password_format: plain\n');
    run(CTL, ['start', '--home', plainHome]);
    let perSecond;
    try {
      perSecond = (count / run(CTL, ['batch', '--home', plainHome], lines).ms) * 1000;
    } finally {
      run(CTL, ['stop', '--home', plainHome]);
    }
    return [
      ['node -e 0 (baseline)', `${node.toFixed(1)} ms`, '1.00x'],
      ['ctl check_account, forwarded to a running node', `${check.toFixed(1)} ms`, `${(check / node).toFixed(2)}x (budget 1.5x)`],
      [`ctl batch through the node: ${count} registrations, plain`, `${perSecond.toFixed(0)}/s`, ''],
    ];
  } finally {
    run(CTL, ['stop', '--home', home]);
  }
}

function batch(format, count, singles) {
  const home = tempHome(`auth_password_format: ${format}\n`);
  const lines = Array.from({ length: count }, (_, i) => `register user${i} localhost pw${i}`).join('\n');
  const { ms } = run(CTL, ['batch', '--home', home], lines);
  const perSecond = (count / ms) * 1000;
  const singleMs = median(Array.from({ length: singles }, (_, i) => run(CTL, ['register', `single${i}`, 'localhost', 'pw', '--home', home]).ms));
  return [
    `ctl batch: ${count} registrations, ${format}`,
    `${perSecond.toFixed(0)} registrations/s`,
    `${((perSecond * singleMs) / 1000).toFixed(0)}x one process per registration (${(1000 / singleMs).toFixed(1)}/s)`,
  ];
}

async function manyUsers(count) {
  const home = tempHome('auth_password_format: plain\n');
  const { openLevelStore } = require('../../dist/src/storage/level');
  const { key } = require('../../dist/src/storage/keys');
  const store = await openLevelStore(join(home, 'db'));
  const created = Math.floor(Date.now() / 1000);
  for (let i = 0; i < count; i += 10_000) {
    const ops = [];
    for (let j = i; j < Math.min(count, i + 10_000); j++) {
      ops.push({ type: 'put', table: 'passwd', key: key('localhost', `user${String(j).padStart(6, '0')}`), value: { secret: { format: 'plain', password: 'pw' }, created } });
    }
    await store.batch(ops);
  }
  await store.close();
  const [check, list] = interleaved(quick ? 3 : 7, [
    () => run(CTL, ['check_account', 'user000001', 'localhost', '--home', home]).ms,
    () => {
      const r = run(CTL, ['registered_users', 'localhost', '--home', home]);
      if (r.stdout.toString().split('\n').length !== count + 1) throw new Error('registered_users lost users');
      return r.ms;
    },
  ]);
  return [
    [`ctl check_account with ${count} users (baseline)`, `${check.toFixed(1)} ms`, '1.00x'],
    [`ctl registered_users, ${count} users`, `${list.toFixed(1)} ms`, `${(list / check).toFixed(2)}x (${(list - check).toFixed(0)} ms for the listing)`],
  ];
}

function print(title, rows) {
  const w = Math.max(...rows.map((r) => r[0].length));
  const w2 = Math.max(...rows.map((r) => r[1].length));
  console.log(`\n${title}`);
  for (const r of rows) console.log(`  ${r[0].padEnd(w)}  ${r[1].padStart(w2)}  ${r[2]}`);
}

(async () => {
  try {
    print('Start-up without a node (median wall time of whole processes)', startup());
    print('Through a running node', forwarded());
    print('Batch throughput (no node)', [batch('plain', quick ? 1000 : 10_000, quick ? 3 : 9), batch('scram', quick ? 200 : 1000, quick ? 3 : 9)]);
    print('Listing at scale', await manyUsers(quick ? 20_000 : 100_000));
  } finally {
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  }
})().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

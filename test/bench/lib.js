'use strict';
/**
 * What every benchmark needs: the built code, `ctl` as a timed process, temporary homes, and
 * medians of candidates run in interleaved rounds, so that load on the machine hits them alike.
 */
const { spawnSync } = require('node:child_process');
const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');

const CTL = resolve(__dirname, '../../bin/ctl');

/** A module of the built code, e.g. `dist('src/storage/level')`. */
const dist = (path) => require(resolve(__dirname, '../../dist', path));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const since = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

/** Runs a command to completion; its time in ms and its output. Fails on a non-zero exit. */
function run(cmd, args, input) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { input, maxBuffer: 1 << 30 });
  const ms = since(t0);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, stdout: r.stdout.toString() };
}

/** `ctl ARGS --home HOME` as its own process. */
const ctl = (home, args, input) => run(process.execPath, [CTL, ...args, '--home', home], input);

/** Median ms of each candidate (sync or async) over `rounds` interleaved rounds. */
async function interleaved(rounds, candidates) {
  const times = candidates.map(() => []);
  for (let i = 0; i < rounds; i++) {
    for (const [j, c] of candidates.entries()) {
      const t0 = process.hrtime.bigint();
      await c();
      times[j].push(since(t0));
    }
    // Between rounds, untimed: a turn of the event loop, so that a signal is handled promptly.
    await new Promise(setImmediate);
  }
  return times.map(median);
}

const homes = [];

/** A fresh home directory, removed by `cleanup()`; `config` is written as its ctl.yml. */
function tempHome(config) {
  const dir = mkdtempSync(join(tmpdir(), 'ctl-bench-'));
  homes.push(dir);
  if (config) writeFileSync(join(dir, 'ctl.yml'), config);
  return dir;
}

function cleanup() {
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
}

/**
 * The store and services of a home, opened in this process, composed as a local `ctl` composes
 * them (`createServices(featureDeps(...))`). Writes are unsynced and the clock is `Date.now`
 * unless `options` says otherwise (`{ sync: true }` writes as `ctl` itself does).
 */
async function openServices(home, config = {}, { sync = false, clock = Date.now } = {}) {
  const { openLevelStore } = dist('src/storage/level');
  const { createServices } = dist('src/node/services');
  const { featureDeps } = dist('src/features/deps');
  const { defaultConfig } = dist('src/config/config');
  const store = await openLevelStore(join(home, 'db'), { sync });
  const services = createServices(featureDeps({ store, config: { ...defaultConfig(join(home, 'ctl.yml')), ...config }, clock }));
  return { store, services };
}

const ratio = (x, base) => `${(x / base).toFixed(2)}x`;

/** A section of the report: rows of `[label, value, comparison]` under a title. */
function print(title, rows) {
  const w = Math.max(...rows.map((r) => r[0].length));
  const w2 = Math.max(...rows.map((r) => r[1].length));
  console.log(`\n${title}`);
  for (const r of rows) console.log(`  ${r[0].padEnd(w)}  ${r[1].padStart(w2)}  ${r[2]}`);
}

/** Runs one benchmark module on its own (`node test/bench/roster.js [--quick]`). */
function runAlone(title, bench) {
  (async () => {
    try {
      print(title, await bench({ quick: process.argv.includes('--quick') }));
    } finally {
      cleanup();
    }
  })().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}

module.exports = { CTL, cleanup, ctl, dist, interleaved, median, openServices, print, ratio, run, runAlone, since, tempHome };

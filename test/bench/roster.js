'use strict';
/**
 * Rosters: get_roster of a large roster, and process_rosteritems over a large table, each
 * against a baseline measured in the same run on the same data (a trivial lookup, a plain
 * iteration of the table). Requires the built code: `npm run build` first.
 */
const { spawnSync } = require('node:child_process');
const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');

const CTL = resolve(__dirname, '../../bin/ctl');
const dist = (p) => require(resolve(__dirname, '../../dist', p));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

/** Median time of each candidate, run interleaved so that load on the machine hits all alike. */
async function interleaved(rounds, candidates) {
  const times = candidates.map(() => []);
  for (let i = 0; i < rounds; i++) {
    for (const [j, c] of candidates.entries()) {
      const t0 = process.hrtime.bigint();
      await c();
      times[j].push(ms(t0));
    }
  }
  return times.map(median);
}

function ctl(home, args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CTL, ...args, '--home', home], { maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`ctl ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms: ms(t0), stdout: r.stdout.toString() };
}

/** A home whose database holds `owners` accounts on localhost with `contacts` items each. */
async function filledHome(owners, contacts) {
  const home = mkdtempSync(join(tmpdir(), 'ctl-bench-roster-'));
  writeFileSync(join(home, 'ctl.yml'), 'auth_password_format: plain\n');
  const { openLevelStore } = dist('src/storage/level');
  const { key } = dist('src/storage/keys');
  const store = await openLevelStore(join(home, 'db'), { sync: false });
  const created = Math.floor(Date.now() / 1000);
  let ops = [];
  const flush = async () => {
    await store.batch(ops);
    ops = [];
  };
  for (let u = 0; u < owners; u++) {
    const user = `user${String(u).padStart(6, '0')}`;
    ops.push({ type: 'put', table: 'passwd', key: key('localhost', user), value: { secret: { format: 'plain', password: 'pw' }, created } });
    for (let c = 0; c < contacts; c++) {
      const server = c % 10 === 0 ? 'icq.example.net' : 'example.org';
      ops.push({
        type: 'put',
        table: 'roster',
        key: key('localhost', user, `contact${String(c).padStart(5, '0')}@${server}`),
        value: { name: `Contact ${c}`, subscription: ['none', 'from', 'to', 'both'][c % 4], ask: 'none', groups: c % 3 ? ['friends'] : ['friends', 'work'] },
      });
    }
    if (ops.length >= 10_000) await flush();
  }
  await flush();
  await store.sync();
  return { home, store };
}

async function getRoster(quick) {
  const contacts = 1000;
  const { home, store } = await filledHome(1, contacts);
  try {
    const { createServices } = dist('src/services');
    const { defaultConfig } = dist('src/node/config');
    const { prefix } = dist('src/storage/keys');
    const services = createServices({ store, config: defaultConfig(join(home, 'ctl.yml')), clock: Date.now });
    const rows = (await services.roster.get('user000000', 'localhost')).length;
    if (rows !== contacts + Math.ceil(contacts / 3)) throw new Error(`get_roster returned ${rows} rows`);
    const [exists, plain, get] = await interleaved(quick ? 15 : 60, [
      () => services.accounts.exists('user000000', 'localhost'),
      async () => {
        let n = 0;
        for await (const _ of store.entries('roster', { prefix: prefix('localhost', 'user000000') })) n++;
        if (n !== contacts) throw new Error('lost items');
      },
      () => services.roster.get('user000000', 'localhost'),
    ]);
    await store.close();
    const [check, cli] = (() => {
      const times = [[], []];
      for (let i = 0; i < (quick ? 3 : 9); i++) {
        times[0].push(ctl(home, ['check_account', 'user000000', 'localhost']).ms);
        times[1].push(ctl(home, ['get_roster', 'user000000', 'localhost']).ms);
      }
      return times.map(median);
    })();
    return [
      ['accounts.exists (baseline)', `${(exists * 1000).toFixed(0)} µs`, '1.00x'],
      [`plain read of ${contacts} roster items (store.entries)`, `${plain.toFixed(2)} ms`, `${(plain / exists).toFixed(1)}x`],
      [`get_roster through the service, ${contacts} contacts (${rows} rows)`, `${get.toFixed(2)} ms`, `${(get / plain).toFixed(2)}x the plain read`],
      ['ctl check_account, whole process (baseline)', `${check.toFixed(1)} ms`, '1.00x'],
      [`ctl get_roster, whole process, ${contacts} contacts`, `${cli.toFixed(1)} ms`, `${(cli / check).toFixed(2)}x`],
    ];
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

async function processItems(quick) {
  const owners = quick ? 200 : 1000;
  const total = owners * 100;
  const { home, store } = await filledHome(owners, 100);
  try {
    const { createServices } = dist('src/services');
    const { defaultConfig } = dist('src/node/config');
    const services = createServices({ store, config: defaultConfig(join(home, 'ctl.yml')), clock: Date.now });
    let selected = 0;
    const [plain, all, globbed] = await interleaved(quick ? 3 : 5, [
      async () => {
        let n = 0;
        for await (const _ of store.entries('roster')) n++;
        if (n !== total) throw new Error(`iterated ${n} items`);
      },
      async () => {
        const r = await services.roster.process('list', 'any', 'any', 'any', 'any');
        if (r.length !== total) throw new Error(`listed ${r.length} items`);
      },
      async () => {
        selected = (await services.roster.process('list', 'none:from:to', 'any', 'user0000[0-4]*@localhost', '*:*@*icq*')).length;
      },
    ]);
    const rate = (t) => `${((total / t) * 1000).toFixed(0)} items/s`;
    return [
      [`plain iteration of ${total} roster items (baseline)`, rate(plain), '1.00x'],
      [`process_rosteritems list any any any any (${total} matches)`, rate(all), `${(all / plain).toFixed(2)}x the time of the plain iteration`],
      [`process_rosteritems list with globs (${selected} matches)`, rate(globbed), `${(globbed / plain).toFixed(2)}x the time of the plain iteration`],
    ];
  } finally {
    await store.close();
    rmSync(home, { recursive: true, force: true });
  }
}

async function bench({ quick }) {
  return [...(await getRoster(quick)), ...(await processItems(quick))];
}

module.exports = { bench };

if (require.main === module) {
  bench({ quick: process.argv.includes('--quick') }).then(
    (rows) => {
      const w = Math.max(...rows.map((r) => r[0].length));
      const w2 = Math.max(...rows.map((r) => r[1].length));
      for (const r of rows) console.log(`  ${r[0].padEnd(w)}  ${r[1].padStart(w2)}  ${r[2]}`);
    },
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}

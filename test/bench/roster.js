'use strict';
/**
 * Rosters: get_roster of a large roster, and process_rosteritems over a large table, each
 * against a baseline measured in the same run on the same data (a trivial lookup, a plain
 * iteration of the table). The calls are the admin commands' own (`commands/support/roster`,
 * raw arguments in, as the old roster service took them). Requires the built code:
 * `npm run build` first.
 */
const { ctl, dist, interleaved, openServices, runAlone, tempHome } = require('./lib');

/**
 * A home whose database holds `owners` accounts on localhost with `contacts` items each, and
 * its store and services, open (writes unsynced).
 */
async function filledHome(owners, contacts) {
  const home = tempHome('auth_password_format: plain\n');
  const { accountOps } = dist('src/features/accounts/records');
  const { rosterItemOps } = dist('src/features/roster/records');
  const { store, services } = await openServices(home);
  const created = Math.floor(Date.now() / 1000);
  let ops = [];
  const flush = async () => {
    await store.batch(ops);
    ops = [];
  };
  for (let u = 0; u < owners; u++) {
    const owner = { host: 'localhost', user: `user${String(u).padStart(6, '0')}` };
    ops.push(...accountOps(owner, { secret: { format: 'plain', password: 'pw' }, created }));
    for (let c = 0; c < contacts; c++) {
      const server = c % 10 === 0 ? 'icq.example.net' : 'example.org';
      ops.push(
        ...rosterItemOps(owner, `contact${String(c).padStart(5, '0')}@${server}`, {
          name: `Contact ${c}`,
          subscription: ['none', 'from', 'to', 'both'][c % 4],
          ask: 'none',
          groups: c % 3 ? ['friends'] : ['friends', 'work'],
        }),
      );
    }
    if (ops.length >= 10_000) await flush();
  }
  await flush();
  await store.sync();
  return { home, store, services };
}

async function getRoster(quick) {
  const contacts = 1000;
  const { home, store, services } = await filledHome(1, contacts);
  let rows, exists, plain, get;
  try {
    const { checkAccount } = dist('commands/support/accounts');
    const { rosterRows } = dist('commands/support/roster');
    const { readRoster } = dist('src/features/roster/records');
    const owner = { host: 'localhost', user: 'user000000' };
    const args = { user: 'user000000', server: 'localhost' };
    rows = (await rosterRows(services, args)).length;
    if (rows !== contacts + Math.ceil(contacts / 3)) throw new Error(`get_roster returned ${rows} rows`);
    [exists, plain, get] = await interleaved(quick ? 15 : 60, [
      () => checkAccount(services.accounts, 'user000000', 'localhost'),
      async () => {
        if ((await readRoster(store, owner)).length !== contacts) throw new Error('lost items');
      },
      () => rosterRows(services, args),
    ]);
  } finally {
    // Closed before the `ctl` processes, which need the database's lock.
    await store.close();
  }
  const [check, cli] = await interleaved(quick ? 3 : 9, [
    () => ctl(home, ['check_account', 'user000000', 'localhost']),
    () => ctl(home, ['get_roster', 'user000000', 'localhost']),
  ]);
  return [
    ['check_account in process (baseline)', `${(exists * 1000).toFixed(0)} µs`, '1.00x'],
    [`plain read of ${contacts} roster items (readRoster)`, `${plain.toFixed(2)} ms`, `${(plain / exists).toFixed(1)}x`],
    [`get_roster in process, ${contacts} contacts (${rows} rows)`, `${get.toFixed(2)} ms`, `${(get / plain).toFixed(2)}x the plain read`],
    ['ctl check_account, whole process (baseline)', `${check.toFixed(1)} ms`, '1.00x'],
    [`ctl get_roster, whole process, ${contacts} contacts`, `${cli.toFixed(1)} ms`, `${(cli / check).toFixed(2)}x`],
  ];
}

async function processItems(quick) {
  const owners = quick ? 200 : 1000;
  const total = owners * 100;
  const { store, services } = await filledHome(owners, 100);
  try {
    const { ROSTER } = dist('src/features/roster/records');
    const { processRosterItems } = dist('commands/support/roster');
    const listItems = (action, subs, asks, users, contacts) => processRosterItems(services, { action, subs, asks, users, contacts });
    let selected = 0;
    const [plain, all, globbed] = await interleaved(quick ? 3 : 5, [
      async () => {
        let n = 0;
        for await (const _ of store.entries(ROSTER)) n++;
        if (n !== total) throw new Error(`iterated ${n} items`);
      },
      async () => {
        const r = await listItems('list', 'any', 'any', 'any', 'any');
        if (r.length !== total) throw new Error(`listed ${r.length} items`);
      },
      async () => {
        selected = (await listItems('list', 'none:from:to', 'any', 'user0000[0-4]*@localhost', '*:*@*icq*')).length;
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
  }
}

async function bench({ quick }) {
  return [...(await getRoster(quick)), ...(await processItems(quick))];
}

module.exports = { bench };

if (require.main === module) runAlone('Rosters', bench);

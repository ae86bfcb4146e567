'use strict';
/**
 * delete_old_users at scale: a whole `ctl delete_old_users 30` over 10 000 and 100 000 accounts
 * (most idle, each with a roster item), against a baseline measured in the same run on the same
 * data: `ctl registered_users`, which reads every account once. Removal reads each table a few
 * times per thousand accounts and writes in steps of thousands, so its time grows with the
 * accounts removed; the budget is under 10 s for 100 000 accounts, and the 100 000 run takes
 * about ten times the 10 000 one (it took the square: 2.9 s for 1000, 27 s for 4000, when each
 * account was read and removed on its own). Requires the built code: `npm run build` first.
 */
const { join } = require('node:path');
const { ctl, dist, runAlone, tempHome } = require('./lib');

const DAY_S = 86400;

/**
 * A home with `count` accounts on localhost: one in ten seen today (kept), one in ten never
 * seen, the others last seen 100 days ago; each with one roster item.
 */
async function populated(count) {
  const home = tempHome('auth_password_format: plain\n');
  const { openLevelStore } = dist('src/storage/level');
  const { accountOps } = dist('src/features/accounts/records');
  const { lastOps } = dist('src/features/last/records');
  const { rosterItemOps } = dist('src/features/roster/records');
  const store = await openLevelStore(join(home, 'db'), { sync: false });
  const now = Math.floor(Date.now() / 1000);
  let kept = 0;
  try {
    let ops = [];
    for (let i = 0; i < count; i++) {
      const jid = { user: `user${String(i).padStart(6, '0')}`, host: 'localhost' };
      ops.push(...accountOps(jid, { secret: { format: 'plain', password: 'pw' }, created: now - 200 * DAY_S }));
      ops.push(...rosterItemOps(jid, 'friend@example.org', { name: 'Friend', subscription: 'both', ask: 'none', groups: ['friends'] }));
      if (i % 10 === 0) kept++;
      if (i % 10 !== 1) ops.push(...lastOps(jid, { timestamp: i % 10 === 0 ? now : now - 100 * DAY_S, status: '' }));
      if (ops.length >= 10_000) {
        await store.batch(ops);
        ops = [];
      }
    }
    await store.batch(ops);
    await store.sync();
  } finally {
    await store.close();
  }
  return { home, removed: count - kept };
}

async function deleteOldUsers(count) {
  const { home, removed } = await populated(count);
  const listing = ctl(home, ['registered_users', 'localhost']);
  if (listing.stdout.split('\n').length !== count + 1) throw new Error('registered_users lost accounts');
  const deletion = ctl(home, ['delete_old_users', '30']);
  if (!deletion.stdout.startsWith(`Deleted ${removed} users: `)) throw new Error(`delete_old_users said ${deletion.stdout.slice(0, 80)}`);
  return { list: listing.ms, del: deletion.ms, removed };
}

async function bench({ quick }) {
  const sizes = quick ? [2000, 20_000] : [10_000, 100_000];
  const rows = [];
  const runs = [];
  for (const count of sizes) {
    const r = await deleteOldUsers(count);
    runs.push(r);
    rows.push(
      [`ctl registered_users, ${count} accounts (baseline)`, `${r.list.toFixed(0)} ms`, '1.00x'],
      [
        `ctl delete_old_users 30, ${count} accounts (${r.removed} removed)`,
        `${r.del.toFixed(0)} ms`,
        `${(r.del / r.list).toFixed(2)}x${count === 100_000 ? ' (budget: under 10 s)' : ''}`,
      ],
    );
  }
  const [small, large] = runs;
  rows.push([
    `growth, ${sizes[1] / sizes[0]}x the accounts`,
    `${(large.del / small.del).toFixed(1)}x the time`,
    `${(large.list / small.list).toFixed(1)}x for the listing (linear: about ${sizes[1] / sizes[0]}x)`,
  ]);
  return rows;
}

module.exports = { bench };

if (require.main === module) runAlone('Removing idle accounts', bench);

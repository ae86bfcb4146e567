'use strict';
/**
 * Offline-message purges and counts at scale, against the built `dist/`. Each figure comes with
 * a baseline measured in the same run: a plain iteration of the offline table for the purges,
 * a trivial `ctl check_account` on the same database for the command-line calls.
 */
const { join } = require('node:path');
const { ctl, dist, interleaved, openServices, runAlone, since, tempHome } = require('./lib');

const DAY = 86_400_000;

async function timed(fn) {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { ms: since(t0), value };
}

/**
 * `count` offline messages spread over 1000 users (`heavy` gets `heavyCount` of them), half of
 * them 10 days old; every other message carries a XEP-0023 expiry a year ahead.
 */
async function fill(store, now, count, heavyCount) {
  const { accountOps } = dist('src/features/accounts/records');
  const { offlineRecord, writeOffline } = dist('src/features/offline/records');
  const { parseXml } = dist('src/lib/xml');
  const plain = parseXml(
    "<message from='bob@example.org/phone' to='x@localhost' type='chat' id='m1'><body>Are we still on for lunch tomorrow? I booked the table for noon.</body></message>",
    'm',
  );
  const expiring = parseXml(
    "<message from='bob@example.org/phone' to='x@localhost' type='chat' id='m2'><body>This offer expires in a year.</body><x xmlns='jabber:x:expire' seconds='31536000'/></message>",
    'm',
  );
  const users = Array.from({ length: 1000 }, (_, i) => ({ host: 'localhost', user: `user${String(i).padStart(4, '0')}` }));
  await store.batch(users.flatMap((jid) => accountOps(jid, { secret: { format: 'plain', password: 'pw' }, created: 0 })));
  // Each user's queue, in the order the messages came: every message has an ms of its own.
  const queues = new Map(users.map((jid) => [jid, []]));
  for (let i = 0; i < count; i++) {
    const jid = i < heavyCount ? users[0] : users[1 + (i % (users.length - 1))];
    const at = (i % 2 === 0 ? now - 10 * DAY : now - DAY) + Math.floor(i / 2);
    queues.get(jid).push(offlineRecord(i % 4 < 2 ? plain : expiring, 'localhost', at));
  }
  for (const [jid, messages] of queues) await writeOffline(store, jid, messages);
  await store.sync();
}

async function bench({ quick }) {
  const { loadConfig } = dist('src/config/config');
  const count = quick ? 20_000 : 100_000;
  const heavy = quick ? 2_000 : 10_000;
  const home = tempHome('auth_password_format: plain\n');
  const now = Date.now();
  // Synced writes, as `ctl` itself makes them: the purge's figure includes its fsyncs.
  const open = (sync = true) => openServices(home, loadConfig(join(home, 'ctl.yml')), { sync, clock: () => now });
  // The queues are filled one append at a time, untimed: unsynced, then synced once.
  let { store } = await open(false);
  try {
    await fill(store, now, count, heavy);
  } finally {
    await store.close();
  }

  // The command line, whole processes: get_offline_count of the user with `heavy` messages.
  const [checkMs, countMs, expiredMs] = await interleaved(quick ? 3 : 9, [
    () => ctl(home, ['check_account', 'user0000', 'localhost']),
    () => {
      const r = ctl(home, ['get_offline_count', 'user0000', 'localhost']);
      if (r.stdout !== `${heavy}\n`) throw new Error(`get_offline_count said ${r.stdout}`);
    },
    () => ctl(home, ['delete_expired_messages']),
  ]);

  const { OFFLINE, hostOffline } = dist('src/features/offline/records');
  const { offlineCount } = dist('commands/support/offline');
  let services;
  ({ store, services } = await open());
  let iterate, countIn, nothingExpired, purge;
  let left = 0;
  try {
    iterate = await timed(async () => {
      let n = 0;
      for await (const _ of store.entries(OFFLINE)) n++;
      return n;
    });
    if (iterate.value !== count) throw new Error(`the offline archive holds ${iterate.value} messages, not ${count}`);
    countIn = await timed(() => offlineCount(services, 'user0000', 'localhost'));
    if (countIn.value !== heavy) throw new Error(`get_offline_count said ${countIn.value}`);
    nothingExpired = await timed(() => services.offline.deleteExpired());
    purge = await timed(() => services.offline.deleteOld(5));
    for await (const _ of hostOffline(store, 'localhost')) left++;
  } finally {
    await store.close();
  }
  if (left !== count / 2) throw new Error(`delete_old_messages left ${left} messages, not ${count / 2}`);
  const deleted = count - left;

  return [
    [`plain iteration of ${count} offline messages (baseline)`, `${iterate.ms.toFixed(0)} ms`, `${((count / iterate.ms) * 1000).toFixed(0)} messages/s`],
    [
      `delete_old_messages 5: ${deleted} of ${count} deleted`,
      `${(purge.ms / 1000).toFixed(2)} s`,
      `${((deleted / purge.ms) * 1000).toFixed(0)} deleted/s, ${(purge.ms / iterate.ms).toFixed(1)}x the iteration`,
    ],
    [
      `delete_expired_messages, none of ${count} expired`,
      `${nothingExpired.ms.toFixed(2)} ms`,
      `${(nothingExpired.ms / iterate.ms).toFixed(4)}x the iteration (reads the expiry index only)`,
    ],
    [`get_offline_count, user with ${heavy} messages (in process)`, `${countIn.ms.toFixed(1)} ms`, `${((heavy / countIn.ms) * 1000).toFixed(0)} messages/s`],
    ['ctl check_account, same database (baseline)', `${checkMs.toFixed(1)} ms`, '1.00x'],
    [`ctl get_offline_count, ${heavy} messages`, `${countMs.toFixed(1)} ms`, `${(countMs / checkMs).toFixed(2)}x`],
    [`ctl delete_expired_messages, none of ${count} expired`, `${expiredMs.toFixed(1)} ms`, `${(expiredMs / checkMs).toFixed(2)}x`],
  ];
}

module.exports = { bench };

if (require.main === module) runAlone('Offline messages and archives', bench);

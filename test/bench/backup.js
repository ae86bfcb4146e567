'use strict';
/**
 * backup, restore, dump and load of a database of 100 000 users, each with an account, a
 * three-contact roster and a vCard (500 000 records), through the database service, against
 * a plain iteration of every table of the same database in the same run.
 */
const { statSync } = require('node:fs');
const { join } = require('node:path');
const { ctl, dist, interleaved, openServices, ratio, runAlone, tempHome } = require('./lib');

const sec = (ms) => `${(ms / 1000).toFixed(2)} s`;
const mbps = (bytes, ms) => `${(bytes / 1048576 / (ms / 1000)).toFixed(1)} MB/s`;

/**
 * Fills `store` with `users` users by store batches of the records modules' rows, cloning the
 * records the features made for a model user (who is removed afterwards).
 */
async function fill(store, services, users) {
  const { accountOps, readAccount } = dist('src/features/accounts/records');
  const { vcardOps, readVcard } = dist('src/features/vcard/records');
  const { rosterItemOps } = dist('src/features/roster/records');
  const { addRosterItem } = dist('commands/support/roster');
  const { setVcard, setVcard2 } = dist('commands/support/vcard');
  const model = { host: 'localhost', user: 'model' };
  await services.accounts.register(model, 's3cret');
  await setVcard(services, 'model', 'localhost', 'FN', 'Model User');
  await setVcard(services, 'model', 'localhost', 'EMAIL', 'model@example.org');
  await setVcard2(services, 'model', 'localhost', 'N', 'FAMILY', 'User');
  await addRosterItem(services, {
    localuser: 'model',
    localserver: 'localhost',
    user: 'contact',
    server: 'localhost',
    nick: 'Contact',
    group: 'Friends',
    subs: 'both',
  });
  const account = await readAccount(store, model);
  const vcard = await readVcard(store, model);
  const item = await services.roster.get(model, 'contact@localhost');
  await services.accounts.remove(model);
  const name = (i) => `user${String(i).padStart(6, '0')}`;
  for (let from = 0; from < users; from += 2000) {
    const ops = [];
    for (let i = from; i < Math.min(users, from + 2000); i++) {
      const jid = { host: 'localhost', user: name(i) };
      ops.push(...accountOps(jid, account), ...vcardOps(jid, vcard));
      for (const c of [i + 1, i + 2, i + 3]) {
        const contact = `${name(c % users)}@localhost`;
        // The item as the old benchmark cloned it, with a `jid` field besides (same bytes).
        ops.push(...rosterItemOps(jid, contact, { ...item, jid: contact, name: name(c % users) }));
      }
    }
    await store.batch(ops);
  }
  await store.sync();
  return users * 5;
}

async function bench({ quick }) {
  const users = quick ? 10_000 : 100_000;
  const home = tempHome();
  const { store, services } = await openServices(home);
  const file = join(home, 'bench.backup');
  const dumpFile = join(home, 'bench.dump');
  let records;
  try {
    records = await fill(store, services, users);
    const db = services.database;
    const iterate = async () => {
      let n = 0;
      const snap = await store.snapshot();
      try {
        for (const t of await snap.tables()) for await (const row of store.entries(t)) n += row.length - 1;
      } finally {
        await snap.close();
      }
      if (n !== records) throw new Error(`iterated ${n} records, expected ${records}`);
    };
    const iterateJson = async () => {
      const snap = await store.snapshot();
      try {
        for (const t of await snap.tables()) for await (const row of snap.entriesJson(t)) void row;
      } finally {
        await snap.close();
      }
    };
    const rounds = quick ? 1 : 3;
    const [base, raw, backup, restore, dump, load] = await interleaved(rounds, [
      iterate,
      iterateJson,
      () => db.backup(file),
      () => db.restore(file),
      () => db.dump(dumpFile),
      () => db.load(dumpFile),
    ]);
    const bytes = statSync(file).size;
    const dumpBytes = statSync(dumpFile).size;
    await iterate();
    await store.close();
    // The whole command as an operator runs it: a process that opens the database and writes.
    const [cliBackup] = await interleaved(1, [() => ctl(home, ['backup', file])]);
    const per = (ms) => `${((ms * 1000) / records).toFixed(2)} µs/record`;
    const label = `${users / 1000}k users, ${records / 1000}k records`;
    return [
      [`iterate every table (baseline), ${label}`, sec(base), `1.00x, ${per(base)}`],
      ['iterate every table as JSON text, from a snapshot', sec(raw), `${ratio(raw, base)}, ${per(raw)}`],
      [`backup, ${(bytes / 1048576).toFixed(1)} MB`, sec(backup), `${ratio(backup, base)}, ${mbps(bytes, backup)}, ${per(backup)}`],
      ['restore over the same database (replaces all)', sec(restore), `${ratio(restore, base)}, ${mbps(bytes, restore)}, ${per(restore)}`],
      [`dump, ${(dumpBytes / 1048576).toFixed(1)} MB`, sec(dump), `${ratio(dump, base)}, ${mbps(dumpBytes, dump)}`],
      ['load of that dump (merge, batches of 1000)', sec(load), `${ratio(load, base)}, ${mbps(dumpBytes, load)}`],
      ['ctl backup as its own process', sec(cliBackup), ratio(cliBackup, base)],
    ];
  } finally {
    await store.close().catch(() => undefined);
  }
}

module.exports = { bench };

if (require.main === module) runAlone('Backup, restore, dump and load', bench);

'use strict';
/**
 * XEP-0227: export_piefxis and import_piefxis of a database of 100 000 users (5 000 with
 * --quick), each with a SCRAM secret, a roster of 3 contacts and a 6-field vCard. Baselines in
 * the same run: a plain iteration of the same tables (what any export must read), a bare saxes
 * parse of the exported file (what any import must parse) and store batches of the same rows
 * (what any import must write). Requires the built code: `npm run build` first.
 */
const { readdirSync, statSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const { CTL, dist, median, openServices, ratio, run, runAlone, since, tempHome } = require('./lib');
const budgets = require('./budgets');

const HOST = 'localhost';
const CONFIG = `hosts: [${HOST}]\n`;
const VCARD =
  '<vCard xmlns="vcard-temp"><FN>User NUMBER</FN><N><FAMILY>Liddell</FAMILY><GIVEN>Alice</GIVEN></N><NICKNAME>ally</NICKNAME>' +
  '<BDAY>1852-05-04</BDAY><URL>https://example.org/alice</URL><TITLE>Dreamer</TITLE></vCard>';

const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
const mbps = (bytes, ms) => `${(bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s`;
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * Neither command holds the document: `ctl` runs with its JavaScript heap capped far below the
 * file's size (V8 aborts the process if the cap is exceeded).
 */
const HEAP_CAP_MB = 64;
/** Imports by ctl whose median is the budgeted figure. */
const IMPORT_ROUNDS = 3;
const cappedCtl = (home, args) => run(process.execPath, [`--max-old-space-size=${HEAP_CAP_MB}`, CTL, ...args, '--home', home]).ms;

async function timed(fn) {
  const t0 = process.hrtime.bigint();
  await fn();
  return since(t0);
}

/** The rows, 10 000 at a time: made twice rather than held, so the heap measured is the command's. */
function* rowsOf(users, secret) {
  const { accountOps } = dist('src/features/accounts/records');
  const { rosterItemOps } = dist('src/features/roster/records');
  const { vcardOps } = dist('src/features/vcard/records');
  const created = Math.floor(Date.now() / 1000);
  let ops = [];
  for (let u = 0; u < users; u++) {
    const jid = { host: HOST, user: `user${String(u).padStart(6, '0')}` };
    ops.push(...accountOps(jid, { secret, created }));
    for (let c = 0; c < 3; c++) {
      const contact = `user${String((u + c + 1) % users).padStart(6, '0')}@${HOST}`;
      ops.push(...rosterItemOps(jid, contact, { name: `Friend ${c}`, subscription: 'both', ask: 'none', groups: ['Friends'] }));
    }
    ops.push(...vcardOps(jid, { xml: VCARD.replace('NUMBER', String(u)) }));
    if (ops.length >= 10_000) {
      yield ops;
      ops = [];
    }
  }
  yield ops;
}

async function bench({ quick }) {
  const users = quick ? 5_000 : 100_000;
  const { makeSecret } = dist('src/features/accounts/secret');
  const { hostAccounts } = dist('src/features/accounts/records');
  const { hostRosters } = dist('src/features/roster/records');
  const { hostVcards } = dist('src/features/vcard/records');
  const secret = await makeSecret('pw', 'scram');
  const noop = { progress: () => undefined, working: () => undefined, summary: () => undefined };

  // Export, in this process.
  const homeA = tempHome(CONFIG);
  const outA = join(homeA, 'export');
  let iterate, exported;
  {
    const { store, services } = await openServices(homeA);
    try {
      for (const ops of rowsOf(users, secret)) await store.batch(ops);
      await store.sync();
      const t0 = process.hrtime.bigint();
      let n = 0;
      for (const rows of [hostAccounts, hostRosters, hostVcards]) for await (const _ of rows(store, HOST)) n++;
      iterate = since(t0);
      if (n !== users * 5) throw new Error(`iterated ${n} rows`);
      exported = await timed(() => services.piefxis.exportAll(outA, noop));
    } finally {
      await store.close();
    }
  }
  const files = readdirSync(outA).map((f) => join(outA, f));
  const bytes = files.reduce((s, f) => s + statSync(f).size, 0);
  const main = files.find((f) => /\/\d{8}-\d{6}\.xml$/.test(f));
  const hostFile = files.find((f) => f !== main);

  // The same export by `ctl` as a process (synced writes, start-up included).
  const cliExport = cappedCtl(homeA, ['export_piefxis', join(homeA, 'export-cli')]);

  // Baselines of the import: parsing alone, writing alone.
  const { SaxesParser } = require('saxes');
  const t1 = process.hrtime.bigint();
  {
    const parser = new SaxesParser({ xmlns: true, position: true });
    let elements = 0;
    parser.on('opentag', () => elements++);
    parser.on('text', () => undefined);
    parser.on('closetag', () => undefined);
    const text = readFileSync(hostFile, 'utf8');
    for (let i = 0; i < text.length; i += 256 * 1024) parser.write(text.slice(i, i + 256 * 1024));
    parser.close();
    if (elements < users * 10) throw new Error(`parsed ${elements} elements`);
  }
  const parse = since(t1);
  const homeW = tempHome(CONFIG);
  let write;
  {
    const { store } = await openServices(homeW);
    try {
      let ms = 0;
      for (const ops of rowsOf(users, secret)) {
        const t0 = process.hrtime.bigint();
        await store.batch(ops);
        ms += since(t0);
      }
      const t0 = process.hrtime.bigint();
      await store.sync();
      write = ms + since(t0);
    } finally {
      await store.close();
    }
  }

  // Import, in this process, into a fresh node.
  const homeB = tempHome(CONFIG);
  let imported;
  {
    const { store, services } = await openServices(homeB);
    try {
      imported = await timed(async () => {
        await services.piefxis.importFile(main, noop);
        await store.sync();
      });
      const n = await services.accounts.countUsers(HOST);
      if (n !== users) throw new Error(`imported ${n} users`);
    } finally {
      await store.close();
    }
  }
  // The budgeted figure: the median of three imports, each into a fresh home. One import takes a
  // few seconds, which one pause of a shared machine can stretch by half.
  const cliImports = Array.from({ length: IMPORT_ROUNDS }, () => cappedCtl(tempHome(CONFIG), ['import_piefxis', main]));
  const cliImport = median(cliImports);

  const per = (ms) => `${((ms * 1000) / users).toFixed(1)} µs/user`;
  const rate = bytes / 1e6 / (cliImport / 1000);
  budgets.record('piefxis.import', { value: mbps(bytes, cliImport), ratio: cliImport / (2 * parse + write), rate });
  return [
    [`iterate passwd+roster+vcard, ${users} users (export baseline)`, seconds(iterate), `${per(iterate)}, 1.00x`],
    [`export_piefxis in-process (${mb(bytes)} written)`, seconds(exported), `${mbps(bytes, exported)}, ${per(exported)}, ${ratio(exported, iterate)}`],
    [`export_piefxis by ctl, heap capped at ${HEAP_CAP_MB} MB (synced)`, seconds(cliExport), `${mbps(bytes, cliExport)}, ${ratio(cliExport, iterate)}`],
    ['saxes parse of the host file alone (import baseline)', seconds(parse), `${mbps(bytes, parse)}`],
    [`store batches of the same ${users * 5} rows (import baseline)`, seconds(write), `${per(write)}`],
    [
      'import_piefxis in-process (one parse, staged, then written)',
      seconds(imported),
      `${mbps(bytes, imported)}, ${per(imported)}, ${ratio(imported, 2 * parse + write)} of 2 parses + write`,
    ],
    [
      `import_piefxis by ctl, heap capped at ${HEAP_CAP_MB} MB (synced), median of ${IMPORT_ROUNDS}`,
      seconds(cliImport),
      `${mbps(bytes, cliImport)}, ${ratio(cliImport, 2 * parse + write)} of 2 parses + write (${cliImports.map(seconds).join(', ')})`,
    ],
  ];
}

module.exports = { bench, rowsOf };

if (require.main === module) runAlone('XEP-0227 export and import (PIEFXIS)', bench);

import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { allCommands } from '../../commands';
import { createRegistry } from '../../src/core/registry';
import { startNode } from '../../src/node/daemon';
import { resolveHome } from '../../src/config/home';
import { tempHome } from '../helpers/cli';

const FIXTURES = resolve(__dirname, '../fixtures/jabberd14/example.org');
const NOW = Date.UTC(2024, 0, 2, 3, 4, 5);

let home: ReturnType<typeof tempHome>;
beforeEach(() => {
  home = tempHome();
  writeFileSync(join(home.dir, 'ctl.yml'), 'hosts:\n  - example.org\n');
  mkdirSync(join(home.dir, 'example.org'));
  cpSync(FIXTURES, join(home.dir, 'example.org'), { recursive: true });
  writeFileSync(join(home.dir, 'example.org', 'broken.xml'), '<xdb>');
  writeFileSync(join(home.dir, 'old.cfg'), '{hosts, ["example.org"]}.\n{loglevel, 4}.\n');
});
afterEach(() => home.cleanup());

test('imports, the SQL export and convert_to_yaml answer the same locally and through the node', async () => {
  const table: string[][] = [
    ['import_file', 'example.org/bob.xml'],
    ['import_dir', 'example.org'],
    ['import_file', 'example.org/alice.xml'],
    ['export_odbc', 'example.org', 'out.sql'],
    ['export2odbc', 'nowhere.example', 'out2.sql'],
    ['--sql-schema', 'pg-new', 'export_odbc', 'example.org', 'out-new.sql'],
    ['export_odbc', 'example.org', 'out3.sql', '--sql-schema', 'pg-1'],
    ['convert_to_yaml', 'old.cfg', 'new.yml'],
  ];
  const cwd = process.cwd();
  const run = async () => {
    const out = [];
    process.chdir(home.dir);
    try {
      for (const argv of table) out.push(await home.ctl(argv, { clock: () => NOW }));
    } finally {
      process.chdir(cwd);
    }
    const sql = readFileSync(join(home.dir, 'out.sql'), 'utf8');
    const sqlNew = readFileSync(join(home.dir, 'out-new.sql'), 'utf8');
    const yml = readFileSync(join(home.dir, 'new.yml'), 'utf8');
    for (const f of ['out.sql', 'out-new.sql', 'new.yml']) rmSync(join(home.dir, f));
    return { out, sql, sqlNew, yml };
  };
  const local = await run();
  rmSync(join(home.dir, 'db'), { recursive: true });
  const node = await startNode({ home: resolveHome({ home: home.dir }), registry: createRegistry(allCommands), version: '9.9.9', lockTimeout: 5000 });
  let forwarded: Awaited<ReturnType<typeof run>>;
  try {
    forwarded = await run();
  } finally {
    await node.control.stop();
    await node.stopped;
  }
  for (const [i, argv] of table.entries()) expect([argv, forwarded.out[i]]).toEqual([argv, local.out[i]]);
  expect(local.out.map((r) => r.status)).toEqual([0, 1, 1, 0, 1, 0, 2, 0]);
  expect(local.out[6].stderr).toBe("Error: --sql-schema must be one of pg, pg-new, pg-25, got 'pg-1'\nUsage: ctl export_odbc host file\n");
  const spool = join(home.dir, 'example.org');
  expect(local.out[1].stderr).toBe(
    `Error: Imported 1 user from ${spool}, skipped 1 that already exists; 1 of 3 files failed:\n` +
      `Malformed XML in the jabberd14 spool file ${join(spool, 'broken.xml')} (line 1, column 5): unclosed tag: xdb\n`,
  );
  expect(local.out[2].stderr).toBe(
    `Error: Cannot import ${join(spool, 'alice.xml')}: user alice@example.org already exists (an import never merges into an account: unregister it first)\n`,
  );
  // SCRAM salts differ from run to run, and the node has its own clock for an undated message.
  const unsalted = (sql: string) => sql.replace(/INSERT INTO users\(.*\n/g, '').replace(/stamp="20[12]\d-[^"]*"/g, 'stamp="now"');
  expect(unsalted(forwarded.sql)).toBe(unsalted(local.sql));
  expect(local.sql).toContain("INSERT INTO vcard(username, vcard) VALUES ('alice', ");
  // The layout goes with the call to the node.
  expect(unsalted(forwarded.sqlNew)).toBe(unsalted(local.sqlNew));
  expect(forwarded.sqlNew).toContain("INSERT INTO vcard(username, server_host, vcard) VALUES ('alice', 'example.org', ");
  expect(forwarded.yml).toBe('# Converted from old.cfg by ctl convert_to_yaml.\n\nhosts:\n  - example.org\nloglevel: 4\n');
  expect(local.yml).toBe(forwarded.yml);
});

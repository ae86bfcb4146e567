/**
 * backup and restore with a node running, and backups taken while others write: a backup is
 * a copy of one moment, and nobody sees a half-restored database.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allCommands } from '../../commands';
import { createRegistry } from '../../src/core/registry';
import { startNode, type RunningNode } from '../../src/node/daemon';
import { resolveHome } from '../../src/config/home';
import { defaultConfig } from '../../src/config/config';
import { createServices } from '../../src/node/services';
import { featureDeps } from '../../src/features/deps';
import { accountKey } from '../../src/features/accounts/records';
import type { Key } from '../../src/storage/types';
import { readBackup } from '../../src/migrate/backup-file';
import { openLevelStore } from '../../src/storage/level';
import { tempHome } from '../helpers/cli';
import { ctlProcess, ensureBuilt } from '../helpers/proc';
import { ctlOk, everything, fillEveryTable } from '../commands/backup-helpers';

jest.setTimeout(60_000);

let home: ReturnType<typeof tempHome>;
beforeEach(() => (home = tempHome()));
afterEach(() => home.cleanup());

async function withNode<T>(fn: (node: RunningNode) => Promise<T>): Promise<T> {
  const node = await startNode({ home: resolveHome({ home: home.dir }), registry: createRegistry(allCommands), version: '9.9.9', lockTimeout: 5000 });
  try {
    return await fn(node);
  } finally {
    await node.control.stop();
    await node.stopped;
  }
}

test('through a node, backup and restore give the same results as without one', async () => {
  await fillEveryTable(home.dir, home.ctl);
  const saved = await everything(home.dir);
  const file = join(home.dir, 'b.backup');
  await withNode(async () => {
    // What ejabberdctl prints on a pipe: nothing; the summary only when asked for.
    expect(await home.ctl(['backup', file])).toEqual({ status: 0, stdout: '', stderr: '' });
    await ctlOk(home.ctl, 'unregister', 'alice', 'localhost');
    await ctlOk(home.ctl, 'register', 'mallory', 'localhost', 'pw');
    const n = Object.values(saved).reduce((sum, rows) => sum + rows.length, 0);
    expect(await home.ctl(['restore', file, '--verbose'])).toEqual({ status: 0, stdout: '', stderr: `Restored ${n} records from ${file}\n` });
    expect(await home.ctl(['registered_users', 'localhost'])).toEqual({ status: 0, stdout: 'alice\nbob\n', stderr: '' });
  });
  expect(await everything(home.dir)).toEqual(saved);
});

test('readers on a node see the database before or after a restore, never between', async () => {
  await ctlOk(home.ctl, 'register', 'old', 'localhost', 'pw');
  const file = join(home.dir, 'b.backup');
  const source = tempHome();
  try {
    // Enough records that a restore is not instantaneous.
    const store = await openLevelStore(join(source.dir, 'db'), { sync: false });
    const s = createServices(featureDeps({ store, config: { ...defaultConfig('/x'), authPasswordFormat: 'plain' }, clock: Date.now }));
    for (let i = 0; i < 3000; i++) await s.accounts.register({ host: 'localhost', user: `new${String(i).padStart(4, '0')}` }, 'pw');
    await store.close();
    await ctlOk(source.ctl, 'backup', file);
  } finally {
    source.cleanup();
  }
  await withNode(async () => {
    const restoring = home.ctl(['restore', file]);
    // Commands that read the database for the node (statistics) wait at the gate like the others.
    const readers = [
      ['registered_users', 'localhost'],
      ['stats_host', 'registeredusers', 'localhost'],
      ['stats', 'registeredusers'],
    ];
    const counts = await Promise.all(Array.from({ length: 21 }, (_, i) => home.ctl(readers[i % 3])));
    expect((await restoring).status).toBe(0);
    for (const c of counts) expect(c).toEqual({ status: 0, stdout: expect.stringMatching(/^(1|3000)\n$|^old\n$|^(new\d{4}\n){3000}$/), stderr: '' });
  });
});

test('a backup through a node while other callers write is the database at one moment', async () => {
  writeFileSync(join(home.dir, 'ctl.yml'), 'auth_password_format: plain\n');
  const file = join(home.dir, 'b.backup');
  await withNode(async () => {
    let stop = false;
    const written: string[] = [];
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        const u = `w${String(i).padStart(5, '0')}`;
        await ctlOk(home.ctl, 'register', u, 'localhost', 'pw');
        written.push(u);
      }
    })();
    while (written.length < 20) await new Promise((r) => setTimeout(r, 5));
    await ctlOk(home.ctl, 'backup', file);
    const after = written.length;
    while (written.length < after + 20) await new Promise((r) => setTimeout(r, 5));
    stop = true;
    await writer;
  });
  const users: Key[] = [];
  await readBackup(file, { record: (table, key) => table === 'passwd' && users.push(key) });
  // Every registration before the backup is in it, none after: a prefix of the writer's sequence.
  expect(users.length).toBeGreaterThanOrEqual(20);
  expect(users).toEqual(Array.from({ length: users.length }, (_, i) => accountKey({ host: 'localhost', user: `w${String(i).padStart(5, '0')}` })));
});

test('a backup is one moment even when writes interleave with it in the same process', async () => {
  // Tables are read in name order: "pa", then the long "pa_filler", then "pb". The writer moves
  // a pair (pa/i, pb/i) forward in one batch each step while the backup reads.
  const store = await openLevelStore(join(home.dir, 'db'), { sync: false });
  const services = createServices(featureDeps({ store, config: defaultConfig(join(home.dir, 'ctl.yml')), clock: Date.now }));
  try {
    const filler = Array.from({ length: 30_000 }, (_, i) => ({ type: 'put' as const, table: 'pa_filler', key: [String(i).padStart(6, '0')], value: { i } }));
    await store.batch(filler);
    await store.batch([
      { type: 'put', table: 'pa', key: ['0'], value: 0 },
      { type: 'put', table: 'pb', key: ['0'], value: 0 },
    ]);
    let step = 0;
    let running = true;
    const writer = (async () => {
      while (running) {
        step++;
        await store.batch([
          { type: 'del', table: 'pa', key: [String(step - 1)] },
          { type: 'del', table: 'pb', key: [String(step - 1)] },
          { type: 'put', table: 'pa', key: [String(step)], value: step },
          { type: 'put', table: 'pb', key: [String(step)], value: step },
        ]);
        await new Promise(setImmediate);
      }
    })();
    const file = join(home.dir, 'b.backup');
    const stepBefore = step;
    await services.database.backup(file);
    const stepAfter = step;
    running = false;
    await writer;
    expect(stepAfter).toBeGreaterThan(stepBefore + 5);
    const pairs: Record<string, Key[]> = { pa: [], pb: [] };
    const summary = await readBackup(file, { record: (table, key) => pairs[table]?.push(key) });
    expect(summary.tables.pa_filler).toBe(30_000);
    expect(pairs.pa).toHaveLength(1);
    expect(pairs.pb).toEqual(pairs.pa);
  } finally {
    await store.close();
  }
});

describe('with the real launcher', () => {
  beforeAll(ensureBuilt);

  test("a relative path names a file in the caller's directory, not the node's", async () => {
    const elsewhere = join(home.dir, 'elsewhere');
    mkdirSync(elsewhere);
    const start = await ctlProcess(home.dir, ['start']);
    expect(start.status).toBe(0);
    try {
      await ctlProcess(home.dir, ['register', 'alice', 'localhost', 'pw']);
      expect(await ctlProcess(home.dir, ['backup', 'rel.backup', '--verbose'], { cwd: elsewhere })).toEqual({
        status: 0,
        stdout: '',
        stderr: `Backed up 1 records to ${join(elsewhere, 'rel.backup')}\n`,
      });
      expect(await ctlProcess(home.dir, ['dump', 'rel.dump', '--verbose'], { cwd: elsewhere })).toEqual({
        status: 0,
        stdout: '',
        stderr: `Dumped 1 records to ${join(elsewhere, 'rel.dump')}\n`,
      });
      expect((await ctlProcess(home.dir, ['load', 'rel.dump'], { cwd: elsewhere })).status).toBe(0);
      expect((await ctlProcess(home.dir, ['restore', 'rel.backup'], { cwd: elsewhere })).status).toBe(0);
    } finally {
      expect((await ctlProcess(home.dir, ['stop'])).status).toBe(0);
    }
  });
});

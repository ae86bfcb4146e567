/**
 * Archive ids on PostgreSQL, where several processes (the nodes of a cluster, `ctl` commands
 * run without a node) write one database: each store stands for a process, with connections
 * of its own, and no two of them may give two entries one id. One server for the file.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { ARCHIVE_WRITER_LOCK, ARCHIVE_WRITERS, openPgStore, type PgOptions } from '../../src/storage/pg';
import type { Store } from '../../src/storage/types';
import { ok, tempHome } from '../helpers/cli';
import { ctlProcess, ensureBuilt } from '../helpers/proc';
import { startPostgres, type Postgres } from './sql-export-pg';

jest.setTimeout(60_000);

let pg: Postgres;
let options: PgOptions;
const open: Store[] = [];

beforeAll(async () => {
  pg = await startPostgres({ tcp: true });
  await pg.psql('postgres', 'CREATE DATABASE ids; CREATE DATABASE cli;');
  options = { host: '127.0.0.1', port: pg.port, database: 'ids', user: 'postgres', poolSize: 4 };
}, 120_000);

afterAll(async () => {
  await pg?.stop();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  await pg.psql('ids', 'TRUNCATE ctl_kv;');
});

async function store(): Promise<Store> {
  const s = await openPgStore(options);
  open.push(s);
  return s;
}

async function close(s: Store): Promise<void> {
  open.splice(open.indexOf(s), 1);
  await s.close();
}

interface Message {
  readonly text: string;
}

const mam = (s: Store) => s.archive<Message>('mam');
const alice = ['localhost', 'alice'];
const AT = 1_700_000_000_123;

/** The sequence number of an id: what a store's writer slot shows in. */
const seq = (id: string) => Number(id.slice(-6));

/** The writer slots held on database `db` now, by the server's account. */
async function slotsHeld(db = 'ids'): Promise<number[]> {
  const rows = await pg.rows<{ slot: number }>(
    db,
    `SELECT objid::int AS slot FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = ${ARCHIVE_WRITER_LOCK} AND objsubid = 2 ORDER BY 1`,
  );
  return rows.map((r) => r.slot);
}

/** How many entries the database holds, and how many rows of the time index. */
async function stored(): Promise<[number, number]> {
  const rows = await pg.rows<{ tbl: string; n: number }>('ids', `SELECT tbl, count(*)::int AS n FROM ctl_kv WHERE tbl LIKE 'mam%' GROUP BY tbl`);
  const count = (tbl: string) => rows.find((r) => r.tbl === tbl)?.n ?? 0;
  return [count('mam'), count('mam_by_time')];
}

/** `n` appends for alice in ms AT, alternating between the stores, all at once. */
async function appendAll(stores: Store[], n: number): Promise<string[][]> {
  const ids = await Promise.all(Array.from({ length: n }, (_, i) => mam(stores[i % stores.length]).append(alice, { atMs: AT, value: { text: `m${i}` } })));
  return stores.map((_, k) => ids.filter((_id, i) => i % stores.length === k));
}

test('two stores on one database, as two processes, appending for one owner in one ms, give every entry its own id and keep them all', async () => {
  const [a, b] = [await store(), await store()];
  const [ofA, ofB] = await appendAll([a, b], 400);
  const all = [...ofA, ...ofB];
  expect(new Set(all).size).toBe(400);
  expect(all.every((id) => id.startsWith('001700000000123-'))).toBe(true);
  await expect(mam(a).count(alice)).resolves.toBe(400);
  await expect(stored()).resolves.toEqual([400, 400]);
  // Each store numbers only with its own slot's numbers.
  expect(new Set(ofA.map((id) => seq(id) % ARCHIVE_WRITERS)).size).toBe(1);
  expect(new Set(ofB.map((id) => seq(id) % ARCHIVE_WRITERS)).size).toBe(1);
  expect(seq(ofA[0]) % ARCHIVE_WRITERS).not.toBe(seq(ofB[0]) % ARCHIVE_WRITERS);

  // One after the other, each store's ids go on increasing, and both stores' stay apart.
  const more: string[] = [];
  for (let i = 0; i < 20; i++) more.push(await mam(i % 2 ? b : a).append(alice, { atMs: AT, value: { text: `later ${i}` } }));
  const mine = (s: 0 | 1) => more.filter((_, i) => i % 2 === s);
  expect(mine(0)).toEqual([...mine(0)].sort());
  expect(mine(1)).toEqual([...mine(1)].sort());
  expect(mine(0)[0] > ofA.sort().at(-1)!).toBe(true);
  expect(new Set([...all, ...more]).size).toBe(420);
  await expect(mam(b).count(alice)).resolves.toBe(420);
});

test('a batch of appends in one store and a replacement in another, for one owner in one ms, keep apart', async () => {
  const [a, b] = [await store(), await store()];
  await mam(a).append(alice, { atMs: AT, value: { text: 'before' } });
  const entries = Array.from({ length: 150 }, (_, i) => ({ atMs: AT, value: { text: `import ${i}` } }));
  const replaced = await mam(b).replaceOps(alice, entries);
  // Appends that come after the replacement read the owner's items: they stay.
  const appended = await mam(a).appendOps(alice, entries);
  await Promise.all([b.batch(replaced.ops), a.batch(appended.ops)]);
  expect(new Set([...replaced.ids, ...appended.ids]).size).toBe(300);
  await expect(mam(a).count(alice)).resolves.toBe(300);
  await expect(stored()).resolves.toEqual([300, 300]);
  const texts: string[] = [];
  for await (const item of mam(a).find(alice)) texts.push(item.value.text);
  expect(texts).not.toContain('before');
});

test('a third store takes a third slot, a store that only reads takes none, and closing a store frees its slot', async () => {
  const stores = [await store(), await store(), await store()];
  const first: string[] = [];
  for (const s of stores) first.push(await mam(s).append(alice, { atMs: AT, value: { text: 'hi' } }));
  expect(first.map((id) => seq(id) % ARCHIVE_WRITERS)).toEqual([0, 1, 2]);
  await expect(slotsHeld()).resolves.toEqual([0, 1, 2]);

  const reader = await store();
  await expect(mam(reader).count(alice)).resolves.toBe(3);
  await expect(slotsHeld()).resolves.toEqual([0, 1, 2]);

  await close(stores[0]);
  await expect(slotsHeld()).resolves.toEqual([1, 2]);
  const next = await store();
  const id = await mam(next).append(alice, { atMs: AT, value: { text: 'again' } });
  expect(seq(id) % ARCHIVE_WRITERS).toBe(0);
  // The slot's earlier entries are read again: the new holder goes on after them.
  expect(id > first[0]).toBe(true);
  await expect(slotsHeld()).resolves.toEqual([0, 1, 2]);
  await expect(stored()).resolves.toEqual([4, 4]);
});

test('a store whose slot connection is lost takes a slot again instead of numbering under one another store now holds', async () => {
  const a = await store();
  const before = await mam(a).append(alice, { atMs: AT, value: { text: 'first' } });
  expect(seq(before) % ARCHIVE_WRITERS).toBe(0);
  await pg.psql(
    'ids',
    `SELECT pg_terminate_backend(pid, 10000) FROM pg_locks WHERE locktype = 'advisory' AND classid = ${ARCHIVE_WRITER_LOCK} AND objsubid = 2;`,
  );
  await expect(slotsHeld()).resolves.toEqual([]);

  const b = await store();
  await mam(b).append(alice, { atMs: AT, value: { text: 'b takes slot 0' } });
  await expect(slotsHeld()).resolves.toEqual([0]);

  const [ofA, ofB] = await appendAll([a, b], 200);
  expect(new Set(ofA.map((id) => seq(id) % ARCHIVE_WRITERS))).toEqual(new Set([1]));
  expect(new Set(ofB.map((id) => seq(id) % ARCHIVE_WRITERS))).toEqual(new Set([0]));
  expect(new Set([before, ...ofA, ...ofB]).size).toBe(201);
  await expect(stored()).resolves.toEqual([202, 202]);
  await expect(slotsHeld()).resolves.toEqual([0, 1]);
});

test('with every slot held, archiving fails with an error that says so, and works once a slot is free', async () => {
  const holder = new Client({ ...options });
  await holder.connect();
  try {
    await holder.query('SELECT pg_advisory_lock($1::int, s) FROM generate_series(0, $2::int - 1) s', [ARCHIVE_WRITER_LOCK, ARCHIVE_WRITERS]);
    const s = await store();
    await expect(mam(s).append(alice, { atMs: AT, value: { text: 'no slot' } })).rejects.toMatchObject({
      code: 'failed',
      message: `PostgreSQL at 127.0.0.1 port ${pg.port}: all 100 archive writer slots are held by other processes on database ids, so this one cannot number offline messages or archive entries: stop some of them`,
    });
    await expect(stored()).resolves.toEqual([0, 0]);
    await holder.query('SELECT pg_advisory_unlock($1::int, 42)', [ARCHIVE_WRITER_LOCK]);
    const id = await mam(s).append(alice, { atMs: AT, value: { text: 'slot 42' } });
    expect(seq(id)).toBe(42);
  } finally {
    await holder.end();
  }
});

test("a process has every 100th of a ms's ids, and says so once they are used up", async () => {
  const s = await store();
  const entries = (n: number) => Array.from({ length: n }, (_, i) => ({ atMs: AT, value: { text: `${i}` } }));
  const { ids } = await mam(s).appendOps(alice, entries(10_000));
  expect(ids.at(-1)).toBe('001700000000123-999900');
  await expect(mam(s).appendOps(alice, entries(1))).rejects.toMatchObject({
    code: 'failed',
    message:
      'No archive id left in one millisecond for localhost alice in mam: each process that shares the database numbers every 100th of its 1000000 ids, and those of this one (writer slot 0) are used up',
  });
  await expect(mam(s).replaceOps(alice, entries(10_001))).rejects.toMatchObject({ code: 'failed' });
});

test('a store that takes over the slot another store held goes on after what that store wrote', async () => {
  const a = await store();
  const b = await store();
  const ids = [await mam(a).append(alice, { atMs: AT, value: { text: 'a, slot 0' } })];
  for (let i = 0; i < 3; i++) ids.push(await mam(b).append(alice, { atMs: AT, value: { text: `b, slot 1, ${i}` } }));
  await close(b);
  await pg.psql(
    'ids',
    `SELECT pg_terminate_backend(pid, 10000) FROM pg_locks WHERE locktype = 'advisory' AND classid = ${ARCHIVE_WRITER_LOCK} AND objsubid = 2;`,
  );
  const c = await store();
  ids.push(await mam(c).append(alice, { atMs: AT, value: { text: 'c, slot 0' } }));
  // Slot 1 is the free one now: what b numbered with it is stored, and a knew nothing of it.
  const taken = await mam(a).append(alice, { atMs: AT, value: { text: 'a, slot 1' } });
  expect(seq(taken) % ARCHIVE_WRITERS).toBe(1);
  expect(ids).not.toContain(taken);
  expect(taken > ids[3]).toBe(true);
  await expect(stored()).resolves.toEqual([6, 6]);
});

test('ctl commands run side by side without a node store every offline message, and hold no slot once done', async () => {
  ensureBuilt();
  const home = tempHome('ctl-pg-ids-');
  writeFileSync(
    join(home.dir, 'ctl.yml'),
    `default_db: sql\nsql_type: pgsql\nsql_server: 127.0.0.1\nsql_port: ${pg.port}\nsql_database: cli\nsql_username: postgres\n`,
  );
  try {
    expect(await home.ctl(['register', 'carol', 'localhost', 'pw'])).toEqual(ok('User carol@localhost successfully registered\n'));
    const sends = Array.from({ length: 6 }, (_, i) => ctlProcess(home.dir, ['send_message', 'chat', 'dave@localhost', 'carol@localhost', '', `hello ${i}`]));
    expect(await Promise.all(sends)).toEqual(sends.map(() => ok()));
    expect(await home.ctl(['get_offline_count', 'carol', 'localhost'])).toEqual(ok('6\n'));
    await expect(slotsHeld('cli')).resolves.toEqual([]);
  } finally {
    home.cleanup();
  }
});

/**
 * The PostgreSQL driver against a real server: the conformance suite every driver passes, then
 * homes that say `default_db: sql` in ctl.yml, with and without a node, and dumps carried
 * between a LevelDB home and a PostgreSQL one. One server for the file.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { openPgStore, type PgOptions } from '../../src/storage/pg';
import type { Store } from '../../src/storage/types';
import { runStoreConformance } from '../storage/conformance';
import { runRestoreChecks } from '../migrate/restore-contract';
import { fails, ok, tempHome } from '../helpers/cli';
import { ctlProcess, ensureBuilt, killNodes, trackNodes } from '../helpers/proc';
import { startPostgres, type Postgres } from './sql-export-pg';

jest.setTimeout(60_000);

let pg: Postgres;
let options: PgOptions;

beforeAll(async () => {
  pg = await startPostgres({ tcp: true });
  // Deadlocks are broken within 20 ms rather than the server's 1 s.
  await pg.psql(
    'postgres',
    "CREATE DATABASE conformance; CREATE DATABASE cli; CREATE DATABASE node; CREATE DATABASE moved; ALTER DATABASE conformance SET deadlock_timeout = '20ms';",
  );
  options = { host: '127.0.0.1', port: pg.port, database: 'conformance', user: 'postgres', poolSize: 4 };
}, 120_000);

afterAll(async () => {
  await pg?.stop();
});

async function sql(text: string): Promise<void> {
  const client = new Client({ ...options });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

// Each test starts from an empty table, as from a fresh store.
runStoreConformance(
  'pg',
  async () => {
    const store = await openPgStore(options);
    await sql('TRUNCATE ctl_kv');
    return store;
  },
  async (previous: Store) => {
    await previous.close();
    return openPgStore(options);
  },
);

runRestoreChecks('pg', async () => {
  const store = await openPgStore(options);
  await sql('TRUNCATE ctl_kv');
  return store;
});

test('a restore under way is seen by no other connection, even of a store whose pool has one connection', async () => {
  await sql('TRUNCATE ctl_kv');
  const writer = await openPgStore({ ...options, poolSize: 1 });
  const reader = await openPgStore(options);
  try {
    await writer.put('passwd', ['h', 'old'], { pw: 'o' });
    const r = await writer.replaceAll();
    for (let i = 0; i < 300; i++) await r.put('notes', ['h', String(i)], JSON.stringify({ pad: 'x'.repeat(30_000) }));
    await expect(reader.get('passwd', ['h', 'old'])).resolves.toEqual({ pw: 'o' });
    await expect(writer.get('notes', ['h', '0'])).resolves.toBeUndefined();
    await r.commit();
    await expect(reader.get('passwd', ['h', 'old'])).resolves.toBeUndefined();
    await expect(reader.get('notes', ['h', '299'])).resolves.toMatchObject({ pad: expect.any(String) });
  } finally {
    await writer.close();
    await reader.close();
  }
});

test('updates of one key from two stores on one database, as from two processes, all count', async () => {
  const [a, b] = [await openPgStore(options), await openPgStore(options)];
  try {
    await sql('TRUNCATE ctl_kv');
    const bump = (store: Store) => store.update<number>('t', ['counter'], async (n) => (await new Promise((r) => setImmediate(r)), (n ?? 0) + 1));
    await Promise.all(Array.from({ length: 20 }, (_, i) => bump(i % 2 === 0 ? a : b)));
    await expect(a.get('t', ['counter'])).resolves.toBe(20);
  } finally {
    await a.close();
    await b.close();
  }
});

test('updates and batches from two stores whose rows cross each other all succeed', async () => {
  const [a, b] = [await openPgStore(options), await openPgStore(options)];
  try {
    await sql('TRUNCATE ctl_kv');
    await a.batch([
      { type: 'put', table: 't', key: ['a'], value: 0 },
      { type: 'put', table: 't', key: ['b'], value: 0 },
    ]);
    // Each locks its own key, then writes the other's: the order two such writers meet in.
    const cross = (store: Store, mine: string, other: string) =>
      store.update<number>('t', [mine], (n) => (n ?? 0) + 1, {
        also: () => [
          { type: 'put', table: 't', key: [other, 'seen'], value: mine },
          { type: 'put', table: 't', key: [other], value: -1 },
        ],
      });
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => (i % 2 ? cross(a, 'a', 'b') : cross(b, 'b', 'a'))));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    // Batches that write the same two keys in opposite orders, side by side.
    const swap = (store: Store, first: string, second: string) =>
      store.batch([
        { type: 'put', table: 'u', key: [first], value: 1 },
        { type: 'del', table: 'u', key: [second, 'x'] },
        { type: 'put', table: 'u', key: [second], value: 2 },
      ]);
    const swaps = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => (i % 2 ? swap(a, 'a', 'b') : swap(b, 'b', 'a'))));
    expect(swaps.filter((r) => r.status === 'rejected')).toEqual([]);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a server that accepts the connection and never answers is an error naming it, in time', async () => {
  const silent = createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as { port: number };
  try {
    const err = await openPgStore({ ...options, port, connectTimeout: 300 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'unavailable', message: `Cannot use PostgreSQL at 127.0.0.1 port ${port}: no answer within 0.3 s` });
  } finally {
    silent.close();
  }
});

test('a store for bulk work keeps what it wrote once synced; a snapshot reads two tables at once', async () => {
  const bulk = await openPgStore({ ...options, sync: false });
  try {
    await sql('TRUNCATE ctl_kv');
    await bulk.batch(
      Array.from({ length: 50 }, (_, i) => ({ type: 'put' as const, table: i % 2 ? 'odd' : 'even', key: ['h', String(i).padStart(2, '0')], value: i })),
    );
    await bulk.sync();
  } finally {
    await bulk.close();
  }
  const store = await openPgStore(options);
  try {
    const snap = await store.snapshot();
    const read = async (table: string) => {
      const out: number[] = [];
      for await (const [, json] of snap.entriesJson(table)) out.push(JSON.parse(json) as number);
      return out;
    };
    const [even, odd, tables] = await Promise.all([read('even'), read('odd'), snap.tables()]);
    await snap.close();
    expect(tables).toEqual(['even', 'odd']);
    expect(even).toEqual(Array.from({ length: 25 }, (_, i) => 2 * i));
    expect(odd).toEqual(Array.from({ length: 25 }, (_, i) => 2 * i + 1));
  } finally {
    await store.close();
  }
});

/** A home whose ctl.yml keeps its data in database `db`. */
function pgHome(db: string, extra = '') {
  const home = tempHome('ctl-pg-home-');
  writeFileSync(
    join(home.dir, 'ctl.yml'),
    `default_db: sql\nsql_type: pgsql\nsql_server: 127.0.0.1\nsql_port: ${pg.port}\nsql_database: ${db}\nsql_username: postgres\n${extra}`,
  );
  return home;
}

/** The tables and record counts database `db` holds. */
async function stored(db: string): Promise<Record<string, number>> {
  const rows = await pg.rows<{ tbl: string; n: number }>(db, 'SELECT tbl, count(*)::int AS n FROM ctl_kv GROUP BY tbl ORDER BY tbl');
  return Object.fromEntries(rows.map((r) => [r.tbl, r.n]));
}

const registered = (user: string) => ok(`User ${user}@localhost successfully registered\n`);
const ROSTER = 'bob@localhost\tBob\tboth\tnone\tFriends\n';

describe('a home with default_db: sql', () => {
  test('commands without a node keep their data in PostgreSQL, none in the home', async () => {
    const home = pgHome('cli', 'sql_password_file: pw.txt\n');
    writeFileSync(join(home.dir, 'pw.txt'), 'unused with trust\n');
    try {
      expect(await home.ctl(['register', 'alice', 'localhost', 's3cret'])).toEqual(registered('alice'));
      expect(await home.ctl(['check_password', 'alice', 'localhost', 's3cret'])).toEqual(ok());
      expect((await home.ctl(['check_password', 'alice', 'localhost', 'wrong'])).status).toBe(1);
      expect(await home.ctl(['registered_users', 'localhost'])).toEqual(ok('alice\n'));
      expect(await home.ctl(['add_rosteritem', 'alice', 'localhost', 'bob', 'localhost', 'Bob', 'Friends', 'both'])).toEqual(ok());
      expect(await home.ctl(['get_roster', 'alice', 'localhost'])).toEqual(ok(ROSTER));
      expect(await home.ctl(['set_vcard', 'alice', 'localhost', 'FN', 'Alice Ünïcødé'])).toEqual(ok());
      expect(await home.ctl(['get_vcard', 'alice', 'localhost', 'FN'])).toEqual(ok('Alice Ünïcødé\n'));
      expect(existsSync(join(home.dir, 'db'))).toBe(false);
      const tables = await stored('cli');
      expect(Object.keys(tables)).toEqual(expect.arrayContaining(['passwd', 'roster', 'vcard']));
      await expect(pg.rows('cli', 'SELECT version FROM ctl_schema_version')).resolves.toEqual([{ version: 1 }]);
    } finally {
      home.cleanup();
    }
  });

  test('commands without a node run side by side on one database', async () => {
    ensureBuilt();
    const home = pgHome('cli');
    try {
      const users = Array.from({ length: 6 }, (_, i) => `side${i}`);
      const results = await Promise.all(users.map((u) => ctlProcess(home.dir, ['register', u, 'localhost', 'pw'])));
      expect(results).toEqual(users.map((u) => registered(u)));
      const listed = (await home.ctl(['registered_users', 'localhost'])).stdout.split('\n');
      expect(listed.filter((u) => u.startsWith('side'))).toEqual(users);
    } finally {
      home.cleanup();
    }
  });

  test('a node started on it serves the same data, and what it writes is there after it stops', async () => {
    ensureBuilt();
    const home = pgHome('node');
    const nodes = trackNodes(() => home.dir);
    try {
      const ctl = (...args: string[]) => ctlProcess(home.dir, args);
      expect(await ctl('register', 'alice', 'localhost', 'pw')).toEqual(registered('alice'));
      await nodes.startNode();
      expect(await ctl('register', 'bob', 'localhost', 'pw2')).toEqual(registered('bob'));
      expect(await ctl('registered_users', 'localhost')).toEqual(ok('alice\nbob\n'));
      expect(await ctl('add_rosteritem', 'alice', 'localhost', 'bob', 'localhost', 'Bob', 'Friends', 'both')).toEqual(ok());
      expect(await ctl('get_roster', 'alice', 'localhost')).toEqual(ok(ROSTER));
      expect(await ctl('set_vcard', 'bob', 'localhost', 'FN', 'Bob B')).toEqual(ok());
      expect(await ctl('get_vcard', 'bob', 'localhost', 'FN')).toEqual(ok('Bob B\n'));
      // install_fallback stages a backup in the home; the restart puts it into PostgreSQL.
      const backup = join(home.dir, 'node.backup');
      expect(await ctl('backup', backup)).toEqual(ok());
      expect(await ctl('install_fallback', backup)).toEqual(ok());
      expect(await ctl('unregister', 'bob', 'localhost')).toEqual(ok());
      expect(await ctl('registered_users', 'localhost')).toEqual(ok('alice\n'));
      expect(await ctl('restart')).toEqual(ok());
      expect(await ctl('registered_users', 'localhost')).toEqual(ok('alice\nbob\n'));
      expect(await ctl('stop')).toEqual(ok());
      expect(await ctl('status')).toMatchObject({ status: 3 });
      expect(await ctl('check_password', 'bob', 'localhost', 'pw2')).toEqual(ok());
      expect(await ctl('get_roster', 'alice', 'localhost')).toEqual(ok(ROSTER));
      expect(existsSync(join(home.dir, 'db'))).toBe(false);
    } finally {
      await killNodes(nodes.pids, home.dir);
      home.cleanup();
    }
  });

  test('dump from a LevelDB home, load into a PostgreSQL home, and back, carries every record', async () => {
    const level = tempHome('ctl-level-home-');
    const back = tempHome('ctl-level-back-');
    const home = pgHome('moved');
    const records = (file: string) => readFileSync(file, 'utf8').split('\n').slice(1);
    try {
      expect(await level.ctl(['register', 'carol', 'localhost', 'pw'])).toEqual(registered('carol'));
      expect(await level.ctl(['register', 'dave', 'localhost', 'pw'])).toEqual(registered('dave'));
      for (const argv of [
        ['add_rosteritem', 'carol', 'localhost', 'dave', 'localhost', 'Dave', 'Team', 'to'],
        ['set_vcard', 'carol', 'localhost', 'FN', 'Carol 😀'],
        ['set_last', 'dave', 'localhost', '1700000000', 'gone'],
        ['send_message', 'chat', 'dave@localhost', 'carol@localhost', '', 'offline hello'],
      ]) {
        expect(await level.ctl(argv)).toEqual(ok());
      }
      const first = join(level.dir, 'first.dump');
      expect(await level.ctl(['dump', first])).toEqual(ok());
      expect(records(first).filter((line) => /"table":"(passwd|roster|vcard|last|offline)/.test(line)).length).toBeGreaterThanOrEqual(6);
      expect(await home.ctl(['load', first])).toEqual(ok());
      expect(await home.ctl(['registered_users', 'localhost'])).toEqual(ok('carol\ndave\n'));
      expect(await home.ctl(['get_vcard', 'carol', 'localhost', 'FN'])).toEqual(ok('Carol 😀\n'));
      expect(await home.ctl(['get_offline_count', 'carol', 'localhost'])).toEqual(ok('1\n'));
      const second = join(level.dir, 'second.dump');
      expect(await home.ctl(['dump', second])).toEqual(ok());
      expect(records(second)).toEqual(records(first));
      expect(await back.ctl(['load', second])).toEqual(ok());
      const third = join(level.dir, 'third.dump');
      expect(await back.ctl(['dump', third])).toEqual(ok());
      expect(records(third)).toEqual(records(first));
      expect(await back.ctl(['check_password', 'carol', 'localhost', 'pw'])).toEqual(ok());
      // A backup of the PostgreSQL home restores it after a change.
      const backup = join(level.dir, 'pg.backup');
      expect(await home.ctl(['backup', backup])).toEqual(ok());
      expect(await home.ctl(['unregister', 'dave', 'localhost'])).toEqual(ok());
      expect(await home.ctl(['restore', backup])).toEqual(ok());
      const fourth = join(level.dir, 'fourth.dump');
      expect(await home.ctl(['dump', fourth])).toEqual(ok());
      expect(records(fourth)).toEqual(records(first));
    } finally {
      for (const h of [level, back, home]) h.cleanup();
    }
  });

  test('a server that does not answer is an error naming it, exit 3, without a stack trace', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as { port: number };
        server.close(() => resolve(free));
      });
    });
    const home = tempHome('ctl-pg-down-');
    writeFileSync(join(home.dir, 'ctl.yml'), `default_db: sql\nsql_server: 127.0.0.1\nsql_port: ${port}\n`);
    const refused = `Cannot use PostgreSQL at 127.0.0.1 port ${port}: connection refused (is the server running, and listening there?)`;
    try {
      expect(await home.ctl(['registered_users', 'localhost'])).toEqual(fails(3, `Error: ${refused}\n`));
      ensureBuilt();
      const start = await ctlProcess(home.dir, ['start', '--timeout', '30']);
      // As for any start that fails: exit 1, with the line the node logged.
      expect(start).toMatchObject({ status: 1, stdout: '' });
      expect(start.stderr).toContain(refused);
      expect(start.stderr).not.toMatch(/^\s+at /m);
    } finally {
      home.cleanup();
    }
  });

  test('a database that does not exist, or a password file that cannot be read, is named', async () => {
    const home = pgHome('nowhere');
    const unreadable = pgHome('cli', 'sql_password_file: missing.txt\n');
    try {
      expect(await home.ctl(['registered_users', 'localhost'])).toEqual(
        fails(3, `Error: Cannot use PostgreSQL at 127.0.0.1 port ${pg.port}: database 'nowhere' does not exist\n`),
      );
      const r = await unreadable.ctl(['registered_users', 'localhost']);
      expect(r).toEqual(
        fails(1, expect.stringMatching(new RegExp(`^Error: Cannot read sql_password_file ${unreadable.dir}/missing.txt: .+\n$`)) as unknown as string),
      );
    } finally {
      home.cleanup();
      unreadable.cleanup();
    }
  });

  // Last: it stops the server.
  test('a node whose server goes away answers each command with an error naming it, exit 3, and stays up', async () => {
    ensureBuilt();
    const home = pgHome('node');
    const nodes = trackNodes(() => home.dir);
    try {
      await nodes.startNode();
      expect(await home.ctl(['registered_users', 'localhost'])).toEqual(ok('alice\nbob\n'));
      await pg.stop();
      const r = await home.ctl(['registered_users', 'localhost']);
      expect(r).toMatchObject({ status: 3, stdout: '' });
      expect(r.stderr).toMatch(new RegExp(`^Error: Cannot use PostgreSQL at 127\\.0\\.0\\.1 port ${pg.port}: .+\n$`));
      expect(await home.ctl(['status'])).toMatchObject({ status: 0 });
      expect(await home.ctl(['stop'])).toEqual(ok());
    } finally {
      await killNodes(nodes.pids, home.dir);
      home.cleanup();
    }
  });
});

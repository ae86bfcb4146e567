/**
 * Many `ctl` processes on one home at once, as `xargs -P8` or two cron jobs would run them
 * (DESIGN.md §4): LevelDB admits one process at a time, so each call waits for the lock, and a
 * call that cannot get it in time exits 3 naming the holder, without touching the data.
 *
 * These tests run the real launcher, bin/ctl, which loads dist/. The README's test command runs
 * `npm run build` before jest; when dist/ is missing or older than a source file (someone ran
 * jest alone after an edit), beforeAll builds it once so that we never test stale code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ctlProcess, ensureBuilt, root } from '../helpers/proc';

jest.setTimeout(120_000);
beforeAll(ensureBuilt);

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'ctl-e2e-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const ctl = (args: readonly string[], stdin = '') => ctlProcess(home, args, { stdin });

// The lock wait is not what these tests measure, so it is generous: a loaded 2-core machine
// starting 20 node processes at once must not turn a slow start into a failure.
const WAIT = ['--timeout', '60'];

test('20 concurrent registrations on a fresh home all succeed and all are listed', async () => {
  const users = Array.from({ length: 20 }, (_, i) => `user${i + 1}`);
  const results = await Promise.all(users.map((u, i) => ctl(['register', u, 'localhost', `pw${i + 1}`, ...WAIT])));
  results.forEach((r, i) => {
    expect(r).toEqual({ status: 0, stdout: `User ${users[i]}@localhost successfully registered\n`, stderr: '' });
  });

  const listed = await ctl(['registered_users', 'localhost']);
  expect(listed).toEqual({
    status: 0,
    stdout: [...users]
      .sort()
      .map((u) => `${u}\n`)
      .join(''),
    stderr: '',
  });
  expect(listed.stdout.split('\n')[1]).toBe('user10'); // byte order, not numeric order

  // Every user got their own password, not a neighbour's.
  const checks = users.map((u, i) => `check_password ${u} localhost pw${i + 1}`).join('\n');
  expect(await ctl(['batch'], `${checks}\n`)).toEqual({ status: 0, stdout: '', stderr: '' });
  const swapped = await ctl(['check_password', 'user1', 'localhost', 'pw2']);
  expect(swapped.status).toBe(1);
});

test('10 concurrent registrations of the same user: exactly one wins, nine conflict', async () => {
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => ctl(['register', 'same', 'localhost', `pw${i}`, ...WAIT])));
  const winners = results.flatMap((r, i) => (r.status === 0 ? [i] : []));
  expect(winners).toHaveLength(1);
  for (const [i, r] of results.entries()) {
    if (i === winners[0]) {
      expect(r).toEqual({ status: 0, stdout: 'User same@localhost successfully registered\n', stderr: '' });
    } else {
      expect(r).toEqual({ status: 1, stdout: '', stderr: 'Error: User same@localhost already registered\n' });
    }
  }

  // The account holds the winner's password: no loser overwrote it.
  expect((await ctl(['check_password', 'same', 'localhost', `pw${winners[0]}`])).status).toBe(0);
  const loser = winners[0] === 0 ? 1 : 0;
  expect((await ctl(['check_password', 'same', 'localhost', `pw${loser}`])).status).toBe(1);
  expect(await ctl(['registered_users', 'localhost'])).toEqual({ status: 0, stdout: 'same\n', stderr: '' });
});

/** A plain node process holding the home's database open, as a running node or a long import would. */
async function holdDatabase(dbDir: string): Promise<ChildProcess> {
  const script = `
    const { Level } = require('level');
    const db = new Level(process.argv[1]);
    db.open().then(() => process.stdout.write('ready\\n'));
    process.stdin.on('data', () => db.close().then(() => process.exit(0)));
  `;
  const child = spawn(process.execPath, ['-e', script, dbDir], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  const [chunk] = (await Promise.race([once(child.stdout!, 'data'), once(child, 'exit')])) as unknown[];
  if (String(chunk) !== 'ready\n') throw new Error(`the holder did not start: ${String(chunk)}`);
  return child;
}

describe('while another process holds the database', () => {
  let holder: ChildProcess | undefined;
  afterEach(async () => {
    if (holder && holder.exitCode === null && holder.signalCode === null) {
      holder.kill('SIGKILL');
      await once(holder, 'exit');
    }
    holder = undefined;
  });

  test('a call with --timeout 1 exits 3 naming the holder, and changes nothing', async () => {
    expect((await ctl(['register', 'alice', 'localhost', 'old'])).status).toBe(0);
    const dbDir = join(home, 'db');
    holder = await holdDatabase(dbDir);
    const pid = holder.pid;

    const started = Date.now();
    const blocked = await Promise.all([
      ctl(['register', 'bob', 'localhost', 'pw', '--timeout', '1']),
      ctl(['unregister', 'alice', 'localhost', '--timeout', '1']),
      ctl(['change_password', 'alice', 'localhost', 'new', '--timeout', '1']),
    ]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000); // it waited before giving up
    for (const r of blocked) {
      expect(r.status).toBe(3);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(dbDir);
      expect(r.stderr).toContain(`process ${pid} `);
      expect(r.stderr.trim().split('\n')).toHaveLength(1); // a message, not a stack trace
    }

    // Release: the data is exactly what it was before the blocked calls.
    holder.stdin!.write('close\n');
    await once(holder, 'exit');
    expect(await ctl(['registered_users', 'localhost'])).toEqual({ status: 0, stdout: 'alice\n', stderr: '' });
    expect((await ctl(['check_password', 'alice', 'localhost', 'old'])).status).toBe(0);
  });

  test('a call with a longer timeout waits for the holder and then succeeds', async () => {
    expect((await ctl(['register', 'alice', 'localhost', 'pw'])).status).toBe(0);
    holder = await holdDatabase(join(home, 'db'));
    const waiting = ctl(['register', 'bob', 'localhost', 'pw', ...WAIT]);
    await new Promise((r) => setTimeout(r, 1_500));
    holder.stdin!.write('close\n');
    expect(await waiting).toEqual({ status: 0, stdout: 'User bob@localhost successfully registered\n', stderr: '' });
    expect((await ctl(['registered_users', 'localhost'])).stdout).toBe('alice\nbob\n');
  });
});

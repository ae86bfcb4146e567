/**
 * The node under load and under a crash (DESIGN.md §4–5): many `ctl` processes forwarding at
 * once, conflicting writes serialised by the node, and a kill -9 of the node in the middle of
 * a forwarded `ctl batch`, which must lose nothing the batch reported as done.
 *
 * Every test has its own home; afterEach stops the node (kill -9 by its pid when `ctl stop`
 * cannot) so that no process outlives the tests.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, ctlProcess, ensureBuilt, killNodes, launcher, trackNodes, waitGone, type ProcResult } from '../helpers/proc';

jest.setTimeout(180_000);
beforeAll(ensureBuilt);

let home = ''; // set by beforeEach; empty when no test ran
const socketOf = () => join(home, 'run', 'ctl.sock');
const pidFileOf = () => join(home, 'run', 'ctl.pid');
const ctl = (args: readonly string[], stdin?: string) => ctlProcess(home, args, { stdin });
const ok = (stdout = ''): ProcResult => ({ status: 0, stdout, stderr: '' });

const { pids: nodePids, nodePid, startNode } = trackNodes(() => home);

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'ctl-stress-'));
  nodePids.clear();
});

afterEach(async () => {
  if (!home) return; // beforeAll failed: no test ran
  if (existsSync(pidFileOf())) nodePid();
  if (existsSync(socketOf())) await ctl(['stop', '--timeout', '30']);
  await killNodes(nodePids, home);
  rmSync(home, { recursive: true, force: true });
  home = '';
});

test('100 concurrent forwarded calls from separate ctl processes are all answered correctly', async () => {
  await startNode();
  expect(await ctl(['register', 'alice', 'localhost', 'pw'])).toEqual(ok('User alice@localhost successfully registered\n'));
  expect(await ctl(['register', 'bob', 'localhost', 'pw'])).toEqual(ok('User bob@localhost successfully registered\n'));
  expect(await ctl(['set_last', 'alice', 'localhost', '1700000000', 'gone fishing'])).toEqual(ok());

  // A wrong reply (another call's, or a lost one) changes the bytes of at least one answer.
  const calls: { args: string[]; expected: ProcResult }[] = Array.from({ length: 100 }, (_, i) => {
    switch (i % 5) {
      case 0:
        return { args: ['check_account', 'alice', 'localhost'], expected: ok() };
      case 1:
        return { args: ['check_account', `ghost${i}`, 'localhost'], expected: { status: 1, stdout: '', stderr: '' } };
      case 2:
        return { args: ['registered_users', 'localhost'], expected: ok('alice\nbob\n') };
      case 3:
        return { args: ['echo_string', `message ${i}`], expected: ok(`message ${i}\n`) };
      default:
        return { args: ['get_last', 'alice', 'localhost'], expected: ok('2023-11-14 22:13:20 gone fishing\n') };
    }
  });

  const started = Date.now();
  // The generous --timeout only keeps a loaded machine from turning slowness into exit 3.
  const results = await Promise.all(calls.map((c) => ctl([...c.args, '--timeout', '60'])));
  expect(Date.now() - started).toBeLessThan(120_000);
  results.forEach((r, i) => expect({ call: calls[i].args, ...r }).toEqual({ call: calls[i].args, ...calls[i].expected }));

  // The node is still the one serving, and nothing changed.
  expect(await ctl(['registered_users', 'localhost'])).toEqual(ok('alice\nbob\n'));
  expect(await ctl(['status'])).toMatchObject({ status: 0, stderr: '' });
});

test("10 parallel registrations of one user through the node: one success, nine conflicts, the winner's password", async () => {
  await startNode();
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => ctl(['register', 'same', 'localhost', `pw${i}`, '--timeout', '60'])));
  const winners = results.flatMap((r, i) => (r.status === 0 ? [i] : []));
  expect(winners).toHaveLength(1);
  const winner = winners[0];
  results.forEach((r, i) => {
    expect(r).toEqual(
      i === winner ? ok('User same@localhost successfully registered\n') : { status: 1, stdout: '', stderr: 'Error: User same@localhost already registered\n' },
    );
  });

  const loser = winner === 0 ? 1 : 0;
  expect(await ctl(['check_password', 'same', 'localhost', `pw${winner}`])).toEqual(ok());
  expect(await ctl(['check_password', 'same', 'localhost', `pw${loser}`])).toEqual({ status: 1, stdout: '', stderr: '' });
  expect(await ctl(['registered_users', 'localhost'])).toEqual(ok('same\n'));

  // Stored for good: after the node stops, the database says the same.
  expect(await ctl(['stop'])).toEqual(ok());
  expect(await ctl(['check_password', 'same', 'localhost', `pw${winner}`])).toEqual(ok());
  expect(await ctl(['registered_users', 'localhost'])).toEqual(ok('same\n'));
});

test('parallel changes to one account through the node, which runs them side by side, lose nothing', async () => {
  await startNode();
  expect(await ctl(['register', 'alice', 'localhost', 'pw'])).toEqual(ok('User alice@localhost successfully registered\n'));
  const fields = ['FN', 'NICKNAME', 'BDAY', 'URL', 'TITLE', 'ROLE', 'DESC', 'NOTE', 'MAILER', 'TZ'];
  const contacts = fields.map((_, i) => `friend${i}`);
  const results = await Promise.all([
    ...contacts.map((c) => ctl(['add_rosteritem', 'alice', 'localhost', c, 'localhost', c, 'Friends', 'both', '--timeout', '60'])),
    ...fields.map((f) => ctl(['set_vcard', 'alice', 'localhost', f, `value of ${f}`, '--timeout', '60'])),
  ]);
  results.forEach((r) => expect(r).toEqual(ok()));
  // Each vCard change reads the card, changes one field and writes it back: none may undo another.
  for (const f of fields) expect(await ctl(['get_vcard', 'alice', 'localhost', f])).toEqual(ok(`value of ${f}\n`));
  const roster = await ctl(['get_roster', 'alice', 'localhost']);
  expect(roster.stdout.split('\n').filter(Boolean).sort()).toEqual(contacts.map((c) => `${c}@localhost\t${c}\tboth\tnone\tFriends`).sort());
});

test('kill -9 of the node during a forwarded batch loses nothing the batch reported as done', async () => {
  const firstPid = await startNode();
  const total = 5000;
  const input = Array.from({ length: total }, (_, i) => `register u${i + 1} localhost pw${i + 1}\n`).join('');

  const child = spawn(process.execPath, [launcher, 'batch', '--home', home], { env: cleanEnv(), timeout: 120_000 });
  let stdout = '';
  let stderr = '';
  let killedAt: number | undefined;
  child.stdout.on('data', (d) => {
    stdout += d;
    if (killedAt === undefined && stdout.split('\n').length > 300) {
      process.kill(firstPid, 'SIGKILL');
      killedAt = Date.now();
    }
  });
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.on('error', () => undefined); // the batch may end before reading all of its input
  child.stdin.end(input);
  const [status, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) => child.on('close', (c, s) => done([c, s])));

  expect(killedAt).toBeDefined(); // the batch was still running when a few hundred lines were done
  expect(await waitGone(firstPid, 10_000)).toBe(true);
  // The lines after the crash fail at once; they do not each wait for a timeout.
  expect({ signal, status, promptly: Date.now() - killedAt! < 30_000 }).toEqual({ signal: null, status: 1, promptly: true });

  // What was printed as done: lines 1..n in order, each in the success format.
  const done = stdout.split('\n').slice(0, -1);
  expect(done.length).toBeGreaterThanOrEqual(300);
  expect(done.length).toBeLessThan(total);
  expect(stdout).toBe(done.map((_, i) => `User u${i + 1}@localhost successfully registered\n`).join(''));

  // Every other line is reported once, by number, as a failure to reach the node.
  const failures = stderr.split('\n').slice(0, -1);
  const prefix = `: Error: Cannot reach the node at ${socketOf()}: `;
  for (const line of failures) expect(line).toMatch(/^line \d+: Error: Cannot reach the node at /);
  expect(failures.every((line) => line.includes(prefix))).toBe(true);
  expect(failures.map((line) => Number(/^line (\d+):/.exec(line)![1]))).toEqual(Array.from({ length: total - done.length }, (_, i) => done.length + 1 + i));

  // The dead node left its socket behind; a local call must see through it.
  expect(existsSync(socketOf())).toBe(true);
  const listed = await ctl(['registered_users', 'localhost', '--timeout', '60']);
  expect({ status: listed.status, stderr: listed.stderr }).toEqual({ status: 0, stderr: '' });
  const stored = new Set(listed.stdout.split('\n').slice(0, -1));
  const lost = done.map((_, i) => `u${i + 1}`).filter((u) => !stored.has(u));
  expect(lost).toEqual([]);
  // Nothing else: at most lines whose reply was lost in the crash.
  for (const u of stored) expect(Number(/^u(\d+)$/.exec(u)?.[1])).toBeLessThanOrEqual(total);
  expect(await ctl(['check_password', 'u1', 'localhost', 'pw1'])).toEqual(ok());
  const last = done.length;
  expect(await ctl(['check_password', `u${last}`, 'localhost', `pw${last}`])).toEqual(ok());

  // ctl start cleans up after the dead node and starts a new one, which serves the same data.
  const secondPid = await startNode();
  expect(secondPid).not.toBe(firstPid);
  expect(await ctl(['registered_users', 'localhost'])).toEqual(ok(listed.stdout));
  expect(await ctl(['stop'])).toEqual(ok());
  expect(existsSync(socketOf())).toBe(false);
  expect(existsSync(pidFileOf())).toBe(false);
  expect(await waitGone(secondPid, 10_000)).toBe(true);
});

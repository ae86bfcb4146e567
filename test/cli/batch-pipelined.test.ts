/**
 * `ctl batch` runs registrations of different accounts side by side and writes them together:
 * what it prints, which lines fail (by number) and what it stores stay exactly those of running
 * the lines one by one, without a node and through one.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allCommands } from '../../commands';
import { createRegistry } from '../../src/core/registry';
import { startNode } from '../../src/node/daemon';
import { resolveHome } from '../../src/config/home';
import { openLevelStore } from '../../src/storage/level';
import type { Store } from '../../src/storage/types';
import { tempHome, type CliResult } from '../helpers/cli';

jest.setTimeout(60_000);

const homes: ReturnType<typeof tempHome>[] = [];
afterAll(() => homes.forEach((h) => h.cleanup()));

function plainHome(): ReturnType<typeof tempHome> {
  const home = tempHome();
  homes.push(home);
  writeFileSync(join(home.dir, 'ctl.yml'), 'auth_password_format: plain\n');
  return home;
}

/** A line for each argv: empty words and words with a space are quoted. */
const lineOf = (argv: readonly string[]) => argv.map((w) => (w === '' || /\s/.test(w) ? `'${w}'` : w)).join(' ');

/**
 * Far more lines than a batch has on its way at once, with what depends on an earlier line
 * close behind it and far from it: the same account registered again (in another case), checked,
 * its password changed, removed and registered anew; and lines that fail on their own.
 */
function script(): string[][] {
  const calls: string[][] = [];
  for (let i = 0; i < 120; i++) {
    calls.push(['register', `u${i}`, 'localhost', `pw${i}`]);
    if (i % 7 === 3) calls.push(['register', `U${i - 1}`, 'localhost', 'other']);
    if (i % 11 === 5) calls.push(['check_account', `u${i}`, 'localhost']);
    if (i % 13 === 6) calls.push(['register', `u${i - 6}`, 'localhost', 'late']);
    if (i % 17 === 8) calls.push(['register', 'a b', 'localhost', 'x']);
    if (i % 19 === 9) calls.push(['register', `x${i}`, 'nohost', 'x']);
    if (i % 23 === 10) calls.push(['change_password', `u${i}`, 'localhost', `new${i}`], ['check_password', `u${i}`, 'localhost', `new${i}`]);
    if (i % 29 === 11) calls.push(['unregister', `u${i - 1}`, 'localhost'], ['register', `u${i - 1}`, 'localhost', `again${i}`]);
    if (i % 31 === 12) calls.push(['check_account', `nobody${i}`, 'localhost']);
    if (i === 60) calls.push(['registered_users', 'localhost']);
    if (i % 37 === 13) calls.push(['register', `u${i}`, 'localhost', '']);
  }
  return calls;
}

/** Whether each account has each password it was ever given, as one line per check. */
function storedChecks(calls: readonly string[][]): string {
  const lines = new Set<string>();
  for (const c of calls) if (c[0] === 'register' || c[0] === 'change_password') lines.add(lineOf(['check_password', c[1], c[2], c[3]]));
  return [...lines, 'registered_users localhost'].map((l) => `${l}\n`).join('');
}

/** What a batch in `dir` shows of the checks: each one's outcome by its line number, then the listing. */
function outcomes(dir: string, r: CliResult): string {
  return (r.stdout + r.stderr).split(dir).join('HOME');
}

const calls = script();
const input = calls.map((c) => `${lineOf(c)}\n`).join('');

/** The lines run one by one, each as its own call: what the batch must match. */
let serial: { dir: string; results: CliResult[]; checks: CliResult };

beforeAll(async () => {
  const home = plainHome();
  const results: CliResult[] = [];
  for (const argv of calls) results.push(await home.ctl(argv));
  serial = { dir: home.dir, results, checks: await home.ctl(['batch'], { stdin: storedChecks(calls) }) };
  // The script must fail as it says, or it proves nothing.
  expect(results.filter((r) => r.status !== 0).length).toBeGreaterThan(20);
});

/** `r`, of a batch in `dir`, against the lines run one by one, whose messages name their own home. */
function expectLikeSerial(dir: string, r: CliResult): void {
  expect(r.status).toBe(1);
  expect(r.stdout).toBe(serial.results.map((s) => s.stdout).join(''));
  const failed = serial.results.flatMap((s, i) => (s.status === 0 ? [] : [i + 1]));
  const reported = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('line '))
    .map((l) => Number(/^line (\d+): /.exec(l)?.[1]));
  expect(reported).toEqual(failed);
  // Each failure says what the same call says alone, under its line number.
  for (const [i, s] of serial.results.entries()) {
    if (s.stderr !== '') expect(r.stderr).toContain(`line ${i + 1}: ${s.stderr.split(serial.dir).join(dir)}`);
  }
}

test('without a node: the same output, failures by line number, and the same records as one call per line', async () => {
  const home = plainHome();
  expectLikeSerial(home.dir, await home.ctl(['batch'], { stdin: input }));
  expect(outcomes(home.dir, await home.ctl(['batch'], { stdin: storedChecks(calls) }))).toBe(outcomes(serial.dir, serial.checks));
});

test('through a node: the same as without one', async () => {
  const home = plainHome();
  const node = await startNode({ home: resolveHome({ home: home.dir }), registry: createRegistry(allCommands), version: '9.9.9', lockTimeout: 5000 });
  try {
    expectLikeSerial(home.dir, await home.ctl(['batch'], { stdin: input }));
    expect(outcomes(home.dir, await home.ctl(['batch'], { stdin: storedChecks(calls) }))).toBe(outcomes(serial.dir, serial.checks));
  } finally {
    await node.control.stop();
    await node.stopped;
  }
});

test('a registration whose write fails is reported by its line number, and the others are stored', async () => {
  const home = plainHome();
  const failing = async (dir: string): Promise<Store> => {
    const store = await openLevelStore(dir, { sync: false, syncReads: true });
    return {
      ...store,
      batch: (ops, o) => (ops.some((op) => op.key.includes('u5')) ? Promise.reject(new Error('the disk is full')) : store.batch(ops, o)),
      update: (table, key, fn, o) => (key.includes('u5') ? Promise.reject(new Error('the disk is full')) : store.update(table, key, fn, o)),
    };
  };
  const lines = Array.from({ length: 10 }, (_, i) => `register u${i} localhost pw${i}\n`).join('');
  const r = await home.ctl(['batch'], { stdin: lines, openStore: (h) => failing(h.dbDir) });
  expect(r.status).toBe(1);
  expect(r.stdout).toBe([0, 1, 2, 3, 4, 6, 7, 8, 9].map((i) => `User u${i}@localhost successfully registered\n`).join(''));
  expect(r.stderr).toMatch(/^line 6: Error: /);
  expect(r.stderr.split('\n').filter((l) => l.startsWith('line '))).toHaveLength(1);
  const listed = await home.ctl(['registered_users', 'localhost']);
  expect(listed.stdout).toBe(['u0', 'u1', 'u2', 'u3', 'u4', 'u6', 'u7', 'u8', 'u9'].map((u) => `${u}\n`).join(''));
});

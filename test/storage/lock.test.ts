/**
 * LevelDB admits one process at a time (DESIGN.md §4): openLevelStore waits for the lock with a
 * bounded retry, and on timeout fails with 'unavailable', naming the database and the holder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { CommandError } from '../../src/lib/errors';
import { openLevelStore } from '../../src/storage/level';
import type { Store } from '../../src/storage/types';

jest.setTimeout(60_000);

const projectRoot = resolve(__dirname, '..', '..');

/** A node process that opens `dir` with `level`, writes one record, and holds it until told. */
const HOLDER = `
const { Level } = require('level');
const db = new Level(process.argv[1], { valueEncoding: 'json' });
db.open()
  .then(() => db.sublevel('passwd', { valueEncoding: 'json' }).put('k', { by: 'holder' }))
  .then(() => process.stdout.write('ready\\n'));
process.stdin.on('data', () => db.close().then(() => { process.stdout.write('closed\\n'); process.exit(0); }));
`;

interface Holder {
  readonly child: ChildProcess;
  /** Asks the holder to close the database; resolves when it has. */
  release(): Promise<void>;
}

async function holdDatabase(dir: string): Promise<Holder> {
  const child = spawn(process.execPath, ['-e', HOLDER, dir], { cwd: projectRoot, stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  const said = (word: string) =>
    new Promise<void>((done, fail) => {
      const check = () => out.includes(word) && done();
      child.stdout!.on('data', (d) => {
        out += d;
        check();
      });
      child.once('exit', (code) => fail(new Error(`holder exited (${code}) before saying '${word}'`)));
      check();
    });
  await said('ready');
  return {
    child,
    async release() {
      child.stdin!.write('close\n');
      await said('closed');
    },
  };
}

const children: ChildProcess[] = [];
const stores: Store[] = [];
let root: string;
let dir: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'ctl-lock-'));
  dir = join(root, 'db');
});

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined);
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await once(c, 'exit');
    }
  }
  rmSync(root, { recursive: true, force: true });
});

async function open(path: string, lockTimeout: number): Promise<Store> {
  const s = await openLevelStore(path, { lockTimeout });
  stores.push(s);
  return s;
}

/** Settles to 'pending' if `p` has not settled within `ms`. */
async function stateAfter(p: Promise<unknown>, ms: number): Promise<'pending' | 'resolved' | 'rejected'> {
  const timer = new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms));
  return Promise.race([
    p.then(
      () => 'resolved' as const,
      () => 'rejected' as const,
    ),
    timer,
  ]);
}

test('gives up after lockTimeout with unavailable, naming the database and the holding process', async () => {
  const holder = await holdDatabase(dir);
  const started = Date.now();
  const err = await open(dir, 300).then(
    () => undefined,
    (e: unknown) => e,
  );
  const elapsed = Date.now() - started;
  expect(err).toBeInstanceOf(CommandError);
  expect((err as CommandError).code).toBe('unavailable');
  expect((err as CommandError).message).toContain(dir);
  expect((err as CommandError).message).toContain(`process ${holder.child.pid} `);
  // It retried for the whole timeout instead of failing at once, and did not hang.
  expect(elapsed).toBeGreaterThanOrEqual(290);
  expect(elapsed).toBeLessThan(10_000);
});

test('names the holder when the database is reached through a symbolic link', async () => {
  const holder = await holdDatabase(dir);
  const link = join(root, 'link');
  symlinkSync(root, link);
  await expect(open(join(link, 'db'), 300)).rejects.toMatchObject({
    code: 'unavailable',
    message: expect.stringContaining(`process ${holder.child.pid} `),
  });
});

test('with a longer timeout, waits and opens once the holder closes, seeing its data', async () => {
  const holder = await holdDatabase(dir);
  const opening = open(dir, 30_000);
  expect(await stateAfter(opening, 700)).toBe('pending');
  await holder.release();
  const store = await opening;
  await expect(store.get('passwd', ['k'])).resolves.toEqual({ by: 'holder' });
  await store.put('passwd', ['mine'], 1);
  await expect(store.get('passwd', ['mine'])).resolves.toBe(1);
});

test('lockTimeout 0 waits for as long as it takes', async () => {
  const holder = await holdDatabase(dir);
  const opening = open(dir, 0);
  expect(await stateAfter(opening, 1_500)).toBe('pending');
  await holder.release();
  await expect((await opening).get('passwd', ['k'])).resolves.toEqual({ by: 'holder' });
});

test('the holder stays intact: a process that gave up did not touch the database', async () => {
  const holder = await holdDatabase(dir);
  await expect(open(dir, 200)).rejects.toMatchObject({ code: 'unavailable' });
  await holder.release();
  const store = await open(dir, 5_000);
  await expect(store.get('passwd', ['k'])).resolves.toEqual({ by: 'holder' });
});

test('a second open in the same process also waits, then succeeds once the first closes', async () => {
  const first = await open(dir, 5_000);
  await first.put('t', ['k'], 'first');
  await expect(openLevelStore(dir, { lockTimeout: 300 })).rejects.toMatchObject({
    code: 'unavailable',
    message: expect.stringContaining(dir),
  });
  const second = open(dir, 30_000);
  expect(await stateAfter(second, 300)).toBe('pending');
  await first.close();
  await expect((await second).get('t', ['k'])).resolves.toBe('first');
});

test('a directory that cannot be a database fails at once with unavailable, not a lock wait', async () => {
  const file = join(root, 'file');
  writeFileSync(file, 'not a directory');
  const started = Date.now();
  await expect(openLevelStore(join(file, 'db'), { lockTimeout: 20_000 })).rejects.toMatchObject({
    code: 'unavailable',
    message: expect.stringContaining(join(file, 'db')),
  });
  expect(Date.now() - started).toBeLessThan(10_000);
});

import { createScopedSerial } from '../../src/lib/scoped-serial';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A promise resolved from outside, to hold work open while a test looks. */
function held() {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

/** Work that logs its start and end, and ends when released. */
function step(log: string[], name: string) {
  const h = held();
  return {
    release: h.release,
    fn: async () => {
      log.push(`${name} start`);
      await h.promise;
      log.push(`${name} end`);
      return name;
    },
  };
}

test('work of different scopes runs side by side; work of one scope one after another, in the order asked', async () => {
  const serial = createScopedSerial();
  const log: string[] = [];
  const [a, b, a2] = [step(log, 'a'), step(log, 'b'), step(log, 'a2')];
  const results = [serial.run('x', a.fn), serial.run('y', b.fn), serial.run('x', a2.fn)];
  await tick();
  expect(log).toEqual(['a start', 'b start']);
  b.release();
  await tick();
  expect(log).toEqual(['a start', 'b start', 'b end']);
  a.release();
  await tick();
  expect(log).toEqual(['a start', 'b start', 'b end', 'a end', 'a2 start']);
  a2.release();
  expect(await Promise.all(results)).toEqual(['a', 'b', 'a2']);
});

test('work without a scope waits for everything before it, and everything after it waits for it', async () => {
  const serial = createScopedSerial();
  const log: string[] = [];
  const [a, b, all, c, d] = [step(log, 'a'), step(log, 'b'), step(log, 'all'), step(log, 'c'), step(log, 'd')];
  const results = [serial.run('x', a.fn), serial.run('y', b.fn), serial.run(undefined, all.fn), serial.run('x', c.fn), serial.run('z', d.fn)];
  await tick();
  expect(log).toEqual(['a start', 'b start']);
  a.release();
  await tick();
  expect(log).toEqual(['a start', 'b start', 'a end']);
  b.release();
  await tick();
  expect(log).toEqual(['a start', 'b start', 'a end', 'b end', 'all start']);
  all.release();
  await tick();
  expect(log.slice(5)).toEqual(['all end', 'c start', 'd start']);
  c.release();
  d.release();
  expect(await Promise.all(results)).toEqual(['a', 'b', 'all', 'c', 'd']);
});

test("a failure is its caller's alone: the work after it still runs, in order", async () => {
  const serial = createScopedSerial();
  const log: string[] = [];
  const failing = serial.run('x', async () => {
    log.push('fails');
    throw new Error('no');
  });
  const after = serial.run('x', async () => log.push('same scope'));
  const barrier = serial.run(undefined, async () => log.push('unscoped'));
  await expect(failing).rejects.toThrow('no');
  await Promise.all([after, barrier]);
  expect(log).toEqual(['fails', 'same scope', 'unscoped']);
});

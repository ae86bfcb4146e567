import { createGate } from '../../src/lib/gate';
import { createKeyedLock } from '../../src/lib/keyed-lock';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A promise resolved from outside, to hold work open while a test looks. */
function held() {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

describe('keyed lock', () => {
  test('calls for one key run one at a time, in the order asked', async () => {
    const lock = createKeyedLock();
    const log: string[] = [];
    const first = held();
    const a = lock.run('k', async () => {
      log.push('a start');
      await first.promise;
      log.push('a end');
    });
    const b = lock.run('k', async () => {
      log.push('b');
    });
    await tick();
    expect(log).toEqual(['a start']);
    first.release();
    await Promise.all([a, b]);
    expect(log).toEqual(['a start', 'a end', 'b']);
  });

  test('calls for other keys do not wait', async () => {
    const lock = createKeyedLock();
    const blocker = held();
    const a = lock.run('one', () => blocker.promise);
    await expect(lock.run('two', async () => 'ran')).resolves.toBe('ran');
    blocker.release();
    await a;
  });

  test('a failing call rejects with its error and lets the next one run', async () => {
    const lock = createKeyedLock();
    const failed = lock.run('k', async () => {
      throw new Error('boom');
    });
    const next = lock.run('k', async () => 2);
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe(2);
  });
});

describe('gate', () => {
  test('shared work runs side by side', async () => {
    const gate = createGate();
    const blocker = held();
    let running = 0;
    let most = 0;
    const work = () =>
      gate.shared(async () => {
        most = Math.max(most, ++running);
        await blocker.promise;
        running--;
      });
    const all = Promise.all([work(), work(), work()]);
    await tick();
    blocker.release();
    await all;
    expect(most).toBe(3);
  });

  test('exclusive work waits for shared work in progress and holds back new shared work', async () => {
    const gate = createGate();
    const log: string[] = [];
    const reading = held();
    const r1 = gate.shared(async () => {
      log.push('r1 start');
      await reading.promise;
      log.push('r1 end');
    });
    await tick();
    const w = gate.exclusive(async () => {
      log.push('w');
    });
    await tick();
    const r2 = gate.shared(async () => {
      log.push('r2');
    });
    await tick();
    expect(log).toEqual(['r1 start']);
    reading.release();
    await Promise.all([r1, w, r2]);
    expect(log).toEqual(['r1 start', 'r1 end', 'w', 'r2']);
  });

  test('a failing exclusive call opens the gate again', async () => {
    const gate = createGate();
    await expect(
      gate.exclusive(async () => {
        throw new Error('restore failed');
      }),
    ).rejects.toThrow('restore failed');
    await expect(gate.shared(async () => 'served')).resolves.toBe('served');
  });
});

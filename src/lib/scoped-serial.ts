/**
 * Runs work in the order asked, except that work of different scopes runs side by side. A call
 * with a scope waits for the calls of the same scope asked before it, and for every call without
 * a scope asked before it; a call without a scope waits for everything asked before it, and
 * everything asked after it waits for it. So a caller that names, for each step, the one thing
 * it touches sees every step after the ones it depends on, as if all ran one after another.
 */
export interface ScopedSerial {
  run<T>(scope: string | undefined, fn: () => Promise<T>): Promise<T>;
}

const settled = () => undefined;

export function createScopedSerial(): ScopedSerial {
  /** Settles when the last unscoped call and everything before it have. */
  let barrier: Promise<unknown> = Promise.resolve();
  /**
   * The last call of each scope since the barrier, settled (never rejected), until it settles:
   * each settles after the calls of its scope before it, so these are all that still run.
   */
  const tails = new Map<string, Promise<unknown>>();
  return {
    run<T>(scope: string | undefined, fn: () => Promise<T>): Promise<T> {
      if (scope === undefined) {
        const before = tails.size === 0 ? barrier : Promise.all([barrier, ...tails.values()]);
        tails.clear();
        const result = before.then(fn);
        barrier = result.then(settled, settled);
        return result;
      }
      const result = (tails.get(scope) ?? barrier).then(fn);
      const tail = result.then(settled, settled);
      tails.set(scope, tail);
      void tail.then(() => {
        if (tails.get(scope) === tail) tails.delete(scope);
      });
      return result;
    },
  };
}

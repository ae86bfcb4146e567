/**
 * A replacement's writes in the background: each batch goes once the one before it is written,
 * while the caller gathers the next, so that two at most are held. A write that fails stops
 * those after it, and its error is kept for the caller to throw (`failed`), never rejected.
 */
export interface WriteBehind<T> {
  /** Writes `items` after what is on its way; resolves once the batch before them is written. */
  send(items: T): Promise<void>;
  /** Resolves once everything sent is written, or given up after a failure. */
  drain(): Promise<void>;
  /** The first write's error, if one failed. */
  readonly failed: unknown;
}

export function writeBehind<T>(write: (items: T) => Promise<void>): WriteBehind<T> {
  let flight: Promise<void> = Promise.resolve();
  let failed: unknown;
  return {
    send(items) {
      const before = flight;
      flight = before.then(async () => {
        if (failed !== undefined) return;
        try {
          await write(items);
        } catch (err) {
          failed = err;
        }
      });
      return before;
    },
    drain: () => flight,
    get failed() {
      return failed;
    },
  };
}

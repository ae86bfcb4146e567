/**
 * A gate for work that may run side by side (`shared`) and work that must run alone
 * (`exclusive`: it waits for the shared work in progress, and holds back new shared work until
 * it is done). Exclusive work runs in the order asked.
 */
export interface Gate {
  shared<T>(fn: () => Promise<T> | T): Promise<T>;
  exclusive<T>(fn: () => Promise<T> | T): Promise<T>;
}

export function createGate(): Gate {
  let running = 0;
  let closed: Promise<void> | undefined;
  let drained: (() => void) | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  return {
    async shared(fn) {
      while (closed) await closed;
      running++;
      try {
        return await fn();
      } finally {
        if (--running === 0) drained?.();
      }
    },
    exclusive(fn) {
      const turn = queue.then(async () => {
        let open!: () => void;
        closed = new Promise<void>((resolve) => (open = resolve));
        try {
          if (running > 0) await new Promise<void>((resolve) => (drained = resolve));
          drained = undefined;
          return await fn();
        } finally {
          closed = undefined;
          open();
        }
      });
      queue = turn.catch(() => undefined);
      return turn;
    },
  };
}

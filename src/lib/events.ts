/**
 * A typed event bus. Listeners run after the change they hear of is committed, in the order
 * they subscribed; a listener that throws is reported to `onError` and never undoes the change
 * nor stops the other listeners.
 */
export type Listener<P> = (payload: P) => void | Promise<void>;

export interface EventBus<E> {
  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void;
  emit<K extends keyof E>(event: K, payload: E[K]): void;
}

export function createEventBus<E>(onError: (err: unknown, event: string) => void = () => undefined): EventBus<E> {
  const listeners = new Map<keyof E, Listener<never>[]>();
  return {
    on(event, listener) {
      const list = listeners.get(event) ?? [];
      list.push(listener as Listener<never>);
      listeners.set(event, list);
      return () => {
        const at = list.indexOf(listener as Listener<never>);
        if (at >= 0) list.splice(at, 1);
      };
    },
    emit(event, payload) {
      for (const listener of [...(listeners.get(event) ?? [])]) {
        try {
          const done = (listener as Listener<typeof payload>)(payload);
          if (done instanceof Promise) done.catch((err: unknown) => onError(err, String(event)));
        } catch (err) {
          onError(err, String(event));
        }
      }
    },
  };
}

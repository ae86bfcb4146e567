import { CommandError } from '../../lib/errors';
import { bareText, type BareJid } from '../../lib/jid';
import type { Privacy } from './privacy';

/** What each user's privacy settings are in memory, for checks on every stanza. */
export interface PrivacyCache<T> {
  /** What is in memory, without waiting. */
  peek(jid: BareJid): T | undefined;
  /** What is in memory, or read now (a user that does not exist has `empty`). */
  load(jid: BareJid): Promise<T>;
  forget(jid: BareJid): void;
}

/**
 * Reads `read` once per user and keeps it until the user's lists change; at most `limit`
 * users are kept (the oldest go first). `privacy` is asked for each time, since the features
 * may be rebuilt (a restore): the cache then starts anew, following the new ones. `changed`
 * hears of each change once what was kept is dropped, so that a `load` from it reads anew.
 */
export function createPrivacyCache<T>(
  privacy: () => Privacy,
  read: (p: Privacy, jid: BareJid) => Promise<T>,
  empty: T,
  limit: number,
  changed?: (jid: BareJid) => void,
): PrivacyCache<T> {
  const ready = new Map<string, T>();
  const pending = new Map<string, Promise<T>>();
  let watched: Privacy | undefined;

  function current(): Privacy {
    const p = privacy();
    if (p !== watched) {
      watched = p;
      ready.clear();
      pending.clear();
      p.onChange((jid) => {
        if (watched !== p) return;
        ready.delete(bareText(jid));
        pending.delete(bareText(jid));
        changed?.(jid);
      });
    }
    return p;
  }

  function store(key: string, value: T): void {
    if (ready.size >= limit) ready.delete(ready.keys().next().value as string);
    ready.set(key, value);
  }

  return {
    peek(jid) {
      current();
      return ready.get(bareText(jid));
    },

    load(jid) {
      const p = current();
      const key = bareText(jid);
      const hit = ready.get(key);
      if (hit !== undefined) return Promise.resolve(hit);
      const waiting = pending.get(key);
      if (waiting) return waiting;
      const loading = read(p, { user: jid.user, host: jid.host }).catch((err: unknown) => {
        if (err instanceof CommandError && err.code === 'not_found') return empty;
        throw err;
      });
      pending.set(key, loading);
      loading.then(
        (value) => {
          // A change meanwhile dropped this read: the next check reads again.
          if (pending.get(key) !== loading) return;
          pending.delete(key);
          store(key, value);
        },
        () => pending.delete(key),
      );
      return loading;
    },

    forget(jid) {
      ready.delete(bareText(jid));
      pending.delete(bareText(jid));
    },
  };
}

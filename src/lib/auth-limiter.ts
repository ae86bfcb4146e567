/**
 * Failed logins, logged in one form and counted by address. After `failures` wrong passwords
 * from one address within `window` seconds of the first, that address is refused for `block`
 * seconds, right password or not: guessing costs an attacker hours instead of seconds. One guard
 * serves every way in (the JSON API, XML-RPC, XMPP clients), so an address cannot spread its
 * guesses across them.
 */

/** `auth_failure_limit` of ctl.yml; seconds. */
export interface AuthFailureLimit {
  readonly failures: number;
  readonly window: number;
  readonly block: number;
}

export const DEFAULT_AUTH_FAILURE_LIMIT: AuthFailureLimit = { failures: 5, window: 60, block: 300 };

/** Addresses remembered at most: past them the one whose last failure is oldest is forgotten, so a flood of addresses cannot take the memory. */
export const MAX_TRACKED_ADDRESSES = 100_000;

/** A blocked address that keeps trying is logged once, then at most this often (ms), not at the rate it sends. */
const REFUSAL_LOG_INTERVAL = 1000;

/** The longest part of a claimed user name the log repeats. */
const MAX_USER_SHOWN = 256;

export type AuthVia = 'http' | 'xmlrpc' | 'c2s' | 'websocket';

/** One attempt to log in, as the log names it. */
export interface AuthAttempt {
  readonly address: string;
  readonly port: number;
  readonly via: AuthVia;
  /** `basic`, `bearer`, `password`, `token` or a SASL mechanism: a word of ours, never the client's text. */
  readonly mechanism: string;
  /** The name the client gave, as it gave it: anything at all. */
  readonly user: string;
}

/**
 * Why an attempt failed: `bad-password` (a wrong password, or a user that does not exist, is
 * banned or cannot be a user's: the log tells no more than the client is told), `bad-token`,
 * `malformed`, or another SASL condition. Only `bad-password` counts towards a block: the
 * others guess nothing that a block would protect.
 */
export type AuthFailureReason = string;

export interface AuthGuard {
  /**
   * Undefined when the attempt's address may try now; otherwise the seconds it must wait (at
   * least 1), and the refusal is logged with `reason=rate-limited`.
   */
  refused(attempt: AuthAttempt): number | undefined;
  /** Logs a failed attempt; a `bad-password` counts towards its address's block. */
  failed(attempt: AuthAttempt, reason: AuthFailureReason): void;
}

export interface AuthGuardOptions {
  /** Read at every attempt, so that a reload applies; undefined: nothing is blocked. */
  readonly limit: () => AuthFailureLimit | undefined;
  /** Where the lines go (the log's warning level). */
  readonly warn: (line: string) => void;
  readonly clock?: () => number;
  readonly maxAddresses?: number;
}

interface Entry {
  /** When the window of the failures counted began (ms). */
  start: number;
  count: number;
  /** Refused until then (ms); 0 when not blocked. */
  until: number;
  /** The last refusal logged (ms). */
  logged: number;
}

/**
 * The guard the node owns, one for all its listeners. A success changes nothing: the window
 * alone forgets failures, so that an account of one's own cannot reset the count between
 * guesses at another.
 */
export function createAuthGuard(options: AuthGuardOptions): AuthGuard {
  const clock = options.clock ?? Date.now;
  const cap = options.maxAddresses ?? MAX_TRACKED_ADDRESSES;
  const table = new Map<string, Entry>();

  /** The entry of an address, or undefined once its block and its window are over. */
  const current = (address: string, now: number, limit: AuthFailureLimit): Entry | undefined => {
    const e = table.get(address);
    if (!e) return undefined;
    if (now < e.until || (e.until === 0 && now - e.start < limit.window * 1000)) return e;
    table.delete(address);
    return undefined;
  };

  return {
    refused(attempt) {
      const limit = options.limit();
      if (!limit) return undefined;
      const now = clock();
      const address = unmapped(attempt.address);
      const e = current(address, now, limit);
      if (!e || e.until === 0) return undefined;
      if (now - e.logged >= REFUSAL_LOG_INTERVAL) {
        e.logged = now;
        options.warn(authFailureLine(attempt, 'rate-limited'));
      }
      return Math.max(1, Math.ceil((e.until - now) / 1000));
    },

    failed(attempt, reason) {
      options.warn(authFailureLine(attempt, reason));
      const limit = options.limit();
      if (!limit || reason !== 'bad-password') return;
      const now = clock();
      const address = unmapped(attempt.address);
      const e = current(address, now, limit) ?? { start: now, count: 0, until: 0, logged: 0 };
      // Failures checked while the address was being blocked (sent before the block) add nothing.
      if (e.until !== 0) return;
      e.count++;
      // The most recent failure goes last: the first in the table is the one to forget.
      table.delete(address);
      if (table.size >= cap) table.delete(table.keys().next().value as string);
      table.set(address, e);
      if (e.count < limit.failures) return;
      e.until = now + limit.block * 1000;
      options.warn(`auth blocked: address=${address} for ${limit.block} s after ${e.count} failed logins within ${limit.window} s`);
    },
  };
}

/** An IPv4 peer of a dual-stack listener is the IPv4 address, as everywhere else in the log. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * `auth failed: address=192.0.2.7 port=40112 via=c2s mechanism=PLAIN reason=bad-password user="alice@localhost"`.
 * What the client chose comes last, quoted, and escaped so that it cannot end the line, close
 * the quote or look like a field: a filter that matches up to `address=` reads what the node
 * wrote, whatever the name.
 */
export function authFailureLine(attempt: AuthAttempt, reason: AuthFailureReason): string {
  return `auth failed: address=${unmapped(attempt.address) || '-'} port=${attempt.port} via=${attempt.via} mechanism=${attempt.mechanism} reason=${reason} user=${quoteUser(attempt.user)}`;
}

/**
 * A name in double quotes: `\` and `"` escaped with a backslash, and every character a reader
 * cannot see as itself written `\xHH` or `\u{H}`: controls (C0, DEL, C1), spaces and other
 * separators (a line or paragraph separator ends a line for some readers), format characters,
 * surrogates and unassigned ones. A name longer than MAX_USER_SHOWN is cut, `...` after the quote.
 */
export function quoteUser(user: string): string {
  const chars = [...user];
  const shown = chars.slice(0, MAX_USER_SHOWN).join('');
  const escaped = shown.replace(/[\\"]|[\p{Cc}\p{Cf}\p{Z}\p{Cs}\p{Co}\p{Cn}]/gu, (c) => {
    if (c === '\\' || c === '"') return `\\${c}`;
    const code = c.codePointAt(0)!;
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
  return `"${escaped}"${chars.length > MAX_USER_SHOWN ? '...' : ''}`;
}

import { randomUUID } from 'node:crypto';
import { clone } from 'ltx';
import { CommandError } from '../lib/errors';
import { key, prefix, splitKey } from '../storage/keys';
import { TABLES } from '../storage/tables';
import type { BatchOp, Store } from '../storage/types';
import type { AccountsService, ServiceDeps } from './accounts';
import { formatJid, parseJid } from '../lib/jid';
import { checkXmlText, Element, parseXml, serialise } from '../lib/xml';

/**
 * An offline message, as stored in TABLES.offline under `host␀user␀stamp` (the recipient's
 * bare JID parts, and the stamp of `timestamp`, see `stampOf`). Index rows point at it:
 * TABLES.offlineByTime `stamp␀host␀user` → 1, and, when it expires,
 * TABLES.offlineByExpiry `expiry␀host␀user␀stamp` → 1 (`expiry` = `timeKey(expires)`).
 * A message and its index rows are always written and deleted in one batch.
 */
export interface OfflineMessage {
  /** The sender, as in the stanza's `from`. */
  readonly from: string;
  /** The recipient, as in the stanza's `to` (bare or full JID). */
  readonly to: string;
  /**
   * The whole `<message/>` serialised, with a XEP-0203 `<delay xmlns='urn:xmpp:delay'
   * from='HOST' stamp='ISO 8601'/>` appended: what the recipient gets on logging in.
   */
  readonly xml: string;
  /** When it was stored, in ms since the epoch. */
  readonly timestamp: number;
  /**
   * When it expires, in ms since the epoch: the earliest of XEP-0023 `<x xmlns='jabber:x:expire'
   * seconds='N'/>` (timestamp + N s) and XEP-0079 `expire-at` rules. Absent: never.
   */
  readonly expires?: number;
}

/** Deletions over many rows are split into atomic batches of this many messages. */
export const BATCH_MESSAGES = 1000;

const TIME_DIGITS = 15;
const SEQ_DIGITS = 6;
const MAX_TIME = 10 ** TIME_DIGITS - 1;
const MAX_SEQ = 10 ** SEQ_DIGITS - 1;

/** A time in ms as a fixed-width key part: byte order is time order (until the year 33658). */
export function timeKey(ms: number): string {
  return String(Math.min(MAX_TIME, Math.max(0, Math.floor(ms)))).padStart(TIME_DIGITS, '0');
}

/** `time-seq`: a time in ms plus a sequence, so messages stored in the same ms keep their order. */
export function stampOf(ms: number, seq: number): string {
  return `${timeKey(ms)}-${String(seq).padStart(SEQ_DIGITS, '0')}`;
}

export function stampTime(stamp: string): number {
  return Number(stamp.slice(0, TIME_DIGITS));
}

/**
 * Hands out stamps for rows keyed `host␀user␀stamp` in `table`, strictly increasing per user:
 * within this process by a counter, across processes (or with a clock that stands still, as in
 * tests) by looking at the user's newest row of the same ms.
 */
export function createStamper(store: Store, table: string) {
  let last = { ms: -1, seq: -1 };
  return async (host: string, user: string, ms: number): Promise<string> => {
    const t = timeKey(ms);
    let stored = -1;
    for await (const k of store.keys(table, { prefix: prefix(host, user) + t, reverse: true, limit: 1 })) {
      stored = Number(splitKey(k)[2].slice(TIME_DIGITS + 1));
    }
    // No await between reading `last` and writing it: concurrent callers get distinct stamps.
    const seq = Math.max(stored + 1, last.ms === ms ? last.seq + 1 : 0);
    if (seq > MAX_SEQ) throw new CommandError('failed', `More than ${MAX_SEQ + 1} messages for ${user}@${host} in one millisecond`);
    last = { ms, seq };
    return stampOf(ms, seq);
  };
}

const EXPIRE_NS = 'jabber:x:expire';
const AMP_NS = 'http://jabber.org/protocol/amp';

/** The earliest expiry a message asks for (XEP-0023, XEP-0079), in ms; undefined if none. */
export function expiryOf(stanza: Element, now: number): number | undefined {
  const times: number[] = [];
  for (const x of stanza.getChildren('x', EXPIRE_NS)) {
    const seconds = String(x.attrs.seconds ?? '');
    if (/^\d{1,15}$/.test(seconds)) times.push(now + Number(seconds) * 1000);
  }
  for (const amp of stanza.getChildren('amp', AMP_NS)) {
    for (const rule of amp.getChildren('rule')) {
      if (rule.attrs.condition !== 'expire-at') continue;
      const at = Date.parse(String(rule.attrs.value ?? ''));
      if (Number.isFinite(at)) times.push(at);
    }
  }
  return times.length === 0 ? undefined : Math.max(0, Math.min(MAX_TIME, ...times));
}

/**
 * What the queue keeps of `stanza`, received at `now` by `host`: a copy of the stanza with a
 * XEP-0203 delay, and the expiry it asks for. The caller's element is not changed.
 */
export function offlineRecord(stanza: Element, host: string, now: number): OfflineMessage {
  const copy = clone(stanza);
  copy.c('delay', { xmlns: 'urn:xmpp:delay', from: host, stamp: new Date(now).toISOString() });
  const expires = expiryOf(stanza, now);
  return {
    from: String(stanza.attrs.from ?? ''),
    to: String(stanza.attrs.to ?? ''),
    xml: serialise(copy),
    timestamp: now,
    ...(expires === undefined ? {} : { expires }),
  };
}

/** The rows of one offline message: the message and its index rows, to write in one batch. */
export function offlineRows(host: string, user: string, stamp: string, message: OfflineMessage): BatchOp[] {
  const rows: BatchOp[] = [
    { type: 'put', table: TABLES.offline, key: key(host, user, stamp), value: message },
    { type: 'put', table: TABLES.offlineByTime, key: key(stamp, host, user), value: 1 },
  ];
  if (message.expires !== undefined) {
    rows.push({ type: 'put', table: TABLES.offlineByExpiry, key: key(timeKey(message.expires), host, user, stamp), value: 1 });
  }
  return rows;
}

function removalRows(host: string, user: string, stamp: string, expires: number | undefined): BatchOp[] {
  const rows: BatchOp[] = [
    { type: 'del', table: TABLES.offline, key: key(host, user, stamp) },
    { type: 'del', table: TABLES.offlineByTime, key: key(stamp, host, user) },
  ];
  if (expires !== undefined) rows.push({ type: 'del', table: TABLES.offlineByExpiry, key: key(timeKey(expires), host, user, stamp) });
  return rows;
}

/**
 * Walks index `table` below `lt` in pages of BATCH_MESSAGES rows and applies the deletions
 * `rows` makes of each page as one batch, so a crash leaves whole messages with their index.
 */
export async function purgeByIndex<V>(store: Store, table: string, lt: string, rows: (page: [string, V][]) => Promise<BatchOp[]> | BatchOp[]): Promise<void> {
  let after: string | undefined;
  for (;;) {
    const page: [string, V][] = [];
    for await (const row of store.entries<V>(table, { lt, ...(after === undefined ? {} : { gt: after }), limit: BATCH_MESSAGES })) page.push(row);
    if (page.length === 0) return;
    after = page[page.length - 1][0];
    const ops = await rows(page);
    if (ops.length > 0) await store.batch(ops);
  }
}


const MESSAGE_TYPES = ['chat', 'normal', 'headline'] as const;

/** Offline messages (XEP-0160): the queue of each user, its count, and the purges. */
export function createOfflineService(deps: ServiceDeps, accounts: AccountsService) {
  const { store } = deps;
  const online = deps.isOnline ?? (() => false);
  const stamp = createStamper(store, TABLES.offline);

  async function known(user: string, host: string) {
    const j = accounts.jid(user, host);
    if (!(await accounts.exists(j.user, j.host))) throw new CommandError('not_found', `User ${j.id} does not exist`);
    return j;
  }

  function checkDays(days: number): void {
    if (days < 0) throw new CommandError('bad_argument', `The number of days (days) must not be negative, got ${days}`, { details: { arg: 'days' } });
  }

  /**
   * Puts `stanza` (a `<message/>`, or its text) in the queue of user@host, who must exist.
   * Returns the stamp it is stored under.
   */
  async function add(user: string, host: string, stanza: Element | string): Promise<string> {
    const el = typeof stanza === 'string' ? parseXml(stanza, 'the offline message') : stanza;
    if (el.getName() !== 'message') throw new CommandError('bad_argument', `Only <message/> stanzas can be stored offline, not <${el.getName()}/>`);
    const j = await known(user, host);
    const now = deps.clock();
    const s = await stamp(j.host, j.user, now);
    await store.batch(offlineRows(j.host, j.user, s, offlineRecord(el, j.host, now)));
    return s;
  }

  return {
    add,

    /** The user's queue, oldest first, with the stamp each message is stored under. */
    async messages(user: string, host: string): Promise<{ stamp: string; message: OfflineMessage }[]> {
      const j = await known(user, host);
      const out: { stamp: string; message: OfflineMessage }[] = [];
      for await (const [k, message] of store.entries<OfflineMessage>(TABLES.offline, { prefix: prefix(j.host, j.user) })) {
        out.push({ stamp: splitKey(k)[2], message });
      }
      return out;
    },

    async count(user: string, host: string): Promise<number> {
      const j = await known(user, host);
      let n = 0;
      for await (const _ of store.keys(TABLES.offline, { prefix: prefix(j.host, j.user) })) n++;
      return n;
    },

    /** Deletes messages stored more than `days` days ago, whatever their user. */
    async deleteOld(days: number): Promise<boolean> {
      checkDays(days);
      const bound = stampOf(deps.clock() - days * 86_400_000, 0);
      await purgeByIndex(store, TABLES.offlineByTime, bound, async (page) => {
        const parts = page.map(([k]) => splitKey(k));
        const messages = await store.getMany<OfflineMessage>(TABLES.offline, parts.map(([s, h, u]) => key(h, u, s)));
        return parts.flatMap(([s, h, u], i) => removalRows(h, u, s, messages[i]?.expires));
      });
      return true;
    },

    /** Deletes messages whose expiry has passed; the index makes this cheap when none has. */
    async deleteExpired(): Promise<boolean> {
      await purgeByIndex(store, TABLES.offlineByExpiry, timeKey(deps.clock() + 1), (page) =>
        page.flatMap(([k]) => {
          const [expiry, h, u, s] = splitKey(k);
          return removalRows(h, u, s, Number(expiry));
        }),
      );
      return true;
    },

    /**
     * send_message: a `<message/>` from `from` to a local user. Nobody is connected to this node
     * yet, so it goes to the recipient's offline queue, as it would for anyone offline.
     */
    async sendMessage(type: string, from: string, to: string, subject: string, body: string): Promise<boolean> {
      if (!(MESSAGE_TYPES as readonly string[]).includes(type)) {
        throw new CommandError('bad_argument', `Unknown message type '${type}' (type): use chat, normal or headline`, { details: { arg: 'type' } });
      }
      const sender = parseJid(from, 'from');
      const recipient = parseJid(to, 'to');
      checkXmlText(subject, 'subject', 'subject');
      checkXmlText(body, 'body', 'body');
      if (!deps.config.hosts.includes(recipient.host)) {
        throw new CommandError(
          'not_supported',
          `Cannot send to ${formatJid(recipient)}: ${recipient.host} is not a host of this node, and this node has no server-to-server links yet`,
        );
      }
      if (recipient.user === '') {
        throw new CommandError('bad_argument', `The recipient '${to}' (to) is a server, not a user: send_message delivers to user@host`, { details: { arg: 'to' } });
      }
      const j = await known(recipient.user, recipient.host);
      if (online(j.user, j.host)) {
        throw new CommandError('not_implemented', `${j.id} is connected, and delivery to connected sessions is not implemented yet`);
      }
      const message = new Element('message', { type, from: formatJid(sender), to: formatJid(recipient), id: randomUUID() });
      if (subject !== '') message.c('subject').t(subject);
      if (body !== '') message.c('body').t(body);
      await add(j.user, j.host, message);
      return true;
    },

    /** Index rows of the user's messages, for unregister's batch (the messages go by prefix). */
    async removalOps(host: string, user: string): Promise<BatchOp[]> {
      const ops: BatchOp[] = [];
      for await (const [k, m] of store.entries<OfflineMessage>(TABLES.offline, { prefix: prefix(host, user) })) {
        ops.push(...removalRows(host, user, splitKey(k)[2], m.expires).slice(1));
      }
      return ops;
    },
  };
}

export type OfflineService = ReturnType<typeof createOfflineService>;

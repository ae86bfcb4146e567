import { clone } from 'ltx';
import type { BareJid } from '../../lib/jid';
import { serialise, storedElement, type Element } from '../../lib/xml';
import type { Archive, ArchiveEntry, BatchOp, Key, Store } from '../../storage/types';

/** The archive of offline messages (XEP-0160): one queue per recipient, oldest first. */
export const OFFLINE = 'offline';

/** An offline message, as stored: the JSON shape existing databases and backups hold. */
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

/** A message of a queue with the id the archive keeps it under (increasing with time). */
export interface QueuedMessage {
  readonly id: string;
  readonly message: OfflineMessage;
}

/** The queues; a message's expiry is its `expires`, by which purges find it. */
export function offlineArchive(store: Store): Archive<OfflineMessage> {
  return store.archive<OfflineMessage>(OFFLINE, { expiresOf: (m) => m.expires });
}

/** The owner of a queue in the archive: the recipient's bare JID. */
export function offlineOwner(jid: BareJid): Key {
  return [jid.host, jid.user];
}

/** What the archive keeps of a message: ordered by when it was stored, purged when it expires. */
export function offlineEntry(message: OfflineMessage): ArchiveEntry<OfflineMessage> {
  return { atMs: message.timestamp, ...(message.expires === undefined ? {} : { expiresMs: message.expires }), value: message };
}

const EXPIRE_NS = 'jabber:x:expire';
const AMP_NS = 'http://jabber.org/protocol/amp';
const DELAY_NS = 'urn:xmpp:delay';
/** The latest expiry kept: what 15 decimal digits of ms hold (the year 33658). */
const LATEST_MS = 10 ** 15 - 1;

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
  return times.length === 0 ? undefined : Math.max(0, Math.min(LATEST_MS, ...times));
}

/**
 * What the queue keeps of `stanza`, received at `now` by `host`: a copy of the stanza with a
 * XEP-0203 delay from the host, and the expiry it asks for. The caller's element is not changed.
 */
export function offlineRecord(stanza: Element, host: string, now: number): OfflineMessage {
  const copy = clone(stanza);
  // A message the server already held (stream management's queue) keeps the delay it was given then.
  const held = copy.getChildren('delay', DELAY_NS).some((d) => d.attrs.from === host);
  if (!held) copy.c('delay', { xmlns: DELAY_NS, from: host, stamp: new Date(now).toISOString() });
  return delayedRecord(copy, now, expiryOf(stanza, now));
}

/**
 * The record of a message that already carries the host's delay, stored at `timestamp` (an
 * import, which keeps the time the message was first stored).
 */
export function delayedRecord(stanza: Element, timestamp: number, expires = expiryOf(stanza, timestamp)): OfflineMessage {
  return {
    from: String(stanza.attrs.from ?? ''),
    to: String(stanza.attrs.to ?? ''),
    xml: serialise(stanza),
    timestamp,
    ...(expires === undefined ? {} : { expires }),
  };
}

/** The queue of `jid`, oldest first. */
export async function* queuedMessages(store: Store, jid: BareJid): AsyncIterable<QueuedMessage> {
  for await (const item of offlineArchive(store).find(offlineOwner(jid))) yield { id: item.id, message: item.value };
}

/** The messages of `jid`, oldest first (XEP-0227 and SQL exports). */
export async function readOffline(store: Store, jid: BareJid): Promise<OfflineMessage[]> {
  const out: OfflineMessage[] = [];
  for await (const { message } of queuedMessages(store, jid)) out.push(message);
  return out;
}

/** Every offline message of a host's accounts, user by user in byte order, each queue oldest first. */
export async function* hostOffline(store: Store, host: string): AsyncIterable<[BareJid, OfflineMessage]> {
  for await (const { owner, item } of offlineArchive(store).items([host])) yield [{ host: owner[0], user: owner[1] }, item.value];
}

/**
 * Adds imported messages to the queue of `jid`, in their order; messages of the same ms keep
 * it. Resolves to their ids.
 */
export async function writeOffline(store: Store, jid: BareJid, messages: readonly OfflineMessage[]): Promise<string[]> {
  const archive = offlineArchive(store);
  const ids: string[] = [];
  for (const m of messages) ids.push(await archive.append(offlineOwner(jid), offlineEntry(m)));
  return ids;
}

/** The deletions of the queues of `jids`, for account removal. */
export function usersRows(store: Store, jids: readonly BareJid[]): Promise<BatchOp[]> {
  return offlineArchive(store).deleteOps(...jids.map(offlineOwner));
}

/** Checks a message that comes from elsewhere (a dump line, an import). */
export function decodeOfflineMessage(value: unknown, where = 'offline message'): OfflineMessage {
  const v = value as Partial<Record<keyof OfflineMessage, unknown>> | null;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${where}: the record must be an object`);
  for (const f of ['from', 'to', 'xml'] as const) if (typeof v[f] !== 'string') throw new Error(`${where}: ${f} must be text`);
  checkMessageXml(v.xml as string, where);
  if (!isMs(v.timestamp)) throw new Error(`${where}: timestamp must be ms since 1970`);
  if (v.expires !== undefined && !isMs(v.expires)) throw new Error(`${where}: expires must be ms since 1970`);
  return v as OfflineMessage;
}

/** A stored message is what the recipient gets: a `<message/>`. */
function checkMessageXml(xml: string, where: string): void {
  const el = storedElement(xml);
  if (typeof el === 'string') throw new Error(`${where}: xml is ${el}`);
  if (el.getName() !== 'message') throw new Error(`${where}: xml must be a <message/>, not <${el.getName()}>`);
}

function isMs(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= LATEST_MS;
}

/**
 * The writes that make the queue of `jid` hold `messages`, in their order, and nothing else
 * (the queue of an imported account, replacing what an interrupted run of the import left), to
 * join the account's batch.
 */
export async function replaceOfflineOps(store: Store, jid: BareJid, messages: readonly OfflineMessage[]): Promise<BatchOp[]> {
  return (await offlineArchive(store).replaceOps(offlineOwner(jid), messages.map(offlineEntry))).ops;
}

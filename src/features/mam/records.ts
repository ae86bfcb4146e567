import type { BareJid } from '../../lib/jid';
import type { Archive, ArchiveEntry, ArchiveItem, BatchOp, Key, Store } from '../../storage/types';

/** The message archives (XEP-0313): one per user, or per MUC room. */
export const MAM = 'mam';

export const ARCHIVE_TYPES = ['chat', 'groupchat'] as const;
/** `chat` for one-to-one messages in a user's archive, `groupchat` for a room's archive. */
export type ArchiveType = (typeof ARCHIVE_TYPES)[number];

/** An archived message as callers get it. */
export interface ArchivedMessage {
  readonly type: ArchiveType;
  /** The bare JID of the other party (for a room, the occupant's room JID's bare form). */
  readonly with: string;
  /** The `<message/>` serialised as it was archived. */
  readonly xml: string;
  /** When it was archived, in ms since the epoch. */
  readonly timestamp: number;
  /** The archive id (XEP-0359 stanza-id): unique within the owner's archive. */
  readonly id: string;
}

/**
 * What the archive stores. The id is the archive's own; records written before the archive
 * handed out ids carry a copy of it, which readers ignore.
 */
export type StoredMessage = Omit<ArchivedMessage, 'id'> & { readonly id?: string };

export function mamArchive(store: Store): Archive<StoredMessage> {
  return store.archive<StoredMessage>(MAM);
}

/** The owner of an archive: a user's bare JID, or a room's (room name, MUC service host). */
export function mamOwner(jid: BareJid): Key {
  return [jid.host, jid.user];
}

/** What the archive keeps of a message: its type is the kind that purges select. */
export function mamEntry(message: StoredMessage): ArchiveEntry<StoredMessage> {
  return { atMs: message.timestamp, kind: message.type, value: message };
}

/** A stored item as callers get it: with the archive's id, never a stored copy of it. */
export function archivedMessage(item: ArchiveItem<StoredMessage>): ArchivedMessage {
  return { ...item.value, id: item.id };
}

/** The archive of `owner`, oldest first. */
export async function readArchive(store: Store, owner: BareJid): Promise<ArchivedMessage[]> {
  const out: ArchivedMessage[] = [];
  for await (const item of mamArchive(store).find(mamOwner(owner))) out.push(archivedMessage(item));
  return out;
}

/** Adds messages to the archive of `owner`, in their order. Resolves to their ids. */
export async function writeArchive(store: Store, owner: BareJid, messages: readonly StoredMessage[]): Promise<string[]> {
  const archive = mamArchive(store);
  const ids: string[] = [];
  for (const m of messages) ids.push(await archive.append(mamOwner(owner), mamEntry(m)));
  return ids;
}

/** The deletions of the archives of `jids`, for account removal. */
export function usersRows(store: Store, jids: readonly BareJid[]): Promise<BatchOp[]> {
  return mamArchive(store).deleteOps(...jids.map(mamOwner));
}

/** Checks a message that comes from elsewhere (a dump line, an import). */
export function decodeArchivedMessage(value: unknown, where = 'archived message'): StoredMessage {
  const v = value as Partial<Record<keyof ArchivedMessage, unknown>> | null;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${where}: the record must be an object`);
  if (!(ARCHIVE_TYPES as readonly unknown[]).includes(v.type)) throw new Error(`${where}: type must be 'chat' or 'groupchat'`);
  for (const f of ['with', 'xml'] as const) if (typeof v[f] !== 'string') throw new Error(`${where}: ${f} must be text`);
  const el = (require('../../lib/xml') as typeof import('../../lib/xml')).storedElement(v.xml as string);
  if (typeof el === 'string') throw new Error(`${where}: xml is ${el}`);
  if (el.getName() !== 'message') throw new Error(`${where}: xml must be a <message/>, not <${el.getName()}>`);
  if (typeof v.timestamp !== 'number' || !Number.isInteger(v.timestamp) || v.timestamp < 0) throw new Error(`${where}: timestamp must be ms since 1970`);
  if (v.id !== undefined && typeof v.id !== 'string') throw new Error(`${where}: id must be text`);
  return v as StoredMessage;
}

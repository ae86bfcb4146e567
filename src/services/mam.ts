import { CommandError } from '../lib/errors';
import { key, prefix, splitKey } from '../storage/keys';
import { TABLES } from '../storage/tables';
import type { BatchOp } from '../storage/types';
import type { AccountsService, ServiceDeps } from './accounts';
import { nameprep, nodeprep } from '../lib/jid';
import { createStamper, purgeByIndex, stampOf } from './offline';
import { serialise } from '../lib/xml';
import type { Element } from '../lib/xml';

export type ArchiveType = 'chat' | 'groupchat';

/**
 * A message archive entry (XEP-0313), stored in TABLES.mam under `host␀user␀stamp`, where
 * host␀user is the archive's owner (a user, or a MUC room: room␀service-host) and stamp is
 * `stampOf(timestamp, seq)` as for offline messages. Its index row, written and deleted in
 * the same batch, is TABLES.mamByTime `stamp␀host␀user` → `{ type }`.
 */
export interface ArchivedMessage {
  /** `chat` for one-to-one messages in a user's archive, `groupchat` for a room's archive. */
  readonly type: ArchiveType;
  /** The bare JID of the other party (for a room, the occupant's room JID's bare form). */
  readonly with: string;
  /** The `<message/>` serialised as it was archived. */
  readonly xml: string;
  /** When it was archived, in ms since the epoch. */
  readonly timestamp: number;
  /** The archive id (XEP-0359 stanza-id): the stamp, unique within the owner's archive. */
  readonly id: string;
}

/** The rows of one archived message, to write in one batch. */
export function archiveRows(host: string, user: string, message: ArchivedMessage): BatchOp[] {
  return [
    { type: 'put', table: TABLES.mam, key: key(host, user, message.id), value: message },
    { type: 'put', table: TABLES.mamByTime, key: key(message.id, host, user), value: { type: message.type } },
  ];
}

const PURGE_TYPES: Record<string, readonly ArchiveType[]> = { chat: ['chat'], groupchat: ['groupchat'], all: ['chat', 'groupchat'] };

/** Message archives: what the XMPP server archives, and delete_old_mam_messages. */
export function createMamService(deps: ServiceDeps, accounts: AccountsService) {
  const { store } = deps;
  const stamp = createStamper(store, TABLES.mam);

  return {
    /**
     * Archives `stanza` in the archive of `owner@host` (a local user for `chat`, which must
     * exist; a room and its MUC service host for `groupchat`). Returns the archive id.
     */
    async archive(owner: string, host: string, type: ArchiveType, withJid: string, stanza: Element | string): Promise<string> {
      let user: string;
      let h: string;
      if (type === 'chat') {
        const j = accounts.jid(owner, host);
        if (!(await accounts.exists(j.user, j.host))) throw new CommandError('not_found', `User ${j.id} does not exist`);
        ({ user, host: h } = j);
      } else {
        user = nodeprep(owner, 'room');
        h = nameprep(host, 'service');
      }
      const now = deps.clock();
      const id = await stamp(h, user, now);
      const xml = typeof stanza === 'string' ? stanza : serialise(stanza);
      await store.batch(archiveRows(h, user, { type, with: withJid, xml, timestamp: now, id }));
      return id;
    },

    /** The archive of owner@host, oldest first (owner and host as stored, already normalised). */
    async messages(owner: string, host: string): Promise<ArchivedMessage[]> {
      const out: ArchivedMessage[] = [];
      for await (const [, m] of store.entries<ArchivedMessage>(TABLES.mam, { prefix: prefix(host, owner) })) out.push(m);
      return out;
    },

    /** Deletes archived messages of `type` (chat, groupchat or all) older than `days` days. */
    async deleteOld(type: string, days: number): Promise<boolean> {
      const types = Object.hasOwn(PURGE_TYPES, type) ? PURGE_TYPES[type] : undefined;
      if (!types) throw new CommandError('bad_argument', `Unknown message type '${type}' (type): use chat, groupchat or all`, { details: { arg: 'type' } });
      if (days < 0) throw new CommandError('bad_argument', `The number of days (days) must not be negative, got ${days}`, { details: { arg: 'days' } });
      const bound = stampOf(deps.clock() - days * 86_400_000, 0);
      await purgeByIndex<{ type: ArchiveType }>(store, TABLES.mamByTime, bound, (page) =>
        page.flatMap(([k, v]) => {
          if (!types.includes(v.type)) return [];
          const [s, h, u] = splitKey(k);
          return [
            { type: 'del', table: TABLES.mam, key: key(h, u, s) },
            { type: 'del', table: TABLES.mamByTime, key: k },
          ] as const;
        }),
      );
      return true;
    },

    /** Index rows of the user's archive, for unregister's batch (the archive goes by prefix). */
    async removalOps(host: string, user: string): Promise<BatchOp[]> {
      const ops: BatchOp[] = [];
      for await (const k of store.keys(TABLES.mam, { prefix: prefix(host, user) })) {
        ops.push({ type: 'del', table: TABLES.mamByTime, key: key(splitKey(k)[2], host, user) });
      }
      return ops;
    },
  };
}

export type MamService = ReturnType<typeof createMamService>;

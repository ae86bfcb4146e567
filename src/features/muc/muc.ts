import { CommandError } from '../../lib/errors';
import type { BareJid } from '../../lib/jid';
import type { BatchOp, Key } from '../../storage/types';
import type { Accounts } from '../accounts/accounts';
import { accountLockKey, type FeatureDeps } from '../deps';
import {
  MUC_NICK,
  MUC_REGISTERED,
  MUC_ROOM,
  checkNick,
  fullRecord,
  nickIndexKey,
  nickServices,
  registrationKey,
  registrationOps,
  registrationRemovalOps,
  roomKey,
  roomsPage,
  type NickOwner,
  type RegisteredNick,
} from './records';
import type { Muc, RoomRecord } from './types';

/** Rooms are read this many at a time: a service with 100 000 rooms is never all in memory. */
const ROOM_PAGE = 500;

/** The lock of room creation: createRooms checks, then writes, and nothing may come between. */
const CREATE_LOCK = 'muc:create-rooms';

/** The stored state of MUC services: persistent rooms, and the nicks users registered. */
export function createMuc(deps: FeatureDeps, _accounts: Accounts): Muc {
  const { store, locks } = deps;

  /** The room's key, or undefined for a name no room can have. */
  const keyOf = (service: string, name: string): Key | undefined => {
    try {
      return roomKey(service, name);
    } catch {
      return undefined;
    }
  };

  async function registration(service: string, jid: BareJid): Promise<string | undefined> {
    return (await store.get<RegisteredNick>(MUC_REGISTERED, registrationKey(jid, service)))?.nick;
  }

  return {
    async room(service, name) {
      const key = keyOf(service, name);
      const record = key && (await store.get<RoomRecord>(MUC_ROOM, key));
      return record ? fullRecord(record) : undefined;
    },

    async saveRoom(service, name, record) {
      await store.put(MUC_ROOM, roomKey(service, name), record);
    },

    async createRooms(rooms) {
      const keys = rooms.map((r) => roomKey(r.service, r.name));
      await locks.run(CREATE_LOCK, async () => {
        const seen = new Set<string>();
        const existing = await store.getMany<RoomRecord>(MUC_ROOM, keys);
        keys.forEach((k, i) => {
          const id = `${k[1]}@${k[0]}`;
          if (existing[i] !== undefined || seen.has(id)) throw new CommandError('conflict', `The room ${id} already exists`, { details: { room: id } });
          seen.add(id);
        });
        await store.batch(keys.map((key, i): BatchOp => ({ type: 'put', table: MUC_ROOM, key, value: rooms[i].record })));
      });
    },

    async removeRoom(service, name) {
      const key = keyOf(service, name);
      if (key) await store.del(MUC_ROOM, key);
    },

    async *roomNames(service) {
      for await (const [s, name] of store.keys(MUC_ROOM, service === undefined ? {} : { prefix: [service] })) yield { service: s, name };
    },

    async *rooms(service) {
      let after: Key | undefined;
      for (;;) {
        const page = await roomsPage(store, service, after, ROOM_PAGE);
        yield* page;
        if (page.length < ROOM_PAGE) return;
        const last = page[page.length - 1];
        after = [last.service, last.name];
      }
    },

    async countRooms(service) {
      let n = 0;
      for await (const _ of store.keys(MUC_ROOM, service === undefined ? {} : { prefix: [service] })) n++;
      return n;
    },

    nick(service, jid) {
      return registration(service, jid);
    },

    async nickOwner(service, nick) {
      const owner = await store.get<NickOwner>(MUC_NICK, nickIndexKey(service, nick));
      return owner && { user: owner.user, host: owner.host };
    },

    async registerNick(service, jid, nick) {
      checkNick(nick);
      await locks.run(accountLockKey(jid), async () => {
        const old = await registration(service, jid);
        if (old === nick) return;
        // The index row is the nick's: updating it is what keeps two users from taking one nick at once.
        await store.update<NickOwner>(
          MUC_NICK,
          nickIndexKey(service, nick),
          (holder) => {
            if (holder !== undefined && (holder.user !== jid.user || holder.host !== jid.host)) {
              throw new CommandError('conflict', `The nick ${nick} is registered on ${service} by someone else`, { details: { nick } });
            }
            return { user: jid.user, host: jid.host };
          },
          {
            also: () => {
              const ops = registrationOps(jid, service, nick).filter((op) => op.table === MUC_REGISTERED);
              if (old !== undefined && nickIndexKey(service, old)[1] !== nickIndexKey(service, nick)[1]) {
                ops.push({ type: 'del', table: MUC_NICK, key: nickIndexKey(service, old) });
              }
              return ops;
            },
          },
        );
      });
    },

    async unregisterNick(service, jid) {
      return locks.run(accountLockKey(jid), async () => {
        const nick = await registration(service, jid);
        if (nick === undefined) return false;
        const holder = await store.get<NickOwner>(MUC_NICK, nickIndexKey(service, nick));
        const mine = holder !== undefined && holder.user === jid.user && holder.host === jid.host;
        await store.batch(registrationRemovalOps(jid, service, nick).filter((op) => mine || op.table !== MUC_NICK));
        return true;
      });
    },

    async unregisterNickEverywhere(nick) {
      const found: { service: string; jid: BareJid }[] = [];
      for await (const service of nickServices(store)) {
        const owner = await store.get<NickOwner>(MUC_NICK, nickIndexKey(service, nick));
        if (owner !== undefined) found.push({ service, jid: { user: owner.user, host: owner.host } });
      }
      let removed = 0;
      for (const { service, jid } of found) {
        await locks.run(accountLockKey(jid), async () => {
          const held = await registration(service, jid);
          if (held === undefined || nickIndexKey(service, held)[1] !== nickIndexKey(service, nick)[1]) return;
          await store.batch(registrationRemovalOps(jid, service, held));
          removed++;
        });
      }
      return removed;
    },
  };
}

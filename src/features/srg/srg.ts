import { CommandError } from '../../lib/errors';
import type { BatchOp } from '../../storage/types';
import type { Accounts } from '../accounts/accounts';
import { accountLockKey, type FeatureDeps } from '../deps';
import {
  ALL_USERS,
  SRG,
  checkGroupId,
  groupKey,
  groupOps,
  hostGroups,
  isMember,
  memberDelOps,
  memberOps,
  readGroup,
  readMembers,
  type GroupRef,
  type Member,
  memberText,
  type SharedGroup,
} from './records';

/** Shared roster groups (mod_shared_roster's data). Hosts are prepared and served. */
export interface Srg {
  /** Creates the group, or replaces the options of an existing one; its members stay. */
  create(g: GroupRef, options: SharedGroup): Promise<SharedGroup>;
  /** Removes the group with every membership, in one atomic step. */
  delete(g: GroupRef): Promise<void>;
  info(g: GroupRef): Promise<SharedGroup>;
  /** The members, by the bytes of their text (`@all@` first). */
  members(g: GroupRef): Promise<Member[]>;
  /** The group identifiers of a host, in byte order. */
  list(host: string): Promise<string[]>;
  /** Adding a member twice is not an error: the second call changes nothing. An account must exist. */
  userAdd(g: GroupRef, member: Member): Promise<void>;
  userDel(g: GroupRef, member: Member): Promise<void>;
}

export function createSrg(deps: FeatureDeps, accounts: Accounts): Srg {
  const { store, locks } = deps;

  const label = (g: GroupRef) => `shared roster group '${g.group}' on ${g.host}`;

  /** Runs `fn` with the group checked to exist, while no other change of the group runs. */
  async function inGroup<T>(g: GroupRef, fn: (rec: SharedGroup) => Promise<T>): Promise<T> {
    checkGroupId(g.group);
    return locks.run(groupLockKey(g), async () => fn(await existing(g)));
  }

  async function existing(g: GroupRef): Promise<SharedGroup> {
    const rec = await readGroup(store, g);
    if (!rec) throw new CommandError('not_found', `Shared roster group '${g.group}' on ${g.host} does not exist`);
    return rec;
  }

  /** A membership row names an account: written under the account's lock, as its removal is. */
  function asMember<T>(member: Member, fn: () => Promise<T>): Promise<T> {
    return member === ALL_USERS ? fn() : locks.run(accountLockKey(member), fn);
  }

  return {
    async create(g, options) {
      checkGroupId(g.group);
      for (const id of options.displayed) checkGroupId(id, 'displayed');
      const rec: SharedGroup = { name: options.name, description: options.description, displayed: [...options.displayed] };
      await locks.run(groupLockKey(g), () => store.batch(groupOps(g, rec)));
      return rec;
    },

    async delete(g) {
      await inGroup(g, async () => {
        const ops: BatchOp[] = [{ type: 'del', table: SRG, key: groupKey(g) }];
        for (const m of await readMembers(store, g)) ops.push(...memberDelOps(g, m));
        await store.batch(ops);
      });
    },

    async info(g) {
      checkGroupId(g.group);
      return existing(g);
    },

    async members(g) {
      checkGroupId(g.group);
      await existing(g);
      return readMembers(store, g);
    },

    async list(host) {
      const ids: string[] = [];
      for await (const [id] of hostGroups(store, host)) ids.push(id);
      return ids;
    },

    async userAdd(g, member) {
      await inGroup(g, () =>
        asMember(member, async () => {
          if (member !== ALL_USERS) await accounts.requireUser(member);
          await store.batch(memberOps(g, member));
        }),
      );
    },

    async userDel(g, member) {
      await inGroup(g, () =>
        asMember(member, async () => {
          if (!(await isMember(store, g, member))) throw new CommandError('not_found', `${memberText(member)} is not a member of ${label(g)}`);
          await store.batch(memberDelOps(g, member));
        }),
      );
    },
  };
}

function groupLockKey(g: GroupRef): string {
  return `srg:${g.host}\u0000${g.group}`;
}

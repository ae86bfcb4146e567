import { CommandError } from '../lib/errors';
import type { BatchOp } from '../storage/types';
import { key, prefix, splitKey } from '../storage/keys';
import { TABLES } from '../storage/tables';
import type { AccountsService, ServiceDeps } from './accounts';
import { nameprep } from '../lib/jid';

/** What `srg_create` stores under `host␀group`; members live in their own rows. */
export interface SharedGroup {
  readonly name: string;
  readonly description: string;
  /** Identifiers of groups (same host) whose members this group's members see. */
  readonly displayed: readonly string[];
}

/** The member that stands for every registered user of the group's host. */
export const ALL_USERS = '@all@';

// Key parts are NUL-joined, so a control character in an identifier could forge another key.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;
const MAX_ID_BYTES = 1023;

/** Checks a group identifier; groups are not stringprepped in ejabberd, so neither here. */
function groupId(id: string, argName: string): string {
  if (id.length === 0) throw new CommandError('bad_argument', `The group (${argName}) must not be empty`, { details: { arg: argName } });
  if (CONTROL.test(id)) {
    throw new CommandError('bad_argument', `Invalid group '${id}' (${argName}): a group identifier cannot contain control characters`, {
      details: { arg: argName },
    });
  }
  if (Buffer.byteLength(id) > MAX_ID_BYTES) {
    throw new CommandError('bad_argument', `The group (${argName}) is longer than ${MAX_ID_BYTES} bytes`, { details: { arg: argName } });
  }
  return id;
}

/**
 * The displayed groups of `srg_create`: identifiers separated by the two characters `\n`, as
 * ejabberd splits them. A real newline separates too (JSON callers, `$'g1\ng2'`), and one pair of
 * enclosing double quotes is dropped: the longdesc's `\"g1\\ng2\"` arrives with them, since ctl,
 * unlike ejabberdctl's script, does not evaluate its arguments a second time.
 */
export function parseDisplay(display: string): string[] {
  const text = display.length >= 2 && display.startsWith('"') && display.endsWith('"') ? display.slice(1, -1) : display;
  const ids: string[] = [];
  for (const part of text.split(/\\n|\r?\n/)) {
    if (part !== '' && !ids.includes(part)) ids.push(groupId(part, 'display'));
  }
  return ids;
}

/** Shared roster groups (mod_shared_roster's data): groups, their options and their members. */
export function createSrgService(deps: ServiceDeps, accounts: AccountsService) {
  const { store } = deps;

  function where(group: string, groupArg: string, host: string, hostArg: string) {
    // Checked first so that a malformed grouphost is reported under its own name, not as `host`.
    nameprep(host, hostArg);
    const h = accounts.host(host);
    const g = groupId(group, groupArg);
    return { group: g, host: h, k: key(h, g), label: `shared roster group '${g}' on ${h}` };
  }

  async function existing(group: string, groupArg: string, host: string, hostArg: string) {
    const w = where(group, groupArg, host, hostArg);
    const rec = await store.get<SharedGroup>(TABLES.srg, w.k);
    if (!rec) throw new CommandError('not_found', `Shared roster group '${w.group}' on ${w.host} does not exist`);
    return { ...w, rec };
  }

  /** The member row and, for a user, the reverse-index row; `@all@` has no user to index. */
  function memberKeys(g: { group: string; host: string }, member: { user: string; host: string } | 'all') {
    if (member === 'all') return { member: ALL_USERS, rows: [{ table: TABLES.srgMember, key: key(g.host, g.group, ALL_USERS) }] };
    const id = `${member.user}@${member.host}`;
    return {
      member: id,
      rows: [
        { table: TABLES.srgMember, key: key(g.host, g.group, id) },
        { table: TABLES.srgUser, key: key(member.host, member.user, g.host, g.group) },
      ],
    };
  }

  /** Resolves the `user host` pair of srg_user_add/del: a local JID, or `@all@` of the group's host. */
  function member(user: string, host: string, g: { host: string }): { user: string; host: string } | 'all' {
    if (user.toLowerCase() !== ALL_USERS) return accounts.jid(user, host);
    const h = accounts.host(host);
    if (h !== g.host) {
      throw new CommandError('bad_argument', `${ALL_USERS} stands for every user of the group's host, so host must be ${g.host}, not ${h}`, {
        details: { arg: 'host' },
      });
    }
    return 'all';
  }

  return {
    /** Creates the group, or replaces the options of an existing one; its members stay. */
    async create(group: string, host: string, name: string, description: string, display: string): Promise<boolean> {
      const w = where(group, 'group', host, 'host');
      const rec: SharedGroup = { name, description, displayed: parseDisplay(display) };
      await store.put(TABLES.srg, w.k, rec);
      return true;
    },

    /** Removes the group with every membership, in one batch. */
    async delete(group: string, host: string): Promise<boolean> {
      const g = await existing(group, 'group', host, 'host');
      const ops: BatchOp[] = [{ type: 'del', table: TABLES.srg, key: g.k }];
      for await (const k of store.keys(TABLES.srgMember, { prefix: prefix(g.host, g.group) })) {
        ops.push({ type: 'del', table: TABLES.srgMember, key: k });
        const id = splitKey(k)[2];
        if (id === ALL_USERS) continue;
        const at = id.indexOf('@');
        ops.push({ type: 'del', table: TABLES.srgUser, key: key(id.slice(at + 1), id.slice(0, at), g.host, g.group) });
      }
      await store.batch(ops);
      return true;
    },

    /** `name`, `description`, then `displayed_groups` joined by commas (empty when none). */
    async info(group: string, host: string): Promise<{ key: string; value: string }[]> {
      const { rec } = await existing(group, 'group', host, 'host');
      return [
        { key: 'name', value: rec.name },
        { key: 'description', value: rec.description },
        { key: 'displayed_groups', value: rec.displayed.join(',') },
      ];
    },

    /** Member JIDs in byte order; `@all@` as is. */
    async members(group: string, host: string): Promise<string[]> {
      const g = await existing(group, 'group', host, 'host');
      const ids: string[] = [];
      for await (const k of store.keys(TABLES.srgMember, { prefix: prefix(g.host, g.group) })) ids.push(splitKey(k)[2]);
      return ids;
    },

    async list(host: string): Promise<string[]> {
      const h = accounts.host(host);
      const ids: string[] = [];
      for await (const k of store.keys(TABLES.srg, { prefix: prefix(h) })) ids.push(splitKey(k)[1]);
      return ids;
    },

    /** Adding a member twice is not an error: the second call changes nothing. */
    async userAdd(user: string, host: string, group: string, grouphost: string): Promise<boolean> {
      const g = await existing(group, 'group', grouphost, 'grouphost');
      const m = member(user, host, g);
      if (m !== 'all' && !(await accounts.exists(m.user, m.host))) throw new CommandError('not_found', `User ${m.user}@${m.host} does not exist`);
      await store.batch(memberKeys(g, m).rows.map((r) => ({ type: 'put' as const, ...r, value: 1 })));
      return true;
    },

    async userDel(user: string, host: string, group: string, grouphost: string): Promise<boolean> {
      const g = await existing(group, 'group', grouphost, 'grouphost');
      const m = memberKeys(g, member(user, host, g));
      if ((await store.get(m.rows[0].table, m.rows[0].key)) === undefined) {
        throw new CommandError('not_found', `${m.member} is not a member of ${g.label}`);
      }
      await store.batch(m.rows.map((r) => ({ type: 'del' as const, ...r })));
      return true;
    },

    /** The memberships of a user who goes: found through the reverse index, keyed by the user. */
    async removalOps(host: string, user: string): Promise<BatchOp[]> {
      const ops: BatchOp[] = [];
      for await (const k of store.keys(TABLES.srgUser, { prefix: prefix(host, user) })) {
        const [, , groupHost, group] = splitKey(k);
        ops.push(...memberKeys({ host: groupHost, group }, { user, host }).rows.map((r) => ({ type: 'del' as const, ...r })));
      }
      return ops;
    },
  };
}

export type SrgService = ReturnType<typeof createSrgService>;

import { fieldError } from '../../lib/errors';
import { bareText, type BareJid } from '../../lib/jid';
import type { BatchOp, Key, Store } from '../../storage/types';
import { usersKeys } from '../accounts/records';

/** `[host, group]` → SharedGroup. */
export const SRG = 'srg';
/** `[host, group, member]` → 1, the member being `user@host` or `@all@`. */
export const SRG_MEMBER = 'srg_member';
/** `[member-host, member-user, group-host, group]` → 1: a user's shared groups. */
export const SRG_USER = 'srg_user';

/** What `srg_create` stores under `[host, group]`; members live in their own rows. */
export interface SharedGroup {
  readonly name: string;
  readonly description: string;
  /** Identifiers of groups (same host) whose members this group's members see. */
  readonly displayed: readonly string[];
}

/** The member that stands for every registered user of the group's host. */
export const ALL_USERS = '@all@';

/** A member of a group: an account, or every account of the group's host. */
export type Member = BareJid | typeof ALL_USERS;

/** A group of one host. */
export interface GroupRef {
  readonly host: string;
  readonly group: string;
}

// LevelDB joins key parts with NUL, so a control character in an identifier could forge a key.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;
const MAX_ID_BYTES = 1023;

/** Checks a group identifier; groups are not stringprepped in ejabberd, so neither here. */
export function checkGroupId(id: string, field = 'group'): string {
  if (id.length === 0) throw fieldError('bad_argument', field, (name) => `The group (${name}) must not be empty`);
  if (CONTROL.test(id)) {
    throw fieldError('bad_argument', field, (name) => `Invalid group '${id}' (${name}): a group identifier cannot contain control characters`);
  }
  if (Buffer.byteLength(id) > MAX_ID_BYTES) throw fieldError('bad_argument', field, (name) => `The group (${name}) is longer than ${MAX_ID_BYTES} bytes`);
  return id;
}

export function memberText(member: Member): string {
  return member === ALL_USERS ? ALL_USERS : bareText(member);
}

/** The member part of a key back to a member. */
export function parseMember(text: string): Member {
  if (text === ALL_USERS) return ALL_USERS;
  const at = text.indexOf('@');
  return { user: text.slice(0, at), host: text.slice(at + 1) };
}

export function groupKey(g: GroupRef): Key {
  return [g.host, g.group];
}

export function groupOps(g: GroupRef, rec: SharedGroup): BatchOp[] {
  return [{ type: 'put', table: SRG, key: groupKey(g), value: rec }];
}

/** The member row and, for an account, its reverse-index row; `@all@` has no account to index. */
function memberRows(g: GroupRef, member: Member): { table: string; key: Key }[] {
  const rows = [{ table: SRG_MEMBER, key: [g.host, g.group, memberText(member)] }];
  if (member !== ALL_USERS) rows.push({ table: SRG_USER, key: [member.host, member.user, g.host, g.group] });
  return rows;
}

export function memberOps(g: GroupRef, member: Member): BatchOp[] {
  return memberRows(g, member).map((r) => ({ type: 'put', ...r, value: 1 }));
}

export function memberDelOps(g: GroupRef, member: Member): BatchOp[] {
  return memberRows(g, member).map((r) => ({ type: 'del', ...r }));
}

export function readGroup(store: Store, g: GroupRef): Promise<SharedGroup | undefined> {
  return store.get<SharedGroup>(SRG, groupKey(g));
}

export async function isMember(store: Store, g: GroupRef, member: Member): Promise<boolean> {
  return (await store.get(SRG_MEMBER, [g.host, g.group, memberText(member)])) !== undefined;
}

/** The members of a group, by the bytes of their text (`@all@` first). */
export async function readMembers(store: Store, g: GroupRef): Promise<Member[]> {
  const out: Member[] = [];
  for await (const k of store.keys(SRG_MEMBER, { prefix: groupKey(g) })) out.push(parseMember(k[2]));
  return out;
}

/** Every group of a host, by identifier in byte order. */
export async function* hostGroups(store: Store, host: string): AsyncIterable<[string, SharedGroup]> {
  for await (const [k, rec] of store.entries<SharedGroup>(SRG, { prefix: [host] })) yield [k[1], rec];
}

/** Every membership in the groups of a host, by group then member. */
export async function* hostMembers(store: Store, host: string): AsyncIterable<[string, Member]> {
  for await (const k of store.keys(SRG_MEMBER, { prefix: [host] })) yield [k[1], parseMember(k[2])];
}

/** The groups an account is a member of (not through `@all@`), found through the reverse index. */
export async function userGroups(store: Store, jid: BareJid): Promise<GroupRef[]> {
  const out: GroupRef[] = [];
  for await (const k of store.keys(SRG_USER, { prefix: [jid.host, jid.user] })) out.push({ host: k[2], group: k[3] });
  return out;
}

/** The reverse index of the accounts of a host: each account with a group it is a member of. */
export async function* hostUserIndex(store: Store, host: string): AsyncIterable<[BareJid, GroupRef]> {
  for await (const k of store.keys(SRG_USER, { prefix: [host] }))
    yield [
      { host: k[0], user: k[1] },
      { host: k[2], group: k[3] },
    ];
}

/** The memberships of accounts that go; the groups stay. */
export async function usersRows(store: Store, jids: readonly BareJid[]): Promise<BatchOp[]> {
  return (await usersKeys(store, SRG_USER, jids)).flatMap((k) => memberDelOps({ host: k[2], group: k[3] }, { host: k[0], user: k[1] }));
}

/** Checks a group record that comes from elsewhere (a dump line, an import). */
export function decodeSharedGroup(value: unknown, where = 'shared roster group'): SharedGroup {
  const bad = (field: string, want: string): never => {
    throw new Error(`${where}: ${field} must be ${want}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('the record', 'an object');
  const v = value as Record<string, unknown>;
  if (typeof v.name !== 'string') bad('name', 'text');
  if (typeof v.description !== 'string') bad('description', 'text');
  if (!Array.isArray(v.displayed) || !v.displayed.every((g) => typeof g === 'string' && g !== '' && !CONTROL.test(g))) {
    bad('displayed', 'a list of group identifiers');
  }
  return value as SharedGroup;
}

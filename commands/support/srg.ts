import { CommandError, naming, unlessNotFound } from '../../src/lib/errors';
import type { Accounts } from '../../src/features/accounts/accounts';
import { ALL_USERS, memberText, type GroupRef, type Member } from '../../src/features/srg/records';
import type { Srg } from '../../src/features/srg/srg';

/** What the shared roster group commands use of the node's features. */
export interface SrgFeatures {
  readonly srg: Srg;
  readonly accounts: Accounts;
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
  for (const part of text.split(/\\n|\r?\n/)) if (part !== '' && !ids.includes(part)) ids.push(part);
  return ids;
}

function groupRef(f: SrgFeatures, group: string, host: string, hostArg = 'host'): GroupRef {
  return { host: f.accounts.host(host, hostArg), group };
}

export async function srgCreate(f: SrgFeatures, a: { group: string; host: string; name: string; description: string; display: string }): Promise<boolean> {
  const g = groupRef(f, a.group, a.host);
  const options = { name: a.name, description: a.description, displayed: parseDisplay(a.display) };
  await naming({ displayed: 'display' }, () => f.srg.create(g, options));
  return true;
}

export async function srgDelete(f: SrgFeatures, a: { group: string; host: string }): Promise<boolean> {
  const g = groupRef(f, a.group, a.host);
  // A group that is not there is deleted already, as ejabberd counts it.
  await f.srg.delete(g).catch(unlessNotFound);
  return true;
}

/** `name`, `description`, then `displayed_groups` joined by commas (empty when none). */
export async function srgInfo(f: SrgFeatures, a: { group: string; host: string }): Promise<{ key: string; value: string }[]> {
  const rec = await f.srg.info(groupRef(f, a.group, a.host));
  return [
    { key: 'name', value: rec.name },
    { key: 'description', value: rec.description },
    { key: 'displayed_groups', value: rec.displayed.join(',') },
  ];
}

/** Member JIDs in byte order; `@all@` as is. */
export async function srgMembers(f: SrgFeatures, a: { group: string; host: string }): Promise<string[]> {
  return (await f.srg.members(groupRef(f, a.group, a.host))).map(memberText);
}

export function srgList(f: SrgFeatures, a: { host: string }): Promise<string[]> {
  return f.srg.list(f.accounts.host(a.host));
}

type MemberArgs = { user: string; host: string; group: string; grouphost: string };

export async function srgUserAdd(f: SrgFeatures, a: MemberArgs): Promise<boolean> {
  const g = await existingGroup(f, a);
  await f.srg.userAdd(g, member(f, a.user, a.host, g));
  return true;
}

export async function srgUserDel(f: SrgFeatures, a: MemberArgs): Promise<boolean> {
  const g = groupRef(f, a.group, a.grouphost, 'grouphost');
  const who = member(f, a.user, a.host, g);
  // Not a member (or no such group): nothing to delete, which ejabberd counts as done.
  await f.srg.userDel(g, who).catch(unlessNotFound);
  return true;
}

/** The group is looked for before the member: an unknown group is what an operator hears first. */
async function existingGroup(f: SrgFeatures, a: MemberArgs): Promise<GroupRef> {
  const g = groupRef(f, a.group, a.grouphost, 'grouphost');
  await f.srg.info(g);
  return g;
}

/** The `user host` pair of srg_user_add/del: a local JID, or `@all@` of the group's host. */
function member(f: SrgFeatures, user: string, host: string, g: GroupRef): Member {
  if (user.toLowerCase() !== ALL_USERS) return f.accounts.jid(user, host);
  const h = f.accounts.host(host);
  if (h !== g.host) {
    throw new CommandError('bad_argument', `${ALL_USERS} stands for every user of the group's host, so host must be ${g.host}, not ${h}`, {
      details: { arg: 'host' },
    });
  }
  return ALL_USERS;
}

import { createAccounts, type Accounts } from '../../src/features/accounts/accounts';
import type { FeatureDeps } from '../../src/features/deps';
import { ALL_USERS, decodeSharedGroup, hostMembers, hostUserIndex, readGroup, userGroups, usersRows, type GroupRef } from '../../src/features/srg/records';
import { createSrg, type Srg } from '../../src/features/srg/srg';
import type { BareJid } from '../../src/lib/jid';
import { memoryDeps, rejection } from '../helpers/features';

const alice: BareJid = { user: 'alice', host: 'localhost' };
const bob: BareJid = { user: 'bob', host: 'localhost' };
const carol: BareJid = { user: 'carol', host: 'example.org' };
const team: GroupRef = { host: 'localhost', group: 'team' };
const options = { name: 'Team', description: 'Everyone', displayed: ['team', 'board'] };

let deps: FeatureDeps;
let accounts: Accounts;
let srg: Srg;

beforeEach(async () => {
  deps = memoryDeps(['localhost', 'example.org']);
  accounts = createAccounts(deps, () => [usersRows]);
  srg = createSrg(deps, accounts);
  for (const jid of [alice, bob, carol]) await accounts.register(jid, 'pw');
});

async function index(host: string): Promise<string[]> {
  const out: string[] = [];
  for await (const [jid, g] of hostUserIndex(deps.store, host)) out.push(`${jid.user}@${jid.host} ${g.group}@${g.host}`);
  return out;
}

describe('groups', () => {
  test('create, info and list; creating again replaces the options and keeps the members', async () => {
    expect(await srg.create(team, options)).toEqual(options);
    await srg.create({ host: 'localhost', group: 'Alpha' }, { name: 'A', description: '', displayed: [] });
    expect(await srg.info(team)).toEqual(options);
    expect(await srg.list('localhost')).toEqual(['Alpha', 'team']);
    expect(await srg.list('example.org')).toEqual([]);
    await srg.userAdd(team, alice);
    await srg.create(team, { name: 'New', description: '', displayed: [] });
    expect(await readGroup(deps.store, team)).toEqual({ name: 'New', description: '', displayed: [] });
    expect(await srg.members(team)).toEqual([alice]);
  });

  test('identifiers are checked, errors naming the domain field', async () => {
    const empty = await rejection(srg.create({ host: 'localhost', group: '' }, options));
    expect([empty.code, empty.message]).toEqual(['bad_argument', 'The group (group) must not be empty']);
    const shown = await rejection(srg.create(team, { ...options, displayed: ['ok', 'bad\tid'] }));
    expect([shown.message, shown.details?.field]).toEqual([
      "Invalid group 'bad\tid' (displayed): a group identifier cannot contain control characters",
      'displayed',
    ]);
    expect((await rejection(srg.info({ host: 'localhost', group: 'g'.repeat(1024) }))).message).toBe('The group (group) is longer than 1023 bytes');
    expect(await srg.list('localhost')).toEqual([]);
  });

  test('an unknown group is not found', async () => {
    for (const call of [srg.info(team), srg.members(team), srg.delete(team), srg.userAdd(team, alice), srg.userDel(team, alice)]) {
      const err = await rejection(call);
      expect([err.code, err.message]).toEqual(['not_found', "Shared roster group 'team' on localhost does not exist"]);
    }
  });

  test('delete removes the group, its members and their index rows, and nothing else', async () => {
    const other = { host: 'localhost', group: 'other' };
    for (const g of [team, other]) {
      await srg.create(g, options);
      await srg.userAdd(g, alice);
    }
    await srg.userAdd(team, ALL_USERS);
    await srg.delete(team);
    expect(await srg.list('localhost')).toEqual(['other']);
    expect(await index('localhost')).toEqual(['alice@localhost other@localhost']);
    const members: string[] = [];
    for await (const [g] of hostMembers(deps.store, 'localhost')) members.push(g);
    expect(members).toEqual(['other']);
  });
});

describe('members', () => {
  beforeEach(() => srg.create(team, options));

  test('userAdd adds accounts of any served host and @all@; twice changes nothing', async () => {
    for (const m of [carol, bob, ALL_USERS, bob] as const) await srg.userAdd(team, m);
    expect(await srg.members(team)).toEqual([ALL_USERS, bob, carol]);
    expect(await index('example.org')).toEqual(['carol@example.org team@localhost']);
    expect(await userGroups(deps.store, bob)).toEqual([team]);
  });

  test('an account that does not exist is not added', async () => {
    const err = await rejection(srg.userAdd(team, { user: 'zoe', host: 'localhost' }));
    expect([err.code, err.message]).toEqual(['not_found', 'User zoe@localhost does not exist']);
    expect(await srg.members(team)).toEqual([]);
  });

  test('userDel removes one membership; a non-member is not found', async () => {
    await srg.userAdd(team, alice);
    await srg.userAdd(team, ALL_USERS);
    await srg.userDel(team, alice);
    expect(await srg.members(team)).toEqual([ALL_USERS]);
    expect(await index('localhost')).toEqual([]);
    await srg.userDel(team, ALL_USERS);
    const err = await rejection(srg.userDel(team, ALL_USERS));
    expect([err.code, err.message]).toEqual(['not_found', "@all@ is not a member of shared roster group 'team' on localhost"]);
    expect((await rejection(srg.userDel(team, bob))).message).toBe("bob@localhost is not a member of shared roster group 'team' on localhost");
  });

  test('concurrent additions and a removal of the account leave no membership of a gone account', async () => {
    const users = Array.from({ length: 20 }, (_, i) => ({ user: `u${i}`, host: 'localhost' }));
    for (const u of users) await accounts.register(u, 'pw');
    // Whichever comes first, u3 ends up without a membership (its addition may fail: no account).
    await Promise.allSettled([...users.map((u) => srg.userAdd(team, u)), accounts.remove(users[3])]);
    const members = await srg.members(team);
    expect(members).toHaveLength(19);
    expect(members).not.toContainEqual(users[3]);
    expect(await userGroups(deps.store, users[3])).toEqual([]);
  });

  test('removing an account removes its memberships in every group, and only its own', async () => {
    const ext = { host: 'example.org', group: 'ext' };
    await srg.create(ext, options);
    for (const [g, m] of [
      [team, alice],
      [ext, alice],
      [team, bob],
      [team, ALL_USERS],
    ] as const)
      await srg.userAdd(g, m);
    await accounts.remove(alice);
    expect(await srg.members(team)).toEqual([ALL_USERS, bob]);
    expect(await srg.members(ext)).toEqual([]);
    expect(await usersRows(deps.store, [alice])).toEqual([]);
    expect(await index('localhost')).toEqual(['bob@localhost team@localhost']);
  });
});

test('decodeSharedGroup accepts a stored group and names the field of a bad one', () => {
  expect(decodeSharedGroup(options)).toEqual(options);
  expect(() => decodeSharedGroup({ ...options, description: 3 })).toThrow('shared roster group: description must be text');
  expect(() => decodeSharedGroup({ ...options, displayed: ['a\u0000b'] }, 'line 2')).toThrow('line 2: displayed must be a list of group identifiers');
});

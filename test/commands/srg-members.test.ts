import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { fails, ok, tempHome } from '../helpers/cli';
import { openLevelStore } from '../../src/storage/level';
import { hostGroups, hostMembers, hostUserIndex, memberText } from '../../src/features/srg/records';

let home: ReturnType<typeof tempHome>;
beforeEach(() => (home = tempHome()));
afterEach(() => home.cleanup());

const ADD_USAGE = 'Usage: ctl srg_user_add user host group grouphost\n';

function hosts(...names: string[]) {
  writeFileSync(join(home.dir, 'ctl.yml'), `hosts:\n${names.map((n) => `  - ${n}\n`).join('')}`);
}

async function register(...jids: string[]) {
  for (const jid of jids) {
    const [user, host] = jid.split('@');
    expect((await home.ctl(['register', user, host, 'pw'])).status).toBe(0);
  }
}

/** Every key of the shared-roster tables, its parts joined by `|`. */
async function rows(): Promise<Record<string, string[]>> {
  const store = await openLevelStore(join(home.dir, 'db'));
  try {
    const out: Record<string, string[]> = { srg: [], srg_member: [], srg_user: [] };
    // The hosts in byte order, as the tables keep them.
    for (const h of ['example.org', 'localhost']) {
      for await (const [group] of hostGroups(store, h)) out.srg.push(`${h}|${group}`);
      for await (const [group, m] of hostMembers(store, h)) out.srg_member.push(`${h}|${group}|${memberText(m)}`);
      for await (const [jid, g] of hostUserIndex(store, h)) out.srg_user.push(`${jid.host}|${jid.user}|${g.host}|${g.group}`);
    }
    return out;
  } finally {
    await store.close();
  }
}

describe('srg_user_add and srg_get_members', () => {
  beforeEach(async () => {
    await register('alice@localhost', 'bob@localhost', 'carol@localhost');
    await home.ctl(['srg_create', 'team', 'localhost', 'Team', '', 'team']);
  });

  test('adds members; they are listed sorted, with @all@ as is', async () => {
    for (const u of ['carol', 'alice', '@all@']) expect(await home.ctl(['srg_user_add', u, 'localhost', 'team', 'localhost'])).toEqual(ok());
    expect(await home.ctl(['srg_get_members', 'team', 'localhost'])).toEqual(ok('@all@\nalice@localhost\ncarol@localhost\n'));
    expect(await rows()).toEqual({
      srg: ['localhost|team'],
      srg_member: ['localhost|team|@all@', 'localhost|team|alice@localhost', 'localhost|team|carol@localhost'],
      srg_user: ['localhost|alice|localhost|team', 'localhost|carol|localhost|team'],
    });
  });

  test('adding a member twice succeeds and changes nothing', async () => {
    expect(await home.ctl(['srg_user_add', 'alice', 'localhost', 'team', 'localhost'])).toEqual(ok());
    expect(await home.ctl(['srg_user_add', 'ALICE', 'LocalHost', 'team', 'localhost'])).toEqual(ok());
    expect(await home.ctl(['srg_get_members', 'team', 'localhost'])).toEqual(ok('alice@localhost\n'));
  });

  test('an empty group prints nothing; an unknown group fails', async () => {
    expect(await home.ctl(['srg_get_members', 'team', 'localhost'])).toEqual(ok());
    expect(await home.ctl(['srg_get_members', 'nope', 'localhost'])).toEqual(fails(1, "Error: Shared roster group 'nope' on localhost does not exist\n"));
  });

  test('members may come from another configured host', async () => {
    hosts('localhost', 'example.org');
    await register('dave@example.org');
    expect(await home.ctl(['srg_user_add', 'dave', 'example.org', 'team', 'localhost'])).toEqual(ok());
    expect(await home.ctl(['srg_get_members', 'team', 'localhost'])).toEqual(ok('dave@example.org\n'));
    expect((await rows()).srg_user).toEqual(['example.org|dave|localhost|team']);
  });

  test.each([
    ['an unregistered user', ['zoe', 'localhost', 'team', 'localhost'], fails(1, 'Error: User zoe@localhost does not exist\n')],
    ['an unknown group', ['alice', 'localhost', 'nope', 'localhost'], fails(1, "Error: Shared roster group 'nope' on localhost does not exist\n")],
    ['a group of the wrong host', ['alice', 'localhost', 'team', 'example.org'], fails(1, expect.stringMatching(/^Error: Unknown host 'example.org'/))],
    ['an unknown user host', ['alice', 'example.org', 'team', 'localhost'], fails(1, expect.stringMatching(/^Error: Unknown host 'example.org'/))],
    [
      'a malformed user name',
      ['a b', 'localhost', 'team', 'localhost'],
      fails(2, `Error: Invalid user name 'a b' (user): a user name cannot contain spaces, control characters or any of "&'/:<>@\n${ADD_USAGE}`),
    ],
    ['a malformed group host', ['alice', 'localhost', 'team', 'a b'], fails(2, `Error: Invalid host name 'a b' (grouphost)\n${ADD_USAGE}`)],
    ['an empty group', ['alice', 'localhost', '', 'localhost'], fails(2, `Error: The group (group) must not be empty\n${ADD_USAGE}`)],
    [
      'a JID in place of the user name',
      ['alice@localhost', 'localhost', 'team', 'localhost'],
      fails(2, `Error: Invalid user name 'alice@localhost' (user): a user name cannot contain spaces, control characters or any of "&'/:<>@\n${ADD_USAGE}`),
    ],
  ])('refuses %s and adds nothing', async (_label, args, expected) => {
    expect(await home.ctl(['srg_user_add', ...args])).toEqual(expected);
    expect(await home.ctl(['srg_get_members', 'team', 'localhost'])).toEqual(ok());
  });

  test("@all@ must name the group's own host", async () => {
    hosts('localhost', 'example.org');
    expect(await home.ctl(['srg_user_add', '@all@', 'example.org', 'team', 'localhost'])).toEqual(
      fails(2, `Error: @all@ stands for every user of the group's host, so host must be localhost, not example.org\n${ADD_USAGE}`),
    );
    expect(await home.ctl(['srg_user_add', '@ALL@', 'localhost', 'team', 'localhost'])).toEqual(ok());
    expect(await home.ctl(['srg_get_members', 'team', 'localhost'])).toEqual(ok('@all@\n'));
  });

  test('a banned user can still be added', async () => {
    await home.ctl(['ban_account', 'bob', 'localhost', 'spam']);
    expect(await home.ctl(['srg_user_add', 'bob', 'localhost', 'team', 'localhost'])).toEqual(ok());
    expect(await home.ctl(['srg_get_members', 'team', 'localhost'])).toEqual(ok('bob@localhost\n'));
  });
});

describe('srg_user_del', () => {
  beforeEach(async () => {
    await register('alice@localhost', 'bob@localhost');
    await home.ctl(['srg_create', 'team', 'localhost', 'Team', '', '']);
    await home.ctl(['srg_create', 'other', 'localhost', 'Other', '', '']);
    for (const g of ['team', 'other']) {
      for (const u of ['alice', 'bob', '@all@']) await home.ctl(['srg_user_add', u, 'localhost', g, 'localhost']);
    }
  });

  test('removes one membership, both of its rows, and nothing else', async () => {
    expect(await home.ctl(['srg_user_del', 'Alice', 'localhost', 'team', 'localhost'])).toEqual(ok());
    expect(await home.ctl(['srg_get_members', 'team', 'localhost'])).toEqual(ok('@all@\nbob@localhost\n'));
    expect(await home.ctl(['srg_get_members', 'other', 'localhost'])).toEqual(ok('@all@\nalice@localhost\nbob@localhost\n'));
    expect((await rows()).srg_user).toEqual(['localhost|alice|localhost|other', 'localhost|bob|localhost|other', 'localhost|bob|localhost|team']);
  });

  test('removes @all@', async () => {
    expect(await home.ctl(['srg_user_del', '@all@', 'localhost', 'team', 'localhost'])).toEqual(ok());
    expect(await home.ctl(['srg_get_members', 'team', 'localhost'])).toEqual(ok('alice@localhost\nbob@localhost\n'));
  });

  test('a non-member, a second removal or a group that does not exist: nothing to delete, exit 0, silently (as ejabberdctl)', async () => {
    await home.ctl(['srg_user_del', 'alice', 'localhost', 'team', 'localhost']);
    expect(await home.ctl(['srg_user_del', 'alice', 'localhost', 'team', 'localhost'])).toEqual(ok());
    await home.ctl(['srg_user_del', '@all@', 'localhost', 'team', 'localhost']);
    expect(await home.ctl(['srg_user_del', '@all@', 'localhost', 'team', 'localhost'])).toEqual(ok());
    expect(await home.ctl(['srg_user_del', 'zoe', 'localhost', 'team', 'localhost'])).toEqual(ok());
    expect(await home.ctl(['srg_user_del', 'bob', 'localhost', 'nope', 'localhost'])).toEqual(ok());
    expect(await home.ctl(['srg_get_members', 'team', 'localhost'])).toEqual(ok('bob@localhost\n'));
  });

  test('an unknown host or malformed user fails', async () => {
    expect((await home.ctl(['srg_user_del', 'alice', 'nowhere.example', 'team', 'localhost'])).stderr).toMatch(/^Error: Unknown host 'nowhere.example'/);
    expect((await home.ctl(['srg_user_del', 'a/b', 'localhost', 'team', 'localhost'])).status).toBe(2);
    expect(await home.ctl(['srg_get_members', 'team', 'localhost'])).toEqual(ok('@all@\nalice@localhost\nbob@localhost\n'));
  });
});

describe('accounts and memberships', () => {
  beforeEach(async () => {
    hosts('localhost', 'example.org');
    await register('alice@localhost', 'bob@localhost', 'alice@example.org');
    await home.ctl(['srg_create', 'team', 'localhost', 'Team', '', '']);
    await home.ctl(['srg_create', 'ext', 'example.org', 'Ext', '', '']);
    for (const [u, h, g, gh] of [
      ['alice', 'localhost', 'team', 'localhost'],
      ['alice', 'localhost', 'ext', 'example.org'],
      ['bob', 'localhost', 'team', 'localhost'],
      ['alice', 'example.org', 'team', 'localhost'],
      ['@all@', 'localhost', 'team', 'localhost'],
    ]) {
      expect((await home.ctl(['srg_user_add', u, h, g, gh])).status).toBe(0);
    }
  });

  test("unregister removes the user's memberships in every group, and nothing else", async () => {
    const before = await rows();
    expect(await home.ctl(['unregister', 'alice', 'localhost'])).toEqual(ok());
    expect(await home.ctl(['srg_get_members', 'team', 'localhost'])).toEqual(ok('@all@\nalice@example.org\nbob@localhost\n'));
    expect(await home.ctl(['srg_get_members', 'ext', 'example.org'])).toEqual(ok());
    expect(await home.ctl(['srg_list', 'localhost'])).toEqual(ok('team\n'));
    expect(await rows()).toEqual({
      srg: before.srg,
      srg_member: ['localhost|team|@all@', 'localhost|team|alice@example.org', 'localhost|team|bob@localhost'],
      srg_user: ['example.org|alice|localhost|team', 'localhost|bob|localhost|team'],
    });
    // Registered again, the user starts with no memberships.
    await register('alice@localhost');
    expect(await home.ctl(['srg_get_members', 'team', 'localhost'])).toEqual(ok('@all@\nalice@example.org\nbob@localhost\n'));
  });

  test('ban_account keeps the memberships', async () => {
    const before = await rows();
    expect(await home.ctl(['ban_account', 'alice', 'localhost', 'spam'])).toEqual(ok());
    expect(await rows()).toEqual(before);
    expect(await home.ctl(['srg_get_members', 'team', 'localhost'])).toEqual(ok('@all@\nalice@example.org\nalice@localhost\nbob@localhost\n'));
  });

  test('delete_old_users removes the memberships of the users it deletes', async () => {
    expect((await home.ctl(['delete_old_users_vhost', 'example.org', '1'])).status).toBe(0);
    expect(await home.ctl(['srg_get_members', 'team', 'localhost'])).toEqual(ok('@all@\nalice@localhost\nbob@localhost\n'));
    expect((await rows()).srg_user).toEqual(['localhost|alice|example.org|ext', 'localhost|alice|localhost|team', 'localhost|bob|localhost|team']);
  });
});

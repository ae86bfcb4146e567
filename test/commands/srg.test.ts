import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { fails, ok, tempHome } from '../helpers/cli';
import { openLevelStore } from '../../src/storage/level';
import { hostMembers, hostUserIndex, memberText, readGroup } from '../../src/features/srg/records';

let home: ReturnType<typeof tempHome>;
beforeEach(() => (home = tempHome()));
afterEach(() => home.cleanup());

const CREATE_USAGE = 'Usage: ctl srg_create group host name description display\n';

function hosts(...names: string[]) {
  writeFileSync(join(home.dir, 'ctl.yml'), `hosts:\n${names.map((n) => `  - ${n}\n`).join('')}`);
}

async function storedGroup(host: string, group: string): Promise<unknown> {
  const store = await openLevelStore(join(home.dir, 'db'));
  try {
    return await readGroup(store, { host, group });
  } finally {
    await store.close();
  }
}

const info = (name: string, description: string, displayed: string) => ok(`name\t${name}\ndescription\t${description}\ndisplayed_groups\t${displayed}\n`);

describe('srg_create and srg_get_info', () => {
  test('creates a group; its info is name, description and displayed groups', async () => {
    expect(await home.ctl(['srg_create', 'staff', 'localhost', 'Staff', 'Everyone paid', 'staff\\nboard'])).toEqual(ok());
    expect(await home.ctl(['srg_get_info', 'staff', 'localhost'])).toEqual(info('Staff', 'Everyone paid', 'staff,board'));
    expect(await storedGroup('localhost', 'staff')).toEqual({ name: 'Staff', description: 'Everyone paid', displayed: ['staff', 'board'] });
  });

  test.each([
    ['an empty display', '', ''],
    ['one group', 'g1', 'g1'],
    ['groups separated by backslash-n', 'g1\\ng2\\ng3', 'g1,g2,g3'],
    ['the longdesc form, double quotes included', '"group1\\ngroup2"', 'group1,group2'],
    ['real newlines (JSON callers)', 'g1\ng2\r\ng3', 'g1,g2,g3'],
    ['empty pieces and repeats, which are dropped', '\\ng1\\n\\ng2\\ng1\\n', 'g1,g2'],
    ['a lone pair of quotes', '""', ''],
    ['spaces, kept as typed', ' g 1 \\ng2', ' g 1 ,g2'],
  ])('display: %s', async (_label, display, shown) => {
    expect(await home.ctl(['srg_create', 'g', 'localhost', 'n', 'd', display])).toEqual(ok());
    expect(await home.ctl(['srg_get_info', 'g', 'localhost'])).toEqual(info('n', 'd', shown));
  });

  test('a single double quote is part of the identifier, not a wrapper', async () => {
    await home.ctl(['srg_create', 'g', 'localhost', 'n', 'd', '"g1']);
    expect(await storedGroup('localhost', 'g')).toEqual({ name: 'n', description: 'd', displayed: ['"g1'] });
  });

  test('creating an existing group replaces its options and keeps its members', async () => {
    await home.ctl(['register', 'alice', 'localhost', 'pw']);
    await home.ctl(['srg_create', 'g', 'localhost', 'Old', 'old text', 'a\\nb']);
    await home.ctl(['srg_user_add', 'alice', 'localhost', 'g', 'localhost']);
    expect(await home.ctl(['srg_create', 'g', 'localhost', 'New', '', ''])).toEqual(ok());
    expect(await home.ctl(['srg_get_info', 'g', 'localhost'])).toEqual(info('New', '', ''));
    expect(await home.ctl(['srg_get_members', 'g', 'localhost'])).toEqual(ok('alice@localhost\n'));
  });

  test('names and descriptions keep spaces; tabs and newlines are escaped in the output', async () => {
    await home.ctl(['srg_create', 'g', 'localhost', 'Group number 1', 'line one\nline\ttwo \\ end', '']);
    expect(await home.ctl(['srg_get_info', 'g', 'localhost'])).toEqual(info('Group number 1', 'line one\\nline\\ttwo \\\\ end', ''));
  });

  test('group identifiers are kept as typed: case and unicode matter', async () => {
    await home.ctl(['srg_create', 'Team', 'localhost', 'upper', '', '']);
    await home.ctl(['srg_create', 'team', 'localhost', 'lower', '', '']);
    expect((await home.ctl(['srg_get_info', 'Team', 'localhost'])).stdout).toBe('name\tupper\ndescription\t\ndisplayed_groups\t\n');
    expect(await home.ctl(['srg_list', 'localhost'])).toEqual(ok('Team\nteam\n'));
  });

  test('the host is normalised like a JID domain', async () => {
    expect(await home.ctl(['srg_create', 'g', 'LocalHost', 'n', 'd', ''])).toEqual(ok());
    expect(await home.ctl(['srg_list', 'localhost'])).toEqual(ok('g\n'));
  });

  test.each([
    ['an empty group', ['', 'localhost', 'n', 'd', ''], 'Error: The group (group) must not be empty\n'],
    ['a tab in the group', ['a\tb', 'localhost', 'n', 'd', ''], "Error: Invalid group 'a\tb' (group): a group identifier cannot contain control characters\n"],
    [
      'a NUL in the group',
      ['a\u0000b', 'localhost', 'n', 'd', ''],
      "Error: Invalid group 'a\u0000b' (group): a group identifier cannot contain control characters\n",
    ],
    ['a 1024-byte group', ['g'.repeat(1024), 'localhost', 'n', 'd', ''], 'Error: The group (group) is longer than 1023 bytes\n'],
    [
      'a tab in a displayed group',
      ['g', 'localhost', 'n', 'd', 'ok\\nbad\tid'],
      "Error: Invalid group 'bad\tid' (display): a group identifier cannot contain control characters\n",
    ],
    ['a malformed host', ['g', 'bad host', 'n', 'd', ''], "Error: Invalid host name 'bad host' (host)\n"],
  ])('refuses %s as a usage error and stores nothing', async (_label, args, message) => {
    expect(await home.ctl(['srg_create', ...args])).toEqual(fails(2, message + CREATE_USAGE));
    expect(await home.ctl(['srg_list', 'localhost'])).toEqual(ok());
  });

  test('refuses an unknown host, naming the configured hosts', async () => {
    expect(await home.ctl(['srg_create', 'g', 'example.org', 'n', 'd', ''])).toEqual(
      fails(1, `Error: Unknown host 'example.org': this node serves localhost (hosts in ${join(home.dir, 'ctl.yml')})\n`),
    );
  });

  test('wrong number of arguments is a usage error', async () => {
    expect(await home.ctl(['srg_create', 'g', 'localhost', 'n', 'd'])).toEqual(fails(2, `Error: missing argument 'display'\n${CREATE_USAGE}`));
  });

  test('srg_get_info of an unknown group or host fails', async () => {
    expect(await home.ctl(['srg_get_info', 'nope', 'localhost'])).toEqual(fails(1, "Error: Shared roster group 'nope' on localhost does not exist\n"));
    expect((await home.ctl(['srg_get_info', 'nope', 'example.org'])).stderr).toMatch(/^Error: Unknown host 'example.org'/);
    expect(await home.ctl(['srg_get_info', '', 'localhost'])).toEqual(
      fails(2, 'Error: The group (group) must not be empty\nUsage: ctl srg_get_info group host\n'),
    );
  });

  test('srg_get_info as JSON: a list of key/value objects', async () => {
    await home.ctl(['srg_create', 'g', 'localhost', 'n', 'd', 'a\\nb']);
    const r = await home.ctl(['srg_get_info', 'g', 'localhost', '--format', 'json']);
    expect(JSON.parse(r.stdout)).toEqual([
      { key: 'name', value: 'n' },
      { key: 'description', value: 'd' },
      { key: 'displayed_groups', value: 'a,b' },
    ]);
  });
});

describe('srg_list', () => {
  test('lists the groups of a host sorted by their bytes, and only that host', async () => {
    hosts('a.example', 'b.example');
    for (const g of ['zeta', 'Alpha', 'émile', 'beta', '10']) await home.ctl(['srg_create', g, 'a.example', g, '', '']);
    await home.ctl(['srg_create', 'other', 'b.example', 'o', '', '']);
    expect(await home.ctl(['srg_list', 'a.example'])).toEqual(ok('10\nAlpha\nbeta\nzeta\némile\n'));
    expect(await home.ctl(['srg_list', 'b.example'])).toEqual(ok('other\n'));
  });

  test('a host without groups prints nothing; an unknown host fails', async () => {
    expect(await home.ctl(['srg_list', 'localhost'])).toEqual(ok());
    expect((await home.ctl(['srg_list', 'nowhere.example'])).status).toBe(1);
  });
});

describe('srg_delete', () => {
  test('removes the group and every membership, and nothing else', async () => {
    await home.ctl(['register', 'alice', 'localhost', 'pw']);
    await home.ctl(['register', 'bob', 'localhost', 'pw']);
    await home.ctl(['srg_create', 'g1', 'localhost', 'n', 'd', '']);
    await home.ctl(['srg_create', 'g2', 'localhost', 'n', 'd', '']);
    for (const g of ['g1', 'g2']) {
      await home.ctl(['srg_user_add', 'alice', 'localhost', g, 'localhost']);
      await home.ctl(['srg_user_add', '@all@', 'localhost', g, 'localhost']);
    }
    await home.ctl(['srg_user_add', 'bob', 'localhost', 'g1', 'localhost']);

    expect(await home.ctl(['srg_delete', 'g1', 'localhost'])).toEqual(ok());
    expect(await home.ctl(['srg_list', 'localhost'])).toEqual(ok('g2\n'));
    expect(await home.ctl(['srg_get_members', 'g2', 'localhost'])).toEqual(ok('@all@\nalice@localhost\n'));

    const store = await openLevelStore(join(home.dir, 'db'));
    try {
      const members: string[] = [];
      for await (const [group, m] of hostMembers(store, 'localhost')) members.push(`localhost|${group}|${memberText(m)}`);
      const index: string[] = [];
      for await (const [jid, g] of hostUserIndex(store, 'localhost')) index.push(`${jid.host}|${jid.user}|${g.host}|${g.group}`);
      expect(members).toEqual(['localhost|g2|@all@', 'localhost|g2|alice@localhost']);
      expect(index).toEqual(['localhost|alice|localhost|g2']);
    } finally {
      await store.close();
    }

    // Recreated, the group starts empty.
    await home.ctl(['srg_create', 'g1', 'localhost', 'n', 'd', '']);
    expect(await home.ctl(['srg_get_members', 'g1', 'localhost'])).toEqual(ok());
  });

  test('a second delete, or a group that never was, succeeds silently (as ejabberdctl); an unknown host fails', async () => {
    await home.ctl(['srg_create', 'g', 'localhost', 'n', 'd', '']);
    expect(await home.ctl(['srg_delete', 'g', 'localhost'])).toEqual(ok());
    expect(await home.ctl(['srg_delete', 'g', 'localhost'])).toEqual(ok());
    expect(await home.ctl(['srg_delete', 'never', 'localhost'])).toEqual(ok());
    expect((await home.ctl(['srg_delete', 'g', 'nowhere.example'])).stderr).toMatch(/^Error: Unknown host 'nowhere.example'/);
  });

  test('a group of the same name on another host is untouched', async () => {
    hosts('a.example', 'b.example');
    await home.ctl(['srg_create', 'g', 'a.example', 'A', '', '']);
    await home.ctl(['srg_create', 'g', 'b.example', 'B', '', '']);
    expect(await home.ctl(['srg_delete', 'g', 'a.example'])).toEqual(ok());
    expect((await home.ctl(['srg_get_info', 'g', 'b.example'])).stdout).toBe('name\tB\ndescription\t\ndisplayed_groups\t\n');
  });
});

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ok, tempHome } from '../helpers/cli';
import { openLevelStore } from '../../src/storage/level';
import { hostRosters, rosterKey, ROSTER } from '../../src/features/roster/records';

let home: ReturnType<typeof tempHome>;
beforeEach(async () => {
  home = tempHome();
  writeFileSync(join(home.dir, 'ctl.yml'), 'auth_password_format: plain\nhosts: [localhost, example.org]\n');
  for (const jid of ['alice@localhost', 'bob@localhost', 'carol@example.org']) {
    const [user, host] = jid.split('@');
    expect((await home.ctl(['register', user, host, 'pw'])).status).toBe(0);
  }
});
afterEach(() => home.cleanup());

function file(name: string, text: string): string {
  const path = join(home.dir, name);
  writeFileSync(path, text);
  return path;
}

async function roster(user: string, host: string): Promise<string> {
  const r = await home.ctl(['get_roster', user, host]);
  expect(r.status).toBe(0);
  return r.stdout;
}

describe('push_roster', () => {
  test('our line format: JID, groups and nick separated by TABs, comments and blank lines, CRLF', async () => {
    const path = file(
      'roster.txt',
      '# staff\r\n\r\nbob@localhost\tworkers\tBob\r\n  # indented comment\n' +
        'Carol@Example.org\tbosses;workers\tCarol C.\n' +
        'alice@localhost\tworkers\tMe\n' +
        'icq.example.net\t\tICQ gateway\n' +
        'dave@remote.net \n',
    );
    expect(await home.ctl(['push_roster', path, 'alice', 'localhost'])).toEqual(ok());
    expect(await roster('alice', 'localhost')).toBe(
      'bob@localhost\tBob\tboth\tnone\tworkers\n' +
        'carol@example.org\tCarol C.\tboth\tnone\tbosses\n' +
        'carol@example.org\tCarol C.\tboth\tnone\tworkers\n' +
        'dave@remote.net\t\tboth\tnone\t\n' +
        'icq.example.net\tICQ gateway\tboth\tnone\t\n',
    );
    // One-sided: the contacts' rosters are untouched.
    expect(await roster('bob', 'localhost')).toBe('');
  });

  test("ejabberd's Erlang-term file: binaries or strings, comments, the user themself skipped", async () => {
    const path = file(
      'roster.erl',
      '%% template\n[{<<"bob">>,<<"localhost">>,<<"workers">>,<<"Bob">>},\n' +
        ' {"carol", "example.org", "bosses", "Carol"}, % a string entry\n' +
        ' {<<"alice">>, <<"localhost">>, <<"workers">>, <<"Alice">>},\n' +
        " {'dave', 'remote.net', <<>>, <<\"Dåve\"/utf8>>}].\n",
    );
    expect(await home.ctl(['push_roster', path, 'alice', 'localhost'])).toEqual(ok());
    expect(await roster('alice', 'localhost')).toBe(
      'bob@localhost\tBob\tboth\tnone\tworkers\ncarol@example.org\tCarol\tboth\tnone\tbosses\ndave@remote.net\tDåve\tboth\tnone\t\n',
    );
  });

  test('several terms and bare tuples are accepted; the same contact twice adds up its groups', async () => {
    const path = file('r.erl', '{"bob", "localhost", "a", "Bob"}.\n[{"bob", "localhost", "b", ""}].\n');
    expect(await home.ctl(['push_roster', path, 'carol', 'example.org'])).toEqual(ok());
    expect(await roster('carol', 'example.org')).toBe('bob@localhost\tBob\tboth\tnone\ta\nbob@localhost\tBob\tboth\tnone\tb\n');
  });

  test('an existing item becomes both, keeps its groups and gains the new ones', async () => {
    await home.ctl(['add_rosteritem', 'alice', 'localhost', 'bob', 'localhost', 'Old', 'friends', 'none']);
    await home.ctl(['add_rosteritem', 'alice', 'localhost', 'carol', 'example.org', 'Kept', '', 'from']);
    const path = file('r.txt', 'bob@localhost\tworkers\tBob\ncarol@example.org\n');
    expect(await home.ctl(['push_roster', path, 'alice', 'localhost'])).toEqual(ok());
    expect(await roster('alice', 'localhost')).toBe(
      'bob@localhost\tBob\tboth\tnone\tfriends\nbob@localhost\tBob\tboth\tnone\tworkers\ncarol@example.org\tKept\tboth\tnone\t\n',
    );
  });

  test('an empty file pushes nothing', async () => {
    expect(await home.ctl(['push_roster', file('empty.txt', '# nothing yet\n'), 'alice', 'localhost'])).toEqual(ok());
    expect(await roster('alice', 'localhost')).toBe('');
  });

  test('a missing file, a relative one, a directory: errors that name the path', async () => {
    const missing = join(home.dir, 'missing.txt');
    expect(await home.ctl(['push_roster', missing, 'alice', 'localhost'])).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: Cannot read the roster file ${missing}: it does not exist\n`,
    });
    expect((await home.ctl(['push_roster', 'no-such-roster.txt', 'alice', 'localhost'])).stderr).toBe(
      `Error: Cannot read the roster file ${resolve('no-such-roster.txt')}: it does not exist\n`,
    );
    mkdirSync(join(home.dir, 'adir'));
    expect((await home.ctl(['push_roster', join(home.dir, 'adir'), 'alice', 'localhost'])).stderr).toBe(
      `Error: Cannot read the roster file ${join(home.dir, 'adir')}: it is a directory\n`,
    );
  });

  test('the user must exist, on a configured host', async () => {
    const path = file('r.txt', 'bob@localhost\n');
    expect(await home.ctl(['push_roster', path, 'dave', 'localhost'])).toEqual({
      status: 1,
      stdout: '',
      stderr: 'Error: User dave@localhost does not exist\n',
    });
    expect((await home.ctl(['push_roster', path, 'alice', 'nowhere.net'])).stderr).toMatch(
      /^Error: Unknown host 'nowhere.net': this node serves localhost, example.org/,
    );
  });

  test.each([
    ['an Erlang syntax error', '[{<<"bob">>, <<"localhost">>\n  <<"g">>, <<"B">>}].', "line 2, column 3): expected ',' or '}', found '<<'"],
    [
      'an entry of the wrong size',
      '[{<<"bob">>, <<"localhost">>, <<"g">>, <<"B">>},\n {<<"carol">>, <<"example.org">>}].',
      'line 2): an entry is {User, Server, Group, Nick}, found {<<"carol">>,<<"example.org">>}',
    ],
    [
      'a field that is no text',
      '[{"bob", "localhost", 7, "B"}].',
      'line 1): the fields of {User, Server, Group, Nick} are strings or binaries, found {"bob","localhost",7,"B"}',
    ],
    ['an entry that is no tuple', '[bob].', 'line 1): an entry is {User, Server, Group, Nick}, found bob'],
    [
      'an invalid JID in an Erlang entry',
      '\n[{"b b", "localhost", "", ""}].',
      "line 2): Invalid user name 'b b': a user name cannot contain spaces, control characters or any of \"&'/:<>@",
    ],
    ['too many fields', 'bob@localhost\tg\tBob\textra', 'line 1): 4 fields, but a line holds at most JID<TAB>GROUPS<TAB>NICK'],
    [
      'spaces instead of TABs',
      '# c\nbob@localhost workers Bob',
      "line 2): 'bob@localhost workers Bob' is not a JID: separate the JID, the groups and the nick with TABs",
    ],
    ['a JID with a resource', 'bob@localhost/home', "line 1): 'bob@localhost/home' has a resource: a roster holds bare JIDs"],
    ['an empty user part', 'ok@localhost\n@localhost', "line 2): '@localhost' has an empty user part"],
    ['an invalid host', 'bob@local..host', "line 1): Invalid host name 'local..host'"],
  ])('%s is an error naming the file and line, without a usage line, and nothing is written', async (_label, text, where) => {
    const path = file('bad.txt', text);
    expect(await home.ctl(['push_roster', path, 'alice', 'localhost'])).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: Malformed roster file ${path} (${where}\n`,
    });
    expect(await roster('alice', 'localhost')).toBe('');
  });
});

describe('push_roster_all', () => {
  test('every registered local user listed gets every other entry; the others get nothing', async () => {
    const path = file(
      'all.txt',
      'alice@localhost\tstaff\tAlice\nbob@localhost\tstaff\tBob\ncarol@example.org\tboss\tCarol\n' +
        'dave@remote.net\tfriends\tDave\neve@localhost\tstaff\tEve (not registered)\n',
    );
    expect(await home.ctl(['push_roster_all', path])).toEqual(ok());
    expect(await roster('alice', 'localhost')).toBe(
      'bob@localhost\tBob\tboth\tnone\tstaff\ncarol@example.org\tCarol\tboth\tnone\tboss\n' +
        'dave@remote.net\tDave\tboth\tnone\tfriends\neve@localhost\tEve (not registered)\tboth\tnone\tstaff\n',
    );
    expect(await roster('carol', 'example.org')).toBe(
      'alice@localhost\tAlice\tboth\tnone\tstaff\nbob@localhost\tBob\tboth\tnone\tstaff\n' +
        'dave@remote.net\tDave\tboth\tnone\tfriends\neve@localhost\tEve (not registered)\tboth\tnone\tstaff\n',
    );
    expect((await roster('bob', 'localhost')).split('\n')[0]).toBe('alice@localhost\tAlice\tboth\tnone\tstaff');
    const store = await openLevelStore(join(home.dir, 'db'));
    try {
      const owners = new Set<string>();
      for (const h of ['example.org', 'localhost']) for await (const { owner } of hostRosters(store, h)) owners.add(`${owner.user}@${owner.host}`);
      expect([...owners].sort()).toEqual(['alice@localhost', 'bob@localhost', 'carol@example.org']);
    } finally {
      await store.close();
    }
  });

  test("ejabberd's Erlang format works too", async () => {
    const path = file('all.erl', '[{<<"alice">>,<<"localhost">>,<<"g">>,<<"A">>},{<<"bob">>,<<"localhost">>,<<"g">>,<<"B">>}].');
    expect(await home.ctl(['push_roster_all', path])).toEqual(ok());
    expect(await roster('alice', 'localhost')).toBe('bob@localhost\tB\tboth\tnone\tg\n');
    expect(await roster('bob', 'localhost')).toBe('alice@localhost\tA\tboth\tnone\tg\n');
  });

  test('a missing or malformed file is an error, and nothing is written', async () => {
    const missing = join(home.dir, 'nope.erl');
    expect(await home.ctl(['push_roster_all', missing])).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: Cannot read the roster file ${missing}: it does not exist\n`,
    });
    const bad = file('bad.erl', '[{<<"alice">>,<<"localhost">>,<<"g">>,<<"A">>},\n {<<"bob">>}].');
    expect(await home.ctl(['push_roster_all', bad])).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: Malformed roster file ${bad} (line 2): an entry is {User, Server, Group, Nick}, found {<<"bob">>}\n`,
    });
    expect(await roster('alice', 'localhost')).toBe('');
  });
});

describe('push_alltoall', () => {
  test('every user of the host gets every other one, nick = user name, subscription both', async () => {
    expect(await home.ctl(['push_alltoall', 'LocalHost', 'Everyone'])).toEqual(ok());
    expect(await roster('alice', 'localhost')).toBe('bob@localhost\tbob\tboth\tnone\tEveryone\n');
    expect(await roster('bob', 'localhost')).toBe('alice@localhost\talice\tboth\tnone\tEveryone\n');
    expect(await roster('carol', 'example.org')).toBe('');
  });

  test('existing items keep their groups; an empty group adds none', async () => {
    await home.ctl(['register', 'dave', 'localhost', 'pw']);
    await home.ctl(['add_rosteritem', 'alice', 'localhost', 'bob', 'localhost', 'Bobby', 'friends', 'to']);
    expect(await home.ctl(['push_alltoall', 'localhost', ''])).toEqual(ok());
    expect(await roster('alice', 'localhost')).toBe('bob@localhost\tbob\tboth\tnone\tfriends\ndave@localhost\tdave\tboth\tnone\t\n');
    expect(await roster('dave', 'localhost')).toBe('alice@localhost\talice\tboth\tnone\t\nbob@localhost\tbob\tboth\tnone\t\n');
  });

  test('a host without users is fine; an unknown host is not', async () => {
    await home.ctl(['unregister', 'carol', 'example.org']);
    expect(await home.ctl(['push_alltoall', 'example.org', 'g'])).toEqual(ok());
    expect((await home.ctl(['push_alltoall', 'nowhere.net', 'g'])).stderr).toMatch(/^Error: Unknown host 'nowhere.net'/);
  });

  test('stores items in the shape add_rosteritem does', async () => {
    await home.ctl(['push_alltoall', 'localhost', 'g']);
    const store = await openLevelStore(join(home.dir, 'db'));
    try {
      expect(await store.get(ROSTER, rosterKey({ host: 'localhost', user: 'alice' }, 'bob@localhost'))).toEqual({
        name: 'bob',
        subscription: 'both',
        ask: 'none',
        groups: ['g'],
      });
    } finally {
      await store.close();
    }
  });
});

describe('file arguments through a running node', () => {
  test('push_roster and push_roster_all send the file as an absolute path, resolved where ctl runs', async () => {
    const { createRemoteRunner } = await import('../../src/transports/socket/remote-runner');
    const { allCommands } = await import('../../commands');
    const sent: unknown[] = [];
    const client = { call: async (request: unknown) => void sent.push(request), connected: () => true, close: () => undefined };
    const session = createRemoteRunner(client as never, { cwd: '/home/op/templates' });
    const command = (name: string) => allCommands.find((c) => c.name === name)!;
    await session.run(command('push_roster'), { file: 'staff.txt', user: 'alice', host: 'localhost' });
    await session.run(command('push_roster_all'), { file: '../all.erl' });
    await session.run(command('push_roster_all'), { file: '/srv/all.erl' });
    expect(sent.map((r) => (r as { args: { file: string } }).args.file)).toEqual(['/home/op/templates/staff.txt', '/home/op/all.erl', '/srv/all.erl']);
  });
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fails, ok, tempHome } from '../helpers/cli';
import { openLevelStore } from '../../src/storage/level';
import { readRoster, rosterItemOps, type RosterItem } from '../../src/features/roster/records';

let home: ReturnType<typeof tempHome>;
beforeEach(async () => {
  home = tempHome();
  writeFileSync(join(home.dir, 'ctl.yml'), 'auth_password_format: plain\nhosts: [localhost, example.org]\n');
  for (const u of ['alice', 'bob']) expect((await home.ctl(['register', u, 'localhost', 'pw'])).status).toBe(0);
});
afterEach(() => home.cleanup());

const ADD_USAGE = 'Usage: ctl add_rosteritem localuser localserver user server nick group subs\n';
const DELETE_USAGE = 'Usage: ctl delete_rosteritem localuser localserver user server\n';

/** The roster table of one user as stored: contact → item. */
async function stored(host: string, user: string): Promise<Record<string, RosterItem>> {
  const store = await openLevelStore(join(home.dir, 'db'));
  try {
    const out: Record<string, RosterItem> = {};
    for (const { contact, item } of await readRoster(store, { host, user })) out[contact] = item;
    return out;
  } finally {
    await store.close();
  }
}

async function putItem(host: string, user: string, contact: string, item: RosterItem): Promise<void> {
  const store = await openLevelStore(join(home.dir, 'db'));
  try {
    await store.batch(rosterItemOps({ host, user }, contact, item));
  } finally {
    await store.close();
  }
}

describe('add_rosteritem', () => {
  test('adds the item silently and stores it with ask none', async () => {
    expect(await home.ctl(['add_rosteritem', 'alice', 'localhost', 'bob', 'localhost', 'Bobby', 'friends', 'both'])).toEqual(ok());
    expect(await stored('localhost', 'alice')).toEqual({ 'bob@localhost': { name: 'Bobby', subscription: 'both', ask: 'none', groups: ['friends'] } });
    expect(await stored('localhost', 'bob')).toEqual({});
  });

  test('splits groups on ";", drops empty ones and duplicates, sorts them by bytes', async () => {
    await home.ctl(['add_rosteritem', 'alice', 'localhost', 'bob', 'localhost', 'B', 'work;Friends;;work; zoé ;Zed', 'to']);
    expect((await stored('localhost', 'alice'))['bob@localhost'].groups).toEqual(['Friends', 'Zed', 'work', 'zoé']);
    await home.ctl(['add_rosteritem', 'alice', 'localhost', 'bob', 'localhost', 'B', '', 'to']);
    expect((await stored('localhost', 'alice'))['bob@localhost'].groups).toEqual([]);
  });

  test('normalises the contact, which may be remote or a bare server', async () => {
    await home.ctl(['add_rosteritem', 'Alice', 'LOCALHOST', 'Carol', 'Example.COM.', 'Carol', '', 'from']);
    await home.ctl(['add_rosteritem', 'alice', 'localhost', '', 'icq.example.net', 'ICQ', 'gateways', 'none']);
    expect(Object.keys(await stored('localhost', 'alice'))).toEqual(['carol@example.com', 'icq.example.net']);
  });

  test('updates an existing item: name, groups and subscription replaced, ask reset', async () => {
    await putItem('localhost', 'alice', 'bob@localhost', { name: 'Old', subscription: 'none', ask: 'out', groups: ['a', 'b'] });
    expect(await home.ctl(['add_rosteritem', 'alice', 'localhost', 'BOB', 'localhost', 'New', 'c', 'from'])).toEqual(ok());
    expect(await stored('localhost', 'alice')).toEqual({ 'bob@localhost': { name: 'New', subscription: 'from', ask: 'none', groups: ['c'] } });
  });

  test('accepts each subscription, in any case', async () => {
    const subs = ['none', 'from', 'to', 'both', 'BOTH'];
    for (const [i, sub] of subs.entries()) {
      expect(await home.ctl(['add_rosteritem', 'alice', 'localhost', `c${i}`, 'example.org', '', '', sub])).toEqual(ok());
    }
    const items = await stored('localhost', 'alice');
    expect(Object.values(items).map((i) => i.subscription)).toEqual(['none', 'from', 'to', 'both', 'both']);
  });

  test('refuses an unknown subscription as a usage error naming subs', async () => {
    expect(await home.ctl(['add_rosteritem', 'alice', 'localhost', 'bob', 'localhost', 'B', '', 'mutual'])).toEqual(
      fails(2, `Error: Unknown subscription 'mutual' (subs): use none, from, to or both\n${ADD_USAGE}`),
    );
    expect(await stored('localhost', 'alice')).toEqual({});
  });

  test('the owner must exist, on a configured host', async () => {
    expect(await home.ctl(['add_rosteritem', 'carol', 'localhost', 'bob', 'localhost', 'B', '', 'both'])).toEqual(
      fails(1, 'Error: User carol@localhost does not exist\n'),
    );
    expect(await home.ctl(['add_rosteritem', 'alice', 'nowhere.net', 'bob', 'localhost', 'B', '', 'both'])).toEqual(
      fails(1, `Error: Unknown host 'nowhere.net': this node serves localhost, example.org (hosts in ${join(home.dir, 'ctl.yml')})\n`),
    );
  });

  test.each([
    [
      ['a b', 'localhost', 'bob', 'localhost'],
      "Invalid user name 'a b' (localuser): a user name cannot contain spaces, control characters or any of \"&'/:<>@",
    ],
    [['alice', 'local host', 'bob', 'localhost'], "Invalid host name 'local host' (localserver)"],
    [['alice', 'localhost', 'b<b', 'localhost'], "Invalid user name 'b<b' (user): a user name cannot contain spaces, control characters or any of \"&'/:<>@"],
    [['alice', 'localhost', 'bob', 'ex..org'], "Invalid host name 'ex..org' (server)"],
    [['alice', 'localhost', 'bob', ''], 'The host name (server) must not be empty'],
  ])('a malformed JID part is a usage error naming its argument: %j', async (jids, message) => {
    expect(await home.ctl(['add_rosteritem', ...jids, 'nick', '', 'both'])).toEqual(fails(2, `Error: ${message}\n${ADD_USAGE}`));
  });

  test('wrong number of arguments', async () => {
    expect(await home.ctl(['add_rosteritem', 'alice', 'localhost', 'bob', 'localhost', 'B', 'g'])).toEqual(
      fails(2, `Error: missing argument 'subs'\n${ADD_USAGE}`),
    );
  });
});

describe('delete_rosteritem', () => {
  beforeEach(async () => {
    await home.ctl(['add_rosteritem', 'alice', 'localhost', 'bob', 'localhost', 'B', '', 'both']);
    await home.ctl(['add_rosteritem', 'alice', 'localhost', 'carol', 'example.org', 'C', '', 'both']);
    await home.ctl(['add_rosteritem', 'bob', 'localhost', 'carol', 'example.org', 'C', '', 'both']);
  });

  test('removes only that item, given in any case', async () => {
    expect(await home.ctl(['delete_rosteritem', 'ALICE', 'localhost', 'Carol', 'EXAMPLE.org'])).toEqual(ok());
    expect(Object.keys(await stored('localhost', 'alice'))).toEqual(['bob@localhost']);
    expect(Object.keys(await stored('localhost', 'bob'))).toEqual(['carol@example.org']);
  });

  test('an item that is not there, or an owner that does not exist, is deleted already: exit 0, silently (as ejabberdctl)', async () => {
    expect(await home.ctl(['delete_rosteritem', 'alice', 'localhost', 'dave', 'example.org'])).toEqual(ok());
    await home.ctl(['delete_rosteritem', 'alice', 'localhost', 'bob', 'localhost']);
    expect(await home.ctl(['delete_rosteritem', 'alice', 'localhost', 'bob', 'localhost'])).toEqual(ok());
    expect(await home.ctl(['delete_rosteritem', 'dave', 'localhost', 'bob', 'localhost'])).toEqual(ok());
    expect(Object.keys(await stored('localhost', 'alice'))).toEqual(['carol@example.org']);
    expect(Object.keys(await stored('localhost', 'bob'))).toEqual(['carol@example.org']);
  });

  test('unknown host, malformed contact', async () => {
    expect((await home.ctl(['delete_rosteritem', 'alice', 'nowhere.net', 'bob', 'localhost'])).stderr).toMatch(/^Error: Unknown host 'nowhere.net'/);
    expect(await home.ctl(['delete_rosteritem', 'alice', 'localhost', 'bob', 'a b'])).toEqual(
      fails(2, `Error: Invalid host name 'a b' (server)\n${DELETE_USAGE}`),
    );
    expect(Object.keys(await stored('localhost', 'alice'))).toEqual(['bob@localhost', 'carol@example.org']);
  });
});

describe('get_roster', () => {
  test('one line per (contact, group), by contact then group; no group gives an empty field', async () => {
    await home.ctl(['add_rosteritem', 'alice', 'localhost', 'zed', 'example.org', 'Zed', 'b;a', 'to']);
    await home.ctl(['add_rosteritem', 'alice', 'localhost', 'bob', 'localhost', 'Bobby', '', 'both']);
    await home.ctl(['add_rosteritem', 'alice', 'localhost', '', 'example.org', 'Server', 'Gateways', 'none']);
    await home.ctl(['add_rosteritem', 'alice', 'localhost', 'bob', 'example.org', 'Bob Two', 'x', 'from']);
    expect(await home.ctl(['get_roster', 'alice', 'localhost'])).toEqual(
      ok(
        'bob@example.org\tBob Two\tfrom\tnone\tx\n' +
          'bob@localhost\tBobby\tboth\tnone\t\n' +
          'example.org\tServer\tnone\tnone\tGateways\n' +
          'zed@example.org\tZed\tto\tnone\ta\n' +
          'zed@example.org\tZed\tto\tnone\tb\n',
      ),
    );
  });

  test('shows a pending ask and escapes a TAB in a nick', async () => {
    await putItem('localhost', 'alice', 'bob@localhost', { name: 'B\tB', subscription: 'none', ask: 'out', groups: [] });
    await putItem('localhost', 'alice', 'carol@example.org', { name: 'C', subscription: 'from', ask: 'in', groups: ['g'] });
    expect((await home.ctl(['get_roster', 'Alice', 'LocalHost'])).stdout).toBe('bob@localhost\tB\\tB\tnone\tout\t\ncarol@example.org\tC\tfrom\tin\tg\n');
  });

  test('JSON gives the objects of the spec', async () => {
    await home.ctl(['add_rosteritem', 'alice', 'localhost', 'bob', 'localhost', 'Bobby', 'g1;g2', 'both']);
    expect(JSON.parse((await home.ctl(['get_roster', 'alice', 'localhost', '--format', 'json'])).stdout)).toEqual([
      { jid: 'bob@localhost', nick: 'Bobby', subscription: 'both', ask: 'none', group: 'g1' },
      { jid: 'bob@localhost', nick: 'Bobby', subscription: 'both', ask: 'none', group: 'g2' },
    ]);
  });

  test('an empty roster prints nothing; an unknown user or host fails', async () => {
    expect(await home.ctl(['get_roster', 'alice', 'localhost'])).toEqual(ok());
    expect(await home.ctl(['get_roster', 'dave', 'localhost'])).toEqual(fails(1, 'Error: User dave@localhost does not exist\n'));
    expect((await home.ctl(['get_roster', 'alice', 'nowhere.net'])).status).toBe(1);
    expect(await home.ctl(['get_roster', 'alice'])).toEqual(fails(2, "Error: missing argument 'server'\nUsage: ctl get_roster user server\n"));
  });

  test('unregistering a user removes their roster, and only theirs', async () => {
    await home.ctl(['add_rosteritem', 'alice', 'localhost', 'bob', 'localhost', 'B', '', 'both']);
    await home.ctl(['add_rosteritem', 'bob', 'localhost', 'alice', 'localhost', 'A', '', 'both']);
    await home.ctl(['unregister', 'alice', 'localhost']);
    expect(await stored('localhost', 'alice')).toEqual({});
    expect(Object.keys(await stored('localhost', 'bob'))).toEqual(['alice@localhost']);
  });
});

test('add_rosteritem refuses a nick or group XML cannot carry', async () => {
  const h = tempHome();
  try {
    await h.ctl(['register', 'alice', 'localhost', 'pw']);
    expect(await h.ctl(['add_rosteritem', 'alice', 'localhost', 'bob', 'localhost', 'B\u0001b', 'g', 'both'])).toEqual({
      status: 2,
      stdout: '',
      stderr: 'Error: The nick (nick) contains U+0001, which XML cannot carry\nUsage: ctl add_rosteritem localuser localserver user server nick group subs\n',
    });
    expect((await h.ctl(['add_rosteritem', 'alice', 'localhost', 'bob', 'localhost', 'Bob', 'g\u0007', 'both'])).status).toBe(2);
    expect((await h.ctl(['get_roster', 'alice', 'localhost'])).stdout).toBe('');
  } finally {
    h.cleanup();
  }
});

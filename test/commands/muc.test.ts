import { fails, ok } from '../helpers/cli';
import { fakeMuc, mucCli, occupant, type FakeMuc, type FakeRoom } from './muc-helpers';
import { optionsOutput } from '../helpers/muc';
import { DEFAULT_ROOM_OPTIONS } from '../../src/config/muc';
import { fakeNode, fakeXmpp, nodeCli } from './session-helpers';
import type { MucControl } from '../../src/core/muc';
import { CommandError } from '../../src/lib/errors';

let muc: FakeMuc;
let ctl: ReturnType<typeof mucCli>;

const usage = (line: string) => `Usage: ctl ${line}\n`;
const NOT_SERVICE = 'Error: localhost is a host, not a MUC service: its rooms are on conference.localhost\n';
const NO_SERVICE = 'Error: No MUC service muc.nowhere.example here: the services are conference.localhost, conference.example.org\n';
const BAD_NAME = `Error: Invalid room name 'a b' (name): a room name cannot contain spaces, control characters or any of "&'/:<>@\n`;

beforeEach(() => {
  muc = fakeMuc();
  ctl = mucCli(muc);
});

/** A room made directly in the fake, as if clients had made it. */
function room(jid: string, extra: Partial<FakeRoom> = {}) {
  muc.state.set(jid, { options: DEFAULT_ROOM_OPTIONS, affiliations: [], occupants: [], idleDays: 0, ...extra });
}

describe('create_room', () => {
  test('creates the room on the host’s service, prints nothing, exit 0; the name is prepped', async () => {
    expect(await ctl(['create_room', 'Lobby', 'conference.localhost', 'localhost'])).toEqual(ok());
    expect(muc.calls).toEqual(['createRoom lobby@conference.localhost']);
    expect(await ctl(['create_room', 'lobby', 'CONFERENCE.example.org', 'example.org'])).toEqual(ok());
    expect(muc.calls[1]).toBe('createRoom lobby@conference.example.org');
  });

  test('a room that exists already is an error, and nothing is created', async () => {
    await ctl(['create_room', 'lobby', 'conference.localhost', 'localhost']);
    expect(await ctl(['create_room', 'lobby', 'conference.localhost', 'localhost'])).toEqual(
      fails(1, 'Error: The room lobby@conference.localhost already exists\n'),
    );
    expect(muc.calls).toHaveLength(1);
  });

  test('the host must be served, and the service must be its MUC service', async () => {
    expect(await ctl(['create_room', 'lobby', 'conference.localhost', 'nowhere.example'])).toEqual(
      fails(1, "Error: Unknown host 'nowhere.example': this node serves localhost, example.org (hosts in /dev/null)\n"),
    );
    expect(await ctl(['create_room', 'lobby', 'localhost', 'localhost'])).toEqual(
      fails(1, "Error: 'localhost' is not the MUC service of localhost: its rooms are on conference.localhost\n"),
    );
    expect(await ctl(['create_room', 'lobby', 'conference.example.org', 'localhost'])).toEqual(
      fails(1, "Error: 'conference.example.org' is not the MUC service of localhost: its rooms are on conference.localhost\n"),
    );
    expect(muc.calls).toEqual([]);
  });

  test('a host without a MUC service says so', async () => {
    const none: MucControl = { ...muc, services: () => [] };
    expect(await mucCli(none)(['create_room', 'lobby', 'conference.localhost', 'localhost'])).toEqual(
      fails(1, 'Error: Host localhost has no MUC service: mod_muc is not enabled for it in /dev/null\n'),
    );
  });

  test('a room name with forbidden characters, or none, is a usage error', async () => {
    const use = usage('create_room name service host');
    expect(await ctl(['create_room', 'a b', 'conference.localhost', 'localhost'])).toEqual(fails(2, BAD_NAME + use));
    for (const bad of ['a@b', 'a/b', 'a:b', "a'b", 'a"b', 'a&b', 'a<b', 'a>b']) {
      expect(await ctl(['create_room', bad, 'conference.localhost', 'localhost'])).toEqual(
        fails(2, `Error: Invalid room name '${bad}' (name): a room name cannot contain spaces, control characters or any of "&'/:<>@\n${use}`),
      );
    }
    expect(await ctl(['create_room', '', 'conference.localhost', 'localhost'])).toEqual(fails(2, 'Error: The room name (name) must not be empty\n' + use));
    expect(await ctl(['create_room', 'lobby', 'conference.localhost'])).toMatchObject({ status: 2, stdout: '' });
    expect(muc.calls).toEqual([]);
  });
});

describe('destroy_room', () => {
  test('destroys the room, prints nothing', async () => {
    room('lobby@conference.localhost');
    expect(await ctl(['destroy_room', 'Lobby', 'conference.localhost'])).toEqual(ok());
    expect(muc.calls).toEqual(['destroyRoom lobby@conference.localhost']);
    expect(muc.state.size).toBe(0);
  });

  test('a room that does not exist, a plain host and a foreign service are errors naming them', async () => {
    expect(await ctl(['destroy_room', 'lobby', 'conference.localhost'])).toEqual(fails(1, 'Error: The room lobby@conference.localhost does not exist\n'));
    expect(await ctl(['destroy_room', 'lobby', 'localhost'])).toEqual(fails(1, NOT_SERVICE));
    expect(await ctl(['destroy_room', 'lobby', 'muc.nowhere.example'])).toEqual(fails(1, NO_SERVICE));
    expect(await ctl(['destroy_room', 'a b', 'conference.localhost'])).toEqual(fails(2, BAD_NAME + usage('destroy_room name service')));
  });
});

describe('get_room_options', () => {
  test('name TAB value for every option, in the order of ejabberd’s config record, with ejabberd’s defaults', async () => {
    await ctl(['create_room', 'lobby', 'conference.localhost', 'localhost']);
    expect(await ctl(['get_room_options', 'lobby', 'conference.localhost'])).toEqual(ok(optionsOutput()));
  });

  test('changed values print as they are; a tab or newline in a title stays on its line', async () => {
    await ctl(['create_room', 'lobby', 'conference.localhost', 'localhost']);
    const r = muc.state.get('lobby@conference.localhost')!;
    r.options = { ...r.options, title: 'Tea\tand\ncake', max_users: 50, presence_broadcast: ['moderator'], allow_private_messages_from_visitors: 'nobody' };
    const lines = (await ctl(['get_room_options', 'lobby', 'conference.localhost'])).stdout.split('\n');
    expect(lines[0]).toBe('title\tTea\\tand\\ncake');
    expect(lines).toContain('max_users\t50');
    expect(lines).toContain('presence_broadcast\t[moderator]');
    expect(lines).toContain('allow_private_messages_from_visitors\tnobody');
    expect(lines).toHaveLength(33);
  });

  test('a room that does not exist is an error, not an empty list; so are a plain host and a bad name', async () => {
    expect(await ctl(['get_room_options', 'lobby', 'conference.localhost'])).toEqual(fails(1, 'Error: The room lobby@conference.localhost does not exist\n'));
    expect(await ctl(['get_room_options', 'lobby', 'localhost'])).toEqual(fails(1, NOT_SERVICE));
    expect(await ctl(['get_room_options', 'a b', 'conference.localhost'])).toEqual(fails(2, BAD_NAME + usage('get_room_options name service')));
  });
});

describe('change_room_option', () => {
  beforeEach(() => room('lobby@conference.localhost'));

  test('sets the option from its text, prints nothing; get_room_options shows it', async () => {
    expect(await ctl(['change_room_option', 'lobby', 'conference.localhost', 'persistent', 'true'])).toEqual(ok());
    expect(await ctl(['change_room_option', 'lobby', 'conference.localhost', 'title', 'Tea time'])).toEqual(ok());
    expect(muc.calls).toEqual(['changeOption lobby@conference.localhost persistent true', 'changeOption lobby@conference.localhost title Tea time']);
    const lines = (await ctl(['get_room_options', 'lobby', 'conference.localhost'])).stdout.split('\n');
    expect(lines).toContain('persistent\ttrue');
    expect(lines[0]).toBe('title\tTea time');
  });

  test('an unknown option and a bad value are usage errors naming them, and never reach the room', async () => {
    const asked: string[] = [];
    muc.changeOption = async (_room, option, value) => void asked.push(`${option} ${value}`);
    const use = usage('change_room_option name service option value');
    const change = (option: string, value: string) => ctl(['change_room_option', 'lobby', 'conference.localhost', option, value]);
    expect(await change('persistent', 'maybe')).toEqual(fails(2, "Error: Invalid value 'maybe' for room option persistent: use true or false\n" + use));
    expect(await change('max_users', '12abc')).toEqual(
      fails(2, "Error: Invalid value '12abc' for room option max_users: use a whole number from 1 to 2147483647\n" + use),
    );
    expect(await change('allow_private_messages_from_visitors', 'everyone')).toEqual(
      fails(2, "Error: Invalid value 'everyone' for room option allow_private_messages_from_visitors: use anyone, moderators or nobody\n" + use),
    );
    expect(await change('presence_broadcast', '[moderator,owner]')).toEqual(
      fails(
        2,
        "Error: Invalid value '[moderator,owner]' for room option presence_broadcast: use a list of moderator, participant, visitor, such as [moderator,participant]\n" +
          use,
      ),
    );
    const unknown = await change('colour', 'blue');
    expect(unknown).toMatchObject({ status: 2, stdout: '' });
    expect(unknown.stderr).toMatch(/^Error: Unknown room option 'colour': the options are title, description, allow_change_subj, .*, lang\nUsage: /);
    expect(await change('subject', 'hello')).toMatchObject({ status: 2, stderr: expect.stringMatching(/^Error: Unknown room option 'subject'/) });
    expect(asked).toEqual([]);
    expect(await change('max_users', '50')).toEqual(ok());
    expect(asked).toEqual(['max_users 50']);
  });

  test('captcha_whitelist and presence_broadcast print as ejabberd writes them', async () => {
    expect(await ctl(['change_room_option', 'lobby', 'conference.localhost', 'presence_broadcast', '[visitor,moderator]'])).toEqual(ok());
    expect(await ctl(['change_room_option', 'lobby', 'conference.localhost', 'captcha_whitelist', '[b@localhost]'])).toEqual(ok());
    const lines = (await ctl(['get_room_options', 'lobby', 'conference.localhost'])).stdout.split('\n');
    expect(lines).toContain('presence_broadcast\t[moderator,visitor]');
    expect(lines).toContain('captcha_whitelist\t{1,{{<<98>>,<<108,111,99,97,108,104,111,115,116>>,<<>>},nil,nil}}');
  });

  test('a missing room, a plain host, a bad name', async () => {
    expect(await ctl(['change_room_option', 'hall', 'conference.localhost', 'persistent', 'true'])).toEqual(
      fails(1, 'Error: The room hall@conference.localhost does not exist\n'),
    );
    expect(await ctl(['change_room_option', 'lobby', 'localhost', 'persistent', 'true'])).toEqual(fails(1, NOT_SERVICE));
    expect(await ctl(['change_room_option', 'a b', 'conference.localhost', 'persistent', 'true'])).toEqual(
      fails(2, BAD_NAME + usage('change_room_option name service option value')),
    );
  });
});

describe('affiliations', () => {
  beforeEach(() => room('lobby@conference.localhost'));

  test('set_room_affiliation name service jid affiliation: bare JIDs; none removes; get_room_affiliations prints user host affiliation reason', async () => {
    expect(await ctl(['set_room_affiliation', 'lobby', 'conference.localhost', 'Bob@localhost/phone', 'admin'])).toEqual(ok());
    expect(await ctl(['set_room_affiliation', 'lobby', 'conference.localhost', 'alice@example.org', 'owner'])).toEqual(ok());
    expect(await ctl(['set_room_affiliation', 'lobby', 'conference.localhost', 'carol@localhost', 'outcast'])).toEqual(ok());
    expect(await ctl(['set_room_affiliation', 'lobby', 'conference.localhost', 'dave@localhost', 'member'])).toEqual(ok());
    expect(await ctl(['set_room_affiliation', 'lobby', 'conference.localhost', 'dave@localhost', 'none'])).toEqual(ok());
    expect(muc.calls).toEqual([
      'setAffiliation lobby@conference.localhost bob@localhost admin',
      'setAffiliation lobby@conference.localhost alice@example.org owner',
      'setAffiliation lobby@conference.localhost carol@localhost outcast',
      'setAffiliation lobby@conference.localhost dave@localhost member',
      'setAffiliation lobby@conference.localhost dave@localhost none',
    ]);
    muc.state.get('lobby@conference.localhost')!.affiliations[2] = {
      jid: { user: 'carol', host: 'localhost' },
      affiliation: 'outcast',
      reason: 'spam\tand more',
    };
    expect(await ctl(['get_room_affiliations', 'lobby', 'conference.localhost'])).toEqual(
      ok('alice\texample.org\towner\t\nbob\tlocalhost\tadmin\t\ncarol\tlocalhost\toutcast\tspam\\tand more\n'),
    );
  });

  test('a room without affiliations prints nothing', async () => {
    expect(await ctl(['get_room_affiliations', 'lobby', 'conference.localhost'])).toEqual(ok(''));
  });

  test('a bad affiliation or JID is a usage error naming it; nothing changes', async () => {
    const use = usage('set_room_affiliation name service jid affiliation');
    expect(await ctl(['set_room_affiliation', 'lobby', 'conference.localhost', 'bob@localhost', 'boss'])).toEqual(
      fails(2, "Error: Invalid affiliation 'boss' (affiliation): it is one of owner, admin, member, outcast, none\n" + use),
    );
    expect(await ctl(['set_room_affiliation', 'lobby', 'conference.localhost', 'b b@localhost', 'member'])).toEqual(
      fails(2, `Error: Invalid user name 'b b' (jid): a user name cannot contain spaces, control characters or any of "&'/:<>@\n` + use),
    );
    expect(muc.calls).toEqual([]);
  });

  test('a missing room and a plain host are errors, for both commands', async () => {
    expect(await ctl(['set_room_affiliation', 'hall', 'conference.localhost', 'bob@localhost', 'member'])).toEqual(
      fails(1, 'Error: The room hall@conference.localhost does not exist\n'),
    );
    expect(await ctl(['get_room_affiliations', 'hall', 'conference.localhost'])).toEqual(
      fails(1, 'Error: The room hall@conference.localhost does not exist\n'),
    );
    expect(await ctl(['get_room_affiliations', 'lobby', 'localhost'])).toEqual(fails(1, NOT_SERVICE));
    expect(await ctl(['set_room_affiliation', 'lobby', 'localhost', 'bob@localhost', 'member'])).toEqual(fails(1, NOT_SERVICE));
  });
});

describe('occupants', () => {
  test('get_room_occupants: jid TAB nick TAB role, by JID; get_room_occupants_number counts them', async () => {
    room('lobby@conference.localhost', {
      occupants: [
        occupant('bob@localhost/phone', 'Bob', 'participant'),
        occupant('alice@localhost/desk', 'Alice\tA', 'moderator', 'owner'),
        occupant('alice@example.org/home', 'Al', 'visitor'),
      ],
    });
    expect(await ctl(['get_room_occupants', 'lobby', 'conference.localhost'])).toEqual(
      ok('alice@example.org/home\tAl\tvisitor\nalice@localhost/desk\tAlice\\tA\tmoderator\nbob@localhost/phone\tBob\tparticipant\n'),
    );
    expect(await ctl(['get_room_occupants_number', 'lobby', 'conference.localhost'])).toEqual(ok('3\n'));
  });

  test('an empty room prints nothing, and 0', async () => {
    room('lobby@conference.localhost');
    expect(await ctl(['get_room_occupants', 'lobby', 'conference.localhost'])).toEqual(ok(''));
    expect(await ctl(['get_room_occupants_number', 'lobby', 'conference.localhost'])).toEqual(ok('0\n'));
  });

  test('a missing room, a plain host, a bad name', async () => {
    for (const cmd of ['get_room_occupants', 'get_room_occupants_number']) {
      expect(await ctl([cmd, 'hall', 'conference.localhost'])).toEqual(fails(1, 'Error: The room hall@conference.localhost does not exist\n'));
      expect(await ctl([cmd, 'hall', 'localhost'])).toEqual(fails(1, NOT_SERVICE));
      expect(await ctl([cmd, 'hall', 'muc.nowhere.example'])).toEqual(fails(1, NO_SERVICE));
      expect(await ctl([cmd, 'a b', 'conference.localhost'])).toEqual(fails(2, BAD_NAME + usage(`${cmd} name service`)));
    }
  });
});

describe('send_direct_invitation', () => {
  beforeEach(() => room('lobby@conference.localhost', { occupants: [occupant('bob@localhost/phone', 'Bob')] }));

  test('invites each user of the colon-separated list, except those already inside and JIDs without a user', async () => {
    expect(
      await ctl([
        'send_direct_invitation',
        'lobby',
        'conference.localhost',
        'secret',
        'Come in',
        'alice@localhost:bob@localhost/desk:carol@example.org/home:localhost:',
      ]),
    ).toEqual(ok());
    expect(muc.calls).toEqual(['inviteDirect lobby@conference.localhost [alice@localhost carol@example.org/home] password=secret reason=Come in']);
  });

  test('none stands for an empty password and reason', async () => {
    expect(await ctl(['send_direct_invitation', 'lobby', 'conference.localhost', 'none', 'none', 'alice@localhost'])).toEqual(ok());
    expect(muc.calls).toEqual(['inviteDirect lobby@conference.localhost [alice@localhost] password= reason=']);
  });

  test('a bad user JID is a usage error naming users, and nobody is invited; a missing room is an error', async () => {
    expect(await ctl(['send_direct_invitation', 'lobby', 'conference.localhost', 'none', 'none', 'alice@localhost:b b@localhost'])).toEqual(
      fails(
        2,
        `Error: Invalid user name 'b b' (users): a user name cannot contain spaces, control characters or any of "&'/:<>@\n` +
          usage('send_direct_invitation name service password reason users'),
      ),
    );
    expect(await ctl(['send_direct_invitation', 'hall', 'conference.localhost', 'none', 'none', 'alice@localhost'])).toEqual(
      fails(1, 'Error: The room hall@conference.localhost does not exist\n'),
    );
    expect(await ctl(['send_direct_invitation', 'lobby', 'localhost', 'none', 'none', 'alice@localhost'])).toEqual(fails(1, NOT_SERVICE));
    expect(muc.calls).toEqual([]);
  });
});

describe('listing rooms', () => {
  beforeEach(() => {
    room('lobby@conference.localhost', { occupants: [occupant('bob@localhost/phone', 'Bob'), occupant('bob@localhost/desk', 'Bobby')], idleDays: 90 });
    room('attic@conference.localhost', { idleDays: 40 });
    room('cellar@conference.localhost', { idleDays: 5 });
    room('hall@conference.example.org', { occupants: [occupant('bob@localhost/phone', 'Bob')], idleDays: 0 });
    room('porch@conference.example.org', { idleDays: 100 });
  });

  test('muc_online_rooms: one room JID per line, of one service or of all (global)', async () => {
    expect(await ctl(['muc_online_rooms', 'global'])).toEqual(
      ok('attic@conference.localhost\ncellar@conference.localhost\nlobby@conference.localhost\nhall@conference.example.org\nporch@conference.example.org\n'),
    );
    expect(await ctl(['muc_online_rooms', 'conference.example.org'])).toEqual(ok('hall@conference.example.org\nporch@conference.example.org\n'));
    muc.state.clear();
    expect(await ctl(['muc_online_rooms', 'global'])).toEqual(ok(''));
  });

  test('muc_online_rooms: a plain host or a foreign service is an error saying which service was meant', async () => {
    expect(await ctl(['muc_online_rooms', 'localhost'])).toEqual(fails(1, NOT_SERVICE));
    expect(await ctl(['muc_online_rooms', 'muc.nowhere.example'])).toEqual(fails(1, NO_SERVICE));
  });

  test('rooms_unused_list: says "rooms unused: N out of M" on stderr, lists the rooms; nothing is destroyed', async () => {
    expect(await ctl(['rooms_unused_list', 'global', '30'])).toEqual({
      status: 0,
      stdout: 'attic@conference.localhost\nporch@conference.example.org\n',
      stderr: 'rooms unused: 2 out of 5\n',
    });
    expect(await ctl(['rooms_unused_list', 'conference.localhost', '1'])).toEqual({
      status: 0,
      stdout: 'attic@conference.localhost\ncellar@conference.localhost\n',
      stderr: 'rooms unused: 2 out of 3\n',
    });
    expect(await ctl(['rooms_unused_list', 'conference.localhost', '1000'])).toEqual({ status: 0, stdout: '', stderr: 'rooms unused: 0 out of 3\n' });
    expect(muc.calls).toEqual([]);
    expect(muc.state.size).toBe(5);
  });

  test('rooms_unused_destroy: destroys them with ejabberd’s reason, and lists them', async () => {
    expect(await ctl(['rooms_unused_destroy', 'global', '30'])).toEqual({
      status: 0,
      stdout: 'attic@conference.localhost\nporch@conference.example.org\n',
      stderr: 'rooms unused: 2 out of 5\n',
    });
    expect(muc.calls).toEqual(['destroyRooms attic@conference.localhost porch@conference.example.org Room destroyed by rooms_unused_destroy.']);
    expect([...muc.state.keys()].sort()).toEqual(['cellar@conference.localhost', 'hall@conference.example.org', 'lobby@conference.localhost']);
  });

  test('rooms_unused_*: bad days, a plain host, a foreign service', async () => {
    for (const cmd of ['rooms_unused_list', 'rooms_unused_destroy']) {
      expect(await ctl([cmd, 'global', '-1'])).toEqual(fails(2, `Error: The number of days (days) must be 0 or more, got -1\n${usage(`${cmd} host days`)}`));
      expect(await ctl([cmd, 'global', 'ten'])).toMatchObject({ status: 2, stdout: '' });
      expect(await ctl([cmd, 'localhost', '30'])).toEqual(fails(1, NOT_SERVICE));
      expect(await ctl([cmd, 'muc.nowhere.example', '30'])).toEqual(fails(1, NO_SERVICE));
    }
    expect(muc.state.size).toBe(5);
  });

  test('get_user_rooms: the rooms where any resource of the user is an occupant, once each', async () => {
    expect(await ctl(['get_user_rooms', 'Bob', 'localhost'])).toEqual(ok('hall@conference.example.org\nlobby@conference.localhost\n'));
    expect(await ctl(['get_user_rooms', 'alice', 'localhost'])).toEqual(ok(''));
  });

  test('get_user_rooms: an unknown host or a bad user is an error', async () => {
    expect(await ctl(['get_user_rooms', 'bob', 'nowhere.example'])).toEqual(
      fails(1, "Error: Unknown host 'nowhere.example': this node serves localhost, example.org (hosts in /dev/null)\n"),
    );
    expect(await ctl(['get_user_rooms', 'b b', 'localhost'])).toEqual(
      fails(
        2,
        `Error: Invalid user name 'b b' (user): a user name cannot contain spaces, control characters or any of "&'/:<>@\n${usage('get_user_rooms user host')}`,
      ),
    );
  });
});

describe('muc_unregister_nick', () => {
  test('drops the nick everywhere, prints nothing; a nick nobody holds is an error', async () => {
    muc.nicks.set('Bobby', 2);
    expect(await ctl(['muc_unregister_nick', 'Bobby'])).toEqual(ok());
    expect(muc.calls).toEqual(['unregisterNick Bobby']);
    expect(await ctl(['muc_unregister_nick', 'Bobby'])).toEqual(fails(1, "Error: The nick 'Bobby' is not registered on any MUC service\n"));
    expect(await ctl(['muc_unregister_nick', ''])).toEqual(fails(2, `Error: The nick (nick) must not be empty\n${usage('muc_unregister_nick nick')}`));
  });
});

describe('without a MUC service', () => {
  test('an error of the service passes through with its status: the node not serving XMPP exits 3', async () => {
    const down = (): never => {
      throw new CommandError('unavailable', 'The XMPP server is not running, so the MUC service and its rooms cannot be reached');
    };
    const none = new Proxy({} as MucControl, { get: () => down });
    const cli = nodeCli(fakeNode(fakeXmpp([]), { muc: none }));
    const message = 'Error: The XMPP server is not running, so the MUC service and its rooms cannot be reached\n';
    expect(await cli(['muc_online_rooms', 'global'])).toEqual(fails(3, message));
    expect(await cli(['create_room', 'lobby', 'conference.localhost', 'localhost'])).toEqual(fails(3, message));
    expect(await cli(['get_user_rooms', 'bob', 'localhost'])).toEqual(fails(3, message));
  });
});

import { ok, fails } from '../helpers/cli';
import { fakeNode, fakeXmpp, nodeCli, session, type FakeXmpp } from './session-helpers';

let xmpp: FakeXmpp;
let ctl: ReturnType<typeof nodeCli>;

beforeEach(() => {
  xmpp = fakeXmpp([
    session('bob@localhost/laptop', { priority: 5, status: 'away', statusText: 'out\tfor lunch\nback at 2', port: 40002, uptimeSeconds: 300 }),
    session('alice@localhost/phone', { priority: undefined, status: 'unavailable', connection: 'c2s', port: 40001 }),
    session('alice@localhost/desk', { priority: -1, status: 'dnd', statusText: 'busy', connection: 'websocket', ip: '::1', port: 40003 }),
    session('carol@example.org/home', { priority: 1, status: 'available', port: 40004, uptimeSeconds: 3600 }),
  ]);
  ctl = nodeCli(fakeNode(xmpp));
});

describe('listing sessions', () => {
  test('connected_users: every full JID, sorted', async () => {
    expect(await ctl(['connected_users'])).toEqual(ok('alice@localhost/desk\nalice@localhost/phone\nbob@localhost/laptop\ncarol@example.org/home\n'));
  });

  test('connected_users_vhost: those of one host; an unknown host is an error naming the hosts', async () => {
    expect(await ctl(['connected_users_vhost', 'example.org'])).toEqual(ok('carol@example.org/home\n'));
    expect(await ctl(['connected_users_vhost', 'LOCALHOST'])).toEqual(ok('alice@localhost/desk\nalice@localhost/phone\nbob@localhost/laptop\n'));
    const r = await ctl(['connected_users_vhost', 'nowhere.example']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/nowhere\.example.*localhost, example\.org/);
  });

  test('connected_users_number counts sessions; nothing connected prints 0', async () => {
    expect(await ctl(['connected_users_number'])).toEqual(ok('4\n'));
    xmpp.list.splice(0);
    expect(await ctl(['connected_users_number'])).toEqual(ok('0\n'));
    expect(await ctl(['connected_users'])).toEqual(ok(''));
  });

  test('connected_users_info: jid, connection, ip, port, priority, node, uptime, status, resource, statustext; no priority prints 0', async () => {
    expect(await ctl(['connected_users_info'])).toEqual(
      ok(
        [
          'alice@localhost/desk\twebsocket\t::1\t40003\t-1\tctl@localhost\t10\tdnd\tdesk\tbusy',
          'alice@localhost/phone\tc2s\t127.0.0.1\t40001\t0\tctl@localhost\t10\tunavailable\tphone\t',
          'bob@localhost/laptop\tc2s_tls\t127.0.0.1\t40002\t5\tctl@localhost\t300\taway\tlaptop\tout\\tfor lunch\\nback at 2',
          'carol@example.org/home\tc2s_tls\t127.0.0.1\t40004\t1\tctl@localhost\t3600\tavailable\thome\t',
          '',
        ].join('\n'),
      ),
    );
  });

  test('user_sessions_info: connection, ip, port, priority, node, uptime, status, resource, statustext; one record per line', async () => {
    expect(await ctl(['user_sessions_info', 'alice', 'localhost'])).toEqual(
      ok('websocket\t::1\t40003\t-1\tctl@localhost\t10\tdnd\tdesk\tbusy\nc2s\t127.0.0.1\t40001\t0\tctl@localhost\t10\tunavailable\tphone\t\n'),
    );
    expect(await ctl(['user_sessions_info', 'bob', 'localhost'])).toEqual(
      ok('c2s_tls\t127.0.0.1\t40002\t5\tctl@localhost\t300\taway\tlaptop\tout\\tfor lunch\\nback at 2\n'),
    );
    expect(await ctl(['user_sessions_info', 'nobody', 'localhost'])).toEqual(ok(''));
  });

  test('user_resources, num_resources, resource_num: sorted resources, counted, and the Nth from 1', async () => {
    expect(await ctl(['user_resources', 'Alice', 'localhost'])).toEqual(ok('desk\nphone\n'));
    expect(await ctl(['num_resources', 'alice', 'localhost'])).toEqual(ok('2\n'));
    expect(await ctl(['num_resources', 'dave', 'localhost'])).toEqual(ok('0\n'));
    expect(await ctl(['resource_num', 'alice', 'localhost', '1'])).toEqual(ok('desk\n'));
    expect(await ctl(['resource_num', 'alice', 'localhost', '2'])).toEqual(ok('phone\n'));
  });

  test('resource_num out of range says so as ejabberd does', async () => {
    for (const n of ['0', '3', '-1']) {
      expect(await ctl(['resource_num', 'alice', 'localhost', n])).toEqual(
        fails(2, `Error: Wrong resource number: ${n}\nUsage: ctl resource_num user host num\n`),
      );
    }
    expect(await ctl(['resource_num', 'alice', 'localhost', 'two'])).toMatchObject({ status: 2, stdout: '' });
  });

  test('a bad user name is an error naming the argument', async () => {
    const r = await ctl(['user_resources', 'a b', 'localhost']);
    expect(r).toMatchObject({ status: 2, stdout: '' });
    expect(r.stderr).toMatch(/^Error: Invalid user name 'a b' \(user\)/);
  });
});

describe('status_list and status_num', () => {
  test('rows of user, host, resource, priority, status text with that show; all lists every session', async () => {
    expect(await ctl(['status_list', 'dnd'])).toEqual(ok('alice\tlocalhost\tdesk\t-1\tbusy\n'));
    expect(await ctl(['status_list', 'away'])).toEqual(ok('bob\tlocalhost\tlaptop\t5\tout\\tfor lunch\\nback at 2\n'));
    expect(await ctl(['status_list', 'all'])).toEqual(
      ok(
        'alice\tlocalhost\tdesk\t-1\tbusy\nalice\tlocalhost\tphone\t0\t\nbob\tlocalhost\tlaptop\t5\tout\\tfor lunch\\nback at 2\ncarol\texample.org\thome\t1\t\n',
      ),
    );
    expect(await ctl(['status_list', 'xa'])).toEqual(ok(''));
    expect(await ctl(['status_num', 'available'])).toEqual(ok('1\n'));
    expect(await ctl(['status_num', 'all'])).toEqual(ok('4\n'));
    expect(await ctl(['status_num', 'unavailable'])).toEqual(ok('1\n'));
  });

  test('the _host variants count one host', async () => {
    expect(await ctl(['status_list_host', 'example.org', 'all'])).toEqual(ok('carol\texample.org\thome\t1\t\n'));
    expect(await ctl(['status_list_host', 'localhost', 'available'])).toEqual(ok(''));
    expect(await ctl(['status_num_host', 'localhost', 'all'])).toEqual(ok('3\n'));
    expect(await ctl(['status_num_host', 'example.org', 'dnd'])).toEqual(ok('0\n'));
  });

  test('an unknown status is an error listing the known ones', async () => {
    expect(await ctl(['status_num', 'busy'])).toEqual(
      fails(2, "Error: Unknown status 'busy' (status): use available, away, chat, dnd, xa, unavailable or all\nUsage: ctl status_num status\n"),
    );
    expect((await ctl(['status_list_host', 'elsewhere.example', 'all'])).status).toBe(1);
  });
});

describe('kicking', () => {
  test('kick_user closes every session of the user and prints how many', async () => {
    expect(await ctl(['kick_user', 'alice', 'localhost'])).toEqual(ok('2\n'));
    expect(xmpp.calls).toEqual(['kickUser alice@localhost']);
    expect(await ctl(['kick_user', 'alice', 'localhost'])).toEqual(ok('0\n'));
    expect(await ctl(['connected_users'])).toEqual(ok('bob@localhost/laptop\ncarol@example.org/home\n'));
  });

  test('kick_session closes one session with the reason; an empty reason is ejabberd’s default', async () => {
    expect(await ctl(['kick_session', 'bob', 'localhost', 'laptop', 'Maintenance'])).toEqual(ok(''));
    expect(await ctl(['kick_session', 'alice', 'localhost', 'desk', ''])).toEqual(ok(''));
    expect(xmpp.calls).toEqual(['kickSession bob@localhost/laptop Maintenance', 'kickSession alice@localhost/desk Kicked by administrator']);
  });

  test('kick_session of a session that is gone (or never was) is a clean error', async () => {
    expect(await ctl(['kick_session', 'bob', 'localhost', 'phone', 'x'])).toEqual(fails(1, 'Error: User session not found: bob@localhost/phone\n'));
    expect(await ctl(['kick_session', 'bob', 'localhost', '', 'x'])).toEqual(
      fails(2, 'Error: The resource (resource) must not be empty\nUsage: ctl kick_session user host resource reason\n'),
    );
  });
});

describe('set_presence', () => {
  test('the session broadcasts the presence as if its client had sent it', async () => {
    expect(await ctl(['set_presence', 'bob', 'localhost', 'laptop', 'available', 'away', 'Gone fishing', '10'])).toEqual(ok(''));
    expect(await ctl(['set_presence', 'bob', 'localhost', 'laptop', 'available', '', '', '0'])).toEqual(ok(''));
    expect(await ctl(['set_presence', 'bob', 'localhost', 'laptop', 'unavailable', 'available', 'bye', '-5'])).toEqual(ok(''));
    expect(xmpp.calls).toEqual([
      'setPresence bob@localhost/laptop <presence from="bob@localhost/laptop"><show>away</show><status>Gone fishing</status><priority>10</priority></presence>',
      'setPresence bob@localhost/laptop <presence from="bob@localhost/laptop"><priority>0</priority></presence>',
      'setPresence bob@localhost/laptop <presence from="bob@localhost/laptop" type="unavailable"><status>bye</status><priority>-5</priority></presence>',
    ]);
  });

  test('no such session: User session not found', async () => {
    expect(await ctl(['set_presence', 'bob', 'localhost', 'tablet', 'available', 'chat', '', '1'])).toEqual(
      fails(1, 'Error: User session not found: bob@localhost/tablet\n'),
    );
  });

  test.each([
    ['probe', 'away', '1', "Error: Unknown presence type 'probe' (type): use available or unavailable"],
    ['available', 'sleepy', '1', "Error: Unknown show 'sleepy' (show): use available, away, chat, dnd or xa"],
    ['available', 'away', 'high', "Error: The priority (priority) must be a whole number from -128 to 127, got 'high'"],
    ['available', 'away', '200', "Error: The priority (priority) must be a whole number from -128 to 127, got '200'"],
  ])('bad input (type %s, show %s, priority %s) is refused before anything is sent', async (type, show, priority, message) => {
    expect(await ctl(['set_presence', 'bob', 'localhost', 'laptop', type, show, '', priority])).toEqual(
      fails(2, `${message}\nUsage: ctl set_presence user host resource type show status priority\n`),
    );
    expect(xmpp.calls).toEqual([]);
  });
});

describe('send_stanza and send_stanza_c2s', () => {
  test('send_stanza routes the stanza with from and to set as given', async () => {
    expect(await ctl(['send_stanza', 'admin@localhost', 'bob@localhost/laptop', '<message type="chat" to="x@y"><body>hi</body></message>'])).toEqual(ok(''));
    expect(xmpp.stanzas).toEqual(['<message type="chat" to="bob@localhost/laptop" from="admin@localhost"><body>hi</body></message>']);
  });

  test('send_stanza refuses malformed XML, elements that are not stanzas, and bad JIDs', async () => {
    const usage = 'Usage: ctl send_stanza from to stanza\n';
    expect(await ctl(['send_stanza', 'a@localhost', 'b@localhost', '<message><body>hi</message>'])).toMatchObject({ status: 2, stdout: '' });
    expect((await ctl(['send_stanza', 'a@localhost', 'b@localhost', '<message><body>hi</message>'])).stderr).toMatch(
      /^Error: Malformed XML in argument 'stanza' \(line 1, column \d+\): /,
    );
    expect(await ctl(['send_stanza', 'a@localhost', 'b@localhost', '<query xmlns="jabber:iq:roster"/>'])).toEqual(
      fails(2, `Error: The stanza (stanza) must be a message, presence or iq element, not <query>\n${usage}`),
    );
    expect((await ctl(['send_stanza', 'a b@localhost', 'b@localhost', '<message/>'])).stderr).toMatch(/^Error: Invalid user name 'a b' \(from\)/);
    expect(xmpp.stanzas).toEqual([]);
  });

  test('send_stanza_c2s writes the stanza to that session', async () => {
    expect(await ctl(['send_stanza_c2s', 'carol', 'example.org', 'home', '<message from="example.org"><body>note</body></message>'])).toEqual(ok(''));
    expect(xmpp.stanzas).toEqual(['<message from="example.org"><body>note</body></message>']);
  });

  test('send_stanza_c2s to a session that does not exist is a clean error; bad XML is refused first', async () => {
    expect(await ctl(['send_stanza_c2s', 'carol', 'example.org', 'work', '<message/>'])).toEqual(
      fails(1, 'Error: User session not found: carol@example.org/work\n'),
    );
    expect((await ctl(['send_stanza_c2s', 'carol', 'example.org', 'home', 'not xml'])).status).toBe(2);
    expect(xmpp.stanzas).toEqual([]);
  });
});

describe('a session that ends during the call', () => {
  test('kick_session, set_presence and send_stanza_c2s say it is gone; listings simply leave it out', async () => {
    const vanishing = fakeXmpp([]);
    // Found by the listing the command makes, gone by the time it acts on it.
    vanishing.userSessions = () => [session('bob@localhost/laptop')];
    const racing = nodeCli(fakeNode(vanishing));
    expect(await racing(['kick_session', 'bob', 'localhost', 'laptop', 'x'])).toEqual(fails(1, 'Error: User session not found: bob@localhost/laptop\n'));
    expect(await racing(['set_presence', 'bob', 'localhost', 'laptop', 'available', '', '', '0'])).toEqual(
      fails(1, 'Error: User session not found: bob@localhost/laptop\n'),
    );
    expect(await racing(['send_stanza_c2s', 'bob', 'localhost', 'laptop', '<message/>'])).toEqual(
      fails(1, 'Error: User session not found: bob@localhost/laptop\n'),
    );
    expect(await racing(['connected_users'])).toEqual(ok(''));
  });
});

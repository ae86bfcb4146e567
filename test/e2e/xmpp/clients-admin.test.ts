/**
 * The session commands and admin actions against sessions real clients hold: what each command
 * prints, and what the clients receive when a command acts on them (presence, stanzas, roster
 * pushes, kicks, a ban, an unregistration).
 */
import { eventsOf, eventually, expectClean, got, slixmppLive, startXmppNode, type PeerRun, type XmppNode } from '../../helpers/xmpp';
import type { ProcResult } from '../../helpers/proc';

jest.setTimeout(60_000);

let x: XmppNode;
beforeAll(async () => {
  x = await startXmppNode({ users: Object.fromEntries(['sam', 'tom', 'una', 'vic', 'wes'].map((u) => [`${u}@localhost`, 'pw'])) });
});
afterAll(() => x?.stop());

const ok = (stdout = ''): ProcResult => ({ status: 0, stdout, stderr: '' });
const streamError = (run: PeerRun, client: string) => eventsOf(run, 'stream_error', client).map((e) => ({ condition: e.condition, text: e.text }));

test('session commands print the live sessions, and act on them as the clients see it', async () => {
  expect(await x.ctl(['add_rosteritem', 'sam', 'localhost', 'tom', 'localhost', 'Tom', 'Work', 'both'])).toEqual(ok());
  expect(await x.ctl(['add_rosteritem', 'tom', 'localhost', 'sam', 'localhost', 'Sam', 'Work', 'both'])).toEqual(ok());
  const live = slixmppLive('steps', {
    server: { port: x.ports.c2s },
    serial_login: true,
    clients: {
      phone: {
        jid: 'sam@localhost/phone',
        password: 'pw',
        presence: '<presence><show>away</show><status>on the bus</status><priority>5</priority></presence>',
      },
      laptop: { jid: 'sam@localhost/laptop', password: 'pw', tls: 'none' },
      desk: { jid: 'tom@localhost/desk', password: 'pw', tls: 'direct', port: x.ports.tls },
    },
    steps: [
      { checkpoint: 'online' },
      {
        as: 'phone',
        wait: ["from='tom@localhost/desk'", '<show>dnd</show>', '<status>in a meeting</status>', '<priority>3</priority>'],
        label: 'set_presence',
      },
      { as: 'phone', wait: ["from='tom@localhost/desk'", '<body>via send_stanza</body>'], label: 'send_stanza' },
      { as: 'laptop', wait: ['<body>straight down the stream</body>'], label: 'send_stanza_c2s' },
      { as: 'phone', wait: ['<body>via send_message</body>'], label: 'send_message' },
      { as: 'phone', wait: ["type='set'", "jid='una@localhost'", "name='Una'"], label: 'push' },
      { checkpoint: 'delivered' },
      { as: 'laptop', wait_closed: true },
      { as: 'desk', wait_closed: true },
    ],
    timeout: 40,
  });
  await live.checkpoint('online');

  expect(await x.ctl(['connected_users'])).toEqual(ok('sam@localhost/laptop\nsam@localhost/phone\ntom@localhost/desk\n'));
  expect(await x.ctl(['connected_users_vhost', 'localhost'])).toEqual(ok('sam@localhost/laptop\nsam@localhost/phone\ntom@localhost/desk\n'));
  expect(await x.ctl(['connected_users_number'])).toEqual(ok('3\n'));
  expect(await x.ctl(['stats', 'onlineusers'])).toEqual(ok('3\n'));
  expect(await x.ctl(['user_resources', 'sam', 'localhost'])).toEqual(ok('laptop\nphone\n'));
  expect(await x.ctl(['num_resources', 'sam', 'localhost'])).toEqual(ok('2\n'));
  expect(await x.ctl(['resource_num', 'sam', 'localhost', '2'])).toEqual(ok('phone\n'));
  expect(await x.ctl(['get_last', 'sam', 'localhost'])).toEqual(ok('Online\n'));
  expect(await x.ctl(['status_num', 'away'])).toEqual(ok('1\n'));
  expect(await x.ctl(['status_num_host', 'localhost', 'available'])).toEqual(ok('2\n'));
  expect(await x.ctl(['status_list', 'away'])).toEqual(ok('sam\tlocalhost\tphone\t5\ton the bus\n'));
  expect(await x.ctl(['status_list_host', 'localhost', 'available'])).toEqual(ok('sam\tlocalhost\tlaptop\t0\t\ntom\tlocalhost\tdesk\t0\t\n'));
  expect(await x.ctl(['status_num_host', 'localhost', 'xa'])).toEqual(ok('0\n'));

  const info = (await x.ctl(['connected_users_info'])).stdout.split('\n');
  expect(info).toEqual([
    expect.stringMatching(/^sam@localhost\/laptop\tc2s\t127\.0\.0\.1\t\d+\t0\tctl@localhost\t\d+\tavailable\tlaptop\t$/),
    expect.stringMatching(/^sam@localhost\/phone\tc2s_tls\t127\.0\.0\.1\t\d+\t5\tctl@localhost\t\d+\taway\tphone\ton the bus$/),
    expect.stringMatching(/^tom@localhost\/desk\tc2s_tls\t127\.0\.0\.1\t\d+\t0\tctl@localhost\t\d+\tavailable\tdesk\t$/),
    '',
  ]);
  const sessions = (await x.ctl(['user_sessions_info', 'sam', 'localhost'])).stdout;
  expect(sessions).toMatch(
    /^c2s\t127\.0\.0\.1\t\d+\t0\tctl@localhost\t\d+\tavailable\tlaptop\t\nc2s_tls\t127\.0\.0\.1\t\d+\t5\tctl@localhost\t\d+\taway\tphone\ton the bus\n$/,
  );

  expect(await x.ctl(['set_presence', 'tom', 'localhost', 'desk', 'available', 'dnd', 'in a meeting', '3'])).toEqual(ok());
  expect(await x.ctl(['send_stanza', 'tom@localhost/desk', 'sam@localhost/phone', "<message type='chat'><body>via send_stanza</body></message>"])).toEqual(
    ok(),
  );
  expect(
    await x.ctl(['send_stanza_c2s', 'sam', 'localhost', 'laptop', "<message from='localhost' type='headline'><body>straight down the stream</body></message>"]),
  ).toEqual(ok());
  expect(await x.ctl(['send_message', 'chat', 'una@localhost', 'sam@localhost/phone', '', 'via send_message'])).toEqual(ok());
  expect(await x.ctl(['add_rosteritem', 'sam', 'localhost', 'una', 'localhost', 'Una', 'Friends', 'none'])).toEqual(ok());
  live.resume();

  await live.checkpoint('delivered');
  expect(await x.ctl(['status_num', 'dnd'])).toEqual(ok('1\n'));
  expect(await x.ctl(['kick_session', 'sam', 'localhost', 'laptop', 'Time for bed'])).toEqual(ok());
  expect(await x.ctl(['kick_user', 'tom', 'localhost'])).toEqual(ok('1\n'));
  live.resume();

  const run = expectClean(await live.done);
  expect(got(run, 'send_message')).toMatch(/from='una@localhost'/);
  expect(got(run, 'push')).toContain('<group>Friends</group>');
  expect(streamError(run, 'laptop')).toEqual([{ condition: 'conflict', text: 'Time for bed' }]);
  expect(streamError(run, 'desk')).toEqual([{ condition: 'policy-violation', text: expect.stringMatching(/kicked/i) }]);
  expect(eventsOf(run, 'stream_error', 'phone')).toEqual([]);
  expect(
    await eventually(
      () => x.ctl(['connected_users']),
      (r) => r.stdout === '',
    ),
  ).toEqual(ok());
});

test('a second login with the same resource replaces the first, which gets conflict', async () => {
  const r = expectClean(
    await slixmppLive('steps', {
      server: { port: x.ports.c2s },
      serial_login: true,
      clients: { first: { jid: 'una@localhost/same', password: 'pw' }, second: { jid: 'una@localhost/same', password: 'pw' } },
      steps: [
        { as: 'first', wait_closed: true },
        { as: 'second', iq: "<iq type='get' id='p' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>" },
      ],
    }).done,
  );
  expect(streamError(r, 'first')).toEqual([{ condition: 'conflict', text: 'Replaced by new connection' }]);
  expect(eventsOf(r, 'online', 'second')).toMatchObject([{ jid: 'una@localhost/same' }]);
});

test('ban_account and unregister end the accounts’ streams; the banned account can no longer log in', async () => {
  const live = slixmppLive('steps', {
    server: { port: x.ports.c2s },
    clients: { vic: { jid: 'vic@localhost/r', password: 'pw' }, wes: { jid: 'wes@localhost/r', password: 'pw' } },
    steps: [{ checkpoint: 'online' }, { as: 'vic', wait_closed: true }, { as: 'wes', wait_closed: true }],
  });
  await live.checkpoint('online');
  expect(await x.ctl(['ban_account', 'vic', 'localhost', 'Spamming'])).toEqual(ok());
  expect(await x.ctl(['unregister', 'wes', 'localhost'])).toEqual(ok());
  live.resume();
  const run = expectClean(await live.done);
  expect(eventsOf(run, 'closed', 'vic')).toMatchObject([{ online: true }]);
  expect(eventsOf(run, 'closed', 'wes')).toMatchObject([{ online: true }]);
  expect(streamError(run, 'vic')).toEqual([{ condition: 'conflict', text: 'Spamming' }]);
  expect(streamError(run, 'wes')).toEqual([{ condition: 'not-authorized', text: 'Account deleted' }]);

  const again = slixmppLive('steps', { server: { port: x.ports.c2s }, clients: { vic: { jid: 'vic@localhost/r', password: 'pw' } } });
  const retry = await again.done;
  expect(eventsOf(retry, 'online')).toEqual([]);
  expect(eventsOf(retry, 'auth_failed')[0].xml).toContain('not-authorized');
});

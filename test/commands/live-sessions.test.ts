import { ok, fails } from '../helpers/cli';
import { fakeNode, fakeXmpp, nodeCli, session } from './session-helpers';

const sessions = () => [session('alice@localhost/phone'), session('alice@localhost/desk'), session('carol@example.org/home')];

describe('stats', () => {
  test('onlineusers and onlineusersnode count sessions; stats_host onlineusers those of one host', async () => {
    const ctl = nodeCli(fakeNode(fakeXmpp(sessions())));
    expect(await ctl(['stats', 'onlineusers'])).toEqual(ok('3\n'));
    expect(await ctl(['stats', 'onlineusersnode'])).toEqual(ok('3\n'));
    expect(await ctl(['stats_host', 'onlineusers', 'localhost'])).toEqual(ok('2\n'));
    expect(await ctl(['stats_host', 'onlineusers', 'Example.org'])).toEqual(ok('1\n'));
    expect((await ctl(['stats_host', 'onlineusers', 'elsewhere.example'])).status).toBe(1);
  });
});

describe('get_last', () => {
  test('Online while the user has a session, the stored activity otherwise', async () => {
    let online = true;
    const ctl = nodeCli(fakeNode(fakeXmpp([])), { isOnline: (jid) => online && jid.user === 'alice' });
    await ctl(['register', 'alice', 'localhost', 'pw']);
    await ctl(['set_last', 'alice', 'localhost', '1700000000', 'Went home']);
    expect(await ctl(['get_last', 'alice', 'localhost'])).toEqual(ok('Online\n'));
    online = false;
    expect(await ctl(['get_last', 'alice', 'localhost'])).toEqual(ok('2023-11-14 22:13:20 Went home\n'));
  });
});

describe('send_message', () => {
  test('on a node the message is routed, so an online recipient gets it at once; nothing is stored by the command', async () => {
    const xmpp = fakeXmpp(sessions());
    const ctl = nodeCli(fakeNode(xmpp));
    await ctl(['register', 'alice', 'localhost', 'pw']);
    expect(await ctl(['send_message', 'chat', 'admin@localhost', 'alice@localhost', '', 'Hello'])).toEqual(ok(''));
    expect(xmpp.stanzas).toEqual([
      expect.stringMatching(/^<message type="chat" from="admin@localhost" to="alice@localhost" id="[-0-9a-f]{36}"><body>Hello<\/body><\/message>$/),
    ]);
    expect(await ctl(['get_offline_count', 'alice', 'localhost'])).toEqual(ok('0\n'));
  });

  test('without a node it is stored offline, as before', async () => {
    const ctl = nodeCli(undefined);
    await ctl(['register', 'alice', 'localhost', 'pw']);
    expect(await ctl(['send_message', 'normal', 'admin@localhost', 'alice@localhost', 'Subject', 'Body'])).toEqual(ok(''));
    expect(await ctl(['get_offline_count', 'alice', 'localhost'])).toEqual(ok('1\n'));
  });

  test('bad input is refused before anything is routed', async () => {
    const xmpp = fakeXmpp([]);
    const ctl = nodeCli(fakeNode(xmpp));
    expect((await ctl(['send_message', 'shout', 'admin@localhost', 'alice@localhost', '', 'x'])).status).toBe(2);
    expect((await ctl(['send_message', 'chat', 'admin@localhost', 'alice@elsewhere.example', '', 'x'])).status).toBe(1);
    expect(xmpp.stanzas).toEqual([]);
  });
});

describe('stop_kindly', () => {
  test('stops accepting clients, announces to every session, waits, stops; each step as ejabberd reports it', async () => {
    const xmpp = fakeXmpp(sessions());
    const steps: string[] = [];
    const ctl = nodeCli(
      fakeNode(xmpp, {
        stopAccepting: async () => void steps.push('stopAccepting'),
        stop: async () => void steps.push('stop'),
      }),
    );
    expect(await ctl(['stop_kindly', '0', 'Back in five minutes'])).toEqual({
      status: 0,
      stdout: '',
      stderr: [
        '[1/5 0s] Stopping new client connections... ok',
        '[2/5 0s] Sending announcement to connected users: Back in five minutes... 3 sessions',
        '[3/5 0s] Sending service message to MUC rooms... 0 rooms',
        '[4/5 0s] Waiting 0 seconds... ok',
        '[5/5 0s] Stopping the node... ok',
        '',
      ].join('\n'),
    });
    expect(xmpp.calls).toEqual(['announce Back in five minutes']);
    expect(steps).toEqual(['stopAccepting', 'stop']);
  });

  test('a negative delay is refused before anything happens', async () => {
    const xmpp = fakeXmpp(sessions());
    const ctl = nodeCli(fakeNode(xmpp));
    expect(await ctl(['stop_kindly', '-1', 'x'])).toEqual(
      fails(2, 'Error: The delay (delay) must not be negative, got -1\nUsage: ctl stop_kindly delay announcement\n'),
    );
    expect(xmpp.calls).toEqual([]);
  });
});

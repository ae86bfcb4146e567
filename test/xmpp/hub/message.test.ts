import { makeHub, online, settle } from './helpers';

const bob = { user: 'bob', host: 'localhost' };

describe('messages', () => {
  test('a bare JID reaches the available resources of highest non-negative priority', async () => {
    const hub = makeHub();
    const a = await hub.login('alice');
    const high = await online(hub, 'bob', 'high', '<presence><priority>5</priority></presence>');
    const high2 = await online(hub, 'bob', 'high2', '<presence><priority>5</priority></presence>');
    const low = await online(hub, 'bob', 'low', '<presence><priority>1</priority></presence>');
    const none = await hub.login('bob', 'nopresence');
    for (const c of [high, high2, low]) c.take();
    a.send("<message to='bob@localhost' type='chat'><body>1</body></message>");
    await settle();
    expect(high.take()).toEqual(['<message to="bob@localhost" type="chat" from="alice@localhost/r"><body>1</body></message>']);
    expect(high2.take()).toHaveLength(1);
    expect(low.take()).toEqual([]);
    expect(none.take()).toEqual([]);
    // A full JID gets it whatever its priority; an offline resource falls back to the bare rules.
    a.send("<message to='bob@localhost/low'><body>2</body></message>");
    a.send("<message to='bob@localhost/gone' type='chat'><body>3</body></message>");
    await settle();
    expect(low.take()).toEqual(['<message to="bob@localhost/low" from="alice@localhost/r"><body>2</body></message>']);
    expect(high.take()).toEqual(['<message to="bob@localhost/gone" type="chat" from="alice@localhost/r"><body>3</body></message>']);
  });

  test('with only negative priorities the message is stored, then delivered with its delay at initial presence', async () => {
    const hub = makeHub();
    const a = await hub.login('alice');
    const neg = await online(hub, 'bob', 'neg', '<presence><priority>-1</priority></presence>');
    neg.take();
    a.send("<message to='bob@localhost' type='chat' id='m1'><body>later</body></message>");
    a.send("<message to='bob@localhost' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>");
    await settle();
    expect(neg.take()).toEqual([]);
    expect(await hub.features.offline.count(bob)).toBe(1);
    const b = await online(hub, 'bob', 'new');
    expect(b.take()).toEqual([
      '<presence from="bob@localhost/new" to="bob@localhost/new"/>',
      '<message to="bob@localhost" type="chat" id="m1" from="alice@localhost/r"><body>later</body><delay xmlns="urn:xmpp:delay" from="localhost" stamp="2023-11-14T22:13:20.000Z"/></message>',
    ]);
    expect(await hub.features.offline.count(bob)).toBe(0);
  });

  test('a message an admin stores while its owner is online is delivered at once', async () => {
    const hub = makeHub();
    const b = await online(hub, 'bob');
    b.take();
    const { parseXml } = await import('../../../src/lib/xml');
    await hub.features.offline.store(bob, parseXml("<message from='admin@localhost' to='bob@localhost'><body>x</body></message>", 't'));
    await settle();
    expect(b.take()).toEqual([
      expect.stringMatching(
        /^<message from="admin@localhost" to="bob@localhost"><body>x<\/body><delay xmlns="urn:xmpp:delay" from="localhost" stamp="[^"]+"\/><\/message>$/,
      ),
    ]);
    expect(await hub.features.offline.count(bob)).toBe(0);
  });

  test('headline, groupchat and error rules, and an unknown user', async () => {
    const hub = makeHub();
    const a = await online(hub, 'alice');
    await hub.features.accounts.register(bob, 'pw');
    a.take();
    a.send("<message to='bob@localhost' type='headline' id='h'><body>news</body></message>");
    a.send("<message to='bob@localhost' type='groupchat' id='g'><body>x</body></message>");
    a.send("<message to='bob@localhost/r' type='groupchat' id='g2'><body>x</body></message>");
    a.send("<message to='bob@localhost' type='error' id='e'><body>x</body></message>");
    a.send("<message to='nobody@localhost' type='chat' id='n'><body>x</body></message>");
    a.send("<message to='bob@elsewhere.example' type='chat' id='r'><body>x</body></message>");
    await settle();
    expect(a.take().map((s) => `${/id="(\w+)"/.exec(s)![1]} ${/<error type="\w+"><([\w-]+)/.exec(s)![1]}`)).toEqual([
      'g service-unavailable',
      'g2 service-unavailable',
      'n service-unavailable',
      'r remote-server-not-found',
    ]);
    expect(await hub.features.offline.count(bob)).toBe(0);
    const b = await online(hub, 'bob');
    expect(b.take()).toEqual(['<presence from="bob@localhost/r" to="bob@localhost/r"/>']);
    a.send("<message to='bob@localhost' type='headline'><body>live</body></message>");
    await settle();
    expect(b.take()).toEqual(['<message to="bob@localhost" type="headline" from="alice@localhost/r"><body>live</body></message>']);
  });

  test('message-delivered hooks hear of live deliveries', async () => {
    const heard: string[] = [];
    const hub = makeHub([
      (api) =>
        api.hook('message-delivered', (m, _to, sessions) => void heard.push(`${m.getChildText('body')} ${sessions.map((s) => s.jid.resource).join(',')}`)),
    ]);
    const a = await hub.login('alice');
    await online(hub, 'bob', 'x');
    a.send("<message to='bob@localhost' type='chat'><body>hi</body></message>");
    await settle();
    expect(heard).toEqual(['hi x']);
  });
});

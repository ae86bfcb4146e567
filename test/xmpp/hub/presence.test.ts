import { makeHub, online, settle } from './helpers';

const alice = { user: 'alice', host: 'localhost' };
const bob = { user: 'bob', host: 'localhost' };
const getRoster = "<iq type='get' id='g'><query xmlns='jabber:iq:roster'/></iq>";

describe('subscriptions between two local users', () => {
  test('a request to an offline user waits for their login; approval, presence, and unsubscribe', async () => {
    const hub = makeHub();
    await hub.features.accounts.register(bob, 'pw');
    const a = await hub.login('alice');
    a.send(getRoster);
    a.send('<presence/>');
    await settle();
    a.take();
    a.send("<presence type='subscribe' to='bob@localhost/ignored'><status>hi</status></presence>");
    await settle();
    expect(a.take()).toEqual([expect.stringMatching(/<item jid="bob@localhost" subscription="none" ask="subscribe"\/>/)]);
    expect(await hub.features.roster.get(bob, 'alice@localhost')).toMatchObject({ subscription: 'none', ask: 'in' });

    const b = await hub.login('bob');
    b.send(getRoster);
    await settle();
    expect(b.take()).toEqual([expect.stringMatching(/<query xmlns="jabber:iq:roster" ver="\w+"\/><\/iq>$/)]);
    b.send('<presence/>');
    await settle();
    expect(b.take()).toEqual([
      '<presence from="bob@localhost/r" to="bob@localhost/r"/>',
      '<presence type="subscribe" from="alice@localhost" to="bob@localhost"/>',
    ]);

    b.send("<presence type='subscribed' to='alice@localhost'/>");
    await settle();
    expect(b.take()).toEqual([expect.stringMatching(/<item jid="alice@localhost" subscription="from"\/>/)]);
    expect(a.take()).toEqual([
      expect.stringMatching(/<item jid="bob@localhost" subscription="to"\/>/),
      '<presence type="subscribed" to="alice@localhost" from="bob@localhost"/>',
      '<presence from="bob@localhost/r" to="alice@localhost"/>',
    ]);

    // Bob's later presence reaches Alice, not the other way round.
    b.send('<presence><show>away</show></presence>');
    a.send('<presence><show>chat</show></presence>');
    await settle();
    expect(a.take()).toEqual([
      '<presence from="bob@localhost/r" to="alice@localhost"><show>away</show></presence>',
      '<presence from="alice@localhost/r" to="alice@localhost/r"><show>chat</show></presence>',
    ]);
    expect(b.take()).toEqual(['<presence from="bob@localhost/r" to="bob@localhost/r"><show>away</show></presence>']);

    a.send("<presence type='unsubscribe' to='bob@localhost'/>");
    await settle();
    expect(a.take()).toEqual([
      expect.stringMatching(/<item jid="bob@localhost" subscription="none"\/>/),
      '<presence type="unavailable" from="bob@localhost/r" to="alice@localhost"/>',
    ]);
    expect(b.take()).toEqual([
      expect.stringMatching(/<item jid="alice@localhost" subscription="none"\/>/),
      '<presence type="unsubscribe" to="bob@localhost" from="alice@localhost"/>',
    ]);
    expect(await hub.features.roster.get(alice, 'bob@localhost')).toMatchObject({ subscription: 'none', ask: 'none' });
  });

  test('a denied request leaves no item behind on the asked side', async () => {
    const hub = makeHub();
    const a = await online(hub, 'alice');
    const b = await online(hub, 'bob');
    b.take();
    a.send("<presence type='subscribe' to='bob@localhost'/>");
    await settle();
    expect(b.take()).toEqual(['<presence type="subscribe" to="bob@localhost" from="alice@localhost"/>']);
    b.send("<presence type='unsubscribed' to='alice@localhost'/>");
    await settle();
    expect(await hub.features.roster.get(bob, 'alice@localhost')).toBeUndefined();
    expect(await hub.features.roster.get(alice, 'bob@localhost')).toMatchObject({ subscription: 'none', ask: 'none' });
    expect(a.take()).toContain('<presence type="unsubscribed" to="alice@localhost" from="bob@localhost"/>');
  });
});

describe('presence', () => {
  async function friends() {
    const hub = makeHub();
    for (const j of [alice, bob]) await hub.features.accounts.register(j, 'pw');
    await hub.features.roster.set(alice, 'bob@localhost', { name: '', subscription: 'both', ask: 'none', groups: [] });
    await hub.features.roster.set(bob, 'alice@localhost', { name: '', subscription: 'both', ask: 'none', groups: [] });
    return hub;
  }

  test('initial presence probes the contacts and is broadcast to them; unavailable on close', async () => {
    const hub = await friends();
    const b = await online(hub, 'bob', 'r', '<presence><status>here</status></presence>');
    b.take();
    const a = await online(hub, 'alice');
    expect(a.take()).toEqual([
      '<presence from="alice@localhost/r" to="alice@localhost/r"/>',
      '<presence from="bob@localhost/r" to="alice@localhost/r"><status>here</status></presence>',
    ]);
    expect(b.take()).toEqual(['<presence from="alice@localhost/r" to="bob@localhost"/>']);
    a.drop();
    await settle();
    expect(b.take()).toEqual(['<presence type="unavailable" from="alice@localhost/r" to="bob@localhost"/>']);
  });

  test('a probe of an offline contact is answered with unavailable', async () => {
    const hub = await friends();
    const a = await online(hub, 'alice');
    expect(a.take()).toEqual([
      '<presence from="alice@localhost/r" to="alice@localhost/r"/>',
      '<presence type="unavailable" from="bob@localhost" to="alice@localhost/r"/>',
    ]);
  });

  test('directed presence to a stranger: remembered, and told unavailable when the session ends', async () => {
    const hub = makeHub();
    const a = await online(hub, 'alice');
    const c = await online(hub, 'carol');
    c.take();
    a.send("<presence to='carol@localhost/r'><show>chat</show></presence>");
    await settle();
    expect(c.take()).toEqual(['<presence to="carol@localhost/r" from="alice@localhost/r"><show>chat</show></presence>']);
    expect([...a.session.directed]).toEqual(['carol@localhost/r']);
    a.drop();
    await settle();
    expect(c.take()).toEqual(['<presence type="unavailable" from="alice@localhost/r" to="carol@localhost/r"/>']);
  });
});

import { makeHub, online, settle, type FakeClient, type TestHub } from './helpers';

const alice = { user: 'alice', host: 'localhost' };
const bob = { user: 'bob', host: 'localhost' };
const getRoster = "<iq type='get' id='g'><query xmlns='jabber:iq:roster'/></iq>";

/** Alice and Bob online, each having fetched the roster (so each gets roster pushes). */
async function pair(): Promise<{ hub: TestHub; a: FakeClient; b: FakeClient }> {
  const hub = makeHub();
  const a = await online(hub, 'alice');
  const b = await online(hub, 'bob');
  a.send(getRoster);
  b.send(getRoster);
  await settle();
  a.take();
  b.take();
  return { hub, a, b };
}

async function preApprove(a: FakeClient): Promise<void> {
  a.send("<presence type='subscribed' to='bob@localhost'/>");
  await settle();
}

describe('subscription pre-approval', () => {
  test('a subscribed before any request is noted, pushed with approved, and not sent to the contact', async () => {
    const { hub, a, b } = await pair();
    await preApprove(a);
    expect(a.take()).toEqual([expect.stringMatching(/<item jid="bob@localhost" subscription="none" approved="true"\/><\/query><\/iq>$/)]);
    expect(b.take()).toEqual([]);
    expect(await hub.features.roster.get(alice, 'bob@localhost')).toEqual({ name: '', subscription: 'none', ask: 'none', groups: [], approved: true });
    expect(await hub.features.roster.get(bob, 'alice@localhost')).toBeUndefined();

    a.send(getRoster);
    await settle();
    expect(a.take()).toEqual([
      expect.stringMatching(/<query xmlns="jabber:iq:roster" ver="\w+"><item jid="bob@localhost" subscription="none" approved="true"\/><\/query>/),
    ]);

    // Saying it again changes nothing.
    await preApprove(a);
    expect(a.take()).toEqual([]);
  });

  test("the contact's later request is approved at once, without reaching the user, and spends the pre-approval", async () => {
    const { hub, a, b } = await pair();
    await preApprove(a);
    a.take();
    b.send("<presence type='subscribe' to='alice@localhost'/>");
    await settle();
    expect(a.take()).toEqual([expect.stringMatching(/<item jid="bob@localhost" subscription="from"\/><\/query><\/iq>$/)]);
    expect(b.take()).toEqual([
      expect.stringMatching(/<item jid="alice@localhost" subscription="none" ask="subscribe"\/>/),
      expect.stringMatching(/<item jid="alice@localhost" subscription="to"\/>/),
      '<presence type="subscribed" from="alice@localhost" to="bob@localhost"/>',
      '<presence from="alice@localhost/r" to="bob@localhost"/>',
    ]);
    expect(await hub.features.roster.get(alice, 'bob@localhost')).toEqual({ name: '', subscription: 'from', ask: 'none', groups: [] });
    expect(await hub.features.roster.get(bob, 'alice@localhost')).toMatchObject({ subscription: 'to', ask: 'none' });

    // Alice's presence now reaches Bob.
    a.send('<presence><show>away</show></presence>');
    await settle();
    expect(b.take()).toEqual(['<presence from="alice@localhost/r" to="bob@localhost"><show>away</show></presence>']);
  });

  test('a pre-approval on an item the user subscribes with gives both', async () => {
    const { hub, a, b } = await pair();
    a.send("<presence type='subscribe' to='bob@localhost'/>");
    await settle();
    b.send("<presence type='subscribed' to='alice@localhost'/>");
    await settle();
    expect(await hub.features.roster.get(alice, 'bob@localhost')).toMatchObject({ subscription: 'to', ask: 'none' });
    a.take();
    b.take();

    await preApprove(a);
    expect(a.take()).toEqual([expect.stringMatching(/<item jid="bob@localhost" subscription="to" approved="true"\/>/)]);
    b.send("<presence type='subscribe' to='alice@localhost'/>");
    await settle();
    expect(a.take()).toEqual([expect.stringMatching(/<item jid="bob@localhost" subscription="both"\/><\/query><\/iq>$/)]);
    expect(await hub.features.roster.get(alice, 'bob@localhost')).toEqual({ name: '', subscription: 'both', ask: 'none', groups: [] });
    expect(await hub.features.roster.get(bob, 'alice@localhost')).toMatchObject({ subscription: 'both', ask: 'none' });
  });

  test('an unsubscribed cancels the pre-approval: the later request reaches the user', async () => {
    const { hub, a, b } = await pair();
    await preApprove(a);
    a.take();
    a.send("<presence type='unsubscribed' to='bob@localhost'/>");
    await settle();
    expect(a.take()).toEqual([expect.stringMatching(/<item jid="bob@localhost" subscription="none"\/><\/query><\/iq>$/)]);
    expect(await hub.features.roster.get(alice, 'bob@localhost')).toEqual({ name: '', subscription: 'none', ask: 'none', groups: [] });

    b.send("<presence type='subscribe' to='alice@localhost'/>");
    await settle();
    expect(a.take()).toEqual(['<presence type="subscribe" to="alice@localhost" from="bob@localhost"/>']);
    expect(await hub.features.roster.get(alice, 'bob@localhost')).toMatchObject({ subscription: 'none', ask: 'in' });
  });

  test('removing the item removes the pre-approval', async () => {
    const { hub, a, b } = await pair();
    await preApprove(a);
    a.send("<iq type='set' id='rm'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' subscription='remove'/></query></iq>");
    await settle();
    expect(await hub.features.roster.get(alice, 'bob@localhost')).toBeUndefined();
    a.take();
    b.send("<presence type='subscribe' to='alice@localhost'/>");
    await settle();
    expect(a.take()).toEqual(['<presence type="subscribe" to="alice@localhost" from="bob@localhost"/>']);
  });

  test('a roster set keeps the pre-approval, whatever the client sends', async () => {
    const { hub, a } = await pair();
    await preApprove(a);
    a.take();
    a.send(
      "<iq type='set' id='s'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' name='Bob' approved='false'><group>Friends</group></item></query></iq>",
    );
    await settle();
    expect(a.take()).toContainEqual(
      expect.stringMatching(/<item jid="bob@localhost" subscription="none" name="Bob" approved="true"><group>Friends<\/group><\/item>/),
    );
    expect(await hub.features.roster.get(alice, 'bob@localhost')).toEqual({
      name: 'Bob',
      subscription: 'none',
      ask: 'none',
      groups: ['Friends'],
      approved: true,
    });
  });

  test('a subscribed answering a pending request approves it as before, with no pre-approval left', async () => {
    const { hub, a, b } = await pair();
    b.send("<presence type='subscribe' to='alice@localhost'/>");
    await settle();
    a.take();
    await preApprove(a);
    expect(a.take()).toEqual([expect.stringMatching(/<item jid="bob@localhost" subscription="from"\/><\/query><\/iq>$/)]);
    expect(await hub.features.roster.get(alice, 'bob@localhost')).toEqual({ name: '', subscription: 'from', ask: 'none', groups: [] });
    expect(b.take()).toContain('<presence type="subscribed" to="bob@localhost" from="alice@localhost"/>');
  });
});

import { makeHub, settle } from './helpers';

const alice = { user: 'alice', host: 'localhost' };

describe('roster', () => {
  test('get, set, versioning, remove, and pushes to the interested resources', async () => {
    const hub = makeHub();
    await hub.features.accounts.register({ user: 'bob', host: 'localhost' }, 'pw');
    const a = await hub.login('alice', 'r');
    const quiet = await hub.login('alice', 'q');
    a.send("<iq type='get' id='g1'><query xmlns='jabber:iq:roster'/></iq>");
    await settle();
    const [empty] = a.take();
    const ver0 = /ver="(\w+)"/.exec(empty)![1];
    expect(empty).toBe(`<iq type="result" id="g1" to="alice@localhost/r"><query xmlns="jabber:iq:roster" ver="${ver0}"/></iq>`);
    expect(a.session.interested).toBe(true);

    a.send(
      "<iq type='set' id='s1'><query xmlns='jabber:iq:roster'><item jid='Bob@LocalHost' name='Bob' subscription='both'><group>Friends</group></item></query></iq>",
    );
    await settle();
    const got = a.take();
    const ver1 = /ver="(\w+)"/.exec(got.find((s) => s.includes('type="set"'))!)![1];
    expect(got.sort()).toEqual(
      [
        '<iq type="result" id="s1" to="alice@localhost/r"/>',
        `<iq type="set" id="push1" to="alice@localhost/r"><query xmlns="jabber:iq:roster" ver="${ver1}"><item jid="bob@localhost" subscription="none" name="Bob"><group>Friends</group></item></query></iq>`,
      ].sort(),
    );
    expect(quiet.take()).toEqual([]);
    expect(ver1).not.toBe(ver0);

    a.send(`<iq type='get' id='g2'><query xmlns='jabber:iq:roster' ver='${ver1}'/></iq>`);
    a.send(`<iq type='get' id='g3'><query xmlns='jabber:iq:roster' ver='${ver0}'/></iq>`);
    await settle();
    expect(a.take()).toEqual([
      '<iq type="result" id="g2" to="alice@localhost/r"/>',
      `<iq type="result" id="g3" to="alice@localhost/r"><query xmlns="jabber:iq:roster" ver="${ver1}"><item jid="bob@localhost" subscription="none" name="Bob"><group>Friends</group></item></query></iq>`,
    ]);

    a.send("<iq type='set' id='s2'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' subscription='remove'/></query></iq>");
    a.send("<iq type='set' id='s3'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' subscription='remove'/></query></iq>");
    a.send("<iq type='set' id='s4'><query xmlns='jabber:iq:roster'><item jid='x@localhost'><group>g</group><group>g</group></item></query></iq>");
    a.send("<iq type='set' id='s5'><query xmlns='jabber:iq:roster'><item jid='x@localhost'/><item jid='y@localhost'/></query></iq>");
    await settle();
    const after = a.take();
    expect(after.filter((s) => s.includes('push'))).toEqual([expect.stringMatching(/<item jid="bob@localhost" subscription="remove"\/>/)]);
    expect(
      after.filter((s) => !s.includes('push')).map((s) => `${/id="(\w+)"/.exec(s)![1]} ${/<error type="\w+"><([\w-]+)/.exec(s)?.[1] ?? ''}`.trim()),
    ).toEqual(['s2', 's3 item-not-found', 's4 bad-request', 's5 bad-request']);
    expect(await hub.features.roster.items(alice)).toEqual([]);
  });

  test('an admin change of the roster reaches the online resources as a push', async () => {
    const hub = makeHub();
    const a = await hub.login('alice');
    a.send("<iq type='get' id='g'><query xmlns='jabber:iq:roster'/></iq>");
    await settle();
    a.take();
    await hub.features.roster.set(alice, 'carol@example.org', { name: 'C', subscription: 'both', ask: 'none', groups: ['Work'] });
    await settle();
    expect(a.take()).toEqual([
      expect.stringMatching(
        /^<iq type="set" id="push\d+" to="alice@localhost\/r"><query xmlns="jabber:iq:roster" ver="\w+"><item jid="carol@example.org" subscription="both" name="C"><group>Work<\/group><\/item><\/query><\/iq>$/,
      ),
    ]);
  });

  test('shared roster groups appear in the roster with subscription both and the group name', async () => {
    const hub = makeHub();
    for (const u of ['bob', 'carol']) await hub.features.accounts.register({ user: u, host: 'localhost' }, 'pw');
    await hub.features.accounts.register(alice, 'pw');
    await hub.features.srg.create({ host: 'localhost', group: 'team' }, { name: 'The Team', description: '', displayed: ['team'] });
    for (const u of ['alice', 'bob']) await hub.features.srg.userAdd({ host: 'localhost', group: 'team' }, { user: u, host: 'localhost' });
    const a = await hub.login('alice');
    a.send("<iq type='get' id='g'><query xmlns='jabber:iq:roster'/></iq>");
    await settle();
    expect(a.take()[0]).toMatch(
      /<query xmlns="jabber:iq:roster" ver="\w+"><item jid="bob@localhost" subscription="both"><group>The Team<\/group><\/item><\/query>/,
    );
  });
});

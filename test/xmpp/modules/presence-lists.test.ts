import type { XmppModule } from '../../../src/xmpp/api';
import { blocking } from '../../../src/xmpp/modules/blocking';
import { privacy } from '../../../src/xmpp/modules/privacy';
import { moduleHub, type Client, type ModuleHub } from './helpers';

const alice = { user: 'alice', host: 'localhost' };
const bob = { user: 'bob', host: 'localhost' };
const both = { name: '', subscription: 'both' as const, ask: 'none' as const, groups: [] as string[] };

/** Mutual subscriptions between alice and each contact, stored before anyone logs in. */
async function befriend(hub: ModuleHub, ...users: string[]) {
  await hub.features.accounts.register(alice, 'pw');
  for (const u of users) {
    const jid = { user: u, host: 'localhost' };
    await hub.features.accounts.register(jid, 'pw');
    await hub.features.roster.set(alice, `${u}@localhost`, both);
    await hub.features.roster.set(jid, 'alice@localhost', both);
  }
}

async function world(modules: readonly XmppModule[] = [blocking]) {
  const hub = moduleHub(modules);
  await befriend(hub, 'bob', 'carol');
  const b = await hub.online('bob');
  const c = await hub.online('carol');
  const a = await hub.online('alice');
  for (const cl of [a, b, c]) cl.take();
  return { hub, a, b, c };
}

const blockIq = (jid: string) => `<iq type='set' id='b'><block xmlns='urn:xmpp:blocking'><item jid='${jid}'/></block></iq>`;
const unblockIq = (jid: string) => `<iq type='set' id='u'><unblock xmlns='urn:xmpp:blocking'><item jid='${jid}'/></unblock></iq>`;
const presences = (c: Client) => c.take().filter((s) => s.startsWith('<presence'));

describe.each([
  ['blocking', [blocking]],
  ['privacy', [privacy]],
  ['both', [privacy, blocking]],
])('broadcast presence and the blocklist (%s module)', (_name, modules) => {
  test('a contact the user blocked no longer sees the user’s presence changes; other contacts do', async () => {
    const { hub, a, b, c } = await world(modules);
    await hub.features.privacy.block(alice, ['bob@localhost']);
    await a.send('<presence><show>away</show></presence>');
    expect(presences(b).filter((p) => p.includes('<show>'))).toEqual([]);
    expect(c.take()).toEqual(['<presence from="alice@localhost/r" to="carol@localhost"><show>away</show></presence>']);
  });

  test('nor the user’s unavailable when the user logs out', async () => {
    const { hub, a, b, c } = await world(modules);
    await hub.features.privacy.block(alice, ['bob@localhost']);
    b.take();
    await a.drop();
    expect(b.take()).toEqual([]);
    expect(c.take()).toEqual(['<presence type="unavailable" from="alice@localhost/r" to="carol@localhost"/>']);
  });

  test('a contact who blocked the user does not get the user’s presence (the recipient’s list)', async () => {
    const { hub, a, b, c } = await world(modules);
    await hub.features.privacy.block(bob, ['alice@localhost']);
    await a.send('<presence><status>here</status></presence>');
    expect(b.take()).toEqual([]);
    expect(c.take()).toEqual(['<presence from="alice@localhost/r" to="carol@localhost"><status>here</status></presence>']);
  });

  test('a blocked contact’s probe goes unanswered: logging in, it does not see the user online', async () => {
    const { hub, a } = await world(modules);
    await hub.features.privacy.block(alice, ['bob@localhost']);
    a.take();
    const b2 = await hub.login('bob', 'phone');
    await b2.send('<presence/>');
    expect(b2.take().filter((p) => p.includes('from="alice@localhost'))).toEqual([]);
    // Without the block, the probe is answered.
    await hub.features.privacy.unblock(alice, 'all');
    const b3 = await hub.login('bob', 'tablet');
    await b3.send('<presence/>');
    expect(b3.take()).toContain('<presence from="alice@localhost/r" to="bob@localhost/tablet"/>');
  });
});

describe('blocking and unblocking send presence (XEP-0191 §3.3, §3.4)', () => {
  test('a blocked subscriber gets unavailable from each available resource; the other contacts get nothing', async () => {
    const { hub, a, b, c } = await world();
    const a2 = await hub.online('alice', 'phone');
    const quiet = await hub.login('alice', 'quiet');
    for (const cl of [a, a2, b, c]) cl.take();
    await quiet.send(blockIq('bob@localhost'));
    expect(quiet.take()).toContain('<iq type="result" id="b" to="alice@localhost/quiet"/>');
    expect(b.take().sort()).toEqual([
      '<presence type="unavailable" from="alice@localhost/phone" to="bob@localhost"/>',
      '<presence type="unavailable" from="alice@localhost/r" to="bob@localhost"/>',
    ]);
    expect(c.take()).toEqual([]);
  });

  test('so does a contact the user sent directed presence to, and a block made by the admin command', async () => {
    const { hub, a } = await world();
    const dave = await hub.online('dave');
    await a.send("<presence to='dave@localhost/r'><status>hi dave</status></presence>");
    expect(dave.take()).toEqual(['<presence to="dave@localhost/r" from="alice@localhost/r"><status>hi dave</status></presence>']);
    await hub.features.privacy.block(alice, ['dave@localhost']);
    await new Promise((r) => setTimeout(r, 10));
    expect(dave.take()).toEqual(['<presence type="unavailable" from="alice@localhost/r" to="dave@localhost/r"/>']);
    // Told once: logging out later sends nothing more.
    await a.drop();
    expect(dave.take()).toEqual([]);
  });

  test('an unblocked subscriber gets the current presence again, and the user’s resources hear the contact again', async () => {
    const { a, b } = await world();
    await a.send('<presence><show>dnd</show></presence>');
    b.take();
    await a.send(blockIq('bob@localhost'));
    a.take();
    b.take();
    await b.send('<presence><show>chat</show></presence>');
    b.take();
    expect(a.take()).toEqual([]);
    await a.send(unblockIq('bob@localhost'));
    expect(b.take()).toEqual(['<presence from="alice@localhost/r" to="bob@localhost"><show>dnd</show></presence>']);
    expect(presences(a)).toEqual(['<presence from="bob@localhost/r" to="alice@localhost/r"><show>chat</show></presence>']);
  });

  test('unblocking one JID while the domain stays blocked sends nothing', async () => {
    const { a, b } = await world();
    await a.send(`<iq type='set' id='b'><block xmlns='urn:xmpp:blocking'><item jid='bob@localhost'/><item jid='localhost'/></block></iq>`);
    a.take();
    b.take();
    await a.send(unblockIq('bob@localhost'));
    expect(b.take()).toEqual([]);
  });

  test('a contact without a subscription to the user gets nothing on block', async () => {
    const { hub, a } = await world();
    const dave = await hub.online('dave');
    a.take();
    await a.send(blockIq('dave@localhost'));
    expect(dave.take()).toEqual([]);
  });
});

describe('privacy lists decide on broadcasts', () => {
  const set = (inner: string) => `<iq type='set' id='s'><query xmlns='jabber:iq:privacy'>${inner}</query></iq>`;

  test('a presence-out item by group keeps the broadcast from that group only, and messages still pass', async () => {
    const hub = moduleHub([privacy]);
    await befriend(hub, 'bob', 'carol');
    await hub.features.roster.set(alice, 'bob@localhost', { ...both, groups: ['Work'] });
    const b = await hub.online('bob');
    const c = await hub.online('carol');
    const a = await hub.online('alice');
    await a.send(set("<list name='evening'><item type='group' value='Work' action='deny' order='1'><presence-out/></item></list>"));
    await a.send(set("<active name='evening'/>"));
    for (const cl of [a, b, c]) cl.take();
    await a.send('<presence><show>xa</show></presence>');
    expect(b.take()).toEqual([]);
    expect(c.take()).toEqual(['<presence from="alice@localhost/r" to="carol@localhost"><show>xa</show></presence>']);
    await a.send("<message type='chat' to='bob@localhost' id='m'><body>still here</body></message>");
    expect(b.take()).toEqual([expect.stringContaining('still here')]);
    // Another session of the user, without the active list, broadcasts to everyone: the default list is absent.
    const a2 = await hub.online('alice', 'desk');
    expect(b.take()).toEqual(['<presence from="alice@localhost/desk" to="bob@localhost"/>']);
    a2.take();
  });

  test('a presence-out item leaves a contact’s probe unanswered, and its default list holds for every session', async () => {
    const hub = moduleHub([privacy]);
    await befriend(hub, 'bob');
    await hub.features.privacy.setList(alice, 'hide', [{ type: 'jid', value: 'bob@localhost', action: 'deny', order: 1, stanzas: ['presence-out'] }]);
    await hub.features.privacy.setDefault(alice, 'hide');
    const a = await hub.online('alice');
    const b = await hub.login('bob');
    await b.send('<presence/>');
    expect(b.take().filter((p) => p.includes('from="alice@localhost'))).toEqual([]);
    // Bob's presence still reaches alice: only her outgoing presence is denied.
    expect(a.take()).toEqual(['<presence from="bob@localhost/r" to="alice@localhost"/>']);
    await hub.features.privacy.setDefault(alice, null);
    const b2 = await hub.login('bob', 'phone');
    await b2.send('<presence/>');
    expect(b2.take()).toContain('<presence from="alice@localhost/r" to="bob@localhost/phone"/>');
  });
});

describe('the roster view presence keeps in memory', () => {
  test('a broadcast reads neither the roster nor the shared groups from the store', async () => {
    const { hub, a, c } = await world();
    const items = jest.spyOn(hub.features.roster, 'items');
    const groups = jest.spyOn(hub.features.srg, 'list');
    for (let i = 0; i < 3; i++) await a.send(`<presence><status>${i}</status></presence>`);
    expect(c.take()).toHaveLength(3);
    expect(items).not.toHaveBeenCalled();
    expect(groups).not.toHaveBeenCalled();
  });

  test('follows roster changes made while the user is online, by the admin commands or by presence', async () => {
    const hub = moduleHub([]);
    await befriend(hub, 'bob');
    await hub.features.accounts.register({ user: 'carol', host: 'localhost' }, 'pw');
    const a = await hub.online('alice');
    const b = await hub.online('bob');
    const c = await hub.online('carol');
    for (const cl of [a, b, c]) cl.take();
    await hub.features.roster.set(alice, 'carol@localhost', both);
    await a.send('<presence><status>one</status></presence>');
    expect(c.take()).toEqual(['<presence from="alice@localhost/r" to="carol@localhost"><status>one</status></presence>']);
    // Bob cancels his subscription: alice's next broadcast skips him.
    await b.send("<presence type='unsubscribe' to='alice@localhost'/>");
    b.take();
    await a.send('<presence><status>two</status></presence>');
    expect(b.take()).toEqual([]);
    expect(c.take()).toHaveLength(1);
  });

  test('a registration refreshes the views: a group of all users reaches the new account', async () => {
    const hub = moduleHub([]);
    await hub.features.accounts.register(alice, 'pw');
    await hub.features.srg.create({ host: 'localhost', group: 'everyone' }, { name: 'Everyone', description: '', displayed: ['everyone'] });
    await hub.features.srg.userAdd({ host: 'localhost', group: 'everyone' }, '@all@');
    const a = await hub.online('alice');
    await hub.features.accounts.register({ user: 'erin', host: 'localhost' }, 'pw');
    const e = await hub.online('erin');
    e.take();
    await a.send('<presence><status>hello</status></presence>');
    expect(e.take()).toEqual(['<presence from="alice@localhost/r" to="erin@localhost"><status>hello</status></presence>']);
  });
});

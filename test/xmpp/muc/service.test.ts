import type { XmppModule } from '../../../src/xmpp/api';
import { rejection } from '../../helpers/features';
import { instant, join, mucHub, START } from './service-helpers';

const OWNER = 'http://jabber.org/protocol/muc#owner';
const DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';
const ROOM = (name: string) => ({ name, service: 'conference.localhost' });

const configSubmit = (room: string, fields: Record<string, string>) =>
  `<iq type='set' id='cfg' to='${room}@conference.localhost'><query xmlns='${OWNER}'><x xmlns='jabber:x:data' type='submit'>` +
  `<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>` +
  Object.entries(fields)
    .map(([k, v]) => `<field var='${k}'><value>${v}</value></field>`)
    .join('') +
  `</x></query></iq>`;

describe('the MUC service', () => {
  test('the server lists the service; the service is conference/text with the MUC features; other payloads are service-unavailable', async () => {
    const hub = mucHub();
    const alice = await hub.online('alice');
    await alice.send(`<iq type='get' id='i1' to='localhost'><query xmlns='${DISCO_ITEMS}'/></iq>`);
    expect(alice.take()).toEqual([
      `<iq type="result" id="i1" from="localhost" to="alice@localhost/r"><query xmlns="${DISCO_ITEMS}"><item jid="conference.localhost" name="Chatrooms"/></query></iq>`,
    ]);
    await alice.send(`<iq type='get' id='i2' to='conference.localhost'><query xmlns='${DISCO_INFO}'/></iq>`);
    const [info] = alice.take();
    expect(info).toMatch(/^<iq type="result" id="i2" from="conference.localhost" to="alice@localhost\/r">/);
    expect(info).toContain('<identity category="conference" type="text" name="Chatrooms"/>');
    for (const ns of ['http://jabber.org/protocol/muc', 'jabber:iq:register', DISCO_ITEMS, 'vcard-temp']) expect(info).toContain(`<feature var="${ns}"/>`);
    await alice.send(`<iq type='get' id='i3' to='conference.localhost'><query xmlns='jabber:iq:version'/></iq>`);
    expect(alice.take()[0]).toContain('<service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/>');
    await alice.send(`<iq type='get' id='i4' to='conference.example.org'><query xmlns='${DISCO_INFO}'/></iq>`);
    expect(alice.take()[0]).toContain('<remote-server-not-found');
  });

  test('a first join creates a locked room (201) that others cannot enter until the owner accepts the instant room', async () => {
    const hub = mucHub();
    const alice = await hub.online('alice');
    const bob = await hub.online('bob');
    const got = await join(alice, 'lobby', 'Alice');
    const self = got.find((s) => s.startsWith('<presence'))!;
    expect(self).toContain('from="lobby@conference.localhost/Alice"');
    expect(self).toContain('affiliation="owner"');
    expect(self).toContain('<status code="201"/>');
    expect(self).toContain('<status code="110"/>');

    expect((await join(bob, 'lobby', 'Bob')).join('')).toContain('<item-not-found');
    expect(await instant(alice, 'lobby')).toEqual(['<iq type="result" id="inst" from="lobby@conference.localhost" to="alice@localhost/r"/>']);
    const bobGot = (await join(bob, 'lobby', 'Bob')).join('');
    expect(bobGot).toContain('from="lobby@conference.localhost/Bob"');
    expect(bobGot).not.toContain('201');
    expect(alice.take().join('')).toContain('from="lobby@conference.localhost/Bob"');
  });

  test('rooms that do not exist: messages and IQs get item-not-found, leaving presence nothing; bad names jid-malformed', async () => {
    const hub = mucHub();
    const alice = await hub.online('alice');
    await alice.send(`<message type='groupchat' id='m1' to='nowhere@conference.localhost'><body>hi</body></message>`);
    expect(alice.take()[0]).toContain(
      '<item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">Conference room does not exist</text>',
    );
    await alice.send(`<iq type='get' id='q1' to='nowhere@conference.localhost'><query xmlns='${DISCO_INFO}'/></iq>`);
    expect(alice.take()[0]).toContain('<item-not-found');
    await alice.send(`<presence type='unavailable' to='nowhere@conference.localhost/A'/>`);
    expect(alice.take()).toEqual([]);
    await alice.send(`<presence to='a&quot;b@conference.localhost/A'/>`);
    expect(alice.take()[0]).toContain('<jid-malformed');
    expect(await hub.service.control.exists(ROOM('nowhere'))).toBe(false);
  });

  test('access_create decides who may create rooms', async () => {
    const hub = mucHub({ muc: { accessCreate: 'none' } });
    const alice = await hub.online('alice');
    const got = (await join(alice, 'lobby', 'A')).join('');
    expect(got).toContain('<forbidden');
    expect(got).toContain('Room creation is denied by service policy');
    expect(await hub.service.control.exists(ROOM('lobby'))).toBe(false);
  });

  test('access decides who may use the service at all; leaving is never refused', async () => {
    const open = mucHub();
    const alice = await open.online('alice');
    expect((await join(alice, 'lobby', 'A')).join('')).toContain('<status code="201"/>');
    const closed = mucHub({ muc: { access: 'none' } });
    const bob = await closed.online('bob');
    const got = (await join(bob, 'lobby', 'B')).join('');
    expect(got).toContain('<forbidden');
    expect(got).toContain('Access denied by service policy');
    await bob.send(`<iq type='get' id='d1' to='conference.localhost'><query xmlns='${DISCO_INFO}'/></iq>`);
    expect(bob.take()[0]).toContain('<forbidden');
    await bob.send(`<presence type='unavailable' to='lobby@conference.localhost/B'/>`);
    expect(bob.take()).toEqual([]);
    expect(await closed.service.control.exists(ROOM('lobby'))).toBe(false);
  });

  test('a room name longer than max_room_id is refused', async () => {
    const hub = mucHub({ muc: { maxRoomId: 5 } });
    const alice = await hub.online('alice');
    expect((await join(alice, 'toolongname', 'A')).join('')).toContain('<not-acceptable');
    expect((await join(alice, 'short', 'A')).join('')).toContain('<status code="201"/>');
  });
});

describe('the owner form', () => {
  test('the owner gets the muc#roomconfig form; a submitted form changes the options; others are refused', async () => {
    const hub = mucHub();
    const alice = await hub.online('alice');
    const bob = await hub.online('bob');
    await join(alice, 'lobby', 'Alice');
    await alice.send(`<iq type='get' id='f1' to='lobby@conference.localhost'><query xmlns='${OWNER}'/></iq>`);
    const [form] = alice.take();
    expect(form).toContain('<x xmlns="jabber:x:data" type="form"><title>Configuration of room lobby@conference.localhost</title>');
    expect(form).toContain('<field var="FORM_TYPE" type="hidden"><value>http://jabber.org/protocol/muc#roomconfig</value></field>');
    for (const v of [
      'muc#roomconfig_roomname',
      'muc#roomconfig_roomdesc',
      'muc#roomconfig_persistentroom',
      'muc#roomconfig_publicroom',
      'public_list',
      'muc#roomconfig_passwordprotectedroom',
      'muc#roomconfig_roomsecret',
      'muc#roomconfig_maxusers',
      'muc#roomconfig_whois',
      'muc#roomconfig_presencebroadcast',
      'muc#roomconfig_membersonly',
      'muc#roomconfig_moderatedroom',
      'members_by_default',
      'muc#roomconfig_changesubject',
      'muc#roomconfig_allowpm',
      'allow_private_messages_from_visitors',
      'allow_query_users',
      'muc#roomconfig_allowinvites',
      'allow_visitor_status',
      'allow_visitor_nickchange',
      'allow_voice_requests',
      'voice_request_min_interval',
      'muc#roomconfig_enablelogging',
      'mam',
      'muc#roomconfig_lang',
    ]) {
      expect(form).toContain(`var="${v}"`);
    }
    expect(form).toContain('<field var="muc#roomconfig_whois" type="list-single" label="Present real Jabber IDs to"><value>moderators</value>');

    await bob.send(`<iq type='get' id='f2' to='lobby@conference.localhost'><query xmlns='${OWNER}'/></iq>`);
    expect(bob.take()[0]).toContain(
      '<forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">Owner privileges required</text>',
    );
    await bob.send(configSubmit('lobby', { 'muc#roomconfig_roomname': 'Bob was here' }));
    expect(bob.take()[0]).toContain('<forbidden');

    await alice.send(
      configSubmit('lobby', {
        'muc#roomconfig_roomname': 'The Lobby',
        'muc#roomconfig_roomdesc': 'Where people meet',
        'muc#roomconfig_whois': 'anyone',
        'muc#roomconfig_maxusers': '50',
        'muc#roomconfig_allowvisitorstatus': '0',
      }),
    );
    expect(alice.take().join('')).toContain('<iq type="result" id="cfg" from="lobby@conference.localhost" to="alice@localhost/r"/>');
    const options = await hub.service.control.options(ROOM('lobby'));
    expect(options).toMatchObject({ title: 'The Lobby', description: 'Where people meet', anonymous: false, max_users: 50, allow_visitor_status: false });

    await alice.send(`<iq type='get' id='f3' to='lobby@conference.localhost'><query xmlns='${OWNER}'/></iq>`);
    const [again] = alice.take();
    expect(again).toContain('<field var="muc#roomconfig_roomname" type="text-single" label="Room title"><value>The Lobby</value></field>');
    expect(again).toContain(
      '<field var="allow_visitor_status" type="boolean" label="Allow visitors to send status text in presence updates"><value>0</value></field>',
    );
  });

  test('values that cannot be are refused and change nothing', async () => {
    const hub = mucHub({ muc: { maxUsers: 100 } });
    const alice = await hub.online('alice');
    await join(alice, 'lobby', 'Alice');
    await instant(alice, 'lobby');
    await alice.send(configSubmit('lobby', { 'muc#roomconfig_membersonly': 'maybe' }));
    expect(alice.take()[0]).toContain(
      '<bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">Field muc#roomconfig_membersonly: \'maybe\' is not a boolean',
    );
    await alice.send(configSubmit('lobby', { 'muc#roomconfig_maxusers': '500' }));
    expect(alice.take()[0]).toContain('<not-acceptable');
    await alice.send(configSubmit('lobby', { 'muc#roomconfig_passwordprotectedroom': '1' }));
    expect(alice.take()[0]).toContain('A password-protected room needs a password');
    const options = await hub.service.control.options(ROOM('lobby'));
    expect(options).toMatchObject({ members_only: false, max_users: 200, password_protected: false });
  });

  test('cancelling the configuration of a new room destroys it; <destroy/> destroys a room with occupants inside', async () => {
    const hub = mucHub();
    const alice = await hub.online('alice');
    const bob = await hub.online('bob');
    await join(alice, 'first', 'Alice');
    await alice.send(`<iq type='set' id='c1' to='first@conference.localhost'><query xmlns='${OWNER}'><x xmlns='jabber:x:data' type='cancel'/></query></iq>`);
    expect(alice.take().join('')).toContain('<iq type="result" id="c1"');
    expect(await hub.service.control.exists(ROOM('first'))).toBe(false);

    await join(alice, 'second', 'Alice');
    await instant(alice, 'second');
    await join(bob, 'second', 'Bob');
    alice.take();
    await alice.send(
      `<iq type='set' id='d1' to='second@conference.localhost'><query xmlns='${OWNER}'><destroy jid='elsewhere@conference.localhost'><reason>Moving</reason></destroy></query></iq>`,
    );
    const gone = bob.take().join('');
    expect(gone).toContain('type="unavailable"');
    expect(gone).toContain('<destroy jid="elsewhere@conference.localhost"><reason>Moving</reason></destroy>');
    expect(alice.take().join('')).toContain('<iq type="result" id="d1"');
    expect(await hub.service.control.exists(ROOM('second'))).toBe(false);
  });
});

describe('rooms in disco', () => {
  test("a room's identity, the features its options make it, and its muc#roominfo form", async () => {
    const hub = mucHub();
    const alice = await hub.online('alice');
    await join(alice, 'lobby', 'Alice');
    await alice.send(configSubmit('lobby', { 'muc#roomconfig_roomname': 'The Lobby', 'muc#roomconfig_roomdesc': 'Meet', 'muc#roomconfig_publicroom': '0' }));
    alice.take();
    await alice.send(`<iq type='get' id='r1' to='lobby@conference.localhost'><query xmlns='${DISCO_INFO}'/></iq>`);
    const [info] = alice.take();
    expect(info).toContain('<identity category="conference" type="text" name="The Lobby"/>');
    for (const f of ['muc_hidden', 'muc_temporary', 'muc_open', 'muc_moderated', 'muc_semianonymous', 'muc_unsecured'])
      expect(info).toContain(`<feature var="${f}"/>`);
    expect(info).toContain('<field var="muc#roominfo_description" label="Room description"><value>Meet</value></field>');
    expect(info).toContain('<field var="muc#roominfo_occupants" label="Number of occupants"><value>1</value></field>');
  });

  test('the service lists public rooms by name, paged with RSM; a hidden room is not listed', async () => {
    const hub = mucHub();
    const alice = await hub.online('alice');
    const { control } = hub.service;
    await control.createRoom(ROOM('b-room'), { title: 'Bee', persistent: true });
    await control.createRoom(ROOM('a-room'), { persistent: false });
    await control.createRoom(ROOM('c-room'), { persistent: true, public: false });
    await control.createRoom(ROOM('d-room'), { persistent: true });
    await alice.send(`<iq type='get' id='s1' to='conference.localhost'><query xmlns='${DISCO_ITEMS}'/></iq>`);
    expect(alice.take()[0]).toContain(
      `<query xmlns="${DISCO_ITEMS}"><item jid="a-room@conference.localhost" name="a-room"/><item jid="b-room@conference.localhost" name="Bee"/><item jid="d-room@conference.localhost" name="d-room"/></query>`,
    );
    await alice.send(
      `<iq type='get' id='s2' to='conference.localhost'><query xmlns='${DISCO_ITEMS}'><set xmlns='http://jabber.org/protocol/rsm'><max>1</max><after>a-room</after></set></query></iq>`,
    );
    expect(alice.take()[0]).toContain(
      '<item jid="b-room@conference.localhost" name="Bee"/><set xmlns="http://jabber.org/protocol/rsm"><first>b-room</first><last>b-room</last></set>',
    );
  });

  test("a room's occupants are listed to anyone when the list is public, otherwise only to occupants", async () => {
    const hub = mucHub();
    const alice = await hub.online('alice');
    const carol = await hub.online('carol');
    await join(alice, 'lobby', 'Alice');
    await instant(alice, 'lobby');
    await carol.send(`<iq type='get' id='o1' to='lobby@conference.localhost'><query xmlns='${DISCO_ITEMS}'/></iq>`);
    expect(carol.take()[0]).toContain('<item jid="lobby@conference.localhost/Alice" name="Alice"/>');
    await hub.service.control.changeOption(ROOM('lobby'), 'public_list', 'false');
    await carol.send(`<iq type='get' id='o2' to='lobby@conference.localhost'><query xmlns='${DISCO_ITEMS}'/></iq>`);
    expect(carol.take()[0]).toContain(`<query xmlns="${DISCO_ITEMS}"/>`);
    alice.take();
    await alice.send(`<iq type='get' id='o3' to='lobby@conference.localhost'><query xmlns='${DISCO_ITEMS}'/></iq>`);
    expect(alice.take()[0]).toContain('name="Alice"');
  });
});

describe('nick registration', () => {
  test('a user registers a nick, sees it registered, another user is refused it, and removing frees it', async () => {
    const hub = mucHub();
    const alice = await hub.online('alice');
    const bob = await hub.online('bob');
    await alice.send(`<iq type='get' id='g1' to='conference.localhost'><query xmlns='jabber:iq:register'/></iq>`);
    const [form] = alice.take();
    expect(form).not.toContain('<registered/>');
    expect(form).toContain('<field var="muc#register_roomnick" type="text-single" label="Nickname"><required/></field>');
    const submit = (nick: string) =>
      `<iq type='set' id='s1' to='conference.localhost'><query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'>` +
      `<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#register</value></field><field var='muc#register_roomnick'><value>${nick}</value></field></x></query></iq>`;
    await alice.send(submit('Wonder'));
    expect(alice.take()).toEqual(['<iq type="result" id="s1" from="conference.localhost" to="alice@localhost/r"/>']);
    await alice.send(`<iq type='get' id='g2' to='conference.localhost'><query xmlns='jabber:iq:register'/></iq>`);
    expect(alice.take()[0]).toContain('<registered/><nick>Wonder</nick>');

    await bob.send(submit('wonder'));
    expect(bob.take()[0]).toContain(
      '<conflict xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">That nickname is registered by another person</text>',
    );
    await bob.send(`<iq type='set' id='e1' to='conference.localhost'><query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'/></query></iq>`);
    expect(bob.take()[0]).toContain('<not-acceptable');

    // The registered nick is its holder's in the rooms.
    await join(alice, 'lobby', 'Alice');
    await instant(alice, 'lobby');
    expect((await join(bob, 'lobby', 'Wonder')).join('')).toContain('<conflict');

    await alice.send(`<iq type='set' id='x1' to='conference.localhost'><query xmlns='jabber:iq:register'><remove/></query></iq>`);
    alice.take();
    await bob.send(submit('wonder'));
    expect(bob.take()).toEqual(['<iq type="result" id="s1" from="conference.localhost" to="bob@localhost/r"/>']);
  });
});

describe('persistence', () => {
  test('a persistent room is stored and, on a new server over the same storage, loaded when someone asks for it', async () => {
    const first = mucHub();
    const storage = first.muc;
    const alice = await first.online('alice');
    await join(alice, 'keep', 'Alice');
    await alice.send(configSubmit('keep', { 'muc#roomconfig_persistentroom': '1', 'muc#roomconfig_roomname': 'Kept' }));
    await alice.send(`<message type='groupchat' to='keep@conference.localhost' id='s'><subject>Old news</subject></message>`);
    await first.service.flush();
    const stored = await storage.room('conference.localhost', 'keep');
    expect(stored?.options).toMatchObject({ persistent: true, title: 'Kept' });
    expect(stored?.subject).toBe('Old news');
    expect(stored?.affiliations).toEqual([{ jid: 'alice@localhost', affiliation: 'owner', reason: '' }]);

    const second = mucHub({ store: first.store });
    const bob = await second.online('bob');
    await bob.send(`<iq type='get' id='r1' to='keep@conference.localhost'><query xmlns='${DISCO_INFO}'/></iq>`);
    expect(bob.take()[0]).toContain('<identity category="conference" type="text" name="Kept"/>');
    const got = (await join(bob, 'keep', 'Bob')).join('');
    expect(got).toContain('from="keep@conference.localhost/Bob"');
    expect(got).not.toContain('201');
    expect(got).toContain('<subject>Old news</subject>');
  });

  test('a temporary room is gone when its last occupant leaves', async () => {
    const hub = mucHub();
    const alice = await hub.online('alice');
    await join(alice, 'brief', 'Alice');
    await instant(alice, 'brief');
    expect(await hub.service.control.exists(ROOM('brief'))).toBe(true);
    await alice.send(`<presence type='unavailable' to='brief@conference.localhost/Alice'/>`);
    expect(await hub.service.control.exists(ROOM('brief'))).toBe(false);
    expect(hub.saves).toEqual([]);
  });

  test("activity alone is written in a batch, not per message; a room's options are written at once", async () => {
    const hub = mucHub();
    const storage = hub.muc;
    const alice = await hub.online('alice');
    await join(alice, 'busy', 'Alice');
    await alice.send(configSubmit('busy', { 'muc#roomconfig_persistentroom': '1' }));
    const saves = hub.saves.length;
    expect(saves).toBeGreaterThan(0);
    for (let i = 0; i < 20; i++) {
      hub.at(START + 1000 * (i + 1));
      await alice.send(`<message type='groupchat' to='busy@conference.localhost'><body>m${i}</body></message>`);
    }
    expect(hub.saves.length).toBe(saves);
    await hub.service.control.changeOption(ROOM('busy'), 'title', 'Busy room');
    expect(hub.saves.length).toBe(saves + 1);
    await hub.service.flush();
    expect((await storage.room('conference.localhost', 'busy'))?.lastActivity).toBe(START + 20_000);
  });

  test('a room made temporary is removed from storage', async () => {
    const hub = mucHub();
    const storage = hub.muc;
    const alice = await hub.online('alice');
    await join(alice, 'kept', 'Alice');
    await alice.send(configSubmit('kept', { 'muc#roomconfig_persistentroom': '1' }));
    await hub.service.flush();
    expect(await storage.room('conference.localhost', 'kept')).toBeDefined();
    await alice.send(configSubmit('kept', { 'muc#roomconfig_persistentroom': '0' }));
    await hub.service.flush();
    expect(await storage.room('conference.localhost', 'kept')).toBeUndefined();
  });

  test('empty persistent rooms are cached up to room_cache_size; an evicted one is read again from storage', async () => {
    const hub = mucHub({ muc: { roomCacheSize: 1 } });
    const storage = hub.muc;
    const alice = await hub.online('alice');
    const { control } = hub.service;
    await control.createRoom(ROOM('one'), { persistent: true, title: 'One' });
    await control.createRoom(ROOM('two'), { persistent: true, title: 'Two' });
    const title = async (room: string) => {
      await alice.send(`<iq type='get' id='t' to='${room}@conference.localhost'><query xmlns='${DISCO_INFO}'/></iq>`);
      return /<identity[^>]* name="([^"]*)"/.exec(alice.take()[0])?.[1];
    };
    expect(await title('one')).toBe('One');
    // Changed behind the live room's back: only a reload sees it.
    const record = (await storage.room('conference.localhost', 'one'))!;
    await storage.saveRoom('conference.localhost', 'one', { ...record, options: { ...record.options, title: 'One again' } });
    expect(await title('one')).toBe('One');
    expect(await title('two')).toBe('Two');
    expect(await title('one')).toBe('One again');
  });

  test('a session that ends leaves its rooms, even when its unavailable presence is withheld from them', async () => {
    // As a privacy list denying presence-out does: the server's own unavailable reaches no one.
    const withhold: XmppModule = (api) =>
      api.hook('presence-broadcast', (p, _s, recipients) => {
        if (p.attrs.type === 'unavailable') recipients.clear();
      });
    const hub = mucHub({ modules: [withhold] });
    const alice = await hub.online('alice');
    const bob = await hub.online('bob');
    await join(alice, 'lobby', 'Alice');
    await instant(alice, 'lobby');
    await join(bob, 'lobby', 'Bob');
    await join(bob, 'other', 'Bob');
    await instant(bob, 'other');
    alice.take();
    await bob.drop();
    const seen = alice.take().join('');
    expect(seen).toContain('from="lobby@conference.localhost/Bob"');
    expect(seen).toContain('type="unavailable"');
    expect(await hub.service.control.occupants(ROOM('lobby'))).toHaveLength(1);
    expect(await hub.service.control.exists(ROOM('other'))).toBe(false);
    expect(await hub.service.control.userRooms({ user: 'bob', host: 'localhost' })).toEqual([]);
  });
});

describe('MucControl', () => {
  test('services and the errors for a service that is not ours or a host given for it', async () => {
    const hub = mucHub({ hosts: ['localhost', 'example.org'] });
    const { control } = hub.service;
    expect(control.services()).toEqual([
      { service: 'conference.localhost', host: 'localhost' },
      { service: 'conference.example.org', host: 'example.org' },
    ]);
    expect((await rejection(control.exists({ name: 'a', service: 'conference.other.net' }))).message).toBe(
      'conference.other.net is not a MUC service of this node (served: conference.localhost, conference.example.org)',
    );
    const host = await rejection(control.options({ name: 'a', service: 'localhost' }));
    expect(host.code).toBe('not_found');
    expect(host.message).toBe('localhost is a host, not a MUC service: did you mean conference.localhost?');
    const name = await rejection(control.createRoom({ name: 'a b', service: 'conference.localhost' }));
    expect(name.code).toBe('bad_argument');
    expect(name.message).toContain("Invalid room name 'a b'");
  });

  test('createRoom, exists, options, changeOption, destroyRoom, and their errors', async () => {
    const hub = mucHub({ muc: { defaultRoomOptions: { ...(await import('../../../src/config/muc')).DEFAULT_ROOM_OPTIONS, title: 'Default' } } });
    const { control } = hub.service;
    await control.createRoom(ROOM('Room1'), { description: 'Made by hand' });
    expect(await control.exists(ROOM('room1'))).toBe(true);
    expect(await control.options(ROOM('room1'))).toMatchObject({ title: 'Default', description: 'Made by hand' });
    const again = await rejection(control.createRoom(ROOM('room1')));
    expect(again.code).toBe('conflict');
    expect(again.message).toBe('Room already exists: room1@conference.localhost');

    await control.changeOption(ROOM('room1'), 'max_users', '30');
    expect((await control.options(ROOM('room1'))).max_users).toBe(30);
    const bad = await rejection(control.changeOption(ROOM('room1'), 'persistent', 'maybe'));
    expect(bad.message).toContain('persistent');
    expect((await rejection(control.changeOption(ROOM('room1'), 'colour', 'red'))).message).toContain("Unknown room option 'colour'");
    const none = await rejection(control.options(ROOM('ghost')));
    expect(none.code).toBe('not_found');
    expect(none.message).toBe('Room ghost@conference.localhost does not exist');
    expect((await rejection(control.changeOption(ROOM('ghost'), 'title', 'x'))).code).toBe('not_found');

    await control.destroyRoom(ROOM('room1'));
    expect(await control.exists(ROOM('room1'))).toBe(false);
    expect((await rejection(control.destroyRoom(ROOM('room1')))).message).toBe('Room room1@conference.localhost does not exist');
  });

  test('destroyRoom tells the occupants; destroyRooms destroys those that exist', async () => {
    const hub = mucHub();
    const alice = await hub.online('alice');
    const { control } = hub.service;
    await join(alice, 'lobby', 'Alice');
    await instant(alice, 'lobby');
    await control.createRoom(ROOM('quiet'), { persistent: true });
    await control.destroyRoom(ROOM('lobby'), 'Closing time');
    expect(alice.take().join('')).toContain('<destroy><reason>Closing time</reason></destroy>');
    expect(await control.destroyRooms([ROOM('quiet'), ROOM('missing')])).toEqual([ROOM('quiet')]);
    expect(await hub.muc.room('conference.localhost', 'quiet')).toBeUndefined();
  });

  test('createRooms stores all or none', async () => {
    const hub = mucHub();
    const { control } = hub.service;
    expect(await control.createRooms([ROOM('r1'), ROOM('r2')])).toBe(2);
    expect((await hub.muc.room('conference.localhost', 'r1'))?.options.persistent).toBe(true);
    expect((await rejection(control.createRooms([ROOM('r3'), ROOM('r1')]))).code).toBe('conflict');
    expect((await rejection(control.createRooms([ROOM('r4'), { name: 'bad/name', service: 'conference.localhost' }]))).code).toBe('bad_argument');
    expect((await rejection(control.createRooms([ROOM('r5'), ROOM('r5')]))).message).toBe('Room r5@conference.localhost is listed twice');
    expect(await control.rooms()).toEqual([ROOM('r1'), ROOM('r2')]);
  });

  test('setAffiliation and affiliations; an outcast inside is banned out', async () => {
    const hub = mucHub();
    const alice = await hub.online('alice');
    const bob = await hub.online('bob');
    const { control } = hub.service;
    await join(alice, 'lobby', 'Alice');
    await instant(alice, 'lobby');
    await join(bob, 'lobby', 'Bob');
    await control.setAffiliation(ROOM('lobby'), { user: 'carol', host: 'localhost' }, 'member', 'friend');
    await control.setAffiliation(ROOM('lobby'), { user: 'bob', host: 'localhost' }, 'outcast', 'spam');
    expect(bob.take().join('')).toContain('<status code="301"/>');
    expect(await control.affiliations(ROOM('lobby'))).toEqual(
      expect.arrayContaining([
        { jid: { user: 'alice', host: 'localhost' }, affiliation: 'owner', reason: '' },
        { jid: { user: 'carol', host: 'localhost' }, affiliation: 'member', reason: 'friend' },
        { jid: { user: 'bob', host: 'localhost' }, affiliation: 'outcast', reason: 'spam' },
      ]),
    );
    expect((await rejection(control.setAffiliation(ROOM('lobby'), { user: 'x', host: 'localhost' }, 'boss' as never))).code).toBe('bad_argument');
    expect((await rejection(control.affiliations(ROOM('ghost')))).code).toBe('not_found');
  });

  test('occupants, userRooms, rooms, and the unused and empty selections', async () => {
    const hub = mucHub();
    const alice = await hub.online('alice');
    const { control } = hub.service;
    await join(alice, 'lobby', 'Alice');
    await instant(alice, 'lobby');
    await control.createRoom(ROOM('old'), { persistent: true });
    expect(await control.occupants(ROOM('lobby'))).toEqual([
      { jid: { user: 'alice', host: 'localhost', resource: 'r' }, nick: 'Alice', role: 'moderator', affiliation: 'owner' },
    ]);
    expect(await control.occupants(ROOM('old'))).toEqual([]);
    expect((await rejection(control.occupants(ROOM('ghost')))).code).toBe('not_found');
    expect(await control.userRooms({ user: 'alice', host: 'localhost' })).toEqual([ROOM('lobby')]);
    expect(await control.rooms('conference.localhost')).toEqual([ROOM('lobby'), ROOM('old')]);
    hub.at(START + 3 * 86_400_000);
    expect(await control.unusedRooms('conference.localhost', 2)).toEqual({ rooms: [ROOM('old')], total: 2 });
    expect(await control.unusedRooms(undefined, 5)).toEqual({ rooms: [], total: 2 });
    expect(await control.emptyRooms(undefined)).toEqual({ rooms: [ROOM('old')], total: 2 });
  });

  test('inviteDirect sends XEP-0249 invitations from the room to those not inside', async () => {
    const hub = mucHub();
    const alice = await hub.online('alice');
    const bob = await hub.online('bob');
    const { control } = hub.service;
    await join(alice, 'lobby', 'Alice');
    await instant(alice, 'lobby');
    alice.take();
    await control.inviteDirect(
      ROOM('lobby'),
      [
        { user: 'alice', host: 'localhost', resource: '' },
        { user: 'bob', host: 'localhost', resource: '' },
      ],
      'secret',
      'Come along',
    );
    await new Promise((r) => setImmediate(r));
    expect(bob.take()).toEqual([
      '<message from="lobby@conference.localhost" to="bob@localhost"><x xmlns="jabber:x:conference" jid="lobby@conference.localhost" password="secret" reason="Come along"/></message>',
    ]);
    expect(alice.take()).toEqual([]);
    expect((await rejection(control.inviteDirect(ROOM('ghost'), [], '', ''))).code).toBe('not_found');
  });

  test('unregisterNick drops the nick on every service', async () => {
    const hub = mucHub({ hosts: ['localhost', 'example.org'] });
    await hub.muc.registerNick('conference.localhost', { user: 'alice', host: 'localhost' }, 'Wonder');
    await hub.muc.registerNick('conference.example.org', { user: 'alice', host: 'localhost' }, 'Wonder');
    expect(await hub.service.control.unregisterNick('wonder')).toBe(2);
    expect(await hub.muc.nick('conference.localhost', { user: 'alice', host: 'localhost' })).toBeUndefined();
  });
});

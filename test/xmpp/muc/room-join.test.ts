import { A, B, C, ROOM, roomFixture, threeInRoom } from './room-fixture';

const owner = { jid: 'alice@localhost', affiliation: 'owner' as const, reason: '' };
const errorOf = (xml: string) => /<error type="(\w+)"><([\w-]+)/.exec(xml)?.slice(1, 3);

describe('joining a room', () => {
  test('the joiner gets the others, then itself with 110, then the subject; the others get the joiner', async () => {
    const fx = roomFixture({ affiliations: [owner] });
    await fx.join(A, 'Alice');
    const got = await fx.join(B, 'Bob');
    expect(got).toEqual([
      `<presence from="${ROOM}/Alice" to="${B}"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="owner" role="moderator"/></x></presence>`,
      `<presence from="${ROOM}/Bob" to="${B}"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="none" role="participant" jid="${B}"/><status code="110"/></x></presence>`,
      `<message from="${ROOM}" to="${B}" type="groupchat"><subject></subject></message>`,
    ]);
    // A moderator sees real JIDs in an anonymous room.
    expect(fx.take(A)).toEqual([
      `<presence from="${ROOM}/Bob" to="${A}"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="none" role="participant" jid="${B}"/></x></presence>`,
    ]);
    expect(fx.room.occupants()).toEqual([
      { jid: { user: 'alice', host: 'localhost', resource: 'a' }, nick: 'Alice', role: 'moderator', affiliation: 'owner' },
      { jid: { user: 'bob', host: 'localhost', resource: 'b' }, nick: 'Bob', role: 'participant', affiliation: 'none' },
    ]);
    expect(fx.room.lastActivity).toBe(fx.room.record().lastActivity);
    expect(fx.calls.changed).toBe(2);
  });

  test('the client presence is passed on (show, status), its MUC payload is not', async () => {
    const fx = await threeInRoom();
    await fx.send(
      'dave@localhost/d',
      `<presence to='${ROOM}/Dave' id='p1'><show>away</show><status>lunch</status><x xmlns='http://jabber.org/protocol/muc'><password>x</password></x></presence>`,
    );
    expect(fx.take(C)).toEqual([
      `<presence from="${ROOM}/Dave" to="${C}" id="p1"><show>away</show><status>lunch</status><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="none" role="participant"/></x></presence>`,
    ]);
  });

  test('a non-anonymous room says 100 and shows real JIDs to all; logging says 170', async () => {
    const fx = roomFixture({ options: { anonymous: false, logging: true } });
    await fx.join(A, 'Alice');
    const got = await fx.join(B, 'Bob');
    expect(got[0]).toContain(`jid="${A}"`);
    expect(got[1]).toContain('<status code="100"/><status code="110"/><status code="170"/>');
  });

  test('the subject comes from its author, after the history', async () => {
    const fx = roomFixture({ subject: 'Plans', subjectAuthor: 'Alice' });
    await fx.join(A, 'Alice');
    await fx.send(A, `<message type='groupchat' to='${ROOM}' id='m1'><body>hello</body></message>`);
    const got = await fx.join(B, 'Bob');
    expect(got.slice(2)).toEqual([
      `<message from="${ROOM}/Alice" to="${B}" type="groupchat" id="m1"><body>hello</body><delay xmlns="urn:xmpp:delay" from="${ROOM}" stamp="2023-11-14T22:13:20.000Z"/></message>`,
      `<message from="${ROOM}/Alice" to="${B}" type="groupchat"><subject>Plans</subject></message>`,
    ]);
  });

  test('a join without the MUC payload (groupchat 1.0) is accepted and gets the history too', async () => {
    const fx = roomFixture();
    await fx.join(A, 'Alice');
    await fx.send(A, `<message type='groupchat' to='${ROOM}'><body>one</body></message>`);
    await fx.send(B, `<presence to='${ROOM}/Bob'/>`);
    const got = fx.take(B);
    expect(got).toHaveLength(4);
    expect(got[2]).toContain('<body>one</body>');
  });

  test('a nick the service normalised gets 210', async () => {
    const fx = roomFixture();
    const got = await fx.join(A, 'Ａlice');
    expect(got[0]).toContain(`from="${ROOM}/Alice"`);
    expect(got[0]).toContain('<status code="110"/><status code="210"/>');
  });

  test('a second resource of the same user may share the nick; the others see one occupant', async () => {
    const fx = roomFixture();
    await fx.join(A, 'Alice');
    await fx.join(B, 'Bob');
    fx.take();
    const got = await fx.join('bob@localhost/phone', 'Bob');
    expect(got.map((s) => s.slice(0, 60))).toEqual([
      `<presence from="${ROOM}/Alice" to="bob@localhost/phone"><x`.slice(0, 60),
      `<presence from="${ROOM}/Bob" to="bob@localhost/phone"><x x`.slice(0, 60),
      `<message from="${ROOM}" to="bob@localhost/phone" type="gr`.slice(0, 60),
    ]);
    expect(fx.room.occupantCount).toBe(3);
    // The others see the presence of the resource that spoke last.
    expect(fx.take(A)).toEqual([
      `<presence from="${ROOM}/Bob" to="${A}"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="none" role="participant"/></x></presence>`,
    ]);
    // Leaving from one resource: only that one hears of it.
    await fx.send('bob@localhost/phone', `<presence type='unavailable' to='${ROOM}/Bob'/>`);
    expect(fx.take(A)).toEqual([]);
    expect(fx.take('bob@localhost/phone')).toEqual([
      `<presence from="${ROOM}/Bob" to="bob@localhost/phone" type="unavailable"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="none" role="none" jid="bob@localhost/phone"/><status code="110"/></x></presence>`,
    ]);
    expect(fx.room.occupantCount).toBe(2);
  });
});

describe('refusals', () => {
  test('a password room: none given, or a wrong one, is not-authorized; the owner needs none', async () => {
    const fx = roomFixture({ options: { password_protected: true, password: 'sesame' }, affiliations: [owner] });
    const none = await fx.join(B, 'Bob');
    expect(none).toEqual([
      `<presence from="${ROOM}/Bob" to="${B}" type="error"><x xmlns="http://jabber.org/protocol/muc"/><error type="auth"><not-authorized xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">A password is required to enter this room</text></error></presence>`,
    ]);
    const wrong = await fx.join(B, 'Bob', '<password>open</password>');
    expect(errorOf(wrong[0])).toEqual(['auth', 'not-authorized']);
    expect(wrong[0]).toContain('Incorrect password');
    expect((await fx.join(B, 'Bob', '<password>sesame</password>'))[0]).toContain('status code="110"');
    expect((await fx.join(A, 'Alice'))[0]).toContain(`from="${ROOM}/Bob"`);
  });

  test('members-only: registration-required for a non-member, members join', async () => {
    const fx = roomFixture({ options: { members_only: true }, affiliations: [{ jid: 'carol@localhost', affiliation: 'member', reason: '' }] });
    expect(errorOf((await fx.join(B, 'Bob'))[0])).toEqual(['auth', 'registration-required']);
    expect(fx.room.occupantCount).toBe(0);
    expect((await fx.join(C, 'Carol'))[0]).toContain('status code="110"');
  });

  test('an outcast is forbidden, and so is anyone of a banned server', async () => {
    const fx = roomFixture({
      affiliations: [
        { jid: 'bob@localhost', affiliation: 'outcast', reason: 'spam' },
        { jid: 'evil.example', affiliation: 'outcast', reason: '' },
      ],
    });
    const got = await fx.join(B, 'Bob');
    expect(errorOf(got[0])).toEqual(['auth', 'forbidden']);
    expect(got[0]).toContain('You have been banned from this room');
    expect(errorOf((await fx.join('mallory@evil.example/x', 'M'))[0])).toEqual(['auth', 'forbidden']);
  });

  test('a full room is service-unavailable; admins and owners still get in, a service admin always', async () => {
    const fx = roomFixture({ options: { max_users: 1 }, affiliations: [owner], admins: ['root@localhost'] });
    await fx.join(B, 'Bob');
    expect(errorOf((await fx.join(C, 'Carol'))[0])).toEqual(['cancel', 'service-unavailable']);
    expect((await fx.join(A, 'Alice'))[1]).toContain('status code="110"');
    expect((await fx.join('root@localhost/r', 'Root')).at(-2)).toContain('status code="110"');
    expect(fx.room.affiliation({ user: 'root', host: 'localhost' })).toBe('owner');
  });

  test("the service's own cap applies when it is lower than max_users", async () => {
    const fx = roomFixture({ maxUsers: 1 });
    await fx.join(A, 'Alice');
    expect(errorOf((await fx.join(B, 'Bob'))[0])).toEqual(['cancel', 'service-unavailable']);
  });

  test('a nick in use by another user is a conflict; so is one registered by another user (any case)', async () => {
    const fx = roomFixture({ registered: { Mallory: 'mallory@localhost' } });
    await fx.join(A, 'Alice');
    const taken = await fx.join(B, 'Alice');
    expect(errorOf(taken[0])).toEqual(['cancel', 'conflict']);
    expect(taken[0]).toContain(`from="${ROOM}/Alice"`);
    const registered = await fx.join(B, 'mallory');
    expect(errorOf(registered[0])).toEqual(['cancel', 'conflict']);
    expect(registered[0]).toContain('registered by another person');
    expect((await fx.join('mallory@localhost/m', 'MALLORY'))[1]).toContain('status code="110"');
    // Occupancy compares nicks exactly: "alice" is not "Alice".
    expect((await fx.join(C, 'alice')).at(-2)).toContain('status code="110"');
  });

  test('an empty nick is jid-malformed', async () => {
    const fx = roomFixture();
    await fx.send(B, `<presence to='${ROOM}'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
    expect(errorOf(fx.take(B)[0])).toEqual(['modify', 'jid-malformed']);
  });

  test('a locked room lets only its owner in, with 201; configuring unlocks it', async () => {
    const fx = roomFixture({ locked: true, affiliations: [owner] });
    expect(errorOf((await fx.join(B, 'Bob'))[0])).toEqual(['cancel', 'item-not-found']);
    const got = await fx.join(A, 'Alice');
    expect(got[0]).toContain('<status code="110"/><status code="201"/>');
    expect(errorOf((await fx.join(B, 'Bob'))[0])).toEqual(['cancel', 'item-not-found']);
    expect(fx.room.locked).toBe(true);
    fx.room.configure(fx.room.options);
    expect(fx.room.locked).toBe(false);
    expect((await fx.join(B, 'Bob'))[1]).toContain('status code="110"');
  });
});

describe('presence_broadcast', () => {
  test("the presence of a role not listed is not broadcast, and others' is not sent to it either way but its own", async () => {
    const fx = roomFixture({ options: { presence_broadcast: ['moderator'] }, affiliations: [owner] });
    await fx.join(A, 'Alice');
    const got = await fx.join(B, 'Bob');
    // Bob sees the moderator, and himself.
    expect(got.map((s) => s.slice(0, 50))).toEqual([
      `<presence from="${ROOM}/Alice" to="${B}"><x`.slice(0, 50),
      `<presence from="${ROOM}/Bob" to="${B}"><x xm`.slice(0, 50),
      `<message from="${ROOM}" to="${B}" type="groupchat"><`.slice(0, 50),
    ]);
    expect(fx.take(A)).toEqual([]);
    await fx.send(B, `<presence to='${ROOM}/Bob'><show>dnd</show></presence>`);
    expect(fx.take(A)).toEqual([]);
    expect(fx.take(B)).toHaveLength(1);
    await fx.send(B, `<presence type='unavailable' to='${ROOM}/Bob'/>`);
    expect(fx.take(A)).toEqual([]);
  });
});

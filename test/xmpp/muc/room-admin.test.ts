import { A, B, C, ROOM, threeInRoom } from './room-fixture';

const errorOf = (xml: string) => /<error type="(\w+)"><([\w-]+)/.exec(xml)?.slice(1, 3);
const X = 'xmlns="http://jabber.org/protocol/muc#user"';
const admin = (type: 'get' | 'set', items: string, id = 'a1') =>
  `<iq type='${type}' to='${ROOM}' id='${id}'><query xmlns='http://jabber.org/protocol/muc#admin'>${items}</query></iq>`;

describe('kick and voice (roles)', () => {
  test('a kick: 307 unavailable with actor and reason to the kicked (110) and to all others', async () => {
    const fx = await threeInRoom();
    await fx.send(A, admin('set', "<item nick='Bob' role='none'><reason>Be nice</reason></item>"));
    expect(fx.take(A)).toEqual([
      `<presence from="${ROOM}/Bob" to="${A}" type="unavailable"><x ${X}><item affiliation="none" role="none" jid="${B}"><actor nick="Alice"/><reason>Be nice</reason></item><status code="307"/></x></presence>`,
      `<iq type="result" id="a1" from="${ROOM}" to="${A}"/>`,
    ]);
    expect(fx.take(B)).toEqual([
      `<presence from="${ROOM}/Bob" to="${B}" type="unavailable"><x ${X}><item affiliation="none" role="none" jid="${B}"><actor nick="Alice"/><reason>Be nice</reason></item><status code="110"/><status code="307"/></x></presence>`,
    ]);
    expect(fx.take(C)).toEqual([
      `<presence from="${ROOM}/Bob" to="${C}" type="unavailable"><x ${X}><item affiliation="none" role="none"><actor nick="Alice"/><reason>Be nice</reason></item><status code="307"/></x></presence>`,
    ]);
    expect(fx.room.hasUser({ user: 'bob', host: 'localhost' })).toBe(false);
  });

  test('a kick reaches every resource of the nick, each named by its own JID; the others hear of it once', async () => {
    const fx = await threeInRoom();
    await fx.join('bob@localhost/phone', 'Bob');
    fx.take();
    await fx.send(A, admin('set', "<item nick='Bob' role='none'/>"));
    expect(fx.take('bob@localhost/phone')).toEqual([
      `<presence from="${ROOM}/Bob" to="bob@localhost/phone" type="unavailable"><x ${X}><item affiliation="none" role="none" jid="bob@localhost/phone"><actor nick="Alice"/></item><status code="110"/><status code="307"/></x></presence>`,
    ]);
    expect(fx.take(B)).toHaveLength(1);
    expect(fx.take(C)).toHaveLength(1);
    expect(fx.room.occupantCount).toBe(2);
  });

  test('only moderators kick (forbidden); nobody kicks an owner (not-allowed); an unknown nick is not-acceptable', async () => {
    const fx = await threeInRoom();
    await fx.send(B, admin('set', "<item nick='Carol' role='none'/>"));
    expect(errorOf(fx.take(B)[0])).toEqual(['auth', 'forbidden']);
    await fx.send(A, admin('set', "<item nick='Alice' role='none'/>"));
    expect(errorOf(fx.take(A)[0])).toEqual(['cancel', 'not-allowed']);
    await fx.send(A, admin('set', "<item nick='Zed' role='none'/>"));
    expect(errorOf(fx.take(A)[0])).toEqual(['modify', 'not-acceptable']);
    expect(fx.take()).toEqual([]);
    expect(fx.room.occupantCount).toBe(3);
  });

  test('revoking and granting voice changes the role; everyone sees the new presence with the reason', async () => {
    const fx = await threeInRoom();
    await fx.send(A, admin('set', "<item nick='Bob' role='visitor'><reason>calm down</reason></item>"));
    expect(fx.take(C)).toEqual([
      `<presence from="${ROOM}/Bob" to="${C}"><x ${X}><item affiliation="none" role="visitor"><reason>calm down</reason></item></x></presence>`,
    ]);
    fx.take();
    await fx.send(B, `<message type='groupchat' to='${ROOM}'><body>!</body></message>`);
    expect(errorOf(fx.take(B)[0])).toEqual(['auth', 'forbidden']);
    await fx.send(A, admin('set', "<item nick='Bob' role='participant'/>"));
    expect(fx.take(C)[0]).toContain('role="participant"');
    // A participant cannot be made moderator by a mere moderator, only by an admin or owner.
    await fx.send(A, admin('set', "<item nick='Bob' role='moderator'/>"));
    expect(fx.take(C)[0]).toContain('role="moderator"');
    fx.take();
    await fx.send(B, admin('set', "<item nick='Carol' role='moderator'/>"));
    expect(errorOf(fx.take(B)[0])).toEqual(['cancel', 'not-allowed']);
  });

  test('the role list is for moderators: nick, role, affiliation, real JID', async () => {
    const fx = await threeInRoom();
    await fx.send(A, admin('get', "<item role='participant'/>"));
    expect(fx.take(A)).toEqual([
      `<iq type="result" id="a1" from="${ROOM}" to="${A}"><query xmlns="http://jabber.org/protocol/muc#admin"><item affiliation="none" role="participant" jid="${B}" nick="Bob"/><item affiliation="none" role="participant" jid="${C}" nick="Carol"/></query></iq>`,
    ]);
    await fx.send(B, admin('get', "<item role='moderator'/>"));
    expect(errorOf(fx.take(B)[0])).toEqual(['auth', 'forbidden']);
  });
});

describe('affiliations', () => {
  test('a ban: 301 with the outcast affiliation; the ban is stored and keeps the user out', async () => {
    const fx = await threeInRoom();
    const before = fx.calls.changed;
    await fx.send(A, admin('set', "<item jid='bob@localhost' affiliation='outcast'><reason>spam</reason></item>"));
    expect(fx.take(C)).toEqual([
      `<presence from="${ROOM}/Bob" to="${C}" type="unavailable"><x ${X}><item affiliation="outcast" role="none"><actor nick="Alice"/><reason>spam</reason></item><status code="301"/></x></presence>`,
    ]);
    expect(fx.take(B)[0]).toContain('<status code="110"/><status code="301"/>');
    expect(fx.room.record().affiliations).toEqual([
      { jid: 'alice@localhost', affiliation: 'owner', reason: '' },
      { jid: 'bob@localhost', affiliation: 'outcast', reason: 'spam' },
    ]);
    expect(fx.calls.changed).toBeGreaterThan(before);
    expect(errorOf((await fx.join('bob@localhost/other', 'Bobby'))[0])).toEqual(['auth', 'forbidden']);
  });

  test('member, admin, owner: the role follows, everyone sees it', async () => {
    const fx = await threeInRoom();
    await fx.send(A, admin('set', "<item jid='bob@localhost' affiliation='admin'/>"));
    expect(fx.take(C)).toEqual([`<presence from="${ROOM}/Bob" to="${C}"><x ${X}><item affiliation="admin" role="moderator"/></x></presence>`]);
    fx.take();
    await fx.send(A, admin('set', "<item nick='Bob' affiliation='member'/>"));
    expect(fx.take(C)).toEqual([`<presence from="${ROOM}/Bob" to="${C}"><x ${X}><item affiliation="member" role="participant"/></x></presence>`]);
    expect(fx.room.affiliation({ user: 'bob', host: 'localhost' })).toBe('member');
  });

  test('a members-only room: removing a member takes it out with 321', async () => {
    const fx = await threeInRoom({ options: { members_only: true }, affiliations: [{ jid: 'bob@localhost', affiliation: 'member', reason: '' }] });
    // Carol is no member: she never got in.
    expect(fx.room.occupantCount).toBe(2);
    await fx.send(A, admin('set', "<item jid='bob@localhost' affiliation='none'/>"));
    expect(fx.take(B)).toEqual([
      `<presence from="${ROOM}/Bob" to="${B}" type="unavailable"><x ${X}><item affiliation="none" role="none" jid="${B}"><actor nick="Alice"/></item><status code="110"/><status code="321"/></x></presence>`,
    ]);
    expect(fx.room.record().affiliations).toEqual([{ jid: 'alice@localhost', affiliation: 'owner', reason: '' }]);
  });

  test('the affiliation of someone not in the room is told to those who see real JIDs', async () => {
    const fx = await threeInRoom();
    await fx.send(A, admin('set', "<item jid='dave@localhost' affiliation='member'/>"));
    const got = fx.take();
    expect(got[0]).toMatch(
      new RegExp(`^<message from="${ROOM}" to="${A}" id="[^"]+"><x ${X}><item affiliation="member" role="none" jid="dave@localhost"/></x></message>$`),
    );
    expect(got.slice(1)).toEqual([`<iq type="result" id="a1" from="${ROOM}" to="${A}"/>`]);
  });

  test('the affiliation lists: owners and admins (and members of a non-anonymous room) may read them, with reasons', async () => {
    const fx = await threeInRoom({
      affiliations: [
        { jid: 'bob@localhost', affiliation: 'member', reason: '' },
        { jid: 'spam@evil.example', affiliation: 'outcast', reason: 'spam' },
      ],
    });
    await fx.send(A, admin('get', "<item affiliation='outcast'/>"));
    expect(fx.take(A)).toEqual([
      `<iq type="result" id="a1" from="${ROOM}" to="${A}"><query xmlns="http://jabber.org/protocol/muc#admin"><item affiliation="outcast" jid="spam@evil.example"><reason>spam</reason></item></query></iq>`,
    ]);
    await fx.send(B, admin('get', "<item affiliation='member'/>"));
    expect(errorOf(fx.take(B)[0])).toEqual(['auth', 'forbidden']);
    const open = await threeInRoom({ options: { anonymous: false }, affiliations: [{ jid: 'bob@localhost', affiliation: 'member', reason: '' }] });
    await open.send(B, admin('get', "<item affiliation='member'/>"));
    expect(open.take(B)[0]).toContain('<item affiliation="member" jid="bob@localhost"/>');
  });

  test('bad requests: no item, two items in a get, an unknown role or affiliation, a malformed JID', async () => {
    const fx = await threeInRoom();
    for (const items of ['', "<item role='x'/><item role='y'/>", "<item affiliation='king'/>", '<item/>']) {
      await fx.send(A, admin('get', items));
      expect(errorOf(fx.take(A)[0])).toEqual(['modify', 'bad-request']);
    }
    await fx.send(A, admin('set', "<item jid='@bad' affiliation='member'/>"));
    expect(errorOf(fx.take(A)[0])).toEqual(['modify', 'jid-malformed']);
  });

  test('an admin may not touch an owner or make admins; the only owner may not step down (conflict)', async () => {
    const fx = await threeInRoom({ affiliations: [{ jid: 'bob@localhost', affiliation: 'admin', reason: '' }] });
    await fx.send(B, admin('set', "<item jid='alice@localhost' affiliation='none'/>"));
    expect(errorOf(fx.take(B)[0])).toEqual(['cancel', 'not-allowed']);
    await fx.send(B, admin('set', "<item jid='carol@localhost' affiliation='admin'/>"));
    expect(errorOf(fx.take(B)[0])).toEqual(['cancel', 'not-allowed']);
    await fx.send(B, admin('set', "<item jid='carol@localhost' affiliation='member'/>"));
    expect(fx.take(B).at(-1)).toContain('type="result"');
    fx.take();
    await fx.send(C, admin('set', "<item jid='dave@localhost' affiliation='member'/>"));
    expect(errorOf(fx.take(C)[0])).toEqual(['auth', 'forbidden']);
    await fx.send(A, admin('set', "<item jid='alice@localhost' affiliation='admin'/>"));
    expect(errorOf(fx.take(A)[0])).toEqual(['cancel', 'conflict']);
    expect(fx.room.affiliation({ user: 'alice', host: 'localhost' })).toBe('owner');
  });

  test('several items apply all together, or none when one is refused', async () => {
    const fx = await threeInRoom({ affiliations: [{ jid: 'bob@localhost', affiliation: 'admin', reason: '' }] });
    await fx.send(B, admin('set', "<item jid='carol@localhost' affiliation='member'/><item jid='alice@localhost' affiliation='outcast'/>"));
    expect(errorOf(fx.take(B)[0])).toEqual(['cancel', 'not-allowed']);
    expect(fx.take()).toEqual([]);
    expect(fx.room.affiliation({ user: 'carol', host: 'localhost' })).toBe('none');
    await fx.send(B, admin('set', "<item jid='carol@localhost' affiliation='member'/><item jid='dave@localhost' affiliation='outcast'/>"));
    expect(fx.room.record().affiliations.map((a) => `${a.jid}:${a.affiliation}`)).toEqual([
      'alice@localhost:owner',
      'bob@localhost:admin',
      'carol@localhost:member',
      'dave@localhost:outcast',
    ]);
  });

  test('setAffiliation (the admin command) has the effects of the IQ, without an actor', async () => {
    const fx = await threeInRoom();
    fx.room.setAffiliation({ user: 'carol', host: 'localhost' }, 'outcast', 'by the operator');
    expect(fx.take(B)).toEqual([
      `<presence from="${ROOM}/Carol" to="${B}" type="unavailable"><x ${X}><item affiliation="outcast" role="none"><reason>by the operator</reason></item><status code="301"/></x></presence>`,
    ]);
    expect(fx.room.affiliation({ user: 'carol', host: 'localhost' })).toBe('outcast');
    fx.room.setAffiliation({ user: 'carol', host: 'localhost' }, 'none', '');
    expect(fx.room.record().affiliations).toEqual([{ jid: 'alice@localhost', affiliation: 'owner', reason: '' }]);
  });
});

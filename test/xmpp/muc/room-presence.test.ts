import { A, B, C, ROOM, threeInRoom } from './room-fixture';

const errorOf = (xml: string) => /<error type="(\w+)"><([\w-]+)/.exec(xml)?.slice(1, 3);
const X = 'xmlns="http://jabber.org/protocol/muc#user"';

describe('presence in the room', () => {
  test('a status change goes to everyone, 110 only to its sender', async () => {
    const fx = await threeInRoom();
    await fx.send(B, `<presence to='${ROOM}/Bob'><show>away</show></presence>`);
    expect(fx.take(C)).toEqual([
      `<presence from="${ROOM}/Bob" to="${C}"><show>away</show><x ${X}><item affiliation="none" role="participant"/></x></presence>`,
    ]);
    expect(fx.take(B)).toEqual([
      `<presence from="${ROOM}/Bob" to="${B}"><show>away</show><x ${X}><item affiliation="none" role="participant" jid="${B}"/><status code="110"/></x></presence>`,
    ]);
  });

  test("a visitor's status text is dropped when allow_visitor_status is off", async () => {
    const fx = await threeInRoom({ options: { members_by_default: false, allow_visitor_status: false } });
    await fx.send(B, `<presence to='${ROOM}/Bob'><show>away</show><status>gone fishing</status></presence>`);
    const got = fx.take(C)[0];
    expect(got).toContain('<show>away</show>');
    expect(got).not.toContain('gone fishing');
  });

  test('a nick change: 303 unavailable from the old nick naming the new one, then available from the new', async () => {
    const fx = await threeInRoom();
    await fx.send(B, `<presence to='${ROOM}/Robert'/>`);
    expect(fx.take(C)).toEqual([
      `<presence from="${ROOM}/Bob" to="${C}" type="unavailable"><x ${X}><item affiliation="none" role="participant" nick="Robert"/><status code="303"/></x></presence>`,
      `<presence from="${ROOM}/Robert" to="${C}"><x ${X}><item affiliation="none" role="participant"/></x></presence>`,
    ]);
    expect(fx.take(B)).toEqual([
      `<presence from="${ROOM}/Bob" to="${B}" type="unavailable"><x ${X}><item affiliation="none" role="participant" jid="${B}" nick="Robert"/><status code="110"/><status code="303"/></x></presence>`,
      `<presence from="${ROOM}/Robert" to="${B}"><x ${X}><item affiliation="none" role="participant" jid="${B}"/><status code="110"/></x></presence>`,
    ]);
    expect(fx.room.occupants().map((o) => o.nick)).toEqual(['Alice', 'Carol', 'Robert']);
    await fx.send(C, `<message type='chat' to='${ROOM}/Robert'><body>hi</body></message>`);
    expect(fx.take(B)).toHaveLength(1);
  });

  test("a nick change to another's nick, or to a nick registered by another, is a conflict; nothing changes", async () => {
    const fx = await threeInRoom({ registered: { Boss: 'alice@localhost' } });
    await fx.send(B, `<presence to='${ROOM}/Carol'/>`);
    const got = fx.take();
    expect(got).toEqual([
      `<presence from="${ROOM}/Carol" to="${B}" type="error"><x xmlns="http://jabber.org/protocol/muc"/><error type="cancel"><conflict xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">That nickname is already in use by another occupant</text></error></presence>`,
    ]);
    await fx.send(B, `<presence to='${ROOM}/boss'/>`);
    expect(errorOf(fx.take(B)[0])).toEqual(['cancel', 'conflict']);
    expect(fx.room.occupants().map((o) => o.nick)).toEqual(['Alice', 'Bob', 'Carol']);
  });

  test('visitors may not change nick when allow_visitor_nickchange is off', async () => {
    const fx = await threeInRoom({ options: { members_by_default: false, allow_visitor_nickchange: false } });
    await fx.send(B, `<presence to='${ROOM}/Robert'/>`);
    expect(errorOf(fx.take(B)[0])).toEqual(['cancel', 'not-allowed']);
    expect(fx.take()).toEqual([]);
  });

  test('leaving: unavailable to all, with its status, 110 to the leaver; the last one out empties the room', async () => {
    const fx = await threeInRoom();
    await fx.send(B, `<presence type='unavailable' to='${ROOM}/Bob'><status>bye</status></presence>`);
    expect(fx.take(C)).toEqual([
      `<presence from="${ROOM}/Bob" to="${C}" type="unavailable"><status>bye</status><x ${X}><item affiliation="none" role="none"/></x></presence>`,
    ]);
    expect(fx.take(B)).toEqual([
      `<presence from="${ROOM}/Bob" to="${B}" type="unavailable"><status>bye</status><x ${X}><item affiliation="none" role="none" jid="${B}"/><status code="110"/></x></presence>`,
    ]);
    expect(fx.room.hasUser({ user: 'bob', host: 'localhost' })).toBe(false);
    await fx.send(A, `<presence type='unavailable' to='${ROOM}/Alice'/>`);
    expect(fx.calls.emptied).toBe(0);
    await fx.send(C, `<presence type='unavailable' to='${ROOM}/Carol'/>`);
    expect(fx.calls.emptied).toBe(1);
    expect(fx.room.occupantCount).toBe(0);
  });

  test('an unavailable presence from someone not in the room is ignored', async () => {
    const fx = await threeInRoom();
    await fx.send('dave@localhost/d', `<presence type='unavailable' to='${ROOM}/Dave'/>`);
    expect(fx.take()).toEqual([]);
  });

  test('a presence that carries the MUC payload again is a rejoin: the occupant gets the room again', async () => {
    const fx = await threeInRoom();
    const got = await fx.join(B, 'Bob');
    expect(got.map((s) => /from="[^"]+"/.exec(s)?.[0])).toEqual([`from="${ROOM}/Alice"`, `from="${ROOM}/Carol"`, `from="${ROOM}/Bob"`, `from="${ROOM}"`]);
    expect(fx.room.occupantCount).toBe(3);
  });
});

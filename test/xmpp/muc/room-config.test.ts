import { A, B, C, ROOM, roomFixture, threeInRoom } from './room-fixture';

const X = 'xmlns="http://jabber.org/protocol/muc#user"';
const codesOf = (xml: string) => [...xml.matchAll(/status code="(\d+)"/g)].map((m) => Number(m[1]));

describe('configure', () => {
  test('a changed option: 104 to every occupant in a groupchat message from the room; the change is stored', async () => {
    const fx = await threeInRoom();
    const before = fx.calls.changed;
    fx.room.configure({ ...fx.room.options, title: 'The Lobby' });
    const got = fx.take(C);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(new RegExp(`^<message type="groupchat" from="${ROOM}" to="${C}" id="[^"]+"><x ${X}><status code="104"/></x></message>$`));
    expect(fx.take()).toHaveLength(2);
    expect(fx.room.record().options.title).toBe('The Lobby');
    expect(fx.calls.changed).toBe(before + 1);
  });

  test('logging on and off: 170 and 171; anonymity off and on: 172 and 173, with 104 only when more changed', async () => {
    const fx = await threeInRoom();
    fx.room.configure({ ...fx.room.options, logging: true });
    expect(codesOf(fx.take(B)[0])).toEqual([170]);
    fx.take();
    fx.room.configure({ ...fx.room.options, logging: false, anonymous: false, title: 'x' });
    expect(codesOf(fx.take(B)[0])).toEqual([104, 171, 172]);
    fx.take();
    fx.room.configure({ ...fx.room.options, anonymous: true });
    expect(codesOf(fx.take(B)[0])).toEqual([173]);
    fx.take();
    fx.room.configure({ ...fx.room.options });
    expect(fx.take()).toEqual([]);
  });

  test('a room that becomes members-only removes those without an affiliation with 322', async () => {
    const fx = await threeInRoom({ affiliations: [{ jid: 'bob@localhost', affiliation: 'member', reason: '' }] });
    fx.room.configure({ ...fx.room.options, members_only: true });
    const toB = fx.take(B);
    expect(toB).toContain(
      `<presence from="${ROOM}/Carol" to="${B}" type="unavailable"><x ${X}><item affiliation="none" role="none"/><status code="322"/></x></presence>`,
    );
    expect(fx.take(C)).toContain(
      `<presence from="${ROOM}/Carol" to="${C}" type="unavailable"><x ${X}><item affiliation="none" role="none" jid="${C}"/><status code="110"/><status code="322"/></x></presence>`,
    );
    expect(fx.room.occupants().map((o) => o.nick)).toEqual(['Alice', 'Bob']);
  });

  test('a smaller max_users refuses later joins, and the occupants stay', async () => {
    const fx = await threeInRoom();
    fx.room.configure({ ...fx.room.options, max_users: 2 });
    expect(fx.room.occupantCount).toBe(3);
    expect((await fx.join('dave@localhost/d', 'Dave'))[0]).toContain('<service-unavailable');
  });
});

describe('destroy', () => {
  test('each occupant gets unavailable with the destroy payload: alternate venue, reason, password', async () => {
    const fx = await threeInRoom();
    fx.room.destroy('Moved', 'new@conference.localhost', 'pw');
    expect(fx.take(B)).toEqual([
      `<presence type="unavailable" from="${ROOM}/Bob" to="${B}"><x ${X}><item affiliation="none" role="none"/><destroy jid="new@conference.localhost"><reason>Moved</reason><password>pw</password></destroy></x></presence>`,
    ]);
    expect(fx.take()).toHaveLength(2);
    expect(fx.room.destroyed).toBe(true);
    expect(fx.room.occupantCount).toBe(0);
    // The service is the one to forget it: a destroyed room does not call itself empty.
    expect(fx.calls.emptied).toBe(0);
  });

  test('without a reason or venue the destroy element is empty; later stanzas get item-not-found', async () => {
    const fx = roomFixture();
    await fx.join(A, 'Alice');
    fx.room.destroy();
    expect(fx.take(A)).toEqual([
      `<presence type="unavailable" from="${ROOM}/Alice" to="${A}"><x ${X}><item affiliation="none" role="none"/><destroy/></x></presence>`,
    ]);
    await fx.send(B, `<presence to='${ROOM}/Bob'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
    expect(fx.take(B)[0]).toContain('<item-not-found');
  });
});

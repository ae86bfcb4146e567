import { A, B, C, ROOM, roomFixture, threeInRoom } from './room-fixture';

const errorOf = (xml: string) => /<error type="(\w+)"><([\w-]+)/.exec(xml)?.slice(1, 3);
const groupchat = (body: string, id = 'g1') => `<message type='groupchat' to='${ROOM}' id='${id}'><body>${body}</body></message>`;

describe('groupchat', () => {
  test('is reflected to every occupant, the sender too, from its occupant JID and with its id', async () => {
    const fx = await threeInRoom();
    await fx.send(B, `<message type='groupchat' to='${ROOM}' id='g1'><body>hi all</body><nick xmlns='http://jabber.org/protocol/nick'>B</nick></message>`);
    const sent = fx.take();
    expect(sent).toEqual([A, B, C].map((to) => `<message from="${ROOM}/Bob" to="${to}" type="groupchat" id="g1"><body>hi all</body></message>`));
    expect(fx.room.historyLength).toBe(1);
  });

  test('from someone not in the room is not-acceptable', async () => {
    const fx = await threeInRoom();
    await fx.send('dave@localhost/d', groupchat('let me in'));
    const got = fx.take();
    expect(got).toHaveLength(1);
    expect(got[0]).toContain('to="dave@localhost/d"');
    expect(errorOf(got[0])).toEqual(['modify', 'not-acceptable']);
  });

  test('a visitor of a moderated room is forbidden; in an unmoderated one it may speak', async () => {
    const fx = await threeInRoom({ options: { members_by_default: false } });
    await fx.send(B, groupchat('me?'));
    const got = fx.take();
    expect(got).toHaveLength(1);
    expect(errorOf(got[0])).toEqual(['auth', 'forbidden']);
    const open = await threeInRoom({ options: { members_by_default: false, moderated: false } });
    await open.send(B, groupchat('me!'));
    expect(open.take()).toHaveLength(3);
  });

  test('a chat message to the bare room is not-acceptable; an error from an occupant drops it as a ghost', async () => {
    const fx = await threeInRoom();
    await fx.send(B, `<message type='chat' to='${ROOM}'><body>x</body></message>`);
    expect(errorOf(fx.take(B)[0])).toEqual(['modify', 'not-acceptable']);
    await fx.send(B, `<message type='error' to='${ROOM}'><error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`);
    expect(fx.take(C)[0]).toContain('type="unavailable"');
    expect(fx.room.hasUser({ user: 'bob', host: 'localhost' })).toBe(false);
  });
});

describe('the subject', () => {
  test('a participant may change it when allow_change_subj; it is stored, reflected and given to joiners', async () => {
    const fx = await threeInRoom();
    const before = fx.calls.changed;
    await fx.send(B, `<message type='groupchat' to='${ROOM}' id='s1'><subject>Release day</subject></message>`);
    expect(fx.take(C)).toEqual([`<message from="${ROOM}/Bob" to="${C}" type="groupchat" id="s1"><subject>Release day</subject></message>`]);
    expect(fx.room.record()).toMatchObject({ subject: 'Release day', subjectAuthor: 'Bob' });
    expect(fx.calls.changed).toBeGreaterThan(before);
    const got = await fx.join('dave@localhost/d', 'Dave');
    expect(got.at(-1)).toBe(`<message from="${ROOM}/Bob" to="dave@localhost/d" type="groupchat"><subject>Release day</subject></message>`);
  });

  test('without allow_change_subj only moderators may; a message with a body and a subject is no subject change', async () => {
    const fx = await threeInRoom({ options: { allow_change_subj: false } });
    await fx.send(B, `<message type='groupchat' to='${ROOM}'><subject>Mine</subject></message>`);
    const got = fx.take();
    expect(got).toHaveLength(1);
    expect(errorOf(got[0])).toEqual(['auth', 'forbidden']);
    expect(got[0]).toContain('Only moderators are allowed to change the subject in this room');
    await fx.send(B, `<message type='groupchat' to='${ROOM}'><subject>Mine</subject><body>with a body</body></message>`);
    expect(fx.take()).toHaveLength(3);
    expect(fx.room.record().subject).toBe('');
    await fx.send(A, `<message type='groupchat' to='${ROOM}'><subject>Owner's</subject></message>`);
    expect(fx.room.record()).toMatchObject({ subject: "Owner's", subjectAuthor: 'Alice' });
  });
});

describe('private messages', () => {
  test('go to every resource of the nick from the sender occupant JID, marked with the muc#user payload', async () => {
    const fx = await threeInRoom();
    await fx.join('carol@localhost/phone', 'Carol');
    fx.take();
    await fx.send(B, `<message type='chat' to='${ROOM}/Carol' id='p1'><body>psst</body></message>`);
    expect(fx.take()).toEqual(
      [C, 'carol@localhost/phone'].map(
        (to) => `<message from="${ROOM}/Bob" to="${to}" type="chat" id="p1"><body>psst</body><x xmlns="http://jabber.org/protocol/muc#user"/></message>`,
      ),
    );
  });

  test('an unknown nick is item-not-found; a non-occupant is not-acceptable; groupchat type is bad-request', async () => {
    const fx = await threeInRoom();
    await fx.send(B, `<message type='chat' to='${ROOM}/Nobody'><body>?</body></message>`);
    expect(errorOf(fx.take(B)[0])).toEqual(['cancel', 'item-not-found']);
    await fx.send('dave@localhost/d', `<message type='chat' to='${ROOM}/Carol'><body>?</body></message>`);
    expect(errorOf(fx.take('dave@localhost/d')[0])).toEqual(['modify', 'not-acceptable']);
    await fx.send(B, `<message type='groupchat' to='${ROOM}/Carol'><body>?</body></message>`);
    expect(errorOf(fx.take(B)[0])).toEqual(['modify', 'bad-request']);
    expect(fx.take()).toEqual([]);
  });

  test('allow_private_messages off forbids them', async () => {
    const fx = await threeInRoom({ options: { allow_private_messages: false } });
    await fx.send(B, `<message type='chat' to='${ROOM}/Carol'><body>?</body></message>`);
    expect(errorOf(fx.take(B)[0])).toEqual(['auth', 'forbidden']);
    expect(fx.take(C)).toEqual([]);
  });

  test('visitors: moderators only, or nobody, per allow_private_messages_from_visitors', async () => {
    const fx = await threeInRoom({ options: { members_by_default: false, allow_private_messages_from_visitors: 'moderators' } });
    await fx.send(B, `<message type='chat' to='${ROOM}/Carol'><body>?</body></message>`);
    expect(errorOf(fx.take(B)[0])).toEqual(['auth', 'forbidden']);
    await fx.send(B, `<message type='chat' to='${ROOM}/Alice'><body>voice please</body></message>`);
    expect(fx.take(A)).toHaveLength(1);
    const none = await threeInRoom({ options: { members_by_default: false, allow_private_messages_from_visitors: 'nobody' } });
    await none.send(B, `<message type='chat' to='${ROOM}/Alice'><body>?</body></message>`);
    expect(errorOf(none.take(B)[0])).toEqual(['auth', 'forbidden']);
  });
});

describe('IQs to an occupant', () => {
  test("are relayed to the occupant's real JID, and the answer back to the asker", async () => {
    const fx = await threeInRoom();
    await fx.send(B, `<iq type='get' to='${ROOM}/Carol' id='v1'><query xmlns='jabber:iq:version'/></iq>`);
    const [relayed] = fx.take(C);
    const id = /id="([^"]+)"/.exec(relayed)?.[1] as string;
    expect(relayed).toBe(`<iq from="${ROOM}/Bob" to="${C}" type="get" id="${id}"><query xmlns="jabber:iq:version"/></iq>`);
    expect(id).not.toBe('v1');
    // Someone else cannot answer in Carol's place.
    await fx.send(A, `<iq type='result' to='${ROOM}/Bob' id='${id}'/>`);
    expect(fx.take()).toEqual([]);
    await fx.send(C, `<iq type='result' to='${ROOM}/Bob' id='${id}'><query xmlns='jabber:iq:version'><name>x</name></query></iq>`);
    expect(fx.take()).toEqual([`<iq from="${ROOM}/Carol" to="${B}" type="result" id="v1"><query xmlns="jabber:iq:version"><name>x</name></query></iq>`]);
  });

  test('a vCard request goes to the bare JID, even when allow_query_users is off', async () => {
    const fx = await threeInRoom({ options: { allow_query_users: false } });
    await fx.send(B, `<iq type='get' to='${ROOM}/Carol' id='v1'><vCard xmlns='vcard-temp'/></iq>`);
    const [relayed] = fx.take('carol@localhost');
    expect(relayed).toContain(`from="${ROOM}/Bob" to="carol@localhost"`);
    const id = /id="([^"]+)"/.exec(relayed)?.[1] as string;
    await fx.send('carol@localhost', `<iq type='result' to='${ROOM}/Bob' id='${id}'><vCard xmlns='vcard-temp'/></iq>`);
    expect(fx.take(B)).toEqual([`<iq from="${ROOM}/Carol" to="${B}" type="result" id="v1"><vCard xmlns="vcard-temp"/></iq>`]);
    await fx.send(B, `<iq type='get' to='${ROOM}/Carol' id='v2'><query xmlns='jabber:iq:version'/></iq>`);
    expect(errorOf(fx.take(B)[0])).toEqual(['cancel', 'not-allowed']);
  });

  test('from a non-occupant, or to an unknown nick, is refused', async () => {
    const fx = roomFixture();
    await fx.join(A, 'Alice');
    await fx.send(B, `<iq type='get' to='${ROOM}/Alice' id='v1'><query xmlns='jabber:iq:version'/></iq>`);
    expect(errorOf(fx.take(B)[0])).toEqual(['modify', 'not-acceptable']);
    await fx.send(A, `<iq type='get' to='${ROOM}/Zed' id='v1'><query xmlns='jabber:iq:version'/></iq>`);
    expect(errorOf(fx.take(A)[0])).toEqual(['cancel', 'item-not-found']);
  });

  test('an IQ at the bare room that is not muc#admin is service-unavailable', async () => {
    const fx = roomFixture();
    await fx.join(A, 'Alice');
    fx.take();
    await fx.send(A, `<iq type='get' to='${ROOM}' id='q1'><query xmlns='jabber:iq:version'/></iq>`);
    expect(errorOf(fx.take(A)[0])).toEqual(['cancel', 'service-unavailable']);
  });
});

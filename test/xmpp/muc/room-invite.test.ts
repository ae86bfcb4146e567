import { B, C, ROOM, START, threeInRoom } from './room-fixture';

const errorOf = (xml: string) => /<error type="(\w+)"><([\w-]+)/.exec(xml)?.slice(1, 3);
const X = 'xmlns="http://jabber.org/protocol/muc#user"';
const invite = (to: string, reason = '') =>
  `<message to='${ROOM}' id='i1'><x xmlns='http://jabber.org/protocol/muc#user'><invite to='${to}'>${reason && `<reason>${reason}</reason>`}</invite></x></message>`;

describe('mediated invitations', () => {
  test('the invitee gets a message from the room naming the real inviter, the reason, the password and a body', async () => {
    const fx = await threeInRoom({ options: { allow_user_invites: true, password_protected: true, password: 'pw' } });
    await fx.send('alice@localhost/a', invite('dave@localhost', 'Come along'));
    const got = fx.take('dave@localhost');
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(
      new RegExp(
        `^<message from="${ROOM}" to="dave@localhost" type="normal" id="[^"]+"><body>alice@localhost/a invites you to the room ${ROOM}, the password is 'pw' \\(Come along\\) </body>` +
          `<x ${X}><invite from="alice@localhost/a"><reason>Come along</reason></invite><password>pw</password></x>` +
          `<x xmlns="jabber:x:conference" jid="${ROOM}" reason="Come along" password="pw"/></message>$`,
      ),
    );
    expect(fx.take()).toEqual([]);
  });

  test('without allow_user_invites only admins and owners invite; invitations need a to', async () => {
    const fx = await threeInRoom();
    await fx.send(B, invite('dave@localhost'));
    expect(errorOf(fx.take(B)[0])).toEqual(['cancel', 'not-allowed']);
    await fx.send('alice@localhost/a', invite('dave@localhost'));
    expect(fx.take('dave@localhost')).toHaveLength(1);
    await fx.send('alice@localhost/a', `<message to='${ROOM}'><x xmlns='http://jabber.org/protocol/muc#user'><invite/></x></message>`);
    expect(errorOf(fx.take('alice@localhost/a')[0])).toEqual(['modify', 'bad-request']);
  });

  test('an invitation to a members-only room makes the invitee a member', async () => {
    const fx = await threeInRoom({ options: { members_only: true }, affiliations: [{ jid: 'bob@localhost', affiliation: 'member', reason: '' }] });
    await fx.send('alice@localhost/a', invite('dave@localhost'));
    expect(fx.room.affiliation({ user: 'dave', host: 'localhost' })).toBe('member');
    expect(fx.room.record().affiliations).toContainEqual({ jid: 'dave@localhost', affiliation: 'member', reason: '' });
    expect((await fx.join('dave@localhost/d', 'Dave')).at(-2)).toContain('status code="110"');
  });

  test('a non-occupant may not invite, but its decline is relayed to the inviter from the room', async () => {
    const fx = await threeInRoom({ options: { allow_user_invites: true } });
    await fx.send('dave@localhost/d', invite('eve@localhost'));
    expect(errorOf(fx.take('dave@localhost/d')[0])).toEqual(['modify', 'not-acceptable']);
    await fx.send(
      'dave@localhost/d',
      `<message to='${ROOM}' id='d1'><x xmlns='http://jabber.org/protocol/muc#user'><decline to='bob@localhost/b'><reason>Busy</reason></decline></x></message>`,
    );
    expect(fx.take()).toEqual([
      `<message from="${ROOM}" to="${B}" id="d1"><x ${X}><decline from="dave@localhost/d"><reason>Busy</reason></decline></x></message>`,
    ]);
  });
});

const voiceRequest = `<message to='${ROOM}' id='v1'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field><field var='muc#role'><value>participant</value></field></x></message>`;

describe('voice requests', () => {
  test("a visitor's request goes to each moderator as a form; an approval gives voice", async () => {
    const fx = await threeInRoom({ options: { members_by_default: false } });
    await fx.send(B, voiceRequest);
    const [form] = fx.take('alice@localhost/a');
    expect(form).toContain('<field var="muc#jid" type="jid-single" label="User JID"><value>bob@localhost/b</value></field>');
    expect(form).toContain('<field var="muc#roomnick" type="text-single" label="Nickname"><value>Bob</value></field>');
    expect(fx.take()).toEqual([]);
    await fx.send(
      'alice@localhost/a',
      `<message to='${ROOM}'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field><field var='muc#role'><value>participant</value></field><field var='muc#roomnick'><value>Bob</value></field><field var='muc#request_allow'><value>true</value></field></x></message>`,
    );
    expect(fx.take(C)).toEqual([`<presence from="${ROOM}/Bob" to="${C}"><x ${X}><item affiliation="none" role="participant"/></x></presence>`]);
  });

  test('requests come no more often than voice_request_min_interval, and not at all when disabled', async () => {
    const fx = await threeInRoom({ options: { members_by_default: false } });
    await fx.send(B, voiceRequest);
    fx.take();
    await fx.send(B, voiceRequest);
    expect(errorOf(fx.take(B)[0])).toEqual(['wait', 'resource-constraint']);
    fx.at(START + 1801_000);
    await fx.send(B, voiceRequest);
    expect(fx.take('alice@localhost/a')).toHaveLength(1);
    const off = await threeInRoom({ options: { members_by_default: false, allow_voice_requests: false } });
    await off.send(B, voiceRequest);
    expect(errorOf(off.take(B)[0])).toEqual(['auth', 'forbidden']);
  });
});

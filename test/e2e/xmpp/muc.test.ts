/**
 * Multi-user chat as real clients use it: slixmpp's own XEP-0045 and XEP-0249 plugins,
 * go-sendxmpp's `-c` and @xmpp/client, on a running node, with the room commands beside them.
 */
import { optionsOutput } from '../../helpers/muc';
import {
  eventsOf,
  expectClean,
  got,
  sendxmpp,
  slixmpp,
  slixmppLive,
  startXmppNode,
  xmppClient,
  type PeerRun,
  type SlixmppScript,
  type XmppNode,
} from '../../helpers/xmpp';

jest.setTimeout(90_000);

const USERS = ['ann', 'ben', 'cat', 'dan', 'eve'];
let x: XmppNode;
beforeAll(async () => {
  x = await startXmppNode({ users: Object.fromEntries(USERS.map((u) => [`${u}@localhost`, 'pw'])) });
});
afterAll(() => x?.stop());

const SERVICE = 'conference.localhost';
const room = (name: string) => `${name}@${SERVICE}`;
const as = (user: string, resource = 'desk') => ({ jid: `${user}@localhost/${resource}`, password: 'pw' });
const script = (clients: SlixmppScript['clients'], steps: SlixmppScript['steps']): SlixmppScript => ({
  server: { port: x.ports.c2s },
  clients,
  steps,
  timeout: 60,
});
const run = async (clients: SlixmppScript['clients'], steps: SlixmppScript['steps']): Promise<PeerRun> =>
  expectClean(await slixmpp('steps', script(clients, steps)));
/** Clients that do `before`, hold while `meanwhile` runs (the room commands), then do `after`. */
async function around(
  clients: SlixmppScript['clients'],
  before: SlixmppScript['steps'],
  meanwhile: () => Promise<void>,
  after: SlixmppScript['steps'] = [],
): Promise<PeerRun> {
  const live = slixmppLive('steps', script(clients, [...(before ?? []), { checkpoint: 'held' }, ...(after ?? [])]));
  try {
    await live.checkpoint('held', 30_000);
    await meanwhile();
  } finally {
    live.resume();
  }
  return expectClean(await live.done);
}
const ok = (stdout = '') => ({ status: 0, stdout, stderr: '' });

/** slixmpp's plugin call, labelled. */
const muc = (who: string, call: string, args: unknown[], label: string, kwargs: Record<string, unknown> = {}) => ({
  as: who,
  plugin: 'xep_0045',
  call,
  args,
  kwargs,
  label,
});
const join = (who: string, name: string, nick: string, kwargs: Record<string, unknown> = {}) =>
  muc(who, 'join_muc_wait', [room(name), nick], `join-${who}-${name}`, { timeout: 5, ...kwargs });

/** What a plugin call gave: its result (stanzas as XML) or the error stanza. */
function called(r: PeerRun, label: string): { result?: unknown; error?: string } {
  // The last call of that label: a script may try the same join again.
  const e = [...eventsOf(r, 'called')].reverse().find((c) => c.label === label);
  if (!e) throw new Error(`no call labelled '${label}':\n${r.events.map((v) => JSON.stringify(v)).join('\n')}`);
  return { result: e.result, error: e.error as string | undefined };
}

/** The self-presence of a join_muc_wait. */
const selfPresence = (r: PeerRun, label: string): string => (called(r, label).result as string[])[0];

test('three clients join a new room, talk, set the subject and leave; a later joiner gets history with delay, then the subject', async () => {
  const r = await run({ a: as('ann'), b: as('ben'), c: as('cat'), d: as('dan') }, [
    join('a', 'lounge', 'Ann'),
    // A room a join creates is locked until its owner accepts it (the form, submitted as offered).
    { as: 'a', configure: room('lounge'), fields: {}, label: 'instant' },
    join('b', 'lounge', 'Ben'),
    { as: 'a', wait: [`from='${room('lounge')}/Ben'`], label: 'ann-sees-ben' },
    join('c', 'lounge', 'Cat'),
    { as: 'b', wait: [`from='${room('lounge')}/Cat'`], label: 'ben-sees-cat' },
    muc('a', 'set_subject', [room('lounge'), 'Plans for Friday'], 'subject'),
    { as: 'c', wait: ['<subject>Plans for Friday</subject>'], label: 'cat-subject' },
    { as: 'b', send: `<message to='${room('lounge')}' type='groupchat' id='m1'><body>hello all</body></message>` },
    { as: 'a', wait: ['<body>hello all</body>', `from='${room('lounge')}/Ben'`], label: 'ann-hears' },
    { as: 'c', wait: ['<body>hello all</body>', `from='${room('lounge')}/Ben'`], label: 'cat-hears' },
    { as: 'b', wait: ['<body>hello all</body>', "id='m1'"], label: 'ben-echo' },
    join('d', 'lounge', 'Dan', { maxstanzas: 10 }),
    muc('c', 'leave_muc', [room('lounge'), 'Cat', 'bye'], 'cat-leaves'),
    { as: 'a', wait: [`from='${room('lounge')}/Cat'`, "type='unavailable'"], label: 'cat-gone' },
  ]);
  const created = selfPresence(r, 'join-a-lounge');
  expect(created).toContain("code='110'");
  expect(created).toContain("code='201'");
  expect(created).toMatch(/<item [^>]*affiliation='owner'[^>]*role='moderator'|<item [^>]*role='moderator'[^>]*affiliation='owner'/);
  expect(selfPresence(r, 'join-b-lounge')).toMatch(/affiliation='none'/);
  expect(selfPresence(r, 'join-b-lounge')).not.toContain("code='201'");
  expect(got(r, 'cat-subject')).toContain(`from='${room('lounge')}/Ann'`);
  const [, subject, occupants, history] = called(r, 'join-d-lounge').result as [string, string, string[], string[]];
  // slixmpp counts the joiner's own presence among the occupants.
  expect(occupants).toHaveLength(4);
  expect(occupants[3]).toContain("code='110'");
  expect(history).toHaveLength(1);
  expect(history[0]).toContain('<body>hello all</body>');
  expect(history[0]).toMatch(
    new RegExp(`<delay [^>]*xmlns='urn:xmpp:delay'[^>]*from='${room('lounge')}'|<delay [^>]*from='${room('lounge')}'[^>]*xmlns='urn:xmpp:delay'`),
  );
  expect(subject).toContain('<subject>Plans for Friday</subject>');
  expect(got(r, 'cat-gone')).toContain('<status>bye</status>');
});

test('a password-protected room refuses a wrong password and admits the right one', async () => {
  const r = await run({ a: as('ann'), b: as('ben') }, [
    join('a', 'vault', 'Ann'),
    { as: 'a', configure: room('vault'), fields: { 'muc#roomconfig_passwordprotectedroom': true, 'muc#roomconfig_roomsecret': 's3same' }, label: 'config' },
    join('b', 'vault', 'Ben'),
    join('b', 'vault', 'Ben', { password: 'guess' }),
    join('b', 'vault', 'Ben', { password: 's3same' }),
  ]);
  expect(eventsOf(r, 'configured')[0].form).toContain("var='muc#roomconfig_roomsecret'");
  const refusals = eventsOf(r, 'called').filter((e) => e.label === 'join-b-vault');
  expect(refusals).toHaveLength(3);
  expect(refusals[0].error).toMatch(/type='error'.*<not-authorized /);
  expect(refusals[1].error).toMatch(/type='error'.*<not-authorized /);
  expect((refusals[2].result as string[])[0]).toContain("code='110'");
});

test('a members-only room admits a user once the owner makes them a member', async () => {
  const r = await run({ a: as('ann'), b: as('ben') }, [
    join('a', 'club', 'Ann'),
    // Persistent, so that the room outlives its owner's leaving.
    { as: 'a', configure: room('club'), fields: { 'muc#roomconfig_membersonly': true, 'muc#roomconfig_persistentroom': true } },
    join('b', 'club', 'Ben'),
    muc('a', 'set_affiliation', [room('club'), 'member'], 'make-member', { jid: 'ben@localhost' }),
  ]);
  expect(called(r, 'join-b-club').error).toMatch(/<registration-required /);
  const again = await run({ b: as('ben') }, [join('b', 'club', 'Ben')]);
  expect(selfPresence(again, 'join-b-club')).toMatch(/affiliation='member'/);
  expect(await x.ctl(['get_room_affiliations', 'club', SERVICE])).toEqual({
    status: 0,
    stdout: 'ann\tlocalhost\towner\t\nben\tlocalhost\tmember\t\n',
    stderr: '',
  });
});

test('a moderator kicks one occupant (307) and bans another (301), who cannot come back', async () => {
  const r = await run({ a: as('ann'), b: as('ben'), c: as('cat') }, [
    join('a', 'ring', 'Ann'),
    { as: 'a', configure: room('ring'), fields: {} },
    join('b', 'ring', 'Ben'),
    join('c', 'ring', 'Cat'),
    muc('a', 'set_role', [room('ring'), 'Ben', 'none'], 'kick', { reason: 'calm down' }),
    { as: 'b', wait: ["type='unavailable'", "code='307'"], label: 'kicked' },
    { as: 'c', wait: [`from='${room('ring')}/Ben'`, "type='unavailable'", "code='307'"], label: 'cat-sees-kick' },
    muc('a', 'set_affiliation', [room('ring'), 'outcast'], 'ban', { jid: 'cat@localhost', reason: 'spam' }),
    { as: 'c', wait: ["type='unavailable'", "code='301'"], label: 'banned' },
    join('c', 'ring', 'Cat'),
  ]);
  expect(got(r, 'kicked')).toContain('<reason>calm down</reason>');
  expect(got(r, 'banned')).toContain("affiliation='outcast'");
  expect(called(r, 'join-c-ring').error).toMatch(/<forbidden /);
});

test('the owner form shows the options, and what is submitted is what get_room_options prints', async () => {
  const r = await run({ a: as('ann') }, [
    join('a', 'config', 'Ann'),
    {
      as: 'a',
      configure: room('config'),
      fields: {
        'muc#roomconfig_roomname': 'Config Room',
        'muc#roomconfig_roomdesc': 'All about it',
        'muc#roomconfig_maxusers': '50',
        'muc#roomconfig_publicroom': false,
        'muc#roomconfig_persistentroom': true,
      },
      label: 'form',
    },
    { as: 'a', iq: `<iq type='get' id='info1' to='${room('config')}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, label: 'info' },
  ]);
  const form = eventsOf(r, 'configured')[0].form as string;
  for (const v of [
    'muc#roomconfig_roomname',
    'muc#roomconfig_persistentroom',
    'muc#roomconfig_membersonly',
    'muc#roomconfig_whois',
    'muc#roomconfig_maxusers',
  ]) {
    expect(form).toContain(`var='${v}'`);
  }
  expect(got(r, 'info')).toContain("<identity category='conference' type='text' name='Config Room'");
  expect(got(r, 'info')).toContain("var='muc_hidden'");
  expect(await x.ctl(['get_room_options', 'config', SERVICE])).toEqual(
    ok(optionsOutput({ title: 'Config Room', description: 'All about it', public: 'false', persistent: 'true', max_users: '50' })),
  );
});

test('destroying a room with occupants inside tells each of them, with the reason and the new venue', async () => {
  const r = await run({ a: as('ann'), b: as('ben') }, [
    join('a', 'old', 'Ann'),
    { as: 'a', configure: room('old'), fields: {} },
    join('b', 'old', 'Ben'),
    muc('a', 'destroy', [room('old'), 'moving on', room('new')], 'destroy'),
    { as: 'b', wait: ["type='unavailable'", '<destroy'], label: 'told' },
  ]);
  expect(got(r, 'told')).toContain(`jid='${room('new')}'`);
  expect(got(r, 'told')).toContain('<reason>moving on</reason>');
  expect((await x.ctl(['muc_online_rooms', 'global'])).stdout).not.toContain(room('old'));
});

test('destroy_room with an occupant inside: the occupant is told, and the room is gone', async () => {
  const r = await around(
    { c: as('cat') },
    [join('c', 'doomed', 'Cat'), { as: 'c', configure: room('doomed'), fields: {} }],
    async () => {
      expect((await x.ctl(['muc_online_rooms', SERVICE])).stdout).toContain(`${room('doomed')}\n`);
      expect(await x.ctl(['destroy_room', 'doomed', SERVICE])).toEqual(ok());
    },
    [{ as: 'c', wait: ["type='unavailable'", '<destroy'], label: 'told' }],
  );
  expect(got(r, 'told')).toContain(`from='${room('doomed')}/Cat'`);
  expect((await x.ctl(['muc_online_rooms', SERVICE])).stdout).not.toContain(room('doomed'));
  expect(await x.ctl(['get_room_options', 'doomed', SERVICE])).toMatchObject({ status: 1, stdout: '' });
});

test('both kinds of invitation reach the invitee: mediated through the room, direct from a user, and send_direct_invitation', async () => {
  const r = await around(
    { a: as('ann'), e: as('eve') },
    [
      join('a', 'party', 'Ann'),
      { as: 'a', configure: room('party'), fields: {} },
      muc('a', 'invite', [room('party'), 'eve@localhost', 'come along'], 'mediated'),
      { as: 'e', wait: [`from='${room('party')}'`, "<invite from='ann@localhost/desk'"], label: 'mediated-got' },
      { as: 'a', plugin: 'xep_0249', call: 'send_invitation', args: ['eve@localhost', room('party')], kwargs: { reason: 'direct one' }, label: 'direct' },
      { as: 'e', wait: ["from='ann@localhost/desk'", "xmlns='jabber:x:conference'"], label: 'direct-got' },
    ],
    async () => {
      expect(await x.ctl(['send_direct_invitation', 'party', SERVICE, 'none', 'from the operator', 'eve@localhost'])).toEqual(ok());
    },
    [{ as: 'e', wait: [`from='${room('party')}'`, "xmlns='jabber:x:conference'", "reason='from the operator'"], label: 'operator-got' }],
  );
  expect(got(r, 'mediated-got')).toContain('<reason>come along</reason>');
  expect(got(r, 'direct-got')).toContain(`jid='${room('party')}'`);
  expect(got(r, 'direct-got')).toContain("reason='direct one'");
  expect(got(r, 'operator-got')).toContain(`jid='${room('party')}'`);
  expect(got(r, 'operator-got')).not.toContain('password=');
});

test('go-sendxmpp -c and @xmpp/client talk in a room that a slixmpp client listens to', async () => {
  const r = await around(
    { b: as('ben') },
    [join('b', 'mixed', 'Ben'), { as: 'b', configure: room('mixed'), fields: {} }],
    async () => {
      const sent = await sendxmpp({
        jid: 'cat@localhost',
        password: 'pw',
        port: x.ports.c2s,
        to: room('mixed'),
        message: 'from sendxmpp',
        chatroom: true,
        alias: 'Sender',
      });
      expect(sent).toMatchObject({ status: 0 });
      const js = await xmppClient('xmpp-client', {
        client: { service: `xmpp://127.0.0.1:${x.ports.c2s}`, domain: 'localhost', username: 'dan', password: 'pw', resource: 'js' },
        steps: [
          { send: `<presence to='${room('mixed')}/Js'><x xmlns='http://jabber.org/protocol/muc'/></presence>` },
          { wait: [`from='${room('mixed')}/Js'`, "code='110'"], label: 'joined' },
          { wait: ['<subject'], label: 'subject' },
          { send: `<message to='${room('mixed')}' type='groupchat' id='js1'><body>from xmpp.js</body></message>` },
          { wait: ["id='js1'", '<body>from xmpp.js</body>'], label: 'echo' },
        ],
      });
      expect(js.events.filter((e) => e.event === 'error')).toEqual([]);
      expect(got(js, 'joined')).toContain("role='participant'");
    },
    [
      { as: 'b', wait: ['<body>from sendxmpp</body>', `from='${room('mixed')}/Sender'`, "type='groupchat'"], label: 'sendxmpp' },
      { as: 'b', wait: ['<body>from xmpp.js</body>', `from='${room('mixed')}/Js'`], label: 'xmppjs' },
    ],
  );
  expect(got(r, 'sendxmpp')).toContain("type='groupchat'");
  expect(got(r, 'xmppjs')).toContain("type='groupchat'");
});

test('the room commands with occupants present and absent', async () => {
  const absent = async () => {
    expect(await x.ctl(['get_room_occupants', 'seen', SERVICE])).toEqual(ok());
    expect(await x.ctl(['get_room_occupants_number', 'seen', SERVICE])).toEqual(ok('0\n'));
    expect(await x.ctl(['get_user_rooms', 'ben', 'localhost'])).toEqual(ok());
  };
  await around(
    { a: as('ann'), b: as('ben') },
    [join('a', 'seen', 'Ann'), { as: 'a', configure: room('seen'), fields: { 'muc#roomconfig_persistentroom': true } }, join('b', 'seen', 'Ben')],
    async () => {
      expect(await x.ctl(['get_room_occupants', 'seen', SERVICE])).toEqual(ok('ann@localhost/desk\tAnn\tmoderator\nben@localhost/desk\tBen\tparticipant\n'));
      expect(await x.ctl(['get_room_occupants_number', 'seen', SERVICE])).toEqual(ok('2\n'));
      expect(await x.ctl(['get_user_rooms', 'ben', 'localhost'])).toEqual(ok(`${room('seen')}\n`));
      expect((await x.ctl(['muc_online_rooms', 'global'])).stdout).toContain(`${room('seen')}\n`);
      expect(await x.ctl(['get_room_affiliations', 'seen', SERVICE])).toEqual(ok('ann\tlocalhost\towner\t\n'));
      expect((await x.ctl(['get_room_options', 'seen', SERVICE])).stdout).toContain('persistent\ttrue\n');
    },
  );
  // The clients are gone; the persistent room stays, empty.
  for (let i = 0; i < 50 && (await x.ctl(['get_room_occupants_number', 'seen', SERVICE])).stdout !== '0\n'; i++) await new Promise((w) => setTimeout(w, 100));
  await absent();
  expect((await x.ctl(['muc_online_rooms', SERVICE])).stdout).toContain(`${room('seen')}\n`);
});

test('a persistent room keeps its subject, options and affiliations across a restart', async () => {
  await run({ a: as('ann') }, [
    join('a', 'keep', 'Ann'),
    { as: 'a', configure: room('keep'), fields: { 'muc#roomconfig_persistentroom': true, 'muc#roomconfig_roomname': 'Kept' } },
    muc('a', 'set_subject', [room('keep'), 'Still here'], 'subject'),
    { as: 'a', wait: ['<subject>Still here</subject>'] },
  ]);
  expect(await x.ctl(['restart'])).toEqual(ok());
  const r = await run({ b: as('ben') }, [join('b', 'keep', 'Ben')]);
  const [, subject] = called(r, 'join-b-keep').result as [string, string];
  expect(subject).toContain('<subject>Still here</subject>');
  expect((await x.ctl(['get_room_options', 'keep', SERVICE])).stdout).toContain('title\tKept\n');
  expect(await x.ctl(['get_room_affiliations', 'keep', SERVICE])).toEqual(ok('ann\tlocalhost\towner\t\n'));
});

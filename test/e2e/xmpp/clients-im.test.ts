/**
 * RFC 6121 and the everyday extensions, as slixmpp clients see them on a running node: roster,
 * subscriptions and presence, message delivery by priority and by full JID, offline messages,
 * vCard, private storage, last activity, ping, disco, blocking, carbons and MAM. Where a command
 * shares the data (get_vcard, set_vcard, private_get, get_roster), both sides are checked.
 */
import { eventually, eventsOf, expectClean, got, received, slixmpp, startXmppNode, type PeerRun, type SlixmppScript, type XmppNode } from '../../helpers/xmpp';

jest.setTimeout(60_000);

const USERS = ['ann', 'ben', 'cat', 'dan', 'eve', 'fay', 'gus', 'hal', 'ivy', 'jon', 'kim', 'lou', 'max', 'ned'];
let x: XmppNode;
beforeAll(async () => {
  x = await startXmppNode({ users: Object.fromEntries(USERS.map((u) => [`${u}@localhost`, 'pw'])) });
});
afterAll(() => x?.stop());

/** A client of `user` with `resource`; options as peer.py reads them. */
const as = (user: string, resource: string, extra: Record<string, unknown> = {}) => ({ jid: `${user}@localhost/${resource}`, password: 'pw', ...extra });
const run = async (clients: SlixmppScript['clients'], steps: SlixmppScript['steps'], more: Partial<SlixmppScript> = {}): Promise<PeerRun> =>
  expectClean(await slixmpp('steps', { server: { port: x.ports.c2s }, clients, steps, ...more }));

test('roster set, push to every interested resource, get, remove', async () => {
  const r = await run({ a: as('ann', 'one'), b: as('ann', 'two') }, [
    {
      as: 'a',
      iq: "<iq type='set' id='set1'><query xmlns='jabber:iq:roster'><item jid='zed@localhost' name='Zed'><group>Friends</group></item></query></iq>",
      label: 'set',
    },
    { as: 'b', wait: ["type='set'", "jid='zed@localhost'", "name='Zed'", "subscription='none'"], label: 'push' },
    { as: 'a', iq: "<iq type='get' id='get1'><query xmlns='jabber:iq:roster'/></iq>", label: 'get' },
    { as: 'a', iq: "<iq type='set' id='rm1'><query xmlns='jabber:iq:roster'><item jid='zed@localhost' subscription='remove'/></query></iq>", label: 'remove' },
    { as: 'b', wait: ["jid='zed@localhost'", "subscription='remove'"], label: 'removed' },
  ]);
  expect(got(r, 'set')).toMatch(/^<iq [^>]*type='result'/);
  expect(got(r, 'push')).toContain('<group>Friends</group>');
  expect(got(r, 'get')).toMatch(/<item [^>]*jid='zed@localhost'[^>]*>.*<group>Friends<\/group>/);
  expect(got(r, 'remove')).toMatch(/^<iq [^>]*type='result'/);
  expect(await x.ctl(['get_roster', 'ann', 'localhost'])).toEqual({ status: 0, stdout: '', stderr: '' });
});

test('a subscription both ways: request, approval, pushes, presence seen both ways, and a probe at the next login', async () => {
  const r = await run({ b: as('ben', 'desk'), c: as('cat', 'desk'), b2: as('ben', 'later', { connect: false }) }, [
    { as: 'b', send: "<presence to='cat@localhost' type='subscribe'/>" },
    { as: 'c', wait: ['<presence ', "from='ben@localhost'", "type='subscribe'"], label: 'request' },
    { as: 'c', send: "<presence to='ben@localhost' type='subscribed'/>" },
    { as: 'b', wait: ["jid='cat@localhost'", "subscription='to'"], label: 'push-to' },
    { as: 'b', wait: ['<presence ', "from='cat@localhost/desk'"], label: 'cat-available' },
    { as: 'c', send: "<presence to='ben@localhost' type='subscribe'/>" },
    { as: 'b', wait: ["from='cat@localhost'", "type='subscribe'"] },
    { as: 'b', send: "<presence to='cat@localhost' type='subscribed'/>" },
    { as: 'c', wait: ["jid='ben@localhost'", "subscription='both'"], label: 'push-both' },
    { as: 'c', wait: ['<presence ', "from='ben@localhost/desk'"], label: 'ben-available' },
    { as: 'c', send: '<presence><show>away</show><status>lunch</status></presence>' },
    { as: 'b', wait: ["from='cat@localhost/desk'", '<show>away</show>'], label: 'cat-away' },
    { as: 'b2', login: true },
    { as: 'b2', wait: ["from='cat@localhost/desk'", '<show>away</show>'], label: 'probe-answer' },
    { as: 'c', wait: ['<presence', "from='ben@localhost/later'"], label: 'later-available' },
    { as: 'b2', disconnect: true },
    { as: 'c', wait: ["from='ben@localhost/later'", "type='unavailable'"], label: 'later-gone' },
  ]);
  expect(got(r, 'request')).not.toContain('/desk');
  expect(got(r, 'cat-away')).toContain('<status>lunch</status>');
  expect(got(r, 'probe-answer')).toContain("to='ben@localhost/later'");
  expect(got(r, 'later-available')).not.toContain('unavailable');
  expect((await x.ctl(['get_roster', 'ben', 'localhost'])).stdout).toBe('cat@localhost\t\tboth\tnone\t\n');
  expect((await x.ctl(['get_roster', 'cat', 'localhost'])).stdout).toBe('ben@localhost\t\tboth\tnone\t\n');
});

test('a bare-JID message goes to the highest priority; a full-JID message to that resource; negative priority gets no bare messages', async () => {
  const r = await run(
    {
      hi: as('dan', 'hi', { presence: '<presence><priority>5</priority></presence>' }),
      lo: as('dan', 'lo', { presence: '<presence><priority>1</priority></presence>' }),
      neg: as('dan', 'neg', { presence: '<presence><priority>-1</priority></presence>' }),
      s: as('eve', 'x'),
    },
    [
      { as: 's', send: "<message to='dan@localhost' type='chat' id='m1'><body>to the bare jid</body></message>" },
      { as: 'hi', wait: ['<body>to the bare jid</body>'], label: 'bare' },
      { as: 's', send: "<message to='dan@localhost/lo' type='chat' id='m2'><body>to lo</body></message>" },
      { as: 'lo', wait: ['<body>to lo</body>'], label: 'full' },
      { as: 's', send: "<message to='dan@localhost/neg' type='chat' id='m3'><body>to neg</body></message>" },
      { as: 'neg', wait: ['<body>to neg</body>'] },
      { as: 'lo', absent: ['to the bare jid'], for: 300, label: 'lo-bare' },
      { as: 'neg', absent: ['to the bare jid'], for: 0, label: 'neg-bare' },
      { as: 'hi', absent: ['to lo'], for: 0, label: 'hi-full' },
    ],
  );
  expect(got(r, 'bare')).toMatch(/from='eve@localhost\/x'/);
  expect(got(r, 'full')).toContain("to='dan@localhost/lo'");
  for (const label of ['lo-bare', 'neg-bare', 'hi-full']) expect(eventsOf(r, 'absent').find((e) => e.label === label)?.found).toEqual([]);
});

test('a message to an offline user is stored and delivered with <delay> at the next login', async () => {
  await run({ s: as('eve', 'x') }, [{ as: 's', send: "<message to='fay@localhost' type='chat' id='off1'><body>while you were out</body></message>" }]);
  const stored = await eventually(
    () => x.ctl(['get_offline_count', 'fay', 'localhost']),
    (c) => c.stdout === '1\n',
  );
  expect(stored).toEqual({ status: 0, stdout: '1\n', stderr: '' });
  const r = await run({ f: as('fay', 'back') }, [{ as: 'f', wait: ['<body>while you were out</body>'], label: 'offline' }]);
  expect(got(r, 'offline')).toMatch(/<delay [^>]*xmlns='urn:xmpp:delay'/);
  expect(got(r, 'offline')).toMatch(/stamp='\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z'/);
  expect(got(r, 'offline')).toContain("from='eve@localhost/x'");
  const emptied = await eventually(
    () => x.ctl(['get_offline_count', 'fay', 'localhost']),
    (c) => c.stdout === '0\n',
  );
  expect(emptied).toEqual({ status: 0, stdout: '0\n', stderr: '' });
});

test('a vCard a client sets is what get_vcard prints; one set_vcard sets is what a client gets', async () => {
  const set = await run({ g: as('gus', 'v') }, [
    { as: 'g', iq: "<iq type='set' id='v1'><vCard xmlns='vcard-temp'><FN>Gus Grey</FN><NICKNAME>gg</NICKNAME></vCard></iq>", label: 'set' },
  ]);
  expect(got(set, 'set')).toMatch(/^<iq [^>]*type='result'/);
  expect(await x.ctl(['get_vcard', 'gus', 'localhost', 'FN'])).toEqual({ status: 0, stdout: 'Gus Grey\n', stderr: '' });
  expect(await x.ctl(['set_vcard', 'gus', 'localhost', 'NICKNAME', 'gussie'])).toMatchObject({ status: 0 });
  const get = await run({ h: as('hal', 'v') }, [{ as: 'h', iq: "<iq type='get' id='v2' to='gus@localhost'><vCard xmlns='vcard-temp'/></iq>", label: 'get' }]);
  expect(got(get, 'get')).toContain('<NICKNAME>gussie</NICKNAME>');
  expect(got(get, 'get')).toContain('<FN>Gus Grey</FN>');
});

test('private XML storage: set, get, and private_get sees it', async () => {
  const bookmarks = "<storage xmlns='storage:bookmarks'><conference jid='tea@conference.localhost' name='Tea' autojoin='true'/></storage>";
  const r = await run({ h: as('hal', 'p') }, [
    { as: 'h', iq: `<iq type='set' id='pr1'><query xmlns='jabber:iq:private'>${bookmarks}</query></iq>`, label: 'set' },
    { as: 'h', iq: "<iq type='get' id='pr2'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>", label: 'get' },
  ]);
  expect(got(r, 'set')).toMatch(/^<iq [^>]*type='result'/);
  expect(got(r, 'get')).toMatch(/<conference [^>]*jid='tea@conference\.localhost'/);
  const printed = await x.ctl(['private_get', 'hal', 'localhost', 'storage', 'storage:bookmarks']);
  expect(printed.status).toBe(0);
  expect(printed.stdout).toBe('<storage xmlns="storage:bookmarks"><conference jid="tea@conference.localhost" name="Tea" autojoin="true"/></storage>\n');
});

test('ping, disco#info of the server, software version, and the server uptime as last activity', async () => {
  const r = await run({ i: as('ivy', 'q') }, [
    { as: 'i', iq: "<iq type='get' id='ping1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>", label: 'ping' },
    { as: 'i', iq: "<iq type='get' id='disco1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>", label: 'disco' },
    { as: 'i', iq: "<iq type='get' id='last1' to='localhost'><query xmlns='jabber:iq:last'/></iq>", label: 'uptime' },
    { as: 'i', iq: "<iq type='get' id='ver1' to='localhost'><query xmlns='jabber:iq:version'/></iq>", label: 'version' },
    { as: 'i', iq: "<iq type='get' id='nope1' to='localhost'><query xmlns='urn:example:nothing'/></iq>", label: 'unknown' },
  ]);
  expect(got(r, 'ping')).toMatch(/^<iq [^>]*type='result'/);
  expect(got(r, 'disco')).toMatch(/<identity [^>]*category='server'/);
  expect(got(r, 'disco')).toMatch(/<identity [^>]*type='im'/);
  expect(got(r, 'disco')).toContain("var='urn:xmpp:ping'");
  expect(got(r, 'uptime')).toMatch(/<query [^>]*seconds='\d+'/);
  expect(got(r, 'version')).toMatch(/<query xmlns='jabber:iq:version'><name>[^<]+<\/name><version>[^<]+<\/version>/);
  expect(got(r, 'unknown')).toMatch(/type='error'.*<service-unavailable/);
});

test('a user who logged out has a last activity: get_last prints when, XEP-0012 says how long ago', async () => {
  await run({ j: as('jon', 'l') }, [{ as: 'j', send: "<presence type='unavailable'><status>gone fishing</status></presence>" }]);
  const last = await eventually(
    () => x.ctl(['get_last', 'jon', 'localhost']),
    (r) => r.stdout !== 'Online\n' && r.stdout !== 'Never\n',
  );
  expect(last).toEqual({ status: 0, stdout: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d gone fishing\n$/), stderr: '' });
  // Logged in again without presence, the user is not available: the record of the logout stands.
  const r = await run({ j: as('jon', 'q', { presence: false }) }, [
    { as: 'j', iq: "<iq type='get' id='last2' to='jon@localhost'><query xmlns='jabber:iq:last'/></iq>", label: 'last' },
  ]);
  expect(got(r, 'last')).toMatch(/<query [^>]*xmlns='jabber:iq:last'[^>]*seconds='\d+'[^>]*>gone fishing<\/query>/);
});

test('a blocked contact’s message does not arrive; after unblocking it does', async () => {
  const r = await run({ k: as('kim', 'b'), l: as('lou', 'b') }, [
    { as: 'k', iq: "<iq type='set' id='bl1'><block xmlns='urn:xmpp:blocking'><item jid='lou@localhost'/></block></iq>", label: 'block' },
    { as: 'k', iq: "<iq type='get' id='bl2'><blocklist xmlns='urn:xmpp:blocking'/></iq>", label: 'list' },
    { as: 'l', send: "<message to='kim@localhost' type='chat' id='blk1'><body>can you hear me</body></message>" },
    { as: 'k', absent: ['can you hear me'], for: 400, label: 'blocked' },
    { as: 'k', iq: "<iq type='set' id='bl3'><unblock xmlns='urn:xmpp:blocking'><item jid='lou@localhost'/></unblock></iq>", label: 'unblock' },
    { as: 'l', send: "<message to='kim@localhost' type='chat' id='blk2'><body>and now</body></message>" },
    { as: 'k', wait: ['<body>and now</body>'], label: 'unblocked' },
  ]);
  expect(got(r, 'block')).toMatch(/^<iq [^>]*type='result'/);
  expect(got(r, 'list')).toContain("<item jid='lou@localhost'");
  expect(eventsOf(r, 'absent', 'k')[0].found).toEqual([]);
  expect(received(r, 'k').join('')).not.toContain('can you hear me');
});

test('carbons: the second resource gets copies of what the first receives and sends', async () => {
  const enable = (id: string) => `<iq type='set' id='${id}'><enable xmlns='urn:xmpp:carbons:2'/></iq>`;
  const r = await run({ one: as('max', 'one'), two: as('max', 'two'), n: as('ned', 'c') }, [
    { as: 'one', iq: enable('cb1') },
    { as: 'two', iq: enable('cb2'), label: 'enabled' },
    { as: 'n', send: "<message to='max@localhost/one' type='chat' id='cc1'><body>for one</body></message>" },
    { as: 'one', wait: ['<body>for one</body>'] },
    { as: 'two', wait: ["<received xmlns='urn:xmpp:carbons:2'", '<body>for one</body>'], label: 'received' },
    { as: 'one', send: "<message to='ned@localhost' type='chat' id='cc2'><body>from one</body></message>" },
    { as: 'n', wait: ['<body>from one</body>'] },
    { as: 'two', wait: ["<sent xmlns='urn:xmpp:carbons:2'", '<body>from one</body>'], label: 'sent' },
  ]);
  expect(got(r, 'enabled')).toMatch(/^<iq [^>]*type='result'/);
  expect(got(r, 'received')).toMatch(/^<message [^>]*from='max@localhost'/);
  expect(got(r, 'received')).toContain("<forwarded xmlns='urn:xmpp:forward:0'");
  expect(got(r, 'sent')).toContain("to='ned@localhost'");
});

test('MAM returns the conversation, in order, ending with <fin complete>', async () => {
  await run({ k: as('kim', 'm'), n: as('ned', 'm') }, [
    { as: 'k', send: "<message to='ned@localhost' type='chat' id='mam1'><body>first words</body></message>" },
    { as: 'n', wait: ['first words'] },
    { as: 'n', send: "<message to='kim@localhost' type='chat' id='mam2'><body>a reply</body></message>" },
    { as: 'k', wait: ['a reply'] },
  ]);
  const query =
    "<iq type='set' id='q1'><query xmlns='urn:xmpp:mam:2' queryid='qq'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field><field var='with'><value>ned@localhost</value></field></x></query></iq>";
  const archived = (r: PeerRun) => received(r, 'k').filter((s) => s.includes("<result xmlns='urn:xmpp:mam:2'") && s.includes("queryid='qq'"));
  // Archiving does not hold up delivery, but a query waits for what was delivered before it.
  const r = await run({ k: as('kim', 'q', { presence: false }) }, [{ as: 'k', iq: query, label: 'fin' }]);
  const results = archived(r);
  expect(results.map((s) => /<body>([^<]*)<\/body>/.exec(s)?.[1])).toEqual(['first words', 'a reply']);
  expect(results[0]).toContain("<forwarded xmlns='urn:xmpp:forward:0'");
  expect(results[0]).toMatch(/<delay [^>]*stamp=/);
  expect(results[1]).toMatch(/<message [^>]*from='ned@localhost\/m'/);
  expect(got(r, 'fin')).toMatch(/<fin [^>]*complete='true'/);
});

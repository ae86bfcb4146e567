import type * as net from 'node:net';
import { closeC2s, listenC2s, type C2sServer } from '../../../src/xmpp/c2s/listener';
import { streamManagement, type StreamManagement, type StreamManagementOptions } from '../../../src/xmpp/c2s/stream-management';
import type { LiveSession } from '../../../src/xmpp/sessions';
import { makeHub, online, settle, type FakeClient, type TestHub } from '../hub/helpers';
import { HEADER, RawClient, listenerOptions, plainAuth, removeCertificate, testEnv, type Logged, fakeSasl } from './helpers';

const SM = 'urn:xmpp:sm:3';
const ALICE = { user: 'alice', host: 'localhost' };

let hub: TestHub;
let sm: StreamManagement;
let server: C2sServer;
let port: number;
let logs: Logged[];
const clients: RawClient[] = [];

async function start(options: Partial<StreamManagementOptions> = {}): Promise<void> {
  hub = makeHub();
  logs = [];
  await hub.features.accounts.register(ALICE, 'pw');
  const own = hub;
  sm = streamManagement({ route: (s) => own.control.route(s), ...options });
  server = await listenC2s(listenerOptions({ starttls: false }), testEnv(hub.hub, logs, { sasl: fakeSasl, extensions: [sm] }));
  port = (server.address() as net.AddressInfo).port;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  hub.control.shutdown();
  await closeC2s(server);
  hub.close();
});
afterAll(() => removeCertificate());

/** Logs in; binds `resource` unless it is null. Returns the client with what it received cleared. */
async function login(user = 'alice', resource: string | null = 'phone'): Promise<RawClient> {
  const c = await RawClient.connect(port);
  clients.push(c);
  await c.logIn(plainAuth(user));
  if (resource !== null) {
    c.send(`<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
    await c.waitFor('id="bind"');
    c.reset();
  }
  return c;
}

/** Enables stream management with resumption; the id the server gave. */
async function enableResume(c: RawClient, max = ''): Promise<string> {
  c.send(`<enable xmlns='${SM}' resume='true'${max ? ` max='${max}'` : ''}/>`);
  const text = await c.waitFor(/<enabled [^>]*\/>/);
  c.reset();
  return /id="([^"]+)"/.exec(text)![1];
}

const alice = (resource = 'phone') => hub.sessions.get({ ...ALICE, resource }) as LiveSession | undefined;

async function waitUntil(what: string, done: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Bob, a client inside the hub, sends alice/phone a chat message. */
function chat(bob: FakeClient, body: string, to = 'alice@localhost/phone'): void {
  bob.send(`<message to='${to}' type='chat' id='${body}'><body>${body}</body></message>`);
}

async function lose(c: RawClient): Promise<void> {
  c.destroy();
  await waitUntil('the session is detached', () => alice()?.detached === true);
}

describe('stream management', () => {
  test('is offered after authentication; enable without resume is answered plainly, a second enable fails', async () => {
    await start();
    const c = await RawClient.connect(port);
    clients.push(c);
    c.send(HEADER);
    await c.waitFor('</stream:features>');
    expect(c.text).not.toContain(SM);
    c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\u0000alice\u0000secret').toString('base64')}</auth>`);
    await c.waitFor('<success');
    c.reset();
    c.send(HEADER);
    expect(await c.waitFor('</stream:features>')).toContain(`<sm xmlns="${SM}"/></stream:features>`);
    c.send(`<enable xmlns='${SM}'/>`);
    await c.waitFor(`<failed xmlns="${SM}"><unexpected-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></failed>`);
    c.reset();
    c.send("<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>phone</resource></bind></iq>");
    await c.waitFor('</iq>');
    c.send(`<enable xmlns='${SM}'/>`);
    await c.waitFor(`<enabled xmlns="${SM}"/>`);
    c.send(`<enable xmlns='${SM}' resume='true'/>`);
    await c.waitFor(`<enabled xmlns="${SM}"/><failed xmlns="${SM}"><unexpected-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></failed>`);
  });

  test('enable with resume gives an unguessable id and the wait, a smaller max asked for is honoured', async () => {
    await start();
    const a = await login('alice', 'a');
    a.send(`<enable xmlns='${SM}' resume='true'/>`);
    const first = /<enabled xmlns="urn:xmpp:sm:3" id="([A-Za-z0-9_-]{24})" resume="true" max="300"\/>/.exec(await a.waitFor('<enabled'));
    const b = await login('alice', 'b');
    b.send(`<enable xmlns='${SM}' resume='1' max='60'/>`);
    const second = /<enabled xmlns="urn:xmpp:sm:3" id="([A-Za-z0-9_-]{24})" resume="true" max="60"\/>/.exec(await b.waitFor('<enabled'));
    expect(first).not.toBeNull();
    expect(second).not.toBeNull();
    expect(first![1]).not.toBe(second![1]);
  });

  test('<r/> is answered with the stanzas handled; the server asks for an ack after five; acking too many is a stream error', async () => {
    await start();
    const bob = await hub.login('bob');
    const c = await login();
    c.send(`<enable xmlns='${SM}'/>`);
    await c.waitFor('<enabled');
    c.send(`<r xmlns='${SM}'/>`);
    await c.waitFor(`<a xmlns="${SM}" h="0"/>`);
    c.send("<message to='bob@localhost/r'><body>1</body></message><message to='bob@localhost/r'><body>2</body></message><presence to='bob@localhost'/>");
    c.send(`<r xmlns='${SM}'/>`);
    await c.waitFor(`<a xmlns="${SM}" h="3"/>`);
    c.reset();
    for (const body of ['m1', 'm2', 'm3', 'm4']) chat(bob, body);
    await c.waitFor('m4');
    await settle();
    expect(c.text).not.toContain('<r ');
    chat(bob, 'm5');
    const text = await c.waitFor(`<r xmlns="${SM}"/>`);
    expect(text.indexOf('m5')).toBeLessThan(text.indexOf('<r '));
    c.send(`<a xmlns='${SM}' h='5'/>`);
    await settle();
    expect(c.closed).toBe(false);
    c.send(`<a xmlns='${SM}' h='9'/>`);
    await c.waitClosed();
    expect(c.text).toContain(
      `<stream:error><undefined-condition xmlns="urn:ietf:params:xml:ns:xmpp-streams"/><text xmlns="urn:ietf:params:xml:ns:xmpp-streams" xml:lang="en">the client acked 9 stanzas, 5 were sent</text><handled-count-too-high xmlns="${SM}" h="9" send-count="5"/></stream:error>`,
    );
  });

  test('acked stanzas leave the queue: only the unacked one is kept offline when the stream closes', async () => {
    await start();
    const bob = await hub.login('bob');
    const c = await login();
    c.send(`<enable xmlns='${SM}'/>`);
    await c.waitFor('<enabled');
    chat(bob, 'seen');
    await c.waitFor('seen');
    c.send(`<a xmlns='${SM}' h='1'/>`);
    chat(bob, 'unseen');
    await c.waitFor('unseen');
    c.send('</stream:stream>');
    await c.waitClosed();
    await waitUntil('the unacked message is stored', async () => (await hub.features.offline.count(ALICE)) === 1).catch((err) => {
      throw new Error(`${(err as Error).message}: ${hub.errors.join('; ')}`);
    });
    const [stored] = await hub.features.offline.messages(ALICE);
    expect(stored.message.xml).toContain('<body>unseen</body>');
    expect(stored.message.to).toBe('alice@localhost');
  });

  test('more unacked stanzas than the queue holds close the stream with resource-constraint; the messages go offline', async () => {
    await start({ maxQueue: 3, ackAfter: 100 });
    const bob = await hub.login('bob');
    const c = await login();
    c.send(`<enable xmlns='${SM}'/>`);
    await c.waitFor('<enabled');
    for (const body of ['m1', 'm2', 'm3', 'm4']) chat(bob, body);
    await c.waitClosed();
    expect(c.text).toContain('<stream:error><resource-constraint xmlns="urn:ietf:params:xml:ns:xmpp-streams"/>');
    expect(c.text).not.toContain('m4');
    await waitUntil('the four messages are stored', async () => (await hub.features.offline.count(ALICE)) === 4);
    expect(hub.sessions.count()).toBe(1);
  });

  test('a lost transport leaves the session detached and listed; a message meanwhile arrives after resume', async () => {
    await start();
    const bob = await hub.login('bob');
    const c = await login();
    const id = await enableResume(c);
    c.send("<presence><status>here</status></presence><message to='bob@localhost/r'><body>before</body></message>");
    await waitUntil('bob has it', () => bob.sent.some((e) => e.toString().includes('before')));
    const session = alice()!;
    const oldPort = session.port;
    await lose(c);
    expect(hub.control.userSessions(ALICE)).toHaveLength(1);
    expect(hub.control.sessions().map((s) => s.jid.resource)).toContain('phone');
    expect(session.presence?.getChildText('status')).toBe('here');
    expect(sm.detachedCount()).toBe(1);
    chat(bob, 'meanwhile');
    await settle();

    const d = await login('alice', null);
    d.send(`<resume xmlns='${SM}' previd='${id}' h='0'/>`);
    const text = await d.waitFor('meanwhile');
    // What the old stream never had acked comes again: her own presence, then the message.
    expect(text).toMatch(
      new RegExp(`<resumed xmlns="${SM}" previd="${id}" h="2"/><presence [^>]*><status>here</status></presence><message [^>]*id="meanwhile"`),
    );
    expect(alice()).toBe(session);
    expect(session.detached).toBe(false);
    expect(session.port).not.toBe(oldPort);
    expect(sm.detachedCount()).toBe(0);
    // The resumed stream is the session's: a stanza from it is routed, and its count goes on.
    d.send(`<message to='bob@localhost/r'><body>after</body></message><r xmlns='${SM}'/>`);
    await d.waitFor(`<a xmlns="${SM}" h="3"/>`);
    await waitUntil('bob has the later one', () => bob.sent.some((e) => e.toString().includes('after')));
    expect(await hub.features.offline.count(ALICE)).toBe(0);
  });

  test('the h of a resume drops what the client had already; the rest is sent again', async () => {
    await start();
    const bob = await hub.login('bob');
    const c = await login();
    const id = await enableResume(c);
    chat(bob, 'one');
    chat(bob, 'two');
    await c.waitFor('two');
    await lose(c);
    const d = await login('alice', null);
    d.send(`<resume xmlns='${SM}' previd='${id}' h='1'/>`);
    const text = await d.waitFor('two');
    expect(text).not.toContain('>one<');
  });

  test('resuming with an unknown id or as another user fails with item-not-found; the client can bind then', async () => {
    await start();
    const c = await login();
    const id = await enableResume(c);
    await lose(c);
    const wrong = await login('alice', null);
    wrong.send(`<resume xmlns='${SM}' previd='nope${id}' h='0'/>`);
    await wrong.waitFor(`<failed xmlns="${SM}"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></failed>`);
    wrong.send("<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>laptop</resource></bind></iq>");
    await wrong.waitFor('<jid>alice@localhost/laptop</jid>');
    const mallory = await login('mallory', null);
    mallory.send(`<resume xmlns='${SM}' previd='${id}' h='0'/>`);
    await mallory.waitFor(`<failed xmlns="${SM}"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></failed>`);
    expect(alice()?.detached).toBe(true);
  });

  test('resuming a session whose old stream is still open closes that stream with conflict', async () => {
    await start();
    const c = await login();
    const id = await enableResume(c);
    const d = await login('alice', null);
    d.send(`<resume xmlns='${SM}' previd='${id}' h='0'/>`);
    await d.waitFor('<resumed');
    await c.waitClosed();
    expect(c.text).toContain('<stream:error><conflict xmlns="urn:ietf:params:xml:ns:xmpp-streams"/>');
    await settle();
    expect(alice()?.detached).toBe(false);
    expect(hub.sessions.count()).toBe(1);
  });

  test('when the wait ends the session is unbound and a message queued for it goes offline, with a delay', async () => {
    await start();
    const bob = await online(hub, 'bob');
    const c = await login();
    await enableResume(c, '1');
    await lose(c);
    chat(bob, 'late');
    await waitUntil('the session is gone', () => alice() === undefined, 3000);
    await waitUntil('the message is stored', async () => (await hub.features.offline.count(ALICE)) === 1);
    const [stored] = await hub.features.offline.messages(ALICE);
    expect(stored.message.xml).toContain('<body>late</body>');
    expect(stored.message.xml.match(/<delay xmlns="urn:xmpp:delay" from="localhost"/g)).toHaveLength(1);
    expect(sm.detachedCount()).toBe(0);
  });

  test('an IQ request queued for a session that ends gets service-unavailable', async () => {
    await start();
    const bob = await hub.login('bob');
    const c = await login();
    await enableResume(c, '1');
    await lose(c);
    bob.send("<iq type='get' id='v1' to='alice@localhost/phone'><query xmlns='jabber:iq:version'/></iq>");
    await waitUntil('bob has an answer', () => bob.sent.some((e) => e.attrs.id === 'v1'));
    const reply = bob.sent.find((e) => e.attrs.id === 'v1')!;
    expect(reply.attrs).toMatchObject({ type: 'error', from: 'alice@localhost/phone', to: 'bob@localhost/r' });
    expect(reply.getChild('error')?.getChild('service-unavailable')).toBeDefined();
  });

  test('a clean close is no detach: the session ends at once', async () => {
    await start();
    const c = await login();
    await enableResume(c);
    c.send('</stream:stream>');
    await c.waitClosed();
    await waitUntil('the session is gone', () => alice() === undefined, 1000);
    expect(sm.detachedCount()).toBe(0);
  });

  test('shutdown ends detached sessions too', async () => {
    await start();
    const c = await login();
    await enableResume(c);
    await lose(c);
    hub.control.shutdown();
    expect(alice()).toBeUndefined();
    expect(sm.detachedCount()).toBe(0);
  });

  test('a stream without stream management has no attachment', async () => {
    await start();
    await login();
    expect(server.streams.size).toBe(1);
    for (const conn of server.streams) expect(conn.attachment).toBeUndefined();
  });
});

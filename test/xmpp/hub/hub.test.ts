import { Element } from 'ltx';
import type { XmppModule } from '../../../src/xmpp/api';
import { StanzaError } from '../../../src/xmpp/stanza';
import { NOW } from '../../helpers/features';
import { makeHub, online, settle, x } from './helpers';

const slowAndFast: XmppModule = (api) => {
  api.iq({ xmlns: 'urn:test:slow', to: ['host'] }, async () => {
    await new Promise((r) => setTimeout(r, 30));
    return new Element('slow', { xmlns: 'urn:test:slow' });
  });
  api.iq({ xmlns: 'urn:test:fast', to: ['host'] }, () => new Element('fast', { xmlns: 'urn:test:fast' }));
  api.iq({ xmlns: 'urn:test:fail', to: ['host'] }, () => {
    throw new StanzaError('forbidden', 'No');
  });
  api.iq({ xmlns: 'urn:test:crash', to: ['host'] }, () => {
    throw new Error('boom');
  });
};

describe('binding', () => {
  test('a bound session has the defaults, a unique id, and appears in the table', async () => {
    const hub = makeHub();
    const a = await hub.login('alice', 'home');
    const b = await hub.login('alice', 'work');
    expect(a.session.jid).toEqual({ user: 'alice', host: 'localhost', resource: 'home' });
    expect(a.session).toMatchObject({ priority: 0, presence: undefined, interested: false, carbons: false, inactive: false, detached: false, startedAt: NOW });
    expect(a.session.id).not.toBe(b.session.id);
    expect(hub.sessions.ofUser({ user: 'alice', host: 'localhost' }).map((s) => s.jid.resource)).toEqual(['home', 'work']);
    expect(hub.sessions.count()).toBe(2);
    expect(hub.sessions.users('localhost')).toBe(1);
    expect(hub.sessions.all('other.example')).toEqual([]);
  });

  test('an empty resource gets a random one of digits and letters', async () => {
    const hub = makeHub();
    const a = await hub.login('alice', '');
    const b = await hub.login('alice', '');
    expect(a.session.jid.resource).toMatch(/^[0-9a-z]{8,}$/);
    expect(a.session.jid.resource).not.toBe(b.session.jid.resource);
  });

  test('a resource clash closes the old session with conflict and keeps the new one', async () => {
    const hub = makeHub();
    const closed: string[] = [];
    const counting = makeHub([(api) => api.hook('session-closed', (s) => void closed.push(s.jid.resource))]);
    for (const h of [hub, counting]) {
      const old = await h.login('alice', 'r');
      const fresh = await h.login('alice', 'r');
      expect(old.closes).toEqual([{ condition: 'conflict', text: 'Replaced by new connection' }]);
      expect(h.sessions.all()).toEqual([fresh.session]);
      old.drop();
      await settle();
    }
    expect(closed).toEqual(['r']);
  });
});

describe('routing', () => {
  test('a session stanzas keep their order even when a handler is slow', async () => {
    const hub = makeHub([slowAndFast]);
    const a = await hub.login('alice');
    a.send("<iq type='get' id='1' to='localhost'><q xmlns='urn:test:slow'/></iq>");
    a.send("<iq type='get' id='2' to='localhost'><q xmlns='urn:test:fast'/></iq>");
    await new Promise((r) => setTimeout(r, 60));
    expect(a.take()).toEqual([
      '<iq type="result" id="1" from="localhost" to="alice@localhost/r"><slow xmlns="urn:test:slow"/></iq>',
      '<iq type="result" id="2" from="localhost" to="alice@localhost/r"><fast xmlns="urn:test:fast"/></iq>',
    ]);
  });

  test('IQ errors: unknown namespace, a StanzaError, a crash, and addresses that cannot be reached', async () => {
    const hub = makeHub([slowAndFast]);
    const a = await hub.login('alice');
    await hub.login('bob');
    a.send("<iq type='get' id='u'><query xmlns='urn:test:unknown'/></iq>");
    a.send("<iq type='get' id='f' to='localhost'><q xmlns='urn:test:fail'/></iq>");
    a.send("<iq type='get' id='c' to='localhost'><q xmlns='urn:test:crash'/></iq>");
    a.send("<iq type='get' id='r' to='example.net'><q xmlns='urn:test:fast'/></iq>");
    a.send("<iq type='get' id='m' to='a@b@c'><q xmlns='urn:test:fast'/></iq>");
    a.send("<iq type='get' id='b' to='bob@localhost'><q xmlns='urn:test:fast'/></iq>");
    a.send("<iq type='get' id='o' to='bob@localhost/gone'><q xmlns='urn:test:fast'/></iq>");
    a.send("<iq type='result' id='dropped' to='localhost'/>");
    await settle();
    const got = a.take();
    const cond = (s: string) => /<error type="(\w+)"><([\w-]+)/.exec(s)?.slice(1).join(' ');
    expect(got.map((s) => `${/id="(\w+)"/.exec(s)?.[1]} ${cond(s)}`)).toEqual([
      'u cancel service-unavailable',
      'f auth forbidden',
      'c cancel internal-server-error',
      'r cancel remote-server-not-found',
      'm modify jid-malformed',
      'b cancel service-unavailable',
      'o cancel service-unavailable',
    ]);
    expect(got[1]).toContain('<text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">No</text>');
    expect(got[3]).toContain('to="alice@localhost/r" from="example.net"');
    expect(hub.errors.join('\n')).toContain('boom');
  });

  test('the hub stamps from over what the client wrote; an IQ to a full JID reaches that session', async () => {
    const hub = makeHub();
    const a = await hub.login('alice');
    const b = await hub.login('bob');
    a.send("<iq type='get' id='p' from='mallory@localhost/x' to='bob@localhost/r'><ping xmlns='urn:xmpp:ping'/></iq>");
    await settle();
    expect(b.take()).toEqual(['<iq type="get" id="p" from="alice@localhost/r" to="bob@localhost/r"><ping xmlns="urn:xmpp:ping"/></iq>']);
    b.send("<iq type='result' id='p' to='alice@localhost/r'/>");
    await settle();
    expect(a.take()).toEqual(['<iq type="result" id="p" to="alice@localhost/r" from="bob@localhost/r"/>']);
  });

  test('deliver hooks may take a stanza for a local account', async () => {
    const hub = makeHub([(api) => api.hook('deliver', (st) => st.getChildText('body') === 'blocked')]);
    const a = await online(hub, 'alice');
    const b = await online(hub, 'bob');
    b.take();
    a.send("<message to='bob@localhost' type='chat'><body>blocked</body></message>");
    a.send("<message to='bob@localhost' type='chat'><body>fine</body></message>");
    await settle();
    expect(b.take()).toEqual(['<message to="bob@localhost" type="chat" from="alice@localhost/r"><body>fine</body></message>']);
  });
});

describe('XmppControl', () => {
  test('sessions and userSessions describe each session as the commands print it', async () => {
    const hub = makeHub();
    await hub.login('alice', 'a');
    const b = await online(hub, 'bob', 'b', '<presence><show>dnd</show><status>busy</status><priority>7</priority></presence>');
    await online(hub, 'carol', 'c');
    expect(b.session.priority).toBe(7);
    expect(hub.control.sessions().map((s) => [s.jid.user, s.status, s.statusText, s.priority])).toEqual([
      ['alice', 'unavailable', '', undefined],
      ['bob', 'dnd', 'busy', 7],
      ['carol', 'available', '', undefined],
    ]);
    expect(hub.control.userSessions({ user: 'bob', host: 'localhost' })).toEqual([
      {
        jid: { user: 'bob', host: 'localhost', resource: 'b' },
        connection: 'c2s',
        ip: '127.0.0.1',
        port: 40000,
        priority: 7,
        node: 'ctl@localhost',
        uptimeSeconds: 0,
        status: 'dnd',
        statusText: 'busy',
      },
    ]);
    expect(hub.control.onlineSessions()).toBe(3);
    expect(hub.control.onlineSessions('localhost')).toBe(3);
    expect(hub.control.onlineSessions('nowhere')).toBe(0);
  });

  test('kickUser, kickSession and shutdown close streams with the right errors and empty the table at once', async () => {
    const hub = makeHub();
    const a1 = await hub.login('alice', '1');
    const a2 = await hub.login('alice', '2');
    const b = await hub.login('bob', 'b');
    const c = await hub.login('carol', 'c');
    expect(hub.control.kickUser({ user: 'alice', host: 'localhost' })).toBe(2);
    expect(a1.closes).toEqual([{ condition: 'policy-violation', text: 'has been kicked' }]);
    expect(a2.closes).toHaveLength(1);
    expect(hub.control.kickUser({ user: 'alice', host: 'localhost' })).toBe(0);
    expect(hub.control.kickSession({ user: 'bob', host: 'localhost', resource: 'b' }, 'Kicked by administrator')).toBe(true);
    expect(b.closes).toEqual([{ condition: 'conflict', text: 'Kicked by administrator' }]);
    expect(hub.control.kickSession({ user: 'bob', host: 'localhost', resource: 'b' }, 'again')).toBe(false);
    expect(hub.control.onlineSessions()).toBe(1);
    hub.control.shutdown();
    expect(c.closes).toEqual([{ condition: 'system-shutdown' }]);
    expect(hub.control.onlineSessions()).toBe(0);
  });

  test('setPresence broadcasts as the client would; sendToSession writes to the stream; announce reaches every session', async () => {
    const hub = makeHub();
    const a = await online(hub, 'alice', 'r');
    const a2 = await online(hub, 'alice', 'r2');
    a.take();
    a2.take();
    const ok = await hub.control.setPresence(
      { user: 'alice', host: 'localhost', resource: 'r' },
      x('<presence><show>away</show><status>lunch</status></presence>'),
    );
    expect(ok).toBe(true);
    expect(a2.take()).toEqual(['<presence from="alice@localhost/r" to="alice@localhost/r2"><show>away</show><status>lunch</status></presence>']);
    expect(hub.control.userSessions({ user: 'alice', host: 'localhost' })[0]).toMatchObject({ status: 'away', statusText: 'lunch' });
    expect(await hub.control.setPresence({ user: 'alice', host: 'localhost', resource: 'nope' }, x('<presence/>'))).toBe(false);
    expect(hub.control.sendToSession(a.session.jid, x("<message from='localhost'><body>hi</body></message>"))).toBe(true);
    expect(hub.control.sendToSession({ ...a.session.jid, resource: 'nope' }, x('<message/>'))).toBe(false);
    a.take();
    a2.take();
    expect(hub.control.announce('Going down')).toBe(2);
    expect(a.take()).toEqual(['<message type="headline" from="localhost" to="alice@localhost/r"><body>Going down</body></message>']);
  });

  test('route sends a stanza as if its sender had sent it', async () => {
    const hub = makeHub();
    const b = await online(hub, 'bob');
    b.take();
    await hub.control.route(x("<message from='admin@localhost' to='bob@localhost/r'><body>x</body></message>"));
    expect(b.take()).toEqual(['<message from="admin@localhost" to="bob@localhost/r"><body>x</body></message>']);
  });

  test('a session that vanishes mid-call: its queued work ends cleanly and it is closed once', async () => {
    const closed: string[] = [];
    const hub = makeHub([slowAndFast, (api) => api.hook('session-closed', (s) => void closed.push(s.jid.resource))]);
    const a = await hub.login('alice');
    a.send("<iq type='get' id='1' to='localhost'><q xmlns='urn:test:slow'/></iq>");
    const pending = hub.control.setPresence(a.session.jid, x('<presence/>'));
    a.drop();
    a.drop();
    hub.hub.unbind(a.session, undefined);
    expect(hub.control.kickSession(a.session.jid, 'x')).toBe(false);
    a.send('<presence/>');
    await pending;
    await new Promise((r) => setTimeout(r, 60));
    expect(closed).toEqual(['r']);
    expect(hub.control.sessions()).toEqual([]);
  });

  test('removing or banning an account closes its sessions', async () => {
    const hub = makeHub();
    const a = await hub.login('alice');
    const b = await hub.login('bob');
    await hub.features.accounts.remove({ user: 'alice', host: 'localhost' });
    await hub.features.accounts.ban({ user: 'bob', host: 'localhost' }, 'Spam');
    await settle();
    expect(a.closes).toEqual([{ condition: 'not-authorized', text: 'Account deleted' }]);
    expect(b.closes).toHaveLength(1);
    expect(b.closes[0]?.condition).toBe('conflict');
    expect(hub.control.onlineSessions()).toBe(0);
  });
});

describe('components', () => {
  const echo: XmppModule = (api) => {
    api.component(
      (domain) => domain === 'conference.localhost',
      (stanza, from) => {
        if (stanza.attrs.type === 'error') return;
        const reply = new Element(stanza.name, { from: stanza.attrs.to, to: stanza.attrs.from, type: 'error', id: stanza.attrs.id });
        reply.c('got', { xmlns: 'urn:test', from: `${from.user}@${from.host}/${from.resource}` });
        return api.route(reply);
      },
    );
    api.discoItemsFrom((host) => [{ jid: `conference.${host}`, name: 'Chatrooms' }]);
  };

  test('a stanza for a component domain reaches its handler with the parsed sender, of every kind', async () => {
    const hub = makeHub([echo]);
    const a = await hub.login('alice');
    a.send("<presence to='room@conference.localhost/nick'/>");
    a.send("<message to='room@conference.localhost' id='m' type='groupchat'><body>hi</body></message>");
    await settle();
    expect(a.take()).toEqual([
      '<presence from="room@conference.localhost/nick" to="alice@localhost/r" type="error"><got xmlns="urn:test" from="alice@localhost/r"/></presence>',
      '<message from="room@conference.localhost" to="alice@localhost/r" type="error" id="m"><got xmlns="urn:test" from="alice@localhost/r"/></message>',
    ]);
  });

  test('a domain no component claims is still remote-server-not-found', async () => {
    const hub = makeHub([echo]);
    const a = await hub.login('alice');
    a.send("<message to='room@muc.example.net' id='m'><body>hi</body></message>");
    await settle();
    expect(a.take()).toEqual([
      '<message to="alice@localhost/r" id="m" from="room@muc.example.net" type="error"><body>hi</body><error type="cancel"><remote-server-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>',
    ]);
  });

  test('disco item providers are asked on each request, after the fixed items', async () => {
    let items: readonly { jid: string; name?: string }[] = [];
    makeHub([echo, (api) => api.discoItem('localhost', { jid: 'pubsub.localhost' }), (api) => void (items = api.discoItems('localhost'))]);
    expect(items).toEqual([{ jid: 'pubsub.localhost' }, { jid: 'conference.localhost', name: 'Chatrooms' }]);
  });
});

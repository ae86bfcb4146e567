import { blocking } from '../../../src/xmpp/modules/blocking';
import { privacy } from '../../../src/xmpp/modules/privacy';
import { parsePrivacyQuery } from '../../../src/features/privacy/privacy';
import { parseXml } from '../../../src/lib/xml';
import { moduleHub, type ModuleHub } from './helpers';

const alice = { user: 'alice', host: 'localhost' };
const chat = (to: string, body = 'hi') => `<message type='chat' to='${to}' id='m1'><body>${body}</body></message>`;

async function pair(modules = [blocking]) {
  const hub = moduleHub(modules);
  const a = await hub.online('alice');
  const b = await hub.online('bob');
  a.take();
  b.take();
  return { hub, a, b };
}

async function block(hub: ModuleHub, jids: string[]) {
  const c = await hub.login('alice', 'blocker');
  await c.send(`<iq type='set' id='b1'><block xmlns='urn:xmpp:blocking'>${jids.map((j) => `<item jid='${j}'/>`).join('')}</block></iq>`);
  return c.take();
}

describe('the blocklist', () => {
  test('block, get, unblock, unblock all: kept as the default privacy list', async () => {
    const { hub, a } = await pair();
    await a.send("<iq type='set' id='b1'><block xmlns='urn:xmpp:blocking'><item jid='Bob@LocalHost'/><item jid='spam.example'/></block></iq>");
    expect(a.take()).toEqual(['<iq type="result" id="b1" to="alice@localhost/r"/>']);
    expect(await hub.features.privacy.lists(alice)).toEqual({
      default: 'Blocked contacts',
      lists: [
        {
          name: 'Blocked contacts',
          items: [
            { type: 'jid', value: 'bob@localhost', action: 'deny', order: 0, stanzas: [] },
            { type: 'jid', value: 'spam.example', action: 'deny', order: 1, stanzas: [] },
          ],
        },
      ],
    });
    await a.send("<iq type='get' id='b2'><blocklist xmlns='urn:xmpp:blocking'/></iq>");
    expect(a.take()).toEqual([
      '<iq type="result" id="b2" to="alice@localhost/r"><blocklist xmlns="urn:xmpp:blocking"><item jid="bob@localhost"/><item jid="spam.example"/></blocklist></iq>',
    ]);
    await a.send("<iq type='set' id='b3'><unblock xmlns='urn:xmpp:blocking'><item jid='bob@localhost'/></unblock></iq>");
    a.take();
    expect(await hub.features.privacy.blocklist(alice)).toEqual(['spam.example']);
    await a.send("<iq type='set' id='b4'><unblock xmlns='urn:xmpp:blocking'/></iq>");
    a.take();
    expect(await hub.features.privacy.lists(alice)).toEqual({ lists: [] });
  });

  test('blocks go before the items of an existing default list, which keep their order', async () => {
    const { hub, a } = await pair();
    await hub.features.privacy.apply(
      alice,
      parsePrivacyQuery(
        parseXml("<query xmlns='jabber:iq:privacy'><list name='mine'><item action='allow' order='7'/></list><default name='mine'/></query>", 'q'),
      ),
    );
    await a.send("<iq type='set' id='b1'><block xmlns='urn:xmpp:blocking'><item jid='bob@localhost'/></block></iq>");
    expect(await hub.features.privacy.list(alice, 'mine')).toEqual({
      name: 'mine',
      items: [
        { type: 'jid', value: 'bob@localhost', action: 'deny', order: 0, stanzas: [] },
        { action: 'allow', order: 1, stanzas: [] },
      ],
    });
  });

  test('sessions that asked for the blocklist get pushes of blocks and unblocks', async () => {
    const { hub, a } = await pair();
    await a.send("<iq type='get' id='g'><blocklist xmlns='urn:xmpp:blocking'/></iq>");
    a.take();
    const other = await hub.online('alice', 'quiet');
    a.take();
    await block(hub, ['bob@localhost']);
    expect(a.take()).toEqual([
      expect.stringMatching(
        /^<iq type="set" from="alice@localhost" to="alice@localhost\/r" id="[^"]+"><block xmlns="urn:xmpp:blocking"><item jid="bob@localhost"\/><\/block><\/iq>$/,
      ),
    ]);
    expect(other.take()).toEqual([]);
    await other.send("<iq type='set' id='u'><unblock xmlns='urn:xmpp:blocking'/></iq>");
    expect(a.take()).toEqual([expect.stringMatching(/<unblock xmlns="urn:xmpp:blocking"\/><\/iq>$/)]);
  });

  test('a malformed JID is jid-malformed, an empty block bad-request, and nothing is stored', async () => {
    const { hub, a } = await pair();
    await a.send("<iq type='set' id='b1'><block xmlns='urn:xmpp:blocking'><item jid='a@b@c'/></block></iq>");
    expect(a.take()[0]).toContain('<error type="modify"><jid-malformed');
    await a.send("<iq type='set' id='b2'><block xmlns='urn:xmpp:blocking'/></iq>");
    expect(a.take()[0]).toContain('<bad-request');
    await a.send("<iq type='set' id='b3'><block xmlns='urn:xmpp:blocking'><item/></block></iq>");
    expect(a.take()[0]).toContain('<bad-request');
    expect(await hub.features.privacy.lists(alice)).toEqual({ lists: [] });
  });
});

describe.each([
  ['blocking', [blocking]],
  ['privacy', [privacy]],
  ['both', [privacy, blocking]],
])('enforcement (%s module)', (_name, modules) => {
  test("a blocked contact's message never reaches the user, and bounces with service-unavailable", async () => {
    const { hub, a, b } = await pair(modules);
    await hub.features.privacy.block(alice, ['bob@localhost']);
    a.take();
    await b.send(chat('alice@localhost'));
    expect(a.take()).toEqual([]);
    expect(b.take()).toEqual([expect.stringContaining('<error type="cancel"><service-unavailable')]);
    await b.send(chat('alice@localhost/r'));
    expect(a.take()).toEqual([]);
  });

  test('nor when the user is offline: nothing is stored for later', async () => {
    const hub = moduleHub(modules);
    const b = await hub.online('bob');
    await hub.features.accounts.register(alice, 'pw');
    await hub.features.privacy.block(alice, ['bob@localhost']);
    await b.send(chat('alice@localhost'));
    expect(await hub.features.offline.count(alice)).toBe(0);
  });

  test("a blocked contact's presence is dropped without an error", async () => {
    const { hub, a, b } = await pair(modules);
    await hub.features.privacy.block(alice, ['bob@localhost']);
    a.take();
    await b.send("<presence to='alice@localhost'/>");
    expect(a.take()).toEqual([]);
    expect(b.take()).toEqual([]);
  });

  test('the user’s message to a blocked JID bounces with not-acceptable and <blocked/>', async () => {
    const { hub, a, b } = await pair(modules);
    await hub.features.privacy.block(alice, ['bob@localhost']);
    a.take();
    await a.send(chat('bob@localhost/r'));
    expect(b.take()).toEqual([]);
    expect(a.take()).toEqual([
      '<message type="error" to="alice@localhost/r" id="m1" from="bob@localhost/r"><body>hi</body><error type="cancel"><not-acceptable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><blocked xmlns="urn:xmpp:blocking:errors"/></error></message>',
    ]);
  });

  test('an unblocked contact gets through again at once (the list in memory follows)', async () => {
    const { hub, a, b } = await pair(modules);
    await hub.features.privacy.block(alice, ['bob@localhost']);
    await b.send(chat('alice@localhost', 'one'));
    await hub.features.privacy.unblock(alice, ['bob@localhost']);
    a.take();
    await b.send(chat('alice@localhost', 'two'));
    expect(a.take()).toEqual([expect.stringContaining('<body>two</body>')]);
  });

  test('a domain block covers its users; others pass', async () => {
    const { hub, a, b } = await pair(modules);
    const carol = await hub.online('carol');
    await hub.features.privacy.block(alice, ['localhost/nothing', 'example.org']);
    a.take();
    await b.send(chat('alice@localhost', 'from bob'));
    expect(a.take()).toEqual([expect.stringContaining('from bob')]);
    await hub.features.privacy.block(alice, ['localhost']);
    await carol.send(chat('alice@localhost', 'from carol'));
    expect(a.take()).toEqual([]);
  });
});

import { privacy } from '../../../src/xmpp/modules/privacy';
import { moduleHub } from './helpers';

const alice = { user: 'alice', host: 'localhost' };
const set = (inner: string, id = 's') => `<iq type='set' id='${id}'><query xmlns='jabber:iq:privacy'>${inner}</query></iq>`;
const get = (inner = '', id = 'g') => `<iq type='get' id='${id}'><query xmlns='jabber:iq:privacy'>${inner}</query></iq>`;

async function setup() {
  const hub = moduleHub([privacy]);
  const a = await hub.online('alice');
  const b = await hub.online('bob');
  a.take();
  b.take();
  return { hub, a, b };
}

describe('privacy lists', () => {
  test('a list is stored, pushed by name, listed, and read back', async () => {
    const { hub, a } = await setup();
    await a.send(
      set("<list name='work'><item type='jid' value='bob@localhost' action='deny' order='1'><message/></item><item action='allow' order='2'/></list>"),
    );
    expect(a.take()).toEqual([
      expect.stringMatching(/^<iq type="set" to="alice@localhost\/r" id="[^"]+"><query xmlns="jabber:iq:privacy"><list name="work"\/><\/query><\/iq>$/),
      '<iq type="result" id="s" to="alice@localhost/r"/>',
    ]);
    expect((await hub.features.privacy.list(alice, 'work'))?.items).toHaveLength(2);
    await a.send(set("<default name='work'/>"));
    await a.send(set("<active name='work'/>"));
    a.take();
    await a.send(get());
    expect(a.take()).toEqual([
      '<iq type="result" id="g" to="alice@localhost/r"><query xmlns="jabber:iq:privacy"><active name="work"/><default name="work"/><list name="work"/></query></iq>',
    ]);
    await a.send(get("<list name='work'/>"));
    expect(a.take()).toEqual([
      '<iq type="result" id="g" to="alice@localhost/r"><query xmlns="jabber:iq:privacy"><list name="work"><item action="deny" order="1" type="jid" value="bob@localhost"><message/></item><item action="allow" order="2"/></list></query></iq>',
    ]);
  });

  test('errors: unknown list item-not-found, bad items bad-request, two lists asked bad-request, removing the default conflict', async () => {
    const { a } = await setup();
    await a.send(get("<list name='none'/>"));
    expect(a.take()[0]).toContain('<item-not-found');
    await a.send(set("<list name='x'><item action='maybe' order='1'/></list>"));
    expect(a.take()[0]).toContain('<bad-request');
    await a.send(get("<list name='a'/><list name='b'/>"));
    expect(a.take()[0]).toContain('<bad-request');
    await a.send(set("<active name='none'/>"));
    expect(a.take()[0]).toContain('<item-not-found');
    await a.send(set("<list name='x'><item action='deny' order='1'/></list><default name='x'/>"));
    a.take();
    await a.send(set("<list name='x'/>"));
    expect(a.take()[0]).toContain('<conflict');
  });

  test('the active list decides for its session; incoming messages by jid, outgoing presence, subscription items', async () => {
    const { hub, a, b } = await setup();
    await a.send(set("<list name='quiet'><item type='jid' value='bob@localhost' action='deny' order='1'><message/></item></list>"));
    await a.send(set("<active name='quiet'/>"));
    a.take();
    await b.send("<message type='chat' to='alice@localhost/r'><body>blocked</body></message>");
    expect(a.take()).toEqual([]);
    expect(b.take()[0]).toContain('<service-unavailable');
    await b.send("<presence to='alice@localhost/r'/>");
    expect(a.take()).toEqual(['<presence to="alice@localhost/r" from="bob@localhost/r"/>']);
    // No roster item: subscription none.
    await hub.features.privacy.setList(alice, 'strangers', [{ type: 'subscription', value: 'none', action: 'deny', order: 1, stanzas: ['presence-out'] }]);
    await a.send(set("<active name='strangers'/>"));
    a.take();
    await a.send("<presence to='bob@localhost'/>");
    expect(b.take()).toEqual([]);
    await a.send(set('<active/>'));
    await a.send("<presence to='bob@localhost'/>");
    expect(b.take()).toEqual(['<presence to="bob@localhost" from="alice@localhost/r"/>']);
  });
});

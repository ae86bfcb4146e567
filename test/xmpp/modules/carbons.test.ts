import { carbons } from '../../../src/xmpp/modules/carbons';
import { moduleHub } from './helpers';

async function three() {
  const hub = moduleHub([carbons]);
  const phone = await hub.online('alice', 'phone');
  const laptop = await hub.online('alice', 'laptop');
  const bob = await hub.online('bob');
  for (const c of [phone, laptop, bob]) c.take();
  for (const c of [phone, laptop]) {
    await c.send("<iq type='set' id='e'><enable xmlns='urn:xmpp:carbons:2'/></iq>");
    expect(c.take()).toEqual([`<iq type="result" id="e" to="alice@localhost/${c.session.jid.resource}"/>`]);
  }
  return { hub, phone, laptop, bob };
}

describe('carbons', () => {
  test('enable and disable set the session; a get is bad-request', async () => {
    const hub = moduleHub([carbons]);
    const c = await hub.online('alice');
    await c.send("<iq type='set' id='e'><enable xmlns='urn:xmpp:carbons:2'/></iq>");
    expect(c.session.carbons).toBe(true);
    await c.send("<iq type='set' id='d'><disable xmlns='urn:xmpp:carbons:2'/></iq>");
    expect(c.session.carbons).toBe(false);
    c.take();
    await c.send("<iq type='get' id='g'><enable xmlns='urn:xmpp:carbons:2'/></iq>");
    expect(c.take()[0]).toContain('<bad-request');
  });

  test('a chat message to one resource is copied, wrapped, to the other carbons-enabled resources', async () => {
    const { phone, laptop, bob } = await three();
    await bob.send("<message type='chat' to='alice@localhost/phone' id='m1'><body>hi</body></message>");
    expect(phone.take()).toEqual(['<message type="chat" to="alice@localhost/phone" id="m1" from="bob@localhost/r"><body>hi</body></message>']);
    expect(laptop.take()).toEqual([
      '<message from="alice@localhost" to="alice@localhost/laptop" type="chat"><received xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0"><message type="chat" to="alice@localhost/phone" id="m1" from="bob@localhost/r" xmlns="jabber:client"><body>hi</body></message></forwarded></received></message>',
    ]);
  });

  test('a message the user sends is copied as <sent/> to the other enabled resources, not to the sender', async () => {
    const { phone, laptop, bob } = await three();
    await phone.send("<message type='chat' to='bob@localhost' id='m2'><body>yo</body></message>");
    expect(bob.take()).toHaveLength(1);
    expect(phone.take()).toEqual([]);
    expect(laptop.take()).toEqual([
      '<message from="alice@localhost" to="alice@localhost/laptop" type="chat"><sent xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0"><message type="chat" to="bob@localhost" id="m2" from="alice@localhost/phone" xmlns="jabber:client"><body>yo</body></message></forwarded></sent></message>',
    ]);
  });

  test('<private/>, <no-copy/>, headlines and disabled sessions get no copies', async () => {
    const { hub, phone, laptop, bob } = await three();
    const old = await hub.online('alice', 'old');
    laptop.take();
    await bob.send("<message type='chat' to='alice@localhost/phone'><body>a</body><private xmlns='urn:xmpp:carbons:2'/></message>");
    await bob.send("<message type='chat' to='alice@localhost/phone'><body>b</body><no-copy xmlns='urn:xmpp:hints'/></message>");
    await bob.send("<message type='headline' to='alice@localhost/phone'><body>c</body></message>");
    await phone.send("<message type='chat' to='bob@localhost'><body>d</body><private xmlns='urn:xmpp:carbons:2'/></message>");
    expect(laptop.take()).toEqual([]);
    await bob.send("<message type='chat' to='alice@localhost/phone'><body>e</body></message>");
    expect(laptop.take()).toHaveLength(1);
    expect(old.take().filter((s) => s.includes('carbons'))).toEqual([]);
  });
});

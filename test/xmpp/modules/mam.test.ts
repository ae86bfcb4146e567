import { mam } from '../../../src/xmpp/modules/mam';
import { moduleHub, settle, START, x, type Client } from './helpers';

const alice = { user: 'alice', host: 'localhost' };
const bob = { user: 'bob', host: 'localhost' };
const bodies = (xs: readonly string[]) => xs.map((s) => /<body>(.*?)<\/body>/.exec(s)?.[1]);

async function talk(n = 5) {
  const hub = moduleHub([mam]);
  const a = await hub.online('alice');
  const b = await hub.online('bob');
  for (let i = 1; i <= n; i++) {
    hub.at(START + i * 60_000);
    await (i % 2 ? a : b).send(`<message type='chat' to='${i % 2 ? 'bob' : 'alice'}@localhost' id='m${i}'><body>${i}</body></message>`);
  }
  a.take();
  b.take();
  return { hub, a, b };
}

async function query(c: Client, inner = '', attrs = "queryid='q1'") {
  await c.send(`<iq type='set' id='mq'><query xmlns='urn:xmpp:mam:2' ${attrs}>${inner}</query></iq>`);
  const out = c.take();
  return { results: out.slice(0, -1), iq: out[out.length - 1] };
}

const rsm = (inner: string) => `<set xmlns='http://jabber.org/protocol/rsm'>${inner}</set>`;
const form = (fields: Record<string, string>) =>
  `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>${Object.entries(fields)
    .map(([k, v]) => `<field var='${k}'><value>${v}</value></field>`)
    .join('')}</x>`;

describe('archiving', () => {
  test('both directions land in each side’s archive, in order; chat states and hints are not archived', async () => {
    const { hub, a, b } = await talk(3);
    await a.send("<message type='chat' to='bob@localhost'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>");
    await a.send("<message type='chat' to='bob@localhost'><body>secret</body><no-store xmlns='urn:xmpp:hints'/></message>");
    await b.send("<message type='groupchat' to='alice@localhost'><body>room</body></message>");
    expect(bodies((await hub.features.mam.messages(alice)).map((m) => m.xml))).toEqual(['1', '2', '3']);
    expect((await hub.features.mam.messages(bob)).map((m) => [m.with, m.timestamp])).toEqual([
      ['alice@localhost', START + 60_000],
      ['alice@localhost', START + 120_000],
      ['alice@localhost', START + 180_000],
    ]);
  });

  test('a message stored offline is archived too', async () => {
    const hub = moduleHub([mam]);
    await hub.features.accounts.register(bob, 'pw');
    const a = await hub.online('alice');
    await a.send("<message type='chat' to='bob@localhost'><body>later</body></message>");
    expect(await hub.features.offline.count(bob)).toBe(1);
    expect(bodies((await hub.features.mam.messages(bob)).map((m) => m.xml))).toEqual(['later']);
  });

  test('a message the server delivers again (stream management, carrying its own delay) is not archived a second time', async () => {
    const hub = moduleHub([mam]);
    const a = await hub.online('alice');
    await hub.online('bob');
    await a.send("<message type='chat' to='bob@localhost'><body>once</body></message>");
    await hub.control.route(
      x(
        "<message type='chat' from='alice@localhost/r' to='bob@localhost'><body>once</body><delay xmlns='urn:xmpp:delay' from='localhost' stamp='2023-11-14T22:13:20.000Z'/></message>",
      ),
    );
    await settle();
    expect(bodies((await hub.features.mam.messages(bob)).map((m) => m.xml))).toEqual(['once']);
    expect(bodies((await hub.features.mam.messages(alice)).map((m) => m.xml))).toEqual(['once']);
  });
});

describe('queries', () => {
  test('a query right after a message finds it: the archive catches up before it is read', async () => {
    const hub = moduleHub([mam]);
    const a = await hub.online('alice');
    await hub.online('bob');
    hub.hub.receive(a.session, x("<message type='chat' to='bob@localhost' id='now'><body>just now</body></message>"));
    const { results, iq } = await query(a);
    expect(bodies(results)).toEqual(['just now']);
    expect(iq).toContain("<fin xmlns='urn:xmpp:mam:2' complete='true'>".replace(/'/g, '"'));
  });

  test('results come wrapped with delay and ids, then the fin with the RSM set', async () => {
    const { hub, a } = await talk(2);
    const [m1, m2] = await hub.features.mam.messages(alice);
    const { results, iq } = await query(a);
    expect(results).toEqual([
      `<message from="alice@localhost" to="alice@localhost/r"><result xmlns="urn:xmpp:mam:2" id="${m1.id}" queryid="q1"><forwarded xmlns="urn:xmpp:forward:0"><delay xmlns="urn:xmpp:delay" stamp="2023-11-14T22:14:20.000Z"/><message type="chat" to="bob@localhost" id="m1" from="alice@localhost/r" xmlns="jabber:client"><body>1</body></message></forwarded></result></message>`,
      expect.stringContaining('<message type="chat" to="alice@localhost" id="m2" from="bob@localhost/r" xmlns="jabber:client"><body>2</body></message>'),
    ]);
    expect(iq).toBe(
      `<iq type="result" id="mq" to="alice@localhost/r"><fin xmlns="urn:xmpp:mam:2" complete="true"><set xmlns="http://jabber.org/protocol/rsm"><first index="0">${m1.id}</first><last>${m2.id}</last><count>2</count></set></fin></iq>`,
    );
  });

  test('pages forward with max and after, and back from the end with before', async () => {
    const { hub, a } = await talk(5);
    const ids = (await hub.features.mam.messages(alice)).map((m) => m.id);
    let page = await query(a, rsm('<max>2</max>'));
    expect(bodies(page.results)).toEqual(['1', '2']);
    expect(page.iq).toContain('complete="false"');
    page = await query(a, rsm(`<max>2</max><after>${ids[1]}</after>`));
    expect(bodies(page.results)).toEqual(['3', '4']);
    expect(page.iq).toContain(`<first index="2">${ids[2]}</first>`);
    page = await query(a, rsm(`<max>2</max><after>${ids[3]}</after>`));
    expect(bodies(page.results)).toEqual(['5']);
    expect(page.iq).toContain('complete="true"');
    page = await query(a, rsm('<max>2</max><before/>'));
    expect(bodies(page.results)).toEqual(['4', '5']);
    expect(page.iq).toContain('complete="false"');
    page = await query(a, rsm(`<max>3</max><before>${ids[3]}</before>`));
    expect(bodies(page.results)).toEqual(['1', '2', '3']);
    expect(page.iq).toContain('complete="true"');
    page = await query(a, rsm('<max>0</max>'));
    expect(page.results).toEqual([]);
    expect(page.iq).toContain('<count>5</count>');
  });

  test('filters by with, start and end', async () => {
    const { hub, a } = await talk(4);
    await hub.features.accounts.register({ user: 'carol', host: 'localhost' }, 'pw');
    await a.send("<message type='chat' to='carol@localhost'><body>to carol</body></message>");
    expect(bodies((await query(a, form({ with: 'carol@localhost' }))).results)).toEqual(['to carol']);
    expect(bodies((await query(a, form({ with: 'Bob@localhost/phone' }))).results)).toEqual(['1', '2', '3', '4']);
    const t = (min: number) => new Date(START + min * 60_000).toISOString();
    expect(bodies((await query(a, form({ start: t(2), end: t(3) }))).results)).toEqual(['2', '3']);
  });

  test('bad input: bad max, unknown after, bad date, unknown field, someone else’s archive', async () => {
    const { a } = await talk(1);
    expect((await query(a, rsm('<max>many</max>'))).iq).toContain('<bad-request');
    expect((await query(a, rsm('<after>0000000000001-0</after>'))).iq).toContain('<item-not-found');
    expect((await query(a, rsm('<before>nonsense</before>'))).iq).toContain('<item-not-found');
    expect((await query(a, form({ start: 'yesterday' }))).iq).toContain('<bad-request');
    expect((await query(a, form({ colour: 'red' }))).iq).toContain('<bad-request');
    await a.send("<iq type='set' id='x' to='bob@localhost'><query xmlns='urn:xmpp:mam:2'/></iq>");
    expect(a.take()[0]).toContain('<forbidden');
  });

  test('the form and the preferences', async () => {
    const { a } = await talk(0);
    await a.send("<iq type='get' id='f'><query xmlns='urn:xmpp:mam:2'/></iq>");
    expect(a.take()[0]).toContain('<field var="with" type="jid-single"/>');
    await a.send("<iq type='get' id='p'><prefs xmlns='urn:xmpp:mam:2'/></iq>");
    expect(a.take()).toEqual(['<iq type="result" id="p" to="alice@localhost/r"><prefs xmlns="urn:xmpp:mam:2" default="always"><always/><never/></prefs></iq>']);
  });

  test('the admin purge works on the same archive', async () => {
    const { hub, a } = await talk(2);
    hub.at(START + 3 * 86_400_000);
    expect(await hub.features.mam.deleteOld('chat', 1)).toBe(4);
    expect((await query(a)).iq).toContain('<count>0</count>');
  });
});

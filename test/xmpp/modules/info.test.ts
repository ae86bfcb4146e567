import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { disco } from '../../../src/xmpp/modules/disco';
import { last } from '../../../src/xmpp/modules/last';
import { ping } from '../../../src/xmpp/modules/ping';
import { privateStorage } from '../../../src/xmpp/modules/private';
import { vcard } from '../../../src/xmpp/modules/vcard';
import { version } from '../../../src/xmpp/modules/version';
import { moduleHub, START } from './helpers';

const all = [disco, ping, version, last, vcard, privateStorage];
const pkg = JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as { version: string };

describe('disco', () => {
  test('the server is server/im named ctl and lists every registered feature', async () => {
    const hub = moduleHub(all);
    const alice = await hub.online('alice');
    await alice.send("<iq type='get' id='d1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    const [reply] = alice.take();
    expect(reply).toContain('<identity category="server" type="im" name="ctl"/>');
    for (const ns of [
      'urn:xmpp:ping',
      'jabber:iq:version',
      'jabber:iq:last',
      'vcard-temp',
      'jabber:iq:private',
      'http://jabber.org/protocol/disco#items',
      'msgoffline',
    ]) {
      expect(reply).toContain(`<feature var="${ns}"/>`);
    }
    expect(reply).toMatch(/^<iq type="result" id="d1" from="localhost" to="alice@localhost\/r">/);
  });

  test("a user's bare JID is account/registered; the archive feature only for its owner", async () => {
    const hub = moduleHub(all);
    const alice = await hub.online('alice');
    await hub.login('bob');
    await alice.send("<iq type='get' id='d2' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    const [self] = alice.take();
    expect(self).toContain('<identity category="account" type="registered"/>');
    expect(self).toContain('urn:xmpp:mam:2');
    await alice.send("<iq type='get' id='d3' to='bob@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    const [other] = alice.take();
    expect(other).toContain('<identity category="account" type="registered"/>');
    expect(other).not.toContain('urn:xmpp:mam:2');
  });

  test('items of the server are empty; an unknown node is item-not-found; an unknown user service-unavailable', async () => {
    const hub = moduleHub(all);
    const alice = await hub.online('alice');
    await alice.send("<iq type='get' id='i1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>");
    expect(alice.take()).toEqual([
      '<iq type="result" id="i1" from="localhost" to="alice@localhost/r"><query xmlns="http://jabber.org/protocol/disco#items"/></iq>',
    ]);
    await alice.send("<iq type='get' id='i2' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info' node='x'/></iq>");
    expect(alice.take()[0]).toContain('<item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/>');
    await alice.send("<iq type='get' id='i3' to='nobody@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    expect(alice.take()[0]).toContain('<service-unavailable');
  });
});

describe('ping and version', () => {
  test('a ping to the server is answered with an empty result', async () => {
    const alice = await moduleHub(all).online('alice');
    await alice.send("<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    expect(alice.take()).toEqual(['<iq type="result" id="p1" from="localhost" to="alice@localhost/r"/>']);
  });

  test('the version is ctl and the package version, without an OS', async () => {
    const alice = await moduleHub(all).online('alice');
    await alice.send("<iq type='get' id='v1' to='localhost'><query xmlns='jabber:iq:version'/></iq>");
    expect(alice.take()).toEqual([
      `<iq type="result" id="v1" from="localhost" to="alice@localhost/r"><query xmlns="jabber:iq:version"><name>ctl</name><version>${pkg.version}</version></query></iq>`,
    ]);
    await alice.send("<iq type='set' id='v2' to='localhost'><query xmlns='jabber:iq:version'/></iq>");
    expect(alice.take()[0]).toContain('<bad-request');
  });
});

describe('last activity', () => {
  test('the server tells its uptime in seconds', async () => {
    const hub = moduleHub(all);
    const alice = await hub.online('alice');
    hub.at(START + 42_500);
    await alice.send("<iq type='get' id='l1' to='localhost'><query xmlns='jabber:iq:last'/></iq>");
    expect(alice.take()).toEqual(['<iq type="result" id="l1" from="localhost" to="alice@localhost/r"><query xmlns="jabber:iq:last" seconds="42"/></iq>']);
  });

  test('a subscribed contact sees 0 while online, then the time since logout and the status given then', async () => {
    const hub = moduleHub(all);
    await hub.features.accounts.register({ user: 'bob', host: 'localhost' }, 'pw');
    await hub.features.roster.set({ user: 'bob', host: 'localhost' }, 'alice@localhost', { name: '', subscription: 'from', ask: 'none', groups: [] });
    const alice = await hub.online('alice');
    const bob = await hub.online('bob');
    bob.take();
    const ask = "<iq type='get' id='l2' to='bob@localhost'><query xmlns='jabber:iq:last'/></iq>";
    await alice.send(ask);
    expect(alice.take().filter((s) => s.startsWith('<iq'))).toEqual([
      '<iq type="result" id="l2" from="bob@localhost" to="alice@localhost/r"><query xmlns="jabber:iq:last" seconds="0"/></iq>',
    ]);
    hub.at(START + 10_000);
    await bob.send("<presence type='unavailable'><status>gone fishing</status></presence>");
    await bob.drop();
    expect(await hub.features.last.get({ user: 'bob', host: 'localhost' })).toEqual({ timestamp: (START + 10_000) / 1000, status: 'gone fishing' });
    hub.at(START + 70_000);
    alice.take();
    await alice.send(ask);
    expect(alice.take().filter((s) => s.startsWith('<iq'))).toEqual([
      '<iq type="result" id="l2" from="bob@localhost" to="alice@localhost/r"><query xmlns="jabber:iq:last" seconds="60">gone fishing</query></iq>',
    ]);
  });

  test('someone without a subscription is forbidden; an unknown user is service-unavailable', async () => {
    const hub = moduleHub(all);
    const alice = await hub.online('alice');
    await hub.login('bob');
    await alice.send("<iq type='get' id='l3' to='bob@localhost'><query xmlns='jabber:iq:last'/></iq>");
    expect(alice.take()[0]).toContain('<error type="auth"><forbidden');
    await alice.send("<iq type='get' id='l4' to='nobody@localhost'><query xmlns='jabber:iq:last'/></iq>");
    expect(alice.take()[0]).toContain('<service-unavailable');
  });

  test('only the last session of a user records the logout', async () => {
    const hub = moduleHub(all);
    const one = await hub.online('bob', 'one');
    const two = await hub.online('bob', 'two');
    await one.drop();
    expect(await hub.features.last.get({ user: 'bob', host: 'localhost' })).toBeUndefined();
    await two.drop();
    expect(await hub.features.last.get({ user: 'bob', host: 'localhost' })).toEqual({ timestamp: START / 1000, status: '' });
  });
});

describe('vCard', () => {
  const card = "<vCard xmlns='vcard-temp'><FN>Alice</FN></vCard>";

  test('a user sets their vCard, the feature sees it, and others read it', async () => {
    const hub = moduleHub(all);
    const alice = await hub.online('alice');
    const bob = await hub.online('bob');
    await alice.send(`<iq type='set' id='c1'>${card}</iq>`);
    expect(alice.take()).toEqual(['<iq type="result" id="c1" to="alice@localhost/r"/>']);
    expect(await hub.features.vcard.fieldValue({ user: 'alice', host: 'localhost' }, { name: 'FN' })).toBe('Alice');
    await bob.send("<iq type='get' id='c2' to='alice@localhost'><vCard xmlns='vcard-temp'/></iq>");
    expect(bob.take()).toEqual(['<iq type="result" id="c2" from="alice@localhost" to="bob@localhost/r"><vCard xmlns="vcard-temp"><FN>Alice</FN></vCard></iq>']);
  });

  test('no vCard reads as an empty one; setting another user’s is forbidden; an unknown user is service-unavailable', async () => {
    const hub = moduleHub(all);
    const alice = await hub.online('alice');
    await hub.login('bob');
    await alice.send("<iq type='get' id='c3'><vCard xmlns='vcard-temp'/></iq>");
    expect(alice.take()).toEqual(['<iq type="result" id="c3" to="alice@localhost/r"><vCard xmlns="vcard-temp"/></iq>']);
    await alice.send(`<iq type='set' id='c4' to='bob@localhost'>${card}</iq>`);
    expect(alice.take()[0]).toContain('<forbidden');
    expect(await hub.features.vcard.get({ user: 'bob', host: 'localhost' })).toBeUndefined();
    await alice.send("<iq type='get' id='c5' to='nobody@localhost'><vCard xmlns='vcard-temp'/></iq>");
    expect(alice.take()[0]).toContain('<service-unavailable');
  });
});

describe('private storage', () => {
  test('stores and returns an element by its namespace', async () => {
    const hub = moduleHub(all);
    const alice = await hub.online('alice');
    await alice.send(
      "<iq type='set' id='s1'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'><conference jid='a@b'/></storage></query></iq>",
    );
    expect(alice.take()).toEqual(['<iq type="result" id="s1" to="alice@localhost/r"/>']);
    await alice.send("<iq type='get' id='s2'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>");
    expect(alice.take()).toEqual([
      '<iq type="result" id="s2" to="alice@localhost/r"><query xmlns="jabber:iq:private"><storage xmlns="storage:bookmarks"><conference jid="a@b"/></storage></query></iq>',
    ]);
    await alice.send("<iq type='get' id='s3'><query xmlns='jabber:iq:private'><prefs xmlns='other:ns'/></query></iq>");
    expect(alice.take()[0]).toContain('<prefs xmlns="other:ns"/>');
  });

  test('reserved namespaces are not-acceptable; another user’s storage is forbidden; an empty query bad-request', async () => {
    const hub = moduleHub(all);
    const alice = await hub.online('alice');
    await hub.login('bob');
    await alice.send("<iq type='get' id='s4'><query xmlns='jabber:iq:private'><x xmlns='jabber:client'/></query></iq>");
    expect(alice.take()[0]).toContain('<not-acceptable');
    await alice.send("<iq type='set' id='s5'><query xmlns='jabber:iq:private'><x xmlns='jabber:iq:private'/></query></iq>");
    expect(alice.take()[0]).toContain('<not-acceptable');
    await alice.send("<iq type='get' id='s6' to='bob@localhost'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>");
    expect(alice.take()[0]).toContain('<forbidden');
    await alice.send("<iq type='get' id='s7'><query xmlns='jabber:iq:private'/></iq>");
    expect(alice.take()[0]).toContain('<bad-request');
  });
});

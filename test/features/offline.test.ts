import { defaultConfig } from '../../src/config/config';
import { createAccounts } from '../../src/features/accounts/accounts';
import { featureDeps, type FeatureDeps } from '../../src/features/deps';
import { createOffline } from '../../src/features/offline/offline';
import {
  decodeOfflineMessage,
  delayedRecord,
  expiryOf,
  hostOffline,
  offlineRecord,
  readOffline,
  usersRows,
  writeOffline,
  type OfflineMessage,
} from '../../src/features/offline/records';
import type { BareJid } from '../../src/lib/jid';
import { parseXml } from '../../src/lib/xml';
import { createMemoryStore } from '../../src/storage/memory';

const DAY = 86_400_000;
const NOW = 1_700_000_000_000; // 2023-11-14T22:13:20Z
const alice: BareJid = { user: 'alice', host: 'localhost' };
const bob: BareJid = { user: 'bob', host: 'localhost' };

const message = (body: string, extra = '') =>
  parseXml(`<message from='x@example.org' to='alice@localhost' type='chat'><body>${body}</body>${extra}</message>`, 'm');
const body = (m: OfflineMessage) => parseXml(m.xml, 'm').getChildText('body');

async function setup(online: readonly BareJid[] = []) {
  let now = NOW;
  const deps: FeatureDeps = featureDeps({
    store: createMemoryStore(),
    config: defaultConfig('/nonexistent/ctl.yml'),
    clock: () => now,
    isOnline: (jid) => online.some((o) => o.user === jid.user && o.host === jid.host),
  });
  const accounts = createAccounts(deps);
  for (const jid of [alice, bob]) await accounts.register(jid, 'pw');
  return { deps, offline: createOffline(deps, accounts), at: (ms: number) => (now = ms) };
}

describe('store', () => {
  test('keeps a copy of the message with a delay, and tells who listens the id', async () => {
    const { deps, offline } = await setup();
    const heard: unknown[] = [];
    deps.events.on('offline-message-stored', (e) => void heard.push(e));
    const el = message('hi');
    const id = await offline.store(alice, el);
    expect(heard).toEqual([{ jid: alice, id }]);
    expect(el.toString()).toBe('<message from="x@example.org" to="alice@localhost" type="chat"><body>hi</body></message>');
    expect(await offline.messages(alice)).toEqual([
      {
        id,
        message: {
          from: 'x@example.org',
          to: 'alice@localhost',
          xml: '<message from="x@example.org" to="alice@localhost" type="chat"><body>hi</body><delay xmlns="urn:xmpp:delay" from="localhost" stamp="2023-11-14T22:13:20.000Z"/></message>',
          timestamp: NOW,
        },
      },
    ]);
  });

  test('refuses what is not a message, and unknown users', async () => {
    const { offline } = await setup();
    await expect(offline.store(alice, parseXml('<presence/>', 'p'))).rejects.toThrow('Only <message/> stanzas can be stored offline, not <presence/>');
    await expect(offline.store({ user: 'carol', host: 'localhost' }, message('x'))).rejects.toThrow('User carol@localhost does not exist');
    expect(await offline.count(alice)).toBe(0);
  });

  test('concurrent stores keep their order and get distinct ids', async () => {
    const { offline } = await setup();
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => offline.store(alice, message(`m${i}`))));
    expect(new Set(ids).size).toBe(20);
    expect([...ids].sort()).toEqual(ids);
    expect((await offline.messages(alice)).map((m) => body(m.message))).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
  });
});

describe('send', () => {
  test('queues for a user who is not connected, refuses one who is', async () => {
    const { offline } = await setup([bob]);
    await offline.send(alice, message('for alice'));
    await expect(offline.send(bob, message('for bob'))).rejects.toThrow(
      'bob@localhost is connected, and delivery to connected sessions is not implemented yet',
    );
    await expect(offline.send({ user: 'carol', host: 'localhost' }, message('x'))).rejects.toThrow('User carol@localhost does not exist');
    expect([await offline.count(alice), await offline.count(bob)]).toEqual([1, 0]);
  });
});

describe('count, messages, remove', () => {
  test('are per user, and need an existing user', async () => {
    const { offline } = await setup();
    const ids = [await offline.store(alice, message('a1')), await offline.store(alice, message('a2'))];
    await offline.store(bob, message('b1'));
    expect([await offline.count(alice), await offline.count(bob)]).toEqual([2, 1]);
    expect(await offline.remove(alice, [ids[0]])).toBe(1);
    expect((await offline.messages(alice)).map((m) => body(m.message))).toEqual(['a2']);
    expect(await offline.remove(alice)).toBe(1);
    expect([await offline.count(alice), await offline.count(bob)]).toEqual([0, 1]);
    const carol = { user: 'carol', host: 'localhost' };
    await expect(offline.count(carol)).rejects.toThrow('User carol@localhost does not exist');
    await expect(offline.messages(carol)).rejects.toThrow('User carol@localhost does not exist');
  });
});

describe('deleteOld and deleteExpired', () => {
  test('deleteOld removes what was stored before the cut-off, of every user, and counts it', async () => {
    const { offline, at } = await setup();
    for (const [jid, age] of [
      [alice, 10 * DAY],
      [bob, 3 * DAY],
      [alice, 2 * DAY],
      [bob, DAY],
    ] as const) {
      at(NOW - age);
      await offline.store(jid, message(`${age / DAY} days`));
    }
    at(NOW);
    expect(await offline.deleteOld(2)).toBe(2);
    expect((await offline.messages(alice)).map((m) => body(m.message))).toEqual(['2 days']);
    expect((await offline.messages(bob)).map((m) => body(m.message))).toEqual(['1 days']);
    expect(await offline.deleteOld(0)).toBe(2);
  });

  test('deleteExpired removes the messages whose expiry is reached', async () => {
    const { offline, at } = await setup();
    await offline.store(alice, message('never'));
    await offline.store(alice, message('one minute', "<x xmlns='jabber:x:expire' seconds='60'/>"));
    await offline.store(bob, message('one hour', "<x xmlns='jabber:x:expire' seconds='3600'/>"));
    at(NOW + 59_999);
    expect(await offline.deleteExpired()).toBe(0);
    at(NOW + 60_000);
    expect(await offline.deleteExpired()).toBe(1);
    at(NOW + DAY);
    expect(await offline.deleteExpired()).toBe(1);
    expect((await offline.messages(alice)).map((m) => body(m.message))).toEqual(['never']);
    expect(await offline.count(bob)).toBe(0);
  });
});

describe('records', () => {
  test('expiryOf takes the earliest of XEP-0023 and XEP-0079, ignoring bad values', () => {
    const amp = (v: string) => `<amp xmlns='http://jabber.org/protocol/amp'><rule condition='expire-at' action='drop' value='${v}'/></amp>`;
    expect(expiryOf(message('x', "<x xmlns='jabber:x:expire' seconds='60'/>"), NOW)).toBe(NOW + 60_000);
    expect(expiryOf(message('x', `<x xmlns='jabber:x:expire' seconds='7200'/>${amp('2023-11-14T23:00:00Z')}`), NOW)).toBe(Date.parse('2023-11-14T23:00:00Z'));
    expect(expiryOf(message('x', `<x xmlns='jabber:x:expire' seconds='soon'/>${amp('tomorrow')}`), NOW)).toBeUndefined();
    expect(expiryOf(message('x', "<x xmlns='jabber:x:oob' seconds='1'/>"), NOW)).toBeUndefined();
  });

  test('offlineRecord adds the delay; delayedRecord keeps the stanza as it is', () => {
    const el = message('x', "<x xmlns='jabber:x:expire' seconds='1'/>");
    expect(offlineRecord(el, 'localhost', NOW)).toEqual({
      from: 'x@example.org',
      to: 'alice@localhost',
      xml: `<message from="x@example.org" to="alice@localhost" type="chat"><body>x</body><x xmlns="jabber:x:expire" seconds="1"/><delay xmlns="urn:xmpp:delay" from="localhost" stamp="2023-11-14T22:13:20.000Z"/></message>`,
      timestamp: NOW,
      expires: NOW + 1000,
    });
    expect(delayedRecord(el, NOW)).toEqual({ from: 'x@example.org', to: 'alice@localhost', xml: el.toString(), timestamp: NOW, expires: NOW + 1000 });
  });

  test('writers and readers for the migration formats; usersRows removes one queue', async () => {
    const { deps, offline } = await setup();
    const m = (b: string, ms: number) => offlineRecord(message(b), 'localhost', ms);
    const ids = await writeOffline(deps.store, alice, [m('a', NOW), m('b', NOW), m('c', NOW - 1)]);
    await writeOffline(deps.store, bob, [m('d', NOW)]);
    expect(ids).toHaveLength(3);
    expect((await readOffline(deps.store, alice)).map(body)).toEqual(['c', 'a', 'b']);
    const all: string[] = [];
    for await (const [jid, msg] of hostOffline(deps.store, 'localhost')) all.push(`${jid.user} ${body(msg)}`);
    expect(all).toEqual(['alice c', 'alice a', 'alice b', 'bob d']);
    await deps.store.batch(await usersRows(deps.store, [alice]));
    expect([await offline.count(alice), await offline.count(bob)]).toEqual([0, 1]);
  });

  test('decodeOfflineMessage checks a record from elsewhere, naming the field', () => {
    const m = { from: 'a@b', to: 'c@d', xml: '<message/>', timestamp: NOW, expires: NOW + 1 };
    expect(decodeOfflineMessage(m)).toBe(m);
    expect(() => decodeOfflineMessage([], 'line 3')).toThrow('line 3: the record must be an object');
    expect(() => decodeOfflineMessage({ ...m, to: 1 })).toThrow('offline message: to must be text');
    expect(() => decodeOfflineMessage({ ...m, timestamp: -1 })).toThrow('offline message: timestamp must be ms since 1970');
    expect(() => decodeOfflineMessage({ ...m, expires: 'soon' })).toThrow('offline message: expires must be ms since 1970');
  });
});

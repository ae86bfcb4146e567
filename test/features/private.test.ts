import { createAccounts, type Accounts } from '../../src/features/accounts/accounts';
import type { FeatureDeps } from '../../src/features/deps';
import {
  decodePrivate,
  hostPrivate,
  isReservedPrivateNamespace,
  NS_PRIVATE,
  privateOps,
  readPrivate,
  readUserPrivate,
  RESERVED_PRIVATE_NAMESPACES,
  usersRows,
} from '../../src/features/private/records';
import { createPrivate, type Private } from '../../src/features/private/private';
import { renameField } from '../../src/lib/errors';
import type { BareJid } from '../../src/lib/jid';
import { Element, parseXml } from '../../src/lib/xml';
import { memoryDeps, rejection } from '../helpers/features';

const alice: BareJid = { user: 'alice', host: 'localhost' };
const bob: BareJid = { user: 'bob', host: 'localhost' };
const nobody: BareJid = { user: 'nobody', host: 'localhost' };

const BOOKMARKS = `<storage xmlns='storage:bookmarks'><conference jid='tea@party.example' name='Tea &amp; cakes'/></storage>`;
const BOOKMARKS_OUT = '<storage xmlns="storage:bookmarks"><conference jid="tea@party.example" name="Tea &amp; cakes"/></storage>';

let deps: FeatureDeps;
let accounts: Accounts;
let priv: Private;

beforeEach(async () => {
  deps = memoryDeps();
  accounts = createAccounts(deps, () => [usersRows]);
  priv = createPrivate(deps, accounts);
  for (const jid of [alice, bob]) await accounts.register(jid, 'pw');
});

describe('get and set', () => {
  test('set stores an element under its namespace; get gives it back as an element and as stored', async () => {
    await priv.set(alice, parseXml(BOOKMARKS, 'el'));
    expect(await readPrivate(deps.store, alice, 'storage:bookmarks')).toEqual({ xml: BOOKMARKS_OUT });
    expect(await priv.getXml(alice, 'storage', 'storage:bookmarks')).toBe(BOOKMARKS_OUT);
    const el = await priv.get(alice, 'storage', 'storage:bookmarks');
    expect(el.getNS()).toBe('storage:bookmarks');
    expect(el.getChild('conference')?.attrs.name).toBe('Tea & cakes');
  });

  test('nothing stored: the empty element; the name does not select', async () => {
    expect(await priv.getXml(alice, 'storage', 'storage:bookmarks')).toBe('<storage xmlns="storage:bookmarks"/>');
    await priv.set(alice, new Element('roster', { xmlns: 'roster:delimiter' }).t('::'));
    expect((await priv.get(alice, 'other', 'roster:delimiter')).toString()).toBe('<roster xmlns="roster:delimiter">::</roster>');
    expect(await priv.getXml(bob, 'roster', 'roster:delimiter')).toBe('<roster xmlns="roster:delimiter"/>');
  });

  test('a new element replaces only what its namespace held', async () => {
    await priv.set(alice, parseXml(BOOKMARKS, 'el'));
    await priv.set(alice, parseXml('<roster xmlns="roster:delimiter">::</roster>', 'el'));
    await priv.set(alice, parseXml('<storage xmlns="storage:bookmarks"/>', 'el'));
    const all = (await readUserPrivate(deps.store, alice)).map((e) => [e.namespace, e.record.xml]);
    expect(all).toEqual([
      ['roster:delimiter', '<roster xmlns="roster:delimiter">::</roster>'],
      ['storage:bookmarks', '<storage xmlns="storage:bookmarks"/>'],
    ]);
  });

  test('an element without a namespace, or in a reserved one, is refused, naming the field element', async () => {
    const none = await rejection(priv.set(alice, new Element('storage')));
    expect(none.message).toMatch(/^The element <storage> \(element\) has no namespace/);
    for (const ns of RESERVED_PRIVATE_NAMESPACES) {
      const err = await rejection(priv.set(alice, new Element('query', { xmlns: ns })));
      expect(err.code).toBe('bad_argument');
      expect((renameField(err, { element: 'payload' }) as Error).message).toBe(
        `The element <query> (payload) is in the reserved namespace ${ns}: private storage refuses jabber:client, jabber:server, jabber:iq:private`,
      );
    }
    expect(await readUserPrivate(deps.store, alice)).toEqual([]);
  });

  test('get checks the name and namespace, naming the fields name and ns', async () => {
    const name = await rejection(priv.get(alice, 'a b', 'urn:x'));
    expect(name.message).toBe("Invalid element name 'a b' (name): give the local name of an XML element, e.g. storage");
    expect((renameField(name, { name: 'element' }) as Error).message).toMatch(/\(element\)/);
    expect((await rejection(priv.getXml(alice, 'x', ''))).message).toBe('The namespace (ns) must not be empty');
    expect((await rejection(priv.getXml(alice, 'query', NS_PRIVATE))).message).toMatch(/^The namespace jabber:iq:private \(ns\) is reserved/);
  });

  test('an unknown user is not found', async () => {
    expect((await rejection(priv.get(nobody, 'storage', 'storage:bookmarks'))).message).toBe('User nobody@localhost does not exist');
    expect((await rejection(priv.set(nobody, parseXml(BOOKMARKS, 'el')))).code).toBe('not_found');
    expect(await readUserPrivate(deps.store, nobody)).toEqual([]);
  });

  test('a damaged stored element fails, not as a usage error', async () => {
    await deps.store.batch(privateOps(alice, 'urn:x', { xml: '<x xmlns="urn:x">' }));
    expect(await priv.getXml(alice, 'x', 'urn:x')).toBe('<x xmlns="urn:x">');
    expect((await rejection(priv.get(alice, 'x', 'urn:x'))).code).toBe('failed');
  });
});

describe('records', () => {
  test("the reserved namespaces are the protocol's own", () => {
    expect(RESERVED_PRIVATE_NAMESPACES).toEqual(['jabber:client', 'jabber:server', 'jabber:iq:private']);
    expect(isReservedPrivateNamespace('jabber:iq:private')).toBe(true);
    expect(isReservedPrivateNamespace('storage:bookmarks')).toBe(false);
  });

  test("hostPrivate reads a host by user then namespace; usersRows removes one user's elements", async () => {
    await priv.set(bob, parseXml('<a xmlns="urn:a"/>', 'el'));
    await priv.set(alice, parseXml('<b xmlns="urn:b"/>', 'el'));
    await priv.set(alice, parseXml('<a xmlns="urn:a"/>', 'el'));
    const all: string[] = [];
    for await (const e of hostPrivate(deps.store, 'localhost')) all.push(`${e.jid.user} ${e.namespace}`);
    expect(all).toEqual(['alice urn:a', 'alice urn:b', 'bob urn:a']);
    await deps.store.batch(await usersRows(deps.store, [alice]));
    expect(await readUserPrivate(deps.store, alice)).toEqual([]);
    expect((await readUserPrivate(deps.store, bob)).length).toBe(1);
  });

  test('account removal takes the private data with it', async () => {
    await priv.set(alice, parseXml(BOOKMARKS, 'el'));
    await accounts.remove(alice);
    expect(await readUserPrivate(deps.store, alice)).toEqual([]);
  });

  test('decodePrivate checks a record from elsewhere', () => {
    expect(decodePrivate({ xml: '<a/>' })).toEqual({ xml: '<a/>' });
    expect(() => decodePrivate({}, 'line 2')).toThrow('line 2: xml must be text');
    expect(() => decodePrivate(null)).toThrow('private storage: the record must be an object');
    expect(() => decodePrivate({ xml: '<a>' })).toThrow('private storage: xml is not XML (line 1, column 3: unclosed tag: a)');
    expect(decodePrivate({ xml: '<a xmlns="x:a"/>' }, 'here', 'x:a')).toEqual({ xml: '<a xmlns="x:a"/>' });
    expect(() => decodePrivate({ xml: '<a xmlns="x:b"/>' }, 'here', 'x:a')).toThrow('here: xml must be an element in the namespace x:a');
    expect(decodePrivate({ xml: '<p:a xmlns:p="x:a"/>' }, 'here', 'x:a')).toEqual({ xml: '<p:a xmlns:p="x:a"/>' });
  });
});

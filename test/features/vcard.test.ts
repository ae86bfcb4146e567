import { createAccounts, type Accounts } from '../../src/features/accounts/accounts';
import type { FeatureDeps } from '../../src/features/deps';
import type { FeatureEvents } from '../../src/features/events';
import { decodeVcard, hostVcards, NS_VCARD, readVcard, usersRows, vcardOps } from '../../src/features/vcard/records';
import { createVcard, vcardField, vcardValues, type Vcard } from '../../src/features/vcard/vcard';
import { renameField } from '../../src/lib/errors';
import type { BareJid } from '../../src/lib/jid';
import { Element, parseXml } from '../../src/lib/xml';
import { memoryDeps, rejection } from '../helpers/features';

const alice: BareJid = { user: 'alice', host: 'localhost' };
const bob: BareJid = { user: 'bob', host: 'localhost' };
const nobody: BareJid = { user: 'nobody', host: 'localhost' };

let deps: FeatureDeps;
let accounts: Accounts;
let vcard: Vcard;
let heard: FeatureEvents['vcard-changed'][];

beforeEach(async () => {
  deps = memoryDeps();
  accounts = createAccounts(deps, () => [usersRows]);
  vcard = createVcard(deps, accounts);
  for (const jid of [alice, bob]) await accounts.register(jid, 'pw');
  heard = [];
  deps.events.on('vcard-changed', (e) => void heard.push(e));
});

const stored = async (jid = alice) => (await readVcard(deps.store, jid))?.xml;

describe('the whole vCard', () => {
  test('set stores a vcard-temp element, get gives it back, and both tell', async () => {
    const card = parseXml(`<vCard xmlns='${NS_VCARD}'><FN>Alice</FN><N><GIVEN>Alice</GIVEN></N></vCard>`, 'card');
    await vcard.set(alice, card);
    expect(await stored()).toBe('<vCard xmlns="vcard-temp"><FN>Alice</FN><N><GIVEN>Alice</GIVEN></N></vCard>');
    expect((await vcard.get(alice))?.toString()).toBe(card.toString());
    expect(await vcard.get(bob)).toBeUndefined();
    expect(heard).toEqual([{ jid: alice }]);
  });

  test('set refuses another element, naming the field vcard', async () => {
    const err = await rejection(vcard.set(alice, new Element('query', { xmlns: 'jabber:iq:private' })));
    expect(err.code).toBe('bad_argument');
    expect(err.message).toBe("The vcard must be a <vCard xmlns='vcard-temp'/>, not <query>");
    expect((renameField(err, { vcard: 'card' }) as Error).message).toBe("The card must be a <vCard xmlns='vcard-temp'/>, not <query>");
    expect(await stored()).toBeUndefined();
    expect(heard).toEqual([]);
  });

  test('an unknown user is not found, for reading and writing', async () => {
    expect((await rejection(vcard.get(nobody))).message).toBe('User nobody@localhost does not exist');
    expect((await rejection(vcard.set(nobody, new Element('vCard', { xmlns: NS_VCARD })))).code).toBe('not_found');
    expect((await rejection(vcard.setField(nobody, vcardField('FN'), ['x']))).code).toBe('not_found');
    expect(await stored(nobody)).toBeUndefined();
  });

  test('a damaged stored vCard fails, not as a usage error', async () => {
    await deps.store.batch(vcardOps(alice, { xml: '<vCard xmlns="vcard-temp"><FN>x</vCard>' }));
    const err = await rejection(vcard.get(alice));
    expect(err.code).toBe('failed');
    expect(err.message).toMatch(/^Malformed XML in the stored vCard of alice@localhost/);
  });
});

describe('fields', () => {
  test('vcardField upper-cases the names and refuses what is no element name, naming the field', () => {
    expect(vcardField('fn')).toEqual({ name: 'FN' });
    expect(vcardField('tel', 'home')).toEqual({ name: 'TEL', sub: 'HOME' });
    expect(() => vcardField('F N')).toThrow("Invalid vCard field name 'F N' (name)");
    let err: unknown;
    try {
      vcardField('N', '-x');
    } catch (e) {
      err = e;
    }
    expect((renameField(err, { sub: 'subname' }) as Error).message).toMatch(/^Invalid vCard field name '-x' \(subname\)/);
  });

  test('vcardValues ends lines as a parser does, drops empty values, and refuses what XML cannot carry', () => {
    expect(vcardValues(['a\r\nb\rc', '', 'd'])).toEqual(['a\nb\nc', 'd']);
    let err: unknown;
    try {
      vcardValues(['ok', 'a\u0007b']);
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toBe('The content (values) contains U+0007, which XML cannot carry');
    expect((renameField(err, { values: 'nickname' }) as Error).message).toBe('The content (nickname) contains U+0007, which XML cannot carry');
  });

  test('setField keeps the other fields and their order, and fieldValue reads it back', async () => {
    await vcard.setField(alice, vcardField('TITLE'), ['Queen']);
    await vcard.setField(alice, vcardField('FN'), ['Alice']);
    await vcard.setField(alice, vcardField('FN'), ['Alice L.']);
    expect(await stored()).toBe('<vCard xmlns="vcard-temp"><TITLE>Queen</TITLE><FN>Alice L.</FN></vCard>');
    expect(await vcard.fieldValue(alice, vcardField('FN'))).toBe('Alice L.');
    expect(heard).toEqual([{ jid: alice }, { jid: alice }, { jid: alice }]);
  });

  test('subfields, TEL types and repeated values', async () => {
    await vcard.setField(alice, vcardField('N', 'FAMILY'), ['Liddell']);
    await vcard.setField(alice, vcardField('TEL', 'CELL'), ['1']);
    await vcard.setField(alice, vcardField('ORG', 'ORGUNIT'), ['a', 'b']);
    expect(await stored()).toBe(
      '<vCard xmlns="vcard-temp"><N><FAMILY>Liddell</FAMILY></N><TEL><CELL/><NUMBER>1</NUMBER></TEL><ORG><ORGUNIT>a</ORGUNIT><ORGUNIT>b</ORGUNIT></ORG></vCard>',
    );
    expect(await vcard.fieldValue(alice, vcardField('TEL', 'CELL'))).toBe('1');
    expect(await vcard.fieldValues(alice, vcardField('ORG', 'ORGUNIT'))).toEqual(['a', 'b']);
    await vcard.setField(alice, vcardField('ORG', 'ORGUNIT'), []);
    expect(await stored()).toBe('<vCard xmlns="vcard-temp"><N><FAMILY>Liddell</FAMILY></N><TEL><CELL/><NUMBER>1</NUMBER></TEL></vCard>');
  });

  test('reading what is not there is not found', async () => {
    expect((await rejection(vcard.fieldValue(alice, vcardField('FN')))).message).toBe('User alice@localhost has no vCard');
    await vcard.setField(alice, vcardField('NICKNAME'), ['Ally']);
    expect((await rejection(vcard.fieldValues(alice, vcardField('FN')))).message).toBe('The vCard of alice@localhost has no FN');
  });

  test('text and subfields do not replace each other', async () => {
    await vcard.setField(alice, vcardField('N', 'GIVEN'), ['Alice']);
    await vcard.setField(alice, vcardField('FN'), ['Alice']);
    expect((await rejection(vcard.setField(alice, vcardField('N'), ['x']))).code).toBe('conflict');
    expect((await rejection(vcard.setField(alice, vcardField('FN', 'GIVEN'), ['x']))).code).toBe('conflict');
    expect((await rejection(vcard.fieldValue(alice, vcardField('N')))).message).toBe(
      'The N field of the vCard of alice@localhost has no text, only subfields: GIVEN (use get_vcard2)',
    );
  });

  test('a vCard may not grow beyond the XML limit; the error names values', async () => {
    const err = await rejection(vcard.setField(alice, vcardField('DESC'), ['x'.repeat(1024 * 1024)]));
    expect(err.message).toBe('The vCard of alice@localhost would be larger than 1048576 bytes (values)');
    expect(await stored()).toBeUndefined();
  });

  test('concurrent changes of one vCard are all kept', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `X${i}`);
    await Promise.all(names.map((n) => vcard.setField(alice, vcardField(n), [n])));
    const card = parseXml((await stored())!, 'card');
    expect(card.getChildElements().map((c) => c.getName())).toEqual(names);
  });
});

describe('records', () => {
  test('hostVcards reads a host in user order; usersRows removes the one record', async () => {
    await vcard.setField(bob, vcardField('FN'), ['Bob']);
    await vcard.setField(alice, vcardField('FN'), ['Alice']);
    const all: [string, string][] = [];
    for await (const [jid, rec] of hostVcards(deps.store, 'localhost')) all.push([jid.user, rec.xml]);
    expect(all.map(([u]) => u)).toEqual(['alice', 'bob']);
    await deps.store.batch(await usersRows(deps.store, [alice]));
    expect(await stored()).toBeUndefined();
    expect(await stored(bob)).toBeDefined();
  });

  test('account removal takes the vCard with it', async () => {
    await vcard.setField(alice, vcardField('FN'), ['Alice']);
    await accounts.remove(alice);
    expect(await stored()).toBeUndefined();
  });

  test('decodeVcard checks a record from elsewhere', () => {
    expect(decodeVcard({ xml: '<vCard xmlns="vcard-temp"/>' })).toEqual({ xml: '<vCard xmlns="vcard-temp"/>' });
    expect(() => decodeVcard({ xml: 1 }, 'line 3')).toThrow('line 3: xml must be text');
    expect(() => decodeVcard({ xml: '<vCard xmlns="vcard-temp">' })).toThrow('vCard: xml is not XML (line 1, column 26: unclosed tag: vCard)');
    expect(() => decodeVcard({ xml: '<vCard/>' })).toThrow('vCard: xml must be a vCard in the namespace vcard-temp, not <vCard>');
    expect(() => decodeVcard('x')).toThrow('vCard: the record must be an object');
  });
});

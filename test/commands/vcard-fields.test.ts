import { join } from 'node:path';
import { fails, ok, tempHome } from '../helpers/cli';
import { openLevelStore } from '../../src/storage/level';
import { parseXml } from '../../src/lib/xml';
import { readVcard, vcardOps } from '../../src/features/vcard/records';

let home: ReturnType<typeof tempHome>;
beforeEach(async () => {
  home = tempHome();
  expect((await home.ctl(['register', 'alice', 'localhost', 'pw'])).status).toBe(0);
});
afterEach(() => home.cleanup());

async function storedVcard(): Promise<string | undefined> {
  const store = await openLevelStore(join(home.dir, 'db'));
  try {
    return (await readVcard(store, { host: 'localhost', user: 'alice' }))?.xml;
  } finally {
    await store.close();
  }
}

/** A vCard as an XMPP client sets it (XEP-0054's example, abridged), indentation included. */
const CLIENT_VCARD = `<vCard xmlns="vcard-temp">
  <FN>Peter Saint-Andre</FN>
  <N><FAMILY>Saint-Andre</FAMILY><GIVEN>Peter</GIVEN><MIDDLE/></N>
  <ORG><ORGNAME>XMPP Standards Foundation</ORGNAME><ORGUNIT>Council</ORGUNIT><ORGUNIT>Editor</ORGUNIT></ORG>
  <TEL><WORK/><VOICE/><NUMBER>303-308-3282</NUMBER></TEL>
  <TEL><HOME/><VOICE/><NUMBER>303-555-1212</NUMBER></TEL>
  <TEL><HOME/><FAX/><NUMBER>303-555-1213</NUMBER></TEL>
  <EMAIL><INTERNET/><PREF/><USERID>stpeter@jabber.org</USERID></EMAIL>
  <EMAIL><INTERNET/><USERID>peter@example.org</USERID></EMAIL>
</vCard>`;

async function clientSetsVcard() {
  const store = await openLevelStore(join(home.dir, 'db'));
  await store.batch(vcardOps({ host: 'localhost', user: 'alice' }, { xml: CLIENT_VCARD }));
  await store.close();
}

describe('set_vcard2 and get_vcard2', () => {
  test('build a structured field one subfield at a time', async () => {
    expect(await home.ctl(['set_vcard2', 'alice', 'localhost', 'N', 'FAMILY', 'Liddell'])).toEqual(ok());
    expect(await home.ctl(['set_vcard2', 'alice', 'localhost', 'n', 'given', 'Alice'])).toEqual(ok());
    expect(await home.ctl(['set_vcard2', 'alice', 'localhost', 'N', 'FAMILY', 'Hargreaves'])).toEqual(ok());
    expect(await storedVcard()).toBe('<vCard xmlns="vcard-temp"><N><FAMILY>Hargreaves</FAMILY><GIVEN>Alice</GIVEN></N></vCard>');
    expect(await home.ctl(['get_vcard2', 'alice', 'localhost', 'N', 'GIVEN'])).toEqual(ok('Alice\n'));
    expect(await home.ctl(['get_vcard2', 'alice', 'localhost', 'N', 'FAMILY'])).toEqual(ok('Hargreaves\n'));
  });

  test('an empty content removes the subfield, and the field once it is empty', async () => {
    await home.ctl(['set_vcard2', 'alice', 'localhost', 'ADR', 'CTRY', 'UK']);
    await home.ctl(['set_vcard2', 'alice', 'localhost', 'ADR', 'LOCALITY', 'Oxford & Wonderland']);
    await home.ctl(['set_vcard2', 'alice', 'localhost', 'ADR', 'CTRY', '']);
    expect(await storedVcard()).toBe('<vCard xmlns="vcard-temp"><ADR><LOCALITY>Oxford &amp; Wonderland</LOCALITY></ADR></vCard>');
    expect(await home.ctl(['get_vcard2', 'alice', 'localhost', 'ADR', 'CTRY'])).toEqual(fails(1, 'Error: The vCard of alice@localhost has no ADR CTRY\n'));
    await home.ctl(['set_vcard2', 'alice', 'localhost', 'ADR', 'LOCALITY', '']);
    expect(await storedVcard()).toBe('<vCard xmlns="vcard-temp"/>');
  });

  test('a text field is not turned into subfields', async () => {
    await home.ctl(['set_vcard', 'alice', 'localhost', 'FN', 'Alice']);
    expect(await home.ctl(['set_vcard2', 'alice', 'localhost', 'FN', 'GIVEN', 'A'])).toEqual(
      fails(1, 'Error: The FN field of the vCard of alice@localhost is text, not subfields: use set_vcard to change it\n'),
    );
    expect(await storedVcard()).toBe('<vCard xmlns="vcard-temp"><FN>Alice</FN></vCard>');
  });

  test('TEL with a type sets the NUMBER of a TEL of that type', async () => {
    expect(await home.ctl(['set_vcard2', 'alice', 'localhost', 'TEL', 'cell', '+44 1865 000'])).toEqual(ok());
    expect(await home.ctl(['set_vcard2', 'alice', 'localhost', 'TEL', 'WORK', '+44 1865 111'])).toEqual(ok());
    expect(await home.ctl(['set_vcard2', 'alice', 'localhost', 'TEL', 'CELL', '+44 1865 222'])).toEqual(ok());
    expect(await storedVcard()).toBe(
      '<vCard xmlns="vcard-temp"><TEL><CELL/><NUMBER>+44 1865 222</NUMBER></TEL><TEL><WORK/><NUMBER>+44 1865 111</NUMBER></TEL></vCard>',
    );
    expect(await home.ctl(['get_vcard2', 'alice', 'localhost', 'TEL', 'CELL'])).toEqual(ok('+44 1865 222\n'));
    expect(await home.ctl(['get_vcard2', 'alice', 'localhost', 'TEL', 'HOME'])).toEqual(fails(1, 'Error: The vCard of alice@localhost has no TEL HOME\n'));
  });

  test('a bad subname is a usage error naming it', async () => {
    expect(await home.ctl(['set_vcard2', 'alice', 'localhost', 'N', 'FAM ILY', 'x'])).toEqual(
      fails(
        2,
        "Error: Invalid vCard field name 'FAM ILY' (subname): a field name is an XML element name such as FN, NICKNAME or TEL\nUsage: ctl set_vcard2 user host name subname content\n",
      ),
    );
    expect((await home.ctl(['get_vcard2', 'alice', 'localhost', 'N', '-x'])).stderr).toContain("Invalid vCard field name '-x' (subname)");
    expect(await storedVcard()).toBeUndefined();
  });

  test('an unknown user fails', async () => {
    expect(await home.ctl(['set_vcard2', 'bob', 'localhost', 'N', 'FAMILY', 'x'])).toEqual(fails(1, 'Error: User bob@localhost does not exist\n'));
    expect(await home.ctl(['get_vcard2', 'bob', 'localhost', 'N', 'FAMILY'])).toEqual(fails(1, 'Error: User bob@localhost does not exist\n'));
  });
});

describe('set_vcard2_multi and get_vcard2_multi', () => {
  test('replace the subfields by one per value and list them back', async () => {
    await home.ctl(['set_vcard2', 'alice', 'localhost', 'ORG', 'ORGNAME', 'Christ Church']);
    expect(await home.ctl(['set_vcard2_multi', 'alice', 'localhost', 'ORG', 'ORGUNIT', 'Deanery,Library'])).toEqual(ok());
    expect(await home.ctl(['get_vcard2_multi', 'alice', 'localhost', 'ORG', 'ORGUNIT'])).toEqual(ok('Deanery\nLibrary\n'));
    expect(await home.ctl(['set_vcard2_multi', 'alice', 'localhost', 'ORG', 'ORGUNIT', '["Maths, Logic", "Croquet"]'])).toEqual(ok());
    expect(await storedVcard()).toBe(
      '<vCard xmlns="vcard-temp"><ORG><ORGNAME>Christ Church</ORGNAME><ORGUNIT>Maths, Logic</ORGUNIT><ORGUNIT>Croquet</ORGUNIT></ORG></vCard>',
    );
    expect(await home.ctl(['get_vcard2', 'alice', 'localhost', 'ORG', 'ORGUNIT'])).toEqual(ok('Maths, Logic\n'));
  });

  test('an empty list removes the subfields; empty values are dropped', async () => {
    await home.ctl(['set_vcard2_multi', 'alice', 'localhost', 'ORG', 'ORGUNIT', 'a,,b']);
    expect(await storedVcard()).toBe('<vCard xmlns="vcard-temp"><ORG><ORGUNIT>a</ORGUNIT><ORGUNIT>b</ORGUNIT></ORG></vCard>');
    expect(await home.ctl(['set_vcard2_multi', 'alice', 'localhost', 'ORG', 'ORGUNIT', ''])).toEqual(ok());
    expect(await storedVcard()).toBe('<vCard xmlns="vcard-temp"/>');
    expect(await home.ctl(['get_vcard2_multi', 'alice', 'localhost', 'ORG', 'ORGUNIT'])).toEqual(
      fails(1, 'Error: The vCard of alice@localhost has no ORG ORGUNIT\n'),
    );
  });

  test('values with tabs, newlines and backslashes stay one line each', async () => {
    await home.ctl(['set_vcard2_multi', 'alice', 'localhost', 'ORG', 'ORGUNIT', '["a\\tb", "c\\nd", "e\\\\f"]']);
    expect(await home.ctl(['get_vcard2_multi', 'alice', 'localhost', 'ORG', 'ORGUNIT'])).toEqual(ok('a\\tb\nc\\nd\ne\\\\f\n'));
    expect(await home.ctl(['get_vcard2', 'alice', 'localhost', 'ORG', 'ORGUNIT'])).toEqual(ok('a\tb\n'));
  });

  test('bad lists and contents are usage errors naming the argument', async () => {
    const usage = 'Usage: ctl set_vcard2_multi user host name subname contents\n';
    expect(await home.ctl(['set_vcard2_multi', 'alice', 'localhost', 'ORG', 'ORGUNIT', '["a",'])).toEqual(
      fails(2, `Error: Bad value for argument 'contents': invalid JSON '["a",'\n${usage}`),
    );
    expect(await home.ctl(['set_vcard2_multi', 'alice', 'localhost', 'ORG', 'ORGUNIT', 'a,b\u0001'])).toEqual(
      fails(2, `Error: The content (contents) contains U+0001, which XML cannot carry\n${usage}`),
    );
    expect(await storedVcard()).toBeUndefined();
  });

  test('errors: unknown user, no vCard', async () => {
    expect(await home.ctl(['get_vcard2_multi', 'bob', 'localhost', 'ORG', 'ORGUNIT'])).toEqual(fails(1, 'Error: User bob@localhost does not exist\n'));
    expect(await home.ctl(['set_vcard2_multi', 'bob', 'localhost', 'ORG', 'ORGUNIT', 'a'])).toEqual(fails(1, 'Error: User bob@localhost does not exist\n'));
    expect(await home.ctl(['get_vcard2_multi', 'alice', 'localhost', 'ORG', 'ORGUNIT'])).toEqual(fails(1, 'Error: User alice@localhost has no vCard\n'));
  });
});

describe('a vCard set by an XMPP client', () => {
  beforeEach(clientSetsVcard);

  test('reads the first value, or all of them across repeated fields', async () => {
    expect(await home.ctl(['get_vcard', 'alice', 'localhost', 'FN'])).toEqual(ok('Peter Saint-Andre\n'));
    expect(await home.ctl(['get_vcard2', 'alice', 'localhost', 'EMAIL', 'USERID'])).toEqual(ok('stpeter@jabber.org\n'));
    expect(await home.ctl(['get_vcard2_multi', 'alice', 'localhost', 'EMAIL', 'USERID'])).toEqual(ok('stpeter@jabber.org\npeter@example.org\n'));
    expect(await home.ctl(['get_vcard2_multi', 'alice', 'localhost', 'ORG', 'ORGUNIT'])).toEqual(ok('Council\nEditor\n'));
    // An empty value prints nothing, as any empty result does, and succeeds.
    expect(await home.ctl(['get_vcard2', 'alice', 'localhost', 'N', 'MIDDLE'])).toEqual(ok());
  });

  test('TEL with a type finds the NUMBER of the TELs that have that type', async () => {
    expect(await home.ctl(['get_vcard2', 'alice', 'localhost', 'TEL', 'HOME'])).toEqual(ok('303-555-1212\n'));
    expect(await home.ctl(['get_vcard2', 'alice', 'localhost', 'TEL', 'FAX'])).toEqual(ok('303-555-1213\n'));
    expect(await home.ctl(['get_vcard2_multi', 'alice', 'localhost', 'TEL', 'VOICE'])).toEqual(ok('303-308-3282\n303-555-1212\n'));
    expect(await home.ctl(['get_vcard2', 'alice', 'localhost', 'TEL', 'CELL'])).toEqual(fails(1, 'Error: The vCard of alice@localhost has no TEL CELL\n'));
  });

  test('a field made of subfields has no text of its own', async () => {
    expect(await home.ctl(['get_vcard', 'alice', 'localhost', 'N'])).toEqual(
      fails(1, 'Error: The N field of the vCard of alice@localhost has no text, only subfields: FAMILY, GIVEN, MIDDLE (use get_vcard2)\n'),
    );
  });

  test('setting a TEL keeps its other type flags, the other TELs, and the layout', async () => {
    expect(await home.ctl(['set_vcard2', 'alice', 'localhost', 'TEL', 'WORK', '303-308-0000'])).toEqual(ok());
    expect(await storedVcard()).toBe(CLIENT_VCARD.replace('303-308-3282', '303-308-0000'));
    // Both home numbers go; the new ones carry the flags of the first (HOME, VOICE).
    expect(await home.ctl(['set_vcard2_multi', 'alice', 'localhost', 'TEL', 'HOME', '1,2'])).toEqual(ok());
    const tels = parseXml((await storedVcard())!, 'vCard')
      .getChildren('TEL')
      .map((t) => t.toString());
    expect(tels).toEqual([
      '<TEL><WORK/><VOICE/><NUMBER>303-308-0000</NUMBER></TEL>',
      '<TEL><HOME/><VOICE/><NUMBER>1</NUMBER></TEL>',
      '<TEL><HOME/><VOICE/><NUMBER>2</NUMBER></TEL>',
    ]);
    expect(await home.ctl(['set_vcard2', 'alice', 'localhost', 'TEL', 'HOME', ''])).toEqual(ok());
    expect(await home.ctl(['get_vcard2_multi', 'alice', 'localhost', 'TEL', 'NUMBER'])).toEqual(ok('303-308-0000\n'));
  });

  test('set_vcard2 changes the first of repeated fields and keeps the rest', async () => {
    expect(await home.ctl(['set_vcard2', 'alice', 'localhost', 'EMAIL', 'USERID', 'peter@xmpp.org'])).toEqual(ok());
    expect(await storedVcard()).toBe(CLIENT_VCARD.replace('stpeter@jabber.org', 'peter@xmpp.org'));
    expect(await home.ctl(['set_nickname', 'alice', 'localhost', 'stpeter'])).toEqual(ok());
    expect(await storedVcard()).toBe(
      CLIENT_VCARD.replace('stpeter@jabber.org', 'peter@xmpp.org').replace('\n</vCard>', '\n<NICKNAME>stpeter</NICKNAME></vCard>'),
    );
  });
});

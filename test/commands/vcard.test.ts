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

const SET_USAGE = 'Usage: ctl set_vcard user host name content\n';
const GET_USAGE = 'Usage: ctl get_vcard user host name\n';

async function storedVcard(user = 'alice'): Promise<string | undefined> {
  const store = await openLevelStore(join(home.dir, 'db'));
  try {
    return (await readVcard(store, { host: 'localhost', user }))?.xml;
  } finally {
    await store.close();
  }
}

describe('set_vcard and get_vcard', () => {
  test('store a field as vcard-temp XML and read it back', async () => {
    expect(await home.ctl(['set_vcard', 'alice', 'localhost', 'FN', 'Alice Liddell'])).toEqual(ok());
    expect(await home.ctl(['get_vcard', 'alice', 'localhost', 'FN'])).toEqual(ok('Alice Liddell\n'));
    expect(await storedVcard()).toBe('<vCard xmlns="vcard-temp"><FN>Alice Liddell</FN></vCard>');
  });

  test('XML special characters round-trip, and the stored vCard re-parses as XML', async () => {
    const text = `A & B <x> "q" 'a' ]]> &amp;`;
    expect(await home.ctl(['set_vcard', 'alice', 'localhost', 'FN', text])).toEqual(ok());
    expect(await home.ctl(['get_vcard', 'alice', 'localhost', 'FN'])).toEqual(ok(`${text}\n`));
    const xml = (await storedVcard())!;
    expect(xml).toBe(`<vCard xmlns="vcard-temp"><FN>A &amp; B &lt;x&gt; "q" 'a' ]]&gt; &amp;amp;</FN></vCard>`);
    const card = parseXml(xml, 'the stored vCard');
    expect(card.getNS()).toBe('vcard-temp');
    expect(card.getChildText('FN')).toBe(text);
  });

  test('unicode round-trips, including characters outside the BMP', async () => {
    const text = 'Émile Zoë 李小龍 🦊';
    expect(await home.ctl(['set_vcard', 'alice', 'localhost', 'NICKNAME', text])).toEqual(ok());
    expect(await home.ctl(['get_vcard', 'alice', 'localhost', 'NICKNAME'])).toEqual(ok(`${text}\n`));
    expect(parseXml((await storedVcard())!, 'the stored vCard').getChildText('NICKNAME')).toBe(text);
  });

  test('line ends are stored as an XML parser reads them back: CR LF and CR become LF', async () => {
    expect(await home.ctl(['set_vcard', 'alice', 'localhost', 'DESC', 'one\r\ntwo\rthree\nfour'])).toEqual(ok());
    expect(await home.ctl(['get_vcard', 'alice', 'localhost', 'DESC'])).toEqual(ok('one\ntwo\nthree\nfour\n'));
    expect(parseXml((await storedVcard())!, 'the stored vCard').getChildText('DESC')).toBe('one\ntwo\nthree\nfour');
  });

  test('field names are upper-cased, whatever case the command line uses', async () => {
    expect(await home.ctl(['set_vcard', 'alice', 'localhost', 'fn', 'Alice'])).toEqual(ok());
    expect(await home.ctl(['get_vcard', 'alice', 'localhost', 'Fn'])).toEqual(ok('Alice\n'));
    expect(await storedVcard()).toBe('<vCard xmlns="vcard-temp"><FN>Alice</FN></vCard>');
  });

  test('setting a field keeps the others, in their order, and replaces the field in place', async () => {
    await home.ctl(['set_vcard', 'alice', 'localhost', 'TITLE', 'Queen']);
    await home.ctl(['set_vcard', 'alice', 'localhost', 'FN', 'Alice']);
    await home.ctl(['set_vcard', 'alice', 'localhost', 'BDAY', '1852-05-04']);
    expect(await home.ctl(['set_vcard', 'alice', 'localhost', 'FN', 'Alice L.'])).toEqual(ok());
    expect(await storedVcard()).toBe('<vCard xmlns="vcard-temp"><TITLE>Queen</TITLE><FN>Alice L.</FN><BDAY>1852-05-04</BDAY></vCard>');
    expect(await home.ctl(['get_vcard', 'alice', 'localhost', 'TITLE'])).toEqual(ok('Queen\n'));
  });

  test('an empty content removes the field', async () => {
    await home.ctl(['set_vcard', 'alice', 'localhost', 'FN', 'Alice']);
    await home.ctl(['set_vcard', 'alice', 'localhost', 'ROLE', 'Dreamer']);
    expect(await home.ctl(['set_vcard', 'alice', 'localhost', 'FN', ''])).toEqual(ok());
    expect(await storedVcard()).toBe('<vCard xmlns="vcard-temp"><ROLE>Dreamer</ROLE></vCard>');
    expect(await home.ctl(['get_vcard', 'alice', 'localhost', 'FN'])).toEqual(fails(1, 'Error: The vCard of alice@localhost has no FN\n'));
  });

  test('user and host are normalised like everywhere else', async () => {
    expect(await home.ctl(['set_vcard', 'ALICE', 'LocalHost', 'FN', 'Alice'])).toEqual(ok());
    expect(await home.ctl(['get_vcard', 'alice', 'localhost', 'FN'])).toEqual(ok('Alice\n'));
  });

  test('a field that holds subfields is not overwritten by text', async () => {
    await home.ctl(['set_vcard2', 'alice', 'localhost', 'N', 'FAMILY', 'Liddell']);
    expect(await home.ctl(['set_vcard', 'alice', 'localhost', 'N', 'Alice'])).toEqual(
      fails(1, 'Error: The N field of the vCard of alice@localhost has subfields (FAMILY): use set_vcard2 to change them\n'),
    );
    expect(await storedVcard()).toBe('<vCard xmlns="vcard-temp"><N><FAMILY>Liddell</FAMILY></N></vCard>');
  });
});

describe('set_nickname', () => {
  test('sets NICKNAME and keeps the rest of the vCard', async () => {
    await home.ctl(['set_vcard', 'alice', 'localhost', 'FN', 'Alice']);
    await home.ctl(['set_vcard', 'alice', 'localhost', 'NICKNAME', 'old']);
    await home.ctl(['set_vcard2', 'alice', 'localhost', 'N', 'GIVEN', 'Alice']);
    expect(await home.ctl(['set_nickname', 'alice', 'localhost', 'Ally & co'])).toEqual(ok());
    expect(await home.ctl(['get_vcard', 'alice', 'localhost', 'NICKNAME'])).toEqual(ok('Ally & co\n'));
    expect(await storedVcard()).toBe('<vCard xmlns="vcard-temp"><FN>Alice</FN><NICKNAME>Ally &amp; co</NICKNAME><N><GIVEN>Alice</GIVEN></N></vCard>');
  });

  test('creates the vCard when there is none', async () => {
    expect(await home.ctl(['set_nickname', 'alice', 'localhost', 'Ally'])).toEqual(ok());
    expect(await storedVcard()).toBe('<vCard xmlns="vcard-temp"><NICKNAME>Ally</NICKNAME></vCard>');
  });

  test('fails for an unknown user and for a character XML cannot hold', async () => {
    expect(await home.ctl(['set_nickname', 'bob', 'localhost', 'Bobby'])).toEqual(fails(1, 'Error: User bob@localhost does not exist\n'));
    expect(await home.ctl(['set_nickname', 'alice', 'localhost', 'a\u0007b'])).toEqual(
      fails(2, 'Error: The content (nickname) contains U+0007, which XML cannot carry\nUsage: ctl set_nickname user host nickname\n'),
    );
    expect(await storedVcard('bob')).toBeUndefined();
    expect(await storedVcard()).toBeUndefined();
  });
});

describe('errors', () => {
  test('a user without a vCard, and a vCard without the field, are "not found"', async () => {
    expect(await home.ctl(['get_vcard', 'alice', 'localhost', 'FN'])).toEqual(fails(1, 'Error: User alice@localhost has no vCard\n'));
    await home.ctl(['set_vcard', 'alice', 'localhost', 'NICKNAME', 'Ally']);
    expect(await home.ctl(['get_vcard', 'alice', 'localhost', 'FN'])).toEqual(fails(1, 'Error: The vCard of alice@localhost has no FN\n'));
  });

  test('an unknown user or host fails, and nothing is stored', async () => {
    expect(await home.ctl(['get_vcard', 'bob', 'localhost', 'FN'])).toEqual(fails(1, 'Error: User bob@localhost does not exist\n'));
    expect(await home.ctl(['set_vcard', 'bob', 'localhost', 'FN', 'Bob'])).toEqual(fails(1, 'Error: User bob@localhost does not exist\n'));
    expect(await storedVcard('bob')).toBeUndefined();
    const unknownHost = `Error: Unknown host 'example.org': this node serves localhost (hosts in ${join(home.dir, 'ctl.yml')})\n`;
    expect(await home.ctl(['set_vcard', 'alice', 'example.org', 'FN', 'A'])).toEqual(fails(1, unknownHost));
    expect(await home.ctl(['get_vcard', 'alice', 'example.org', 'FN'])).toEqual(fails(1, unknownHost));
  });

  test('a bad user name is a usage error', async () => {
    expect(await home.ctl(['get_vcard', 'a b', 'localhost', 'FN'])).toEqual(
      fails(2, `Error: Invalid user name 'a b' (user): a user name cannot contain spaces, control characters or any of "&'/:<>@\n${GET_USAGE}`),
    );
  });

  test.each([
    ['a space', 'F N'],
    ['a leading digit', '1FN'],
    ['a prefix', 'x:FN'],
    ['markup', '<FN>'],
    ['nothing', ''],
  ])('a field name with %s is a usage error naming the argument', async (_label, name) => {
    const message = `Error: Invalid vCard field name '${name}' (name): a field name is an XML element name such as FN, NICKNAME or TEL\n`;
    expect(await home.ctl(['set_vcard', 'alice', 'localhost', name, 'x'])).toEqual(fails(2, `${message}${SET_USAGE}`));
    expect(await home.ctl(['get_vcard', 'alice', 'localhost', name])).toEqual(fails(2, `${message}${GET_USAGE}`));
    expect(await storedVcard()).toBeUndefined();
  });

  test('a content with a character XML cannot hold is a usage error, and the vCard is unchanged', async () => {
    await home.ctl(['set_vcard', 'alice', 'localhost', 'FN', 'Alice']);
    expect(await home.ctl(['set_vcard', 'alice', 'localhost', 'FN', 'A\u0000B'])).toEqual(
      fails(2, `Error: The content (content) contains U+0000, which XML cannot carry\n${SET_USAGE}`),
    );
    expect((await home.ctl(['set_vcard', 'alice', 'localhost', 'FN', '\uFFFF'])).stderr).toContain('U+FFFF');
    expect((await home.ctl(['set_vcard', 'alice', 'localhost', 'FN', 'x\uD800y'])).stderr).toContain('U+D800');
    expect(await storedVcard()).toBe('<vCard xmlns="vcard-temp"><FN>Alice</FN></vCard>');
  });

  test('a vCard may not grow beyond what can be read back', async () => {
    await home.ctl(['set_vcard', 'alice', 'localhost', 'FN', 'Alice']);
    expect(await home.ctl(['set_vcard', 'alice', 'localhost', 'DESC', 'x'.repeat(1024 * 1024)])).toEqual(
      fails(2, `Error: The vCard of alice@localhost would be larger than 1048576 bytes (content)\n${SET_USAGE}`),
    );
    expect(await storedVcard()).toBe('<vCard xmlns="vcard-temp"><FN>Alice</FN></vCard>');
    // Just under the limit is fine, and reads back whole.
    const big = 'y'.repeat(1024 * 1024 - '<vCard xmlns="vcard-temp"><FN>Alice</FN><DESC></DESC></vCard>'.length);
    expect(await home.ctl(['set_vcard', 'alice', 'localhost', 'DESC', big])).toEqual(ok());
    expect(await home.ctl(['get_vcard', 'alice', 'localhost', 'DESC'])).toEqual(ok(`${big}\n`));
  });

  test('wrong number of arguments is a usage error', async () => {
    expect(await home.ctl(['set_vcard', 'alice', 'localhost', 'FN'])).toEqual(fails(2, `Error: missing argument 'content'\n${SET_USAGE}`));
    expect(await home.ctl(['get_vcard', 'alice', 'localhost', 'FN', 'extra'])).toEqual(
      fails(2, `Error: too many arguments for get_vcard: it takes 3, got 4\n${GET_USAGE}`),
    );
  });

  test('a damaged stored vCard is reported, not a crash', async () => {
    const store = await openLevelStore(join(home.dir, 'db'));
    await store.batch(vcardOps({ host: 'localhost', user: 'alice' }, { xml: '<vCard xmlns="vcard-temp"><FN>x</vCard>' }));
    await store.close();
    const damaged = fails(1, 'Error: Malformed XML in the stored vCard of alice@localhost (line 1, column 39): unexpected close tag.\n');
    expect(await home.ctl(['get_vcard', 'alice', 'localhost', 'FN'])).toEqual(damaged);
    expect(await home.ctl(['set_nickname', 'alice', 'localhost', 'Ally'])).toEqual(damaged);
    expect(await storedVcard()).toBe('<vCard xmlns="vcard-temp"><FN>x</vCard>');
  });
});

describe('unregister', () => {
  test('removes the vCard with the account', async () => {
    await home.ctl(['set_vcard', 'alice', 'localhost', 'FN', 'Alice']);
    expect((await home.ctl(['unregister', 'alice', 'localhost'])).status).toBe(0);
    expect(await storedVcard()).toBeUndefined();
  });
});

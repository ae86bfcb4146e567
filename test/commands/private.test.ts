import { join } from 'node:path';
import { fails, ok, tempHome } from '../helpers/cli';
import { openLevelStore } from '../../src/storage/level';
import { parseXml } from '../../src/lib/xml';
import { readPrivate, readUserPrivate } from '../../src/features/private/records';

let home: ReturnType<typeof tempHome>;
beforeEach(async () => {
  home = tempHome();
  expect((await home.ctl(['register', 'alice', 'localhost', 'pw'])).status).toBe(0);
});
afterEach(() => home.cleanup());

const SET_USAGE = 'Usage: ctl private_set user host element\n';
const GET_USAGE = 'Usage: ctl private_get user host element ns\n';
const RESERVED = 'private storage refuses jabber:client, jabber:server, jabber:iq:private';

const BOOKMARKS = `<storage xmlns='storage:bookmarks'><conference jid='tea@party.example' autojoin='true' name='Mad Tea &amp; Party'><nick>alice</nick></conference></storage>`;
const BOOKMARKS_OUT =
  '<storage xmlns="storage:bookmarks"><conference jid="tea@party.example" autojoin="true" name="Mad Tea &amp; Party"><nick>alice</nick></conference></storage>';

/** Every private record of alice, by namespace. */
async function stored(): Promise<Record<string, string>> {
  const store = await openLevelStore(join(home.dir, 'db'));
  try {
    const out: Record<string, string> = {};
    for (const { namespace, record } of await readUserPrivate(store, { host: 'localhost', user: 'alice' })) out[namespace] = record.xml;
    return out;
  } finally {
    await store.close();
  }
}

describe('private_set and private_get', () => {
  test('store an element under its namespace and return it alone', async () => {
    expect(await home.ctl(['private_set', 'alice', 'localhost', BOOKMARKS])).toEqual(ok());
    expect(await home.ctl(['private_get', 'alice', 'localhost', 'storage', 'storage:bookmarks'])).toEqual(ok(`${BOOKMARKS_OUT}\n`));
    expect(await stored()).toEqual({ 'storage:bookmarks': BOOKMARKS_OUT });
  });

  test('what private_get prints, private_set takes back: copying to another user', async () => {
    await home.ctl(['register', 'bob', 'localhost', 'pw']);
    await home.ctl(['private_set', 'alice', 'localhost', BOOKMARKS]);
    const out = (await home.ctl(['private_get', 'alice', 'localhost', 'storage', 'storage:bookmarks'])).stdout;
    expect(await home.ctl(['private_set', 'bob', 'localhost', '--stdin', 'element'], { stdin: out })).toEqual(ok());
    expect(await home.ctl(['private_get', 'bob', 'localhost', 'storage', 'storage:bookmarks'])).toEqual(ok(`${BOOKMARKS_OUT}\n`));
  });

  test('nothing stored: the empty element, as a server answers', async () => {
    expect(await home.ctl(['private_get', 'alice', 'localhost', 'storage', 'storage:bookmarks'])).toEqual(ok('<storage xmlns="storage:bookmarks"/>\n'));
    expect(await home.ctl(['private_get', 'alice', 'localhost', 'prefs', 'urn:x-a&b'])).toEqual(ok('<prefs xmlns="urn:x-a&amp;b"/>\n'));
  });

  test('a new element replaces what its namespace held, and only that', async () => {
    await home.ctl(['private_set', 'alice', 'localhost', BOOKMARKS]);
    await home.ctl(['private_set', 'alice', 'localhost', '<roster xmlns="roster:delimiter">::</roster>']);
    expect(await home.ctl(['private_set', 'alice', 'localhost', '<storage xmlns="storage:bookmarks"/>'])).toEqual(ok());
    expect(await stored()).toEqual({
      'roster:delimiter': '<roster xmlns="roster:delimiter">::</roster>',
      'storage:bookmarks': '<storage xmlns="storage:bookmarks"/>',
    });
  });

  test('the namespace is the key, as in ejabberd: the element name does not select', async () => {
    await home.ctl(['private_set', 'alice', 'localhost', '<roster xmlns="roster:delimiter">::</roster>']);
    expect(await home.ctl(['private_get', 'alice', 'localhost', 'other', 'roster:delimiter'])).toEqual(ok('<roster xmlns="roster:delimiter">::</roster>\n'));
  });

  test('text, attributes and unicode round-trip; the result re-parses', async () => {
    const el = `<note xmlns="urn:example:notes" title="&quot;Q&quot; &lt;&amp;&gt; 'a'">Tea &amp; cakes &lt;now&gt; — 李 🦊<![CDATA[ <raw> ]]></note>`;
    expect(await home.ctl(['private_set', 'alice', 'localhost', el])).toEqual(ok());
    const out = (await home.ctl(['private_get', 'alice', 'localhost', 'note', 'urn:example:notes'])).stdout;
    expect(out).toBe(
      `<note xmlns="urn:example:notes" title="&quot;Q&quot; &lt;&amp;&gt; &apos;a&apos;">Tea &amp; cakes &lt;now&gt; — 李 🦊 &lt;raw&gt; </note>\n`,
    );
    const back = parseXml(out, 'the result');
    expect(back.attrs.title).toBe(`"Q" <&> 'a'`);
    expect(back.getText()).toBe('Tea & cakes <now> — 李 🦊 <raw> ');
  });

  test('a prefixed element is keyed by the namespace of its prefix', async () => {
    expect(await home.ctl(['private_set', 'alice', 'localhost', "<p:prefs xmlns:p='urn:example:p'><p:x/></p:prefs>"])).toEqual(ok());
    expect(await stored()).toEqual({ 'urn:example:p': '<p:prefs xmlns:p="urn:example:p"><p:x/></p:prefs>' });
  });

  test('user and host are normalised', async () => {
    expect(await home.ctl(['private_set', 'Alice', 'LOCALHOST', BOOKMARKS])).toEqual(ok());
    expect(await stored()).toEqual({ 'storage:bookmarks': BOOKMARKS_OUT });
  });

  test('unregister removes the private data with the account', async () => {
    await home.ctl(['private_set', 'alice', 'localhost', BOOKMARKS]);
    await home.ctl(['unregister', 'alice', 'localhost']);
    expect(await stored()).toEqual({});
  });
});

describe('private_set errors', () => {
  test('malformed XML is a usage error with its line and column', async () => {
    expect(await home.ctl(['private_set', 'alice', 'localhost', '<storage xmlns="s">\n<a></b></storage>'])).toEqual(
      fails(2, `Error: Malformed XML in argument 'element' (line 2, column 7): unexpected close tag.\n${SET_USAGE}`),
    );
    expect((await home.ctl(['private_set', 'alice', 'localhost', 'not xml'])).status).toBe(2);
    expect((await home.ctl(['private_set', 'alice', 'localhost', ''])).stderr).toBe(
      `Error: Malformed XML in argument 'element' (line 1, column 0): document must contain a root element.\n${SET_USAGE}`,
    );
    expect(await stored()).toEqual({});
  });

  test.each([
    ['no xmlns at all', '<storage/>'],
    ['an empty xmlns', '<storage xmlns=""/>'],
  ])('an element with %s is refused', async (_label, el) => {
    expect(await home.ctl(['private_set', 'alice', 'localhost', el])).toEqual(
      fails(
        2,
        `Error: The element <storage> (element) has no namespace: private storage keeps each element under its xmlns, e.g. <storage xmlns='storage:bookmarks'/>\n${SET_USAGE}`,
      ),
    );
  });

  test.each(['jabber:client', 'jabber:server', 'jabber:iq:private'])('the reserved namespace %s is refused', async (ns) => {
    expect(await home.ctl(['private_set', 'alice', 'localhost', `<query xmlns="${ns}"><x xmlns="urn:x"/></query>`])).toEqual(
      fails(2, `Error: The element <query> (element) is in the reserved namespace ${ns}: ${RESERVED}\n${SET_USAGE}`),
    );
    expect(await stored()).toEqual({});
  });

  test('an unknown user or host fails, and nothing is stored', async () => {
    expect(await home.ctl(['private_set', 'bob', 'localhost', BOOKMARKS])).toEqual(fails(1, 'Error: User bob@localhost does not exist\n'));
    expect(await home.ctl(['private_set', 'alice', 'example.org', BOOKMARKS])).toEqual(
      fails(1, `Error: Unknown host 'example.org': this node serves localhost (hosts in ${join(home.dir, 'ctl.yml')})\n`),
    );
    const store = await openLevelStore(join(home.dir, 'db'));
    expect(await readPrivate(store, { host: 'localhost', user: 'bob' }, 'storage:bookmarks')).toBeUndefined();
    await store.close();
  });
});

describe('private_get errors', () => {
  test('an unknown user or host fails', async () => {
    expect(await home.ctl(['private_get', 'bob', 'localhost', 'storage', 'storage:bookmarks'])).toEqual(fails(1, 'Error: User bob@localhost does not exist\n'));
    expect((await home.ctl(['private_get', 'alice', 'example.org', 'storage', 'storage:bookmarks'])).status).toBe(1);
  });

  test.each(['a b', '<storage>', 'x:storage', ''])('the element name %j is a usage error', async (name) => {
    expect(await home.ctl(['private_get', 'alice', 'localhost', name, 'storage:bookmarks'])).toEqual(
      fails(2, `Error: Invalid element name '${name}' (element): give the local name of an XML element, e.g. storage\n${GET_USAGE}`),
    );
  });

  test('an empty or reserved namespace is a usage error', async () => {
    expect(await home.ctl(['private_get', 'alice', 'localhost', 'storage', ''])).toEqual(fails(2, `Error: The namespace (ns) must not be empty\n${GET_USAGE}`));
    expect(await home.ctl(['private_get', 'alice', 'localhost', 'query', 'jabber:iq:private'])).toEqual(
      fails(2, `Error: The namespace jabber:iq:private (ns) is reserved: ${RESERVED}\n${GET_USAGE}`),
    );
  });

  test('wrong number of arguments is a usage error', async () => {
    expect(await home.ctl(['private_get', 'alice', 'localhost', 'storage'])).toEqual(fails(2, `Error: missing argument 'ns'\n${GET_USAGE}`));
  });
});

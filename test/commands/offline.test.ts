import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { ok, tempHome } from '../helpers/cli';
import type { Store } from '../../src/storage/types';
import { parseXml } from '../../src/lib/xml';
import { queuedMessages, type OfflineMessage } from '../../src/features/offline/records';
import * as helpers from '../helpers/services';

let home: ReturnType<typeof tempHome>;
beforeEach(() => (home = tempHome()));
afterEach(() => home.cleanup());

const NOW = 1_700_000_000_000; // 2023-11-14T22:13:20Z
const ctl = (argv: string[], clock = () => NOW) => home.ctl(argv, { clock });
const USAGE = 'Usage: ctl send_message type from to subject body\n';

const withStore = <T>(fn: (store: Store) => Promise<T>) => helpers.withStore(home.dir, fn);

/** The queue of user@host as stored: stamps (the archive ids) and records, oldest first. */
async function queue(host: string, user: string, store?: Store): Promise<[string, OfflineMessage][]> {
  if (!store) return withStore((s) => queue(host, user, s));
  const rows: [string, OfflineMessage][] = [];
  for await (const { id, message } of queuedMessages(store, { host, user })) rows.push([id, message]);
  return rows;
}

/** The stored stanza with its random id replaced, so it can be compared byte for byte. */
const withoutId = (xml: string) => xml.replace(/ id="[0-9a-f-]{36}"/, ' id="ID"');

beforeEach(async () => {
  writeFileSync(join(home.dir, 'ctl.yml'), 'hosts: [localhost, example.net]\nauth_password_format: plain\n');
  expect((await ctl(['register', 'alice', 'localhost', 'pw'])).status).toBe(0);
});

describe('send_message', () => {
  test('stores a chat message in the offline queue of a recipient who is not connected', async () => {
    expect(await ctl(['send_message', 'chat', 'bob@example.org/phone', 'alice@localhost', 'Greetings', 'Hello'])).toEqual(ok());
    const rows = await queue('localhost', 'alice');
    expect(rows.map(([stamp]) => stamp)).toEqual(['001700000000000-000000']);
    const [, m] = rows[0];
    expect({ ...m, xml: withoutId(m.xml) }).toEqual({
      from: 'bob@example.org/phone',
      to: 'alice@localhost',
      timestamp: NOW,
      xml:
        '<message type="chat" from="bob@example.org/phone" to="alice@localhost" id="ID">' +
        '<subject>Greetings</subject><body>Hello</body>' +
        '<delay xmlns="urn:xmpp:delay" from="localhost" stamp="2023-11-14T22:13:20.000Z"/></message>',
    });
    expect(await ctl(['get_offline_count', 'alice', 'localhost'])).toEqual(ok('1\n'));
  });

  test('XML special characters, newlines and carriage returns survive a parse of the stored stanza', async () => {
    const body = 'if a < b && c > "d" then \'e\'\nsecond line\r\nthird\ttab ]]> <![CDATA[';
    expect((await ctl(['send_message', 'normal', 'bob@example.org', 'alice@localhost', 'a & b', body])).status).toBe(0);
    const [[, m]] = await queue('localhost', 'alice');
    const el = parseXml(m.xml, 'the stored message');
    expect(el.getChildText('body')).toBe(body);
    expect(el.getChildText('subject')).toBe('a & b');
    expect(el.attrs.type).toBe('normal');
    expect(withoutId(m.xml)).toBe(
      '<message type="normal" from="bob@example.org" to="alice@localhost" id="ID"><subject>a &amp; b</subject>' +
        '<body>if a &lt; b &amp;&amp; c &gt; "d" then \'e\'\nsecond line&#13;\nthird\ttab ]]&gt; &lt;![CDATA[</body>' +
        '<delay xmlns="urn:xmpp:delay" from="localhost" stamp="2023-11-14T22:13:20.000Z"/></message>',
    );
  });

  test('an empty subject or body gives no element; a headline is stored too', async () => {
    expect((await ctl(['send_message', 'headline', 'news.example.org', 'alice@localhost', '', 'Only a body'])).status).toBe(0);
    expect((await ctl(['send_message', 'chat', 'bob@example.org', 'alice@localhost', 'Only a subject', ''])).status).toBe(0);
    const [[, a], [, b]] = await queue('localhost', 'alice');
    expect(withoutId(a.xml)).toBe(
      '<message type="headline" from="news.example.org" to="alice@localhost" id="ID"><body>Only a body</body>' +
        '<delay xmlns="urn:xmpp:delay" from="localhost" stamp="2023-11-14T22:13:20.000Z"/></message>',
    );
    expect(withoutId(b.xml)).toBe(
      '<message type="chat" from="bob@example.org" to="alice@localhost" id="ID"><subject>Only a subject</subject>' +
        '<delay xmlns="urn:xmpp:delay" from="localhost" stamp="2023-11-14T22:13:20.000Z"/></message>',
    );
  });

  test('messages sent in the same millisecond keep their order, across separate ctl calls', async () => {
    for (const body of ['one', 'two', 'three']) expect((await ctl(['send_message', 'chat', 'bob@example.org', 'alice@localhost', '', body])).status).toBe(0);
    const rows = await queue('localhost', 'alice');
    expect(rows.map(([stamp]) => stamp)).toEqual(['001700000000000-000000', '001700000000000-000001', '001700000000000-000002']);
    expect(rows.map(([, m]) => parseXml(m.xml, 'm').getChildText('body'))).toEqual(['one', 'two', 'three']);
    const ids = rows.map(([, m]) => parseXml(m.xml, 'm').attrs.id);
    expect(new Set(ids).size).toBe(3);
  });

  test('normalises both JIDs and keeps the recipient resource', async () => {
    expect((await ctl(['send_message', 'chat', 'Bob@Example.ORG/Phone', 'ALICE@LocalHost/Desk', '', 'hi'])).status).toBe(0);
    const [[, m]] = await queue('localhost', 'alice');
    expect([m.from, m.to]).toEqual(['bob@example.org/Phone', 'alice@localhost/Desk']);
  });

  test.each(['groupchat', 'error', 'Chat', ''])('refuses the message type %j as a usage error', async (type) => {
    expect(await ctl(['send_message', type, 'bob@example.org', 'alice@localhost', 's', 'b'])).toEqual({
      status: 2,
      stdout: '',
      stderr: `Error: Unknown message type '${type}' (type): use chat, normal or headline\n${USAGE}`,
    });
  });

  test.each([
    ['from', '@example.org', "Error: Invalid JID '@example.org' (from): empty user part\n"],
    ['from', 'a b@example.org', "Error: Invalid user name 'a b' (from): a user name cannot contain spaces, control characters or any of \"&'/:<>@\n"],
    ['from', '', 'Error: The host name (from) must not be empty\n'],
    ['to', 'alice@', 'Error: The host name (to) must not be empty\n'],
    ['to', 'alice@local host', "Error: Invalid host name 'local host' (to)\n"],
  ])('a malformed %s JID is a usage error naming it', async (arg, jid, message) => {
    const argv = arg === 'from' ? [jid, 'alice@localhost'] : ['bob@example.org', jid];
    expect(await ctl(['send_message', 'chat', ...argv, 's', 'b'])).toEqual({ status: 2, stdout: '', stderr: message + USAGE });
  });

  test('a server JID as recipient is a usage error', async () => {
    expect(await ctl(['send_message', 'chat', 'bob@example.org', 'localhost', 's', 'b'])).toEqual({
      status: 2,
      stdout: '',
      stderr: `Error: The recipient 'localhost' (to) is a server, not a user: send_message delivers to user@host\n${USAGE}`,
    });
  });

  test('a remote recipient fails: there are no server-to-server links yet', async () => {
    expect(await ctl(['send_message', 'chat', 'alice@localhost', 'bob@example.org/x', 's', 'b'])).toEqual({
      status: 1,
      stdout: '',
      stderr: 'Error: Cannot send to bob@example.org/x: example.org is not a host of this node, and this node has no server-to-server links yet\n',
    });
  });

  test('an unknown local recipient is not found, on any configured host', async () => {
    expect(await ctl(['send_message', 'chat', 'bob@example.org', 'nobody@localhost', 's', 'b'])).toEqual({
      status: 1,
      stdout: '',
      stderr: 'Error: User nobody@localhost does not exist\n',
    });
    expect((await ctl(['send_message', 'chat', 'bob@example.org', 'alice@example.net', 's', 'b'])).stderr).toBe(
      'Error: User alice@example.net does not exist\n',
    );
    expect(await queue('example.net', 'alice')).toEqual([]);
  });

  test('text that XML cannot carry is a usage error naming the argument; nothing is stored', async () => {
    expect((await ctl(['send_message', 'chat', 'bob@example.org', 'alice@localhost', 'bell\u0007', 'b'])).stderr).toBe(
      `Error: The subject (subject) contains U+0007, which XML cannot carry\n${USAGE}`,
    );
    expect((await ctl(['send_message', 'chat', 'bob@example.org', 'alice@localhost', 's', 'nul\u0000'])).stderr).toBe(
      `Error: The body (body) contains U+0000, which XML cannot carry\n${USAGE}`,
    );
    expect(await queue('localhost', 'alice')).toEqual([]);
  });

  test('wrong number of arguments is a usage error', async () => {
    expect(await ctl(['send_message', 'chat', 'bob@example.org', 'alice@localhost', 's'])).toEqual({
      status: 2,
      stdout: '',
      stderr: `Error: missing argument 'body'\n${USAGE}`,
    });
  });
});

describe('get_offline_count', () => {
  test('counts the messages of one user only, 0 for an empty queue', async () => {
    expect((await ctl(['register', 'bob', 'localhost', 'pw'])).status).toBe(0);
    expect(await ctl(['get_offline_count', 'alice', 'localhost'])).toEqual(ok('0\n'));
    for (let i = 0; i < 3; i++) await ctl(['send_message', 'chat', 'x@example.org', 'alice@localhost', '', `m${i}`]);
    await ctl(['send_message', 'chat', 'x@example.org', 'bob@localhost', '', 'for bob']);
    expect(await ctl(['get_offline_count', 'alice', 'localhost'])).toEqual(ok('3\n'));
    expect(await ctl(['get_offline_count', 'BOB', 'LOCALHOST'])).toEqual(ok('1\n'));
  });

  test('an unknown user is not found; an unknown host names the configured ones', async () => {
    expect(await ctl(['get_offline_count', 'nobody', 'localhost'])).toEqual({ status: 1, stdout: '', stderr: 'Error: User nobody@localhost does not exist\n' });
    expect(await ctl(['get_offline_count', 'alice', 'nowhere.example'])).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: Unknown host 'nowhere.example': this node serves localhost, example.net (hosts in ${join(home.dir, 'ctl.yml')})\n`,
    });
  });

  test('takes the account as its two arguments', async () => {
    expect(await ctl(['get_offline_count', 'alice'])).toEqual({
      status: 2,
      stdout: '',
      stderr: "Error: missing argument 'server'\nUsage: ctl get_offline_count user server\n",
    });
  });
});

describe('unregister', () => {
  test("removes the queue and its index rows, and no one else's", async () => {
    expect((await ctl(['register', 'bob', 'localhost', 'pw'])).status).toBe(0);
    await ctl(['send_message', 'chat', 'x@example.org', 'alice@localhost', '', 'a']);
    await ctl(['send_message', 'chat', 'x@example.org', 'bob@localhost', '', 'b']);
    expect((await ctl(['unregister', 'alice', 'localhost'])).status).toBe(0);
    await withStore(async (store) => {
      // What the archive holds, as its rows are keyed (host|user|stamp) and indexed by time (stamp|host|user).
      const left: [string, string][] = [];
      for (const user of ['alice', 'bob']) for (const [stamp] of await queue('localhost', user, store)) left.push([user, stamp]);
      expect(left.map(([user, stamp]) => `localhost|${user}|${stamp}`)).toEqual(['localhost|bob|001700000000000-000000']);
      expect(left.map(([user, stamp]) => `${stamp}|localhost|${user}`)).toEqual(['001700000000000-000000|localhost|bob']);
    });
  });
});

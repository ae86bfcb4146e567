import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempHome } from '../helpers/cli';
import { clock, configure, dump } from './piefxis-helpers';

let home: ReturnType<typeof tempHome>;
beforeEach(() => {
  home = tempHome();
  configure(home.dir);
});
afterEach(() => home.cleanup());

const SCRAM_OK =
  '<iter-count>4096</iter-count><salt>c2FsdA==</salt><server-key>FPWbcU0wz+VBD7OUhg65GqXYvxY=</server-key><stored-key>WT92r3qCtxbfqmTCylcc5n/nTTU=</stored-key>';
const scram = (body: string, mechanism = 'SCRAM-SHA-1') =>
  `<scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='${mechanism}'>${body}</scram-credentials>`;
const roster = (items: string) => `<query xmlns='jabber:iq:roster'>${items}</query>`;
const romeo = (body: string) => `<user name='romeo'>${body}</user>`;

/** A valid user first, then `bad` on line 4: an error there must leave the store untouched. */
function document(bad: string): string {
  return `<?xml version='1.0' encoding='UTF-8'?>\n<server-data xmlns='urn:xmpp:pie:0'>\n<host jid='capulet.com'><user name='juliet' password='pw'/>\n${bad}\n</host>\n</server-data>\n`;
}

async function importing(text: string, ...flags: string[]) {
  const file = join(home.dir, 'bad.xml');
  writeFileSync(file, text);
  return { file, result: await home.ctl([...flags, 'import_piefxis', file], { clock }) };
}

async function nothingWritten(): Promise<void> {
  const d = await dump(home.dir);
  expect(Object.values(d).every((rows) => Object.keys(rows).length === 0)).toBe(true);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('import_piefxis skips what this node cannot store with a warning naming the file, line, user and element; --strict refuses it', () => {
  test.each([
    ['a user without a name', "<user password='x'/>", "the <user> has no 'name' attribute"],
    ['an invalid user name', "<user name='a b'/>", `Invalid user name 'a b': a user name cannot contain spaces, control characters or any of "&'/:<>@`],
    ['the same user twice', "<user name='Juliet'/>", 'juliet@capulet.com appears a second time (first in FILE, line 3)'],
    ['a password over 1024 bytes', `<user name='romeo' password='${'x'.repeat(1025)}'/>`, 'the password of romeo@capulet.com is longer than 1024 bytes'],
    ['text in a user', romeo('[ ... ]'), 'text is not allowed in <user>'],
    ['an unknown element of the PIE namespace', romeo('<roster/>'), '<roster> is not an element of a XEP-0227 <user>'],
    [
      'an XInclude inside a user',
      romeo("<xi:include xmlns:xi='http://www.w3.org/2001/XInclude' href='r.xml'/>"),
      'an <xi:include> inside a <user> is not followed: include whole <host> or <user> elements',
    ],
    ['a roster item without a jid', romeo(roster('<item/>')), "the roster <item> has no 'jid' attribute"],
    ['an invalid roster JID', romeo(roster("<item jid='a@b..c'/>")), "Invalid host name 'b..c'"],
    ['a roster JID with a resource', romeo(roster("<item jid='a@b/c'/>")), "the roster <item> jid 'a@b/c' has a resource: a roster holds bare JIDs"],
    [
      'an unknown subscription',
      romeo(roster("<item jid='a@b' subscription='remove'/>")),
      "unknown subscription 'remove' in the roster <item> for a@b: use none, from, to or both",
    ],
    ['an unknown ask', romeo(roster("<item jid='a@b' ask='maybe'/>")), "unknown ask 'maybe' in the roster <item> for a@b: use subscribe, or leave it out"],
    ['a contact twice', romeo(roster("<item jid='a@b'/><item jid='A@B'/>")), 'a@b is in the roster of romeo@capulet.com twice (the first item is on line 4)'],
    ['something else than items in a roster', romeo(roster('<foo/>')), '<foo> is not allowed in a roster: it holds <item> elements'],
    [
      'something else than groups in an item',
      romeo(roster("<item jid='a@b'><name>A</name></item>")),
      '<name> is not allowed in a roster <item>: it holds <group> elements',
    ],
    ['two rosters', romeo(roster('') + roster('')), 'romeo@capulet.com has a second roster (the first is on line 4)'],
    ['two vCards', romeo("<vCard xmlns='vcard-temp'/><vCard xmlns='vcard-temp'/>"), 'romeo@capulet.com has a second vCard (the first is on line 4)'],
    [
      'a vCard over 1 MiB',
      romeo(`<vCard xmlns='vcard-temp'><PHOTO><BINVAL>${'A'.repeat(1 << 20)}</BINVAL></PHOTO></vCard>`),
      'the vCard is larger than 1048576 bytes',
    ],
    [
      'private data without a namespace',
      romeo("<query xmlns='jabber:iq:private'><prefs xmlns=''/></query>"),
      '<prefs> in private storage has no namespace: each element is kept under its xmlns',
    ],
    [
      'private data in a reserved namespace',
      romeo("<query xmlns='jabber:iq:private'><prefs/></query>"),
      '<prefs> is in the reserved namespace jabber:iq:private: private storage refuses it (the element has no namespace of its own)',
    ],
    [
      'private data twice in one namespace',
      romeo("<query xmlns='jabber:iq:private'><a xmlns='x:y'/><b xmlns='x:y'/></query>"),
      'romeo@capulet.com has a second private element in namespace x:y',
    ],
    [
      'a subscription request without from',
      romeo("<presence xmlns='jabber:client' type='subscribe'/>"),
      "the subscription request <presence> has no 'from' attribute",
    ],
    [
      'SCRAM without a mechanism',
      romeo(`<scram-credentials xmlns='urn:xmpp:pie:0#scram'>${SCRAM_OK}</scram-credentials>`),
      "the <scram-credentials> has no 'mechanism' attribute",
    ],
    ['a mechanism twice', romeo(scram(SCRAM_OK) + scram(SCRAM_OK)), 'romeo@capulet.com has a second SCRAM-SHA-1 <scram-credentials> (the first is on line 4)'],
    [
      'an iteration count with a leading zero',
      romeo(scram(SCRAM_OK.replace('4096', '04096'))),
      "the <iter-count> of romeo@capulet.com must be a whole number from 1 to 1000000, not '04096'",
    ],
    [
      'an absurd iteration count',
      romeo(scram(SCRAM_OK.replace('4096', '99999999'))),
      "the <iter-count> of romeo@capulet.com must be a whole number from 1 to 1000000, not '99999999'",
    ],
    ['a salt that is not base64', romeo(scram(SCRAM_OK.replace('c2FsdA==', 'salt!'))), "the <salt> of romeo@capulet.com is not base64: 'salt!'"],
    [
      'a key of the wrong length',
      romeo(scram(SCRAM_OK.replace('FPWbcU0wz+VBD7OUhg65GqXYvxY=', 'c2FsdA=='))),
      'the <server-key> of romeo@capulet.com is 4 bytes long, but a SCRAM-SHA-1 key is 20',
    ],
    [
      'a missing stored key',
      romeo(scram(SCRAM_OK.replace(/<stored-key>.*<\/stored-key>/, ''))),
      'the <scram-credentials> of romeo@capulet.com has no <stored-key>',
    ],
    [
      'an unknown SCRAM field',
      romeo(scram(`${SCRAM_OK}<pepper/>`)),
      '<pepper> is not allowed in <scram-credentials>: use iter-count, salt, server-key and stored-key',
    ],
  ])('%s', async (_label, bad, message) => {
    const { file, result } = await importing(document(bad));
    const warning = (file: string) =>
      new RegExp(
        `^Warning: skipped (the user .*|<.*> of romeo@capulet\\.com|text in <.*> of romeo@capulet\\.com) in ${escape(file)} \\(line 4\\): ${escape(message.replace('FILE', file))}\n`,
      );
    expect(result).toMatchObject({ status: 0, stdout: '' });
    expect(result.stderr).toMatch(warning(file));
    // The rest of the file went in.
    expect(Object.keys((await dump(home.dir)).passwd)).toContain('capulet.com|juliet');

    home.cleanup();
    home = tempHome();
    configure(home.dir);
    const strict = await importing(document(bad), '--strict');
    expect(strict.result.status).toBe(1);
    const [warned, ...rest] = strict.result.stderr.split('\n');
    expect(`${warned}\n`).toMatch(warning(strict.file));
    expect(rest).toEqual([`Error: ${strict.file} holds 1 element this node cannot store (the warning above): with --strict, nothing was imported`, '']);
    await nothingWritten();
  });
});

describe('import_piefxis refuses files that are not XEP-0227, naming the element and line', () => {
  test.each([
    ['a PIE element out of place', '<server-data/>', '<server-data> is not allowed in <host>: it holds <user> elements'],
    ['text in a host', 'users follow', 'text is not allowed in <host>'],
    ['deep nesting', romeo(`<x xmlns='urn:x'>${'<y>'.repeat(70)}${'</y>'.repeat(70)}</x>`), 'elements are nested deeper than 64 levels'],
  ])('%s', async (_label, bad, message) => {
    const { file, result } = await importing(document(bad));
    expect(result).toEqual({ status: 1, stdout: '', stderr: `Error: Invalid XEP-0227 file ${file} (line 4): ${message}\n` });
    await nothingWritten();
  });

  test.each([
    [
      'the root is not <server-data>',
      "<host xmlns='urn:xmpp:pie:0' jid='capulet.com'/>",
      1,
      'the root element is <host> in namespace urn:xmpp:pie:0, where <server-data> in namespace urn:xmpp:pie:0 was expected',
    ],
    [
      'the root has no namespace',
      '<server-data/>',
      1,
      'the root element is <server-data> in no namespace, where <server-data> in namespace urn:xmpp:pie:0 was expected',
    ],
    ['a host without a jid', "<server-data xmlns='urn:xmpp:pie:0'>\n<host/></server-data>", 2, "the <host> has no 'jid' attribute"],
    ['an invalid host', "<server-data xmlns='urn:xmpp:pie:0'>\n<host jid='a..b'/></server-data>", 2, "'a..b' is not a host name"],
  ])('%s', async (_label, text, line, message) => {
    const { file, result } = await importing(text);
    expect(result).toEqual({ status: 1, stdout: '', stderr: `Error: Invalid XEP-0227 file ${file} (line ${line}): ${message}\n` });
  });

  test('a host this node does not serve: named with the configured hosts, before anything is written', async () => {
    const { file, result } = await importing(document("</host><host jid='Verona.it'><user name='friar' password='x'/>"));
    expect(result).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: ${file} (line 4) holds users of host 'Verona.it', which this node does not serve: it serves capulet.com, montague.net, shakespeare.lit (hosts in ${join(home.dir, 'ctl.yml')})\n`,
    });
    await nothingWritten();
  });
});

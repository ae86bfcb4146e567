/**
 * import_piefxis through a node, under a seeded stream of mutations of one valid XEP-0227
 * document: flipped and cut bytes, bytes that are not UTF-8, broken and deep markup, entities,
 * document type declarations, references XML cannot carry, bad credentials, hosts that are not
 * configured, XIncludes that leave the directory. Each import is done or refused with a clean
 * error; the README says a first pass checks the whole file before anything is written, so a
 * refused file leaves the database as it was; a valid one imports its users; the node answers.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlClient } from '../helpers/fuzz';
import { badFrame, BAD_UTF8, closeFuzzNode, mutateBytes, openFuzzNode, Rng, shown, UnchangedCheck, type Frame } from '../helpers/fuzz';
import type { HttpNode } from '../helpers/http-node';

jest.setTimeout(240_000);

const SEED = 0x5eed_0004;
const INPUTS = 500;

let n: HttpNode;
let client: ControlClient;
beforeAll(async () => ({ n, client } = await openFuzzNode()));
afterAll(() => closeFuzzNode({ n, client }));

/** A valid document: users named after `tag`, so that each import has users of its own to write. */
function document(tag: string, user = ''): string {
  return `<?xml version='1.0' encoding='UTF-8'?>
<server-data xmlns='urn:xmpp:pie:0'>
  <host jid='localhost'>
    <user name='p${tag}' password='secret &amp; ✓'>
      <query xmlns='jabber:iq:roster'>
        <item jid='alice@localhost' name='Alice' subscription='both'><group>Friends</group></item>
        <item jid='q${tag}@localhost' subscription='to' ask='subscribe'/>
      </query>
      <vCard xmlns='vcard-temp'><FN>P ${tag}</FN><NICKNAME>p</NICKNAME></vCard>
      <query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'><conference jid='tea@conference.localhost' autojoin='1'/></storage></query>
      <offline-messages>
        <message xmlns='jabber:client' from='alice@localhost' to='p${tag}@localhost' type='chat'><body>hi &lt;there&gt;</body><delay xmlns='urn:xmpp:delay' stamp='2024-01-02T03:04:05Z'/></message>
      </offline-messages>
    </user>
    <user name='q${tag}'>
      <scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'>
        <iter-count>4096</iter-count>
        <salt>bW9udGFndWUubmV0IHNhbHQ=</salt>
        <server-key>FPWbcU0wz+VBD7OUhg65GqXYvxY=</server-key>
        <stored-key>WT92r3qCtxbfqmTCylcc5n/nTTU=</stored-key>
      </scram-credentials>
    </user>${user}
  </host>
</server-data>
`;
}

/** Pieces that replace a part of the document: each breaks a rule of XML or of XEP-0227. */
const SPLICES: readonly (readonly [RegExp, string])[] = [
  [/<host jid='localhost'>/, "<host jid='nowhere.example'>"],
  [/<host jid='localhost'>/, "<host jid='local host'>"],
  [/<host jid='localhost'>/, '<host>'],
  [/name='p[^']*'/, "name='a b'"],
  [/name='p[^']*'/, "name=''"],
  [/name='p[^']*'/, "name='x&#xD800;'"],
  [/name='p[^']*'/, "name='x&#0;'"],
  [/name='p[^']*'/, "name='rtl\u202eo'"],
  [/password='[^']*'/, "password='p&#xDFFF;w'"],
  [/password='[^']*'/, "password='p\u0001w'"],
  [/<iter-count>4096/, '<iter-count>50000000'],
  [/<iter-count>4096/, '<iter-count>-1'],
  [/<iter-count>4096/, '<iter-count>x'],
  [/<salt>[^<]*/, '<salt>!!!'],
  [/<server-key>[^<]*/, '<server-key>AAAA'],
  [/mechanism='SCRAM-SHA-1'/, "mechanism='SCRAM-MD5'"],
  [/subscription='both'/, "subscription='sideways'"],
  [/ask='subscribe'/, "ask='always'"],
  [/jid='alice@localhost'/, "jid='@@'"],
  [/jid='alice@localhost'/, "jid=''"],
  [/stamp='[^']*'/, "stamp='yesterday'"],
  [/stamp='[^']*'/, "stamp='99999-01-01T00:00:00Z'"],
  [/<FN>/, '<FN>&unknown;'],
  [/<FN>/, '<FN>&#xFFFE;'],
  [/<body>/, '<body><![CDATA[<x/>]]>'],
  [/<\/user>/, ''],
  [/<\/host>/, '</host></host>'],
  [/<\/server-data>/, '</server-data><server-data/>'],
  [/<server-data xmlns='urn:xmpp:pie:0'>/, "<server-data xmlns='urn:xmpp:pie:1'>"],
  [/<server-data xmlns='urn:xmpp:pie:0'>/, "<server-data xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude'><xi:include href='/etc/passwd'/>"],
  [
    /<server-data xmlns='urn:xmpp:pie:0'>/,
    "<server-data xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude'><xi:include href='../outside.xml'/>",
  ],
  [/<server-data xmlns='urn:xmpp:pie:0'>/, "<server-data xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude'><xi:include href='missing.xml'/>"],
  [/<server-data xmlns='urn:xmpp:pie:0'>/, "<server-data xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude'><xi:include href='fuzz.xml'/>"],
  [/<\?xml[^>]*>/, '<?xml version="1.0"?><!DOCTYPE server-data [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'],
  [/<\?xml[^>]*>/, "<?xml version='1.0' encoding='ISO-8859-1'?>"],
  [/<\?xml[^>]*>/, '\ufeff<?xml version="1.0"?>'],
  [/<\?xml[^>]*>/, ''],
  [/<message /, '<message xmlns:x="urn:x" x:a="1" x:a="2" '],
];

interface Input {
  readonly bytes: Buffer;
  /** The document as written, unbroken: it must be imported, and its users then exist. */
  readonly valid?: string;
}

function input(rng: Rng, i: number): Input {
  const tag = `f${i}`;
  const text = document(tag);
  // Every splice once, then by chance.
  if (i < SPLICES.length) return { bytes: Buffer.from(text.replace(SPLICES[i][0], SPLICES[i][1])) };
  switch (rng.int(8)) {
    case 0:
      return { bytes: Buffer.from(text), valid: `p${tag}` };
    case 1:
    case 2:
    case 3:
      return { bytes: mutateBytes(rng, Buffer.from(text)) };
    case 4: {
      const [find, replace] = rng.pick(SPLICES);
      return { bytes: Buffer.from(text.replace(find, replace)) };
    }
    case 5: {
      const at = rng.int(text.length);
      return { bytes: Buffer.concat([Buffer.from(text.slice(0, at)), rng.pick(BAD_UTF8), Buffer.from(text.slice(at))]) };
    }
    case 6: {
      // A user with an element nested deep: at the limit, past it, far past it.
      const depth = rng.pick([50, 65, 1000, 100_000]);
      return { bytes: Buffer.from(document(tag, `\n<user name='d${tag}'>${'<x xmlns="urn:x">'.repeat(depth)}${'</x>'.repeat(depth)}</user>`)) };
    }
    default: {
      // Two valid users, then one the first pass must refuse: nothing of the file may be written.
      const [find, replace] = rng.pick(SPLICES.slice(0, 10));
      const bad = document(`${tag}x`).replace(find, replace);
      const user = /<user name='p[\s\S]*?<\/user>/.exec(bad)?.[0] ?? '';
      return { bytes: Buffer.from(document(tag, `\n${user}`)) };
    }
  }
}

/** Imports the file through the node. */
async function importFile(bytes: Buffer): Promise<{ file: string; reply: Frame }> {
  const file = join(n.dir, 'fuzz.xml');
  writeFileSync(file, bytes);
  return { file, reply: await client.call('import_piefxis', { file }) };
}

test(`${INPUTS} seeded mutations of a XEP-0227 document: imported or refused cleanly, nothing written by a refused file`, async () => {
  const rng = new Rng(SEED);
  const unchanged = new UnchangedCheck(client, n.dir);
  const problems: string[] = [];
  let refused = 0;
  let imported = 0;
  for (let i = 0; i < INPUTS && problems.length < 5; i++) {
    const { bytes, valid } = input(rng, i);
    await unchanged.before();
    const { file, reply } = await importFile(bytes);
    const bad = badFrame(reply, 'import_piefxis');
    if (bad) problems.push(`${bad}: ${shown(bytes)} gave ${shown(JSON.stringify(reply))}`);
    const wasRefused = reply.ok === false || reply.result === false;
    if (reply.ok === false && !String(reply.error?.message).includes(file) && !/XEP-0227|Unknown host/.test(String(reply.error?.message))) {
      problems.push(`an error that names neither the file nor XEP-0227: ${shown(bytes)} gave ${shown(JSON.stringify(reply))}`);
    }
    if (valid !== undefined) {
      const account = await client.call('check_account', { user: valid, host: 'localhost' });
      if (wasRefused || account.result !== true) problems.push(`a valid file was not imported: ${shown(JSON.stringify(reply))}`);
    }
    if (wasRefused) refused++;
    else imported++;
    const changed = await unchanged.after(wasRefused);
    if (changed) problems.push(`${changed}: ${shown(bytes)} gave ${shown(JSON.stringify(reply))}`);
    if (i % 50 === 49 && (await client.ping()).result !== 'pong') problems.push(`no pong after ${shown(bytes)}`);
  }
  expect(problems).toEqual([]);
  expect(await client.ping()).toEqual({ id: 'ping', ok: true, result: 'pong' });
  // Both outcomes must be common, or the stream tests little.
  expect(refused).toBeGreaterThan(INPUTS / 3);
  expect(imported).toBeGreaterThan(INPUTS / 10);
  expect(unchanged.checked).toBe(refused);
});

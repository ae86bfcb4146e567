import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempHome } from '../helpers/cli';
import { clock, configure, dump } from './piefxis-helpers';

let home: ReturnType<typeof tempHome>;
let dir: string;
beforeEach(() => {
  home = tempHome();
  configure(home.dir);
  dir = join(home.dir, 'pie');
  mkdirSync(dir);
});
afterEach(() => home.cleanup());

// --verbose: a summary reaches a pipe only when asked for.
const run = (file: string) => home.ctl(['import_piefxis', file, '--verbose'], { clock });
// What the file holds is data: its faults are failures, without a usage line.
const dataError = (message: string) => ({ status: 1, stdout: '', stderr: `Error: ${message}\n` });
const failure = (message: string) => ({ status: 1, stdout: '', stderr: `Error: ${message}\n` });

function file(name: string, text: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A main file whose third line includes `href`, after a valid host with one user. */
const including = (href: string, attrs = '') =>
  file(
    'main.xml',
    `<server-data xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude'>\n<host jid='montague.net'><user name='romeo' password='x'/></host>\n<xi:include href='${href}'${attrs}/>\n</server-data>`,
  );
const HOST_FILE = "<host xmlns='urn:xmpp:pie:0' jid='capulet.com'><user name='juliet' password='pw'/></host>";

async function nothingWritten(): Promise<void> {
  expect((await dump(home.dir)).passwd).toEqual({});
}

describe('import_piefxis refuses malformed and hostile XML with the line and column', () => {
  test.each([
    ['a mismatched close tag', "<server-data xmlns='urn:xmpp:pie:0'>\n<host jid='capulet.com'>\n</user>", '(line 3, column 7): unexpected close tag.'],
    [
      'a DTD, and with it entity expansion',
      `<?xml version='1.0'?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\n<server-data xmlns='urn:xmpp:pie:0'>&lol2;</server-data>`,
      '(line 2, column 74): a document type declaration is not allowed',
    ],
    ['an undefined entity', "<server-data xmlns='urn:xmpp:pie:0'>&lol;</server-data>", '(line 1, column 41): undefined entity.'],
    [
      'an unbound prefix',
      "<server-data xmlns='urn:xmpp:pie:0'>\n<h:host jid='capulet.com'/></server-data>",
      '(line 2, column 27): unbound namespace prefix: "h".',
    ],
    [
      'an encoding other than UTF-8',
      "<?xml version='1.0' encoding='ISO-8859-1'?><server-data xmlns='urn:xmpp:pie:0'/>",
      '(line 1, column 1): the encoding is ISO-8859-1; only UTF-8 files can be read',
    ],
    ['an unclosed document', "<server-data xmlns='urn:xmpp:pie:0'>\n<host jid='capulet.com'>", '(line 2, column 24): unclosed tag: host'],
    ['an empty file', '', '(line 1, column 0): document must contain a root element.'],
  ])('%s', async (_label, text, where) => {
    const path = file('bad.xml', text);
    expect(await run(path)).toEqual(dataError(`Malformed XML in ${path} ${where}`));
  });

  test('bytes that are not UTF-8', async () => {
    const path = file(
      'bad.xml',
      Buffer.concat([Buffer.from("<server-data xmlns='urn:xmpp:pie:0'>"), Buffer.from([0xff, 0xfe]), Buffer.from('</server-data>')]),
    );
    expect(await run(path)).toEqual(dataError(`Malformed XML in ${path}: the file is not valid UTF-8 (near byte 52)`));
  });

  test('a text of more than 8 MiB is refused while it is read, not held', async () => {
    const text = `<server-data xmlns='urn:xmpp:pie:0'><host jid='capulet.com'><user name='romeo'><x xmlns='urn:x'>${'a'.repeat(9 << 20)}</x></user></host></server-data>`;
    const path = file('big.xml', text);
    const r = await run(path);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^Error: Malformed XML in ${path} \\(line 1, column \\d+\\): a tag, text or comment is longer than 8388608 characters\\n`),
    );
    await nothingWritten();
  });
});

test('a user of more than 64 Mi characters is refused while it is read', async () => {
  const chunk = `<x xmlns='urn:x'>${'a'.repeat(7.5 * (1 << 20))}</x>\n`;
  const path = file(
    'fat.xml',
    `<server-data xmlns='urn:xmpp:pie:0'><host jid='capulet.com'><user name='juliet' password='pw'/><user name='romeo'>\n${chunk.repeat(9)}</user></host></server-data>`,
  );
  const r = await run(path);
  expect(r).toEqual(dataError(`Invalid XEP-0227 file ${path} (line 10): a <user> element is longer than 67108864 characters`));
  await nothingWritten();
});

describe('import_piefxis reads only regular files', () => {
  test('a missing file, a directory, a device', async () => {
    const missing = join(dir, 'nope.xml');
    expect(await run(missing)).toEqual(failure(`Cannot read the XEP-0227 file ${missing}: it does not exist`));
    expect(await run(dir)).toEqual(failure(`Cannot read the XEP-0227 file ${dir}: it is a directory`));
    expect(await run('/dev/null')).toEqual(failure('Cannot read the XEP-0227 file /dev/null: it is not a regular file (a character device)'));
  });
});

describe('import_piefxis follows XIncludes only inside the directory of the including file', () => {
  const refused = (main: string, href: string, why: string) =>
    dataError(`Invalid XEP-0227 file ${main} (line 3): the <xi:include> href '${href}' ${why}; only relative paths to files inside ${dir} are followed`);

  beforeEach(() => writeFileSync(join(home.dir, 'outside.xml'), HOST_FILE));

  test.each([
    ['a parent directory', '../outside.xml', 'leads outside that directory'],
    ['a parent directory, %-encoded', '%2e%2e/outside.xml', 'leads outside that directory'],
    ['a detour through the parent', `../pie/../outside.xml`, 'leads outside that directory'],
    ['an absolute path', '/etc/passwd', 'is an absolute path'],
    ['a file URL', 'file:///etc/passwd', 'is a URL'],
    ['an HTTP URL', 'http://example.com/capulet.xml', 'is a URL'],
    ['a fragment', 'h.xml#x', 'has a query or a fragment'],
    ['nothing', '', 'is empty'],
  ])('%s is refused', async (_label, href, why) => {
    const main = including(href);
    expect(await run(main)).toEqual(refused(main, href, why));
    await nothingWritten();
  });

  test('a symbolic link that leads outside is refused', async () => {
    symlinkSync(join(home.dir, 'outside.xml'), join(dir, 'link.xml'));
    const main = including('link.xml');
    expect(await run(main)).toEqual(refused(main, 'link.xml', 'leads outside that directory through a symbolic link'));
  });

  test('a file included twice, a missing one, unsupported XInclude features', async () => {
    file('h.xml', HOST_FILE);
    const twice = file(
      'twice.xml',
      "<server-data xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude'>\n<xi:include href='h.xml'/>\n<xi:include href='./h.xml'/>\n</server-data>",
    );
    expect(await run(twice)).toEqual(dataError(`Invalid XEP-0227 file ${twice} (line 3): ${join(dir, 'h.xml')} is included a second time`));
    await nothingWritten();
    const main = including('gone.xml');
    expect(await run(main)).toEqual(failure(`Cannot read the XEP-0227 file ${join(dir, 'gone.xml')}, included from ${main} (line 3): it does not exist`));
    expect(await run(including('h.xml', " parse='text'"))).toEqual(
      dataError(`Invalid XEP-0227 file ${main} (line 3): the <xi:include> has parse='text': only XML files can be included`),
    );
    expect(await run(including('h.xml', " xpointer='xpointer(/host)'"))).toEqual(
      dataError(`Invalid XEP-0227 file ${main} (line 3): the <xi:include> has an xpointer: only whole files can be included`),
    );
    const fallback = file(
      'fallback.xml',
      "<server-data xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude'>\n<xi:include href='h.xml'>\n<xi:fallback/></xi:include></server-data>",
    );
    expect(await run(fallback)).toEqual(
      dataError(`Invalid XEP-0227 file ${fallback} (line 3): <xi:fallback> inside an <xi:include> is not supported (no fallbacks)`),
    );
    const nohref = file('nohref.xml', "<server-data xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude'><xi:include/></server-data>");
    expect(await run(nohref)).toEqual(dataError(`Invalid XEP-0227 file ${nohref} (line 1): the <xi:include> has no 'href' attribute`));
    await nothingWritten();
  });

  test('an included file is checked like the main one: its root, its content, its errors with its own name', async () => {
    const wrongRoot = file('h.xml', "<server-data xmlns='urn:xmpp:pie:0'/>");
    const main = including('h.xml');
    expect(await run(main)).toEqual(
      dataError(
        `Invalid XEP-0227 file ${wrongRoot} (line 1): the root element is <server-data> in namespace urn:xmpp:pie:0, where <host> in namespace urn:xmpp:pie:0 was expected`,
      ),
    );
    const bad = file('h.xml', "<host xmlns='urn:xmpp:pie:0' jid='capulet.com'>\n<user name='juliet'/>\n<users/></host>");
    expect(await run(main)).toEqual(dataError(`Invalid XEP-0227 file ${bad} (line 3): <users> is not allowed in <host>: it holds <user> elements`));
    await nothingWritten();
    file('h.xml', HOST_FILE);
    expect(await run(main)).toEqual({
      status: 0,
      stdout: '',
      stderr: `Imported 2 users (passwords: 2 plain), 0 roster items, 0 vCards, 0 private storage elements, 0 offline messages from ${main} and 1 included file\n`,
    });
    expect(Object.keys((await dump(home.dir)).passwd)).toEqual(['capulet.com|juliet', 'montague.net|romeo']);
  });
});

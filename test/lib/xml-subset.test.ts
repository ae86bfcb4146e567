/**
 * The quick XML parser against saxes, event by event: for a document saxes accepts, the quick
 * parser gives the same events at the same lines and positions, or leaves the subset; for one
 * saxes refuses, it always leaves the subset, and what it gave before is what saxes gave.
 * Documents are cut into chunks anywhere, as a file read 64 KB at a time is.
 */
import { SaxesParser } from 'saxes';
import { OutsideSubset, SubsetParser, type SubsetHandlers } from '../../src/lib/xml-subset';
import { Rng } from '../helpers/fuzz';

interface Outcome {
  readonly events: string[];
  /** saxes: its first error; quick: why it left the subset. */
  readonly failed?: string;
  /** saxes: how many events it had given at its first error (it goes on after one). */
  readonly failedAfter?: number;
}

function recorder(events: string[], at: () => string): SubsetHandlers {
  return {
    xmldecl: (d) => events.push(`decl ${d.encoding} ${at()}`),
    opentagstart: () => events.push(`start ${at()}`),
    opentag: (t) => events.push(`open ${t.name} ${t.local} {${t.uri}} ${JSON.stringify(t.ns)} ${JSON.stringify(t.attrs)} ${at()}`),
    closetag: () => events.push(`close ${at()}`),
    text: (s) => events.push(`text ${JSON.stringify(s)} ${at()}`),
    comment: () => events.push(`comment ${at()}`),
  };
}

function withSaxes(chunks: readonly string[]): Outcome {
  const events: string[] = [];
  const p = new SaxesParser({ xmlns: true, position: true });
  const on = recorder(events, () => `${p.line}@${p.position}`);
  let failed: string | undefined;
  let failedAfter: number | undefined;
  const fail = (why: string) => {
    failed ??= why;
    failedAfter ??= events.length;
  };
  p.on('error', (e) => fail(e.message));
  p.on('doctype', () => fail('doctype'));
  p.on('cdata', () => fail('cdata'));
  p.on('processinginstruction', () => fail('pi'));
  p.on('xmldecl', on.xmldecl);
  p.on('opentagstart', on.opentagstart);
  p.on('opentag', (t) => {
    const attrs: Record<string, string> = {};
    for (const name in t.attributes) attrs[name] = t.attributes[name].value;
    on.opentag({ name: t.name, local: t.local, uri: t.uri, ns: { ...t.ns }, attrs });
  });
  p.on('closetag', on.closetag);
  p.on('text', on.text);
  p.on('comment', on.comment);
  for (const c of chunks) p.write(c);
  p.close();
  return { events, failed, failedAfter };
}

function withQuick(chunks: readonly string[]): Outcome {
  const events: string[] = [];
  const p: SubsetParser = new SubsetParser(recorder(events, () => `${p.line}@${p.position}`));
  try {
    for (const c of chunks) p.write(c);
    p.close();
  } catch (err) {
    if (!(err instanceof OutsideSubset)) throw err;
    return { events, failed: err.message };
  }
  return { events };
}

/** Fails the test unless the quick parser agrees with saxes on `chunks`; returns whether it kept to the subset. */
function agree(chunks: readonly string[]): boolean {
  const slow = withSaxes(chunks);
  const quick = withQuick(chunks);
  const doc = chunks.join('');
  if (quick.failed === undefined) {
    if (slow.failed !== undefined) throw new Error(`quick accepted what saxes refuses (${slow.failed}): ${JSON.stringify(doc)}`);
    expect({ doc, events: quick.events }).toEqual({ doc, events: slow.events });
    return true;
  }
  // Events before leaving the subset are saxes' own first events, all given before any error of
  // saxes: a reader that acts on them meets nothing saxes would have refused first.
  expect({ doc, events: quick.events }).toEqual({ doc, events: slow.events.slice(0, quick.events.length) });
  if (slow.failedAfter !== undefined && quick.events.length > slow.failedAfter) {
    throw new Error(`quick gave events past saxes' first error (${slow.failed}): ${JSON.stringify(doc)}`);
  }
  return false;
}

/** `doc` whole, cut at every position, and in chunks of random sizes. */
function chunkings(doc: string, rng: Rng): string[][] {
  const out: string[][] = [[doc]];
  for (let at = 1; at < doc.length; at += doc.length > 400 ? 1 + rng.int(40) : 1) out.push([doc.slice(0, at), doc.slice(at)]);
  const pieces: string[] = [];
  for (let at = 0; at < doc.length;) {
    const n = 1 + rng.int(12);
    pieces.push(doc.slice(at, at + n));
    at += n;
  }
  out.push(pieces);
  return out;
}

const EXPORT = `<?xml version='1.0' encoding='UTF-8'?>
<server-data xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude'>
  <!-- exported -->
  <host jid='capulet.lit'>
    <user name='juliet' password='s3cr&amp;t &lt;&gt; &quot;&apos; &#233;&#x1F600;' createdDate='2024-01-02T03:04:05Z'>
      <scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'><iter-count>4096</iter-count><salt>bW9u==</salt></scram-credentials>
      <query xmlns='jabber:iq:roster'>
        <item jid='romeo@montague.lit' name="Romeo &amp; co" subscription='both'><group>Friends</group></item>
        <item
            jid='nurse@capulet.lit'
            subscription='to'/>
      </query>
      <vCard xmlns="vcard-temp"><FN>Juliet ✓ Capulet</FN><DESC>line one
line two	tab &#10;ref</DESC></vCard>
      <offline-messages>
        <message xmlns='jabber:client' xml:lang='en' from='romeo@montague.lit/orchard' to='juliet@capulet.lit' type='chat'><body>Wherefore art thou?</body><x:y xmlns:x='urn:x' x:a='1' b='2'/></message>
      </offline-messages>
    </user>
    <xi:include href='more.xml'/>
  </host>
</server-data>
<!-- the end -->
`;

const SMALL = [
  `<a/>`,
  `<a></a>`,
  `<a >text</a >`,
  `<a\nb='1'\n/>`,
  `<a\tb="x\ty\nz" c='&#9;&#10;'/>`,
  `<p:a xmlns:p='urn:p'><p:b/></p:a>`,
  `<a xmlns='urn:d'><b xmlns='urn:e'/><c/></a>`,
  `<a constructor='1' toString='2' hasOwnProperty='3'/>`,
  `<constructor xmlns:constructor='urn:c'><constructor:x/></constructor>`,
  `<a>]]&gt; ]] > ]>]</a>`,
  `<a>&#xD7FF;&#xE000;&#xFFFD;&#x10000;&#65;</a>`,
  `<!--x--><a/><!--y-->\n`,
  `\n\n<a>\n</a>\n\n`,
];

/** Pieces that break a rule of XML, or leave the subset. */
const BREAKERS = [
  '<',
  '>',
  '&',
  ';',
  '&amp',
  '&#0;',
  '&#x0;',
  '&#xD800;',
  '&#xFFFE;',
  '&#x110000;',
  '&#;',
  '&foo;',
  ']]>',
  '<!--',
  '-->',
  '--',
  '<![CDATA[x]]>',
  '<!DOCTYPE a>',
  '<?pi x?>',
  '<?xml version="1.0"?>',
  "'",
  '"',
  ' ',
  '\n',
  '\t',
  '\r',
  '\r\n',
  ':',
  '=',
  '/',
  '</a>',
  '<a>',
  '<b/>',
  'xmlns:p="urn:p"',
  'xmlns=""',
  "xmlns:p=''",
  "xmlns:xml='urn:x'",
  "xmlns:xmlns='urn:x'",
  `xmlns:p='http://www.w3.org/XML/1998/namespace'`,
  "p:a='1'",
  "xml:lang='en'",
  "q:b='2'",
  "xmlns:q='urn:q'",
  'x:y',
  '__proto__',
  "__proto__='1'",
  "xmlns:__proto__='urn:x'",
  "constructor='1'",
  'é',
  '\u0001',
  '\uFFFE',
  '\u2028',
  '1',
  '-',
  '.',
  'a',
  "a='1'",
  "a='1'a='2'",
  '<a/><b/>',
  'text',
];

function mutate(rng: Rng, doc: string): string {
  let s = doc;
  for (let round = 1 + rng.int(3); round > 0; round--) {
    const at = rng.int(s.length + 1);
    switch (rng.int(4)) {
      case 0:
        s = s.slice(0, at) + rng.pick(BREAKERS) + s.slice(at);
        break;
      case 1:
        s = s.slice(0, at) + s.slice(at + 1 + rng.int(6));
        break;
      case 2:
        s = s.slice(0, at);
        break;
      default: {
        const len = 1 + rng.int(24);
        s = s.slice(0, at + len) + s.slice(at, at + len) + s.slice(at + len);
      }
    }
  }
  return s;
}

describe('the quick XML parser', () => {
  test('reads an export as saxes does, however it is cut into chunks', () => {
    const rng = new Rng(0x5ab5e7);
    for (const chunks of chunkings(EXPORT, rng)) expect(agree(chunks)).toBe(true);
  });

  test.each(SMALL)('reads %j as saxes does', (doc) => {
    const rng = new Rng(7);
    for (const chunks of chunkings(doc, rng)) expect(agree(chunks)).toBe(true);
  });

  test.each([
    ['a DTD', '<!DOCTYPE a><a/>'],
    ['CDATA', '<a><![CDATA[x]]></a>'],
    ['a processing instruction', '<a><?pi x?></a>'],
    ['a carriage return', '<a>\r\n</a>'],
    ['a non-ASCII name', '<é/>'],
    ['an undefined entity', '<a>&foo;</a>'],
    ['a mismatched close tag', '<a></b>'],
    ['an unclosed element', '<a>'],
    ['no element', ''],
    ['two roots', '<a/><b/>'],
    ['text outside the root', 'x<a/>'],
    ['an unbound prefix', '<p:a/>'],
    ['a repeated attribute', "<a b='1' b='2'/>"],
    ['the same attribute under two prefixes', "<a xmlns:p='urn:x' xmlns:q='urn:x' p:b='1' q:b='2'/>"],
    ['an attribute named __proto__', "<a __proto__='1'/>"],
    ['a declaration after the start', " <?xml version='1.0'?><a/>"],
    ['a second declaration', "<?xml version='1.0'?><?xml version='1.0'?><a/>"],
    ['XML 1.1', "<?xml version='1.1'?><a/>"],
    ['a double dash in a comment', '<a><!-- a -- b --></a>'],
    [']]> in text', '<a>]]></a>'],
    ['a reference to a character XML does not allow', '<a>&#1;</a>'],
  ])('leaves the subset at %s, having given only what saxes gave', (_label, doc) => {
    expect(agree([doc])).toBe(false);
  });

  test('leaves the subset at a token longer than it waits for', () => {
    // Text as long as a vCard's largest photo is waited for; past twice that, saxes judges.
    const mib = 'x'.repeat(1024 * 1024);
    expect(agree(['<a>', ...mib.match(/.{1,65536}/g)!, '</a>'])).toBe(true);
    const quick = withQuick(['<a>', mib, mib, mib, '</a>']);
    expect(quick.failed).toMatch(/a long token/);
  });

  test('never accepts what saxes refuses, under seeded mutations of an export', () => {
    const rng = new Rng(0x5eed_0227);
    let kept = 0;
    const docs = [EXPORT, ...SMALL];
    for (let i = 0; i < 3000; i++) {
      const doc = mutate(rng, rng.pick(docs));
      const cut = rng.int(doc.length + 1);
      if (agree([doc]) && agree([doc.slice(0, cut), doc.slice(cut)])) kept++;
    }
    // Some mutations leave a document saxes accepts: those are compared event by event too.
    expect(kept).toBeGreaterThan(100);
  });
});

import type { Element } from 'ltx';
import { StreamParser, type StreamHandler } from '../../../src/xmpp/stream/parser';

const HEADER =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' to='localhost' version='1.0'>";

interface Seen {
  stanzas: { xml: string; ns: string }[];
  closes: number;
  errors: string[];
}

function parser(onStanza?: (el: Element, p: StreamParser) => void, maxStanzaSize = 10000): { seen: Seen; p: StreamParser } {
  const seen: Seen = { stanzas: [], closes: 0, errors: [] };
  const handler: StreamHandler = {
    onStreamOpen: () => {},
    onStanza: (el, ns) => {
      seen.stanzas.push({ xml: el.toString(), ns });
      onStanza?.(el, p);
    },
    onStreamClose: () => seen.closes++,
    onError: (condition) => seen.errors.push(condition),
  };
  const p = new StreamParser(handler, { maxStanzaSize });
  return { seen, p };
}

describe('a stream between stanzas', () => {
  test('keeps the namespaces its header declared, and its end closes the stream', () => {
    const { seen, p } = parser();
    for (const chunk of [HEADER, "<db:result to='a'/>", '  ', '<message><body>x</body></message>\n', '</stream:stream>']) p.write(Buffer.from(chunk));
    expect(seen.stanzas).toEqual([
      { xml: '<db:result to="a"/>', ns: 'jabber:server:dialback' },
      { xml: '<message><body>x</body></message>', ns: 'jabber:client' },
    ]);
    expect(seen.closes).toBe(1);
    expect(seen.errors).toEqual([]);
  });

  test.each([
    ['a comment', '<!-- hi -->', 'restricted-xml'],
    ['a processing instruction', '<?foo bar?>', 'restricted-xml'],
    ['a DOCTYPE', '<!DOCTYPE x>', 'restricted-xml'],
    ['a mismatched close tag', '</message>', 'not-well-formed'],
    ['text', 'hello<presence/>', 'bad-format'],
    ['an unbound prefix', '<foo:bar/>', 'not-well-formed'],
    ['a second root', '</stream:stream><stream:stream>', 'not-well-formed'],
  ])('%s after an idle moment is the same stream error', (_what, later, condition) => {
    const { seen, p } = parser();
    p.write(Buffer.from(HEADER));
    p.write(Buffer.from('<presence/>'));
    p.write(Buffer.from(later));
    expect(seen.errors).toEqual([condition]);
  });

  test('streams that take turns, each in pieces, get their own stanzas', () => {
    const a = parser();
    const b = parser();
    const chunks = (who: string) => [HEADER, `<message to='${who}'><bo`, `dy>1</body></message><message to='${who}'>`, '<body>2</body></message>'];
    const [ca, cb] = [chunks('a'), chunks('b')];
    for (let i = 0; i < ca.length; i++) {
      a.p.write(Buffer.from(ca[i]));
      b.p.write(Buffer.from(cb[i]));
    }
    for (const [who, { seen }] of [
      ['a', a],
      ['b', b],
    ] as const) {
      expect(seen.stanzas.map((s) => s.xml)).toEqual([`<message to="${who}"><body>1</body></message>`, `<message to="${who}"><body>2</body></message>`]);
      expect(seen.errors).toEqual([]);
    }
  });

  test('a stream stopped while its stanzas are read reports no more, and others parse on', () => {
    const stopped = parser((_el, p) => p.stop());
    stopped.p.write(Buffer.from(HEADER));
    stopped.p.write(Buffer.from('<presence/><message/><iq/>'));
    expect(stopped.seen.stanzas).toHaveLength(1);
    const other = parser();
    other.p.write(Buffer.from(HEADER + '<presence/>'));
    other.p.write(Buffer.from('<message><body>é</body></message>'));
    expect(other.seen.stanzas.map((s) => s.xml)).toEqual(['<presence/>', '<message><body>é</body></message>']);
  });

  test('a character split between chunks arrives whole; the size limit counts bytes across idle moments', () => {
    const { seen, p } = parser(undefined, 40);
    const bytes = Buffer.from('<message><body>é€</body></message>');
    p.write(Buffer.from(HEADER));
    p.write(bytes.subarray(0, 17));
    p.write(bytes.subarray(17));
    expect(seen.stanzas.map((s) => s.xml)).toEqual(['<message><body>é€</body></message>']);
    p.write(Buffer.from('<message><body>'));
    p.write(Buffer.from('€'.repeat(10) + '</body></message>'));
    expect(seen.errors).toEqual(['policy-violation']);
  });
});

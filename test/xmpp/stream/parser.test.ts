import type { Element } from 'ltx';
import { StreamParser, type StreamHandler, type StreamNames } from '../../../src/xmpp/stream/parser';
import { HEADER } from './helpers';

interface Events {
  opens: { attrs: Record<string, string>; names: StreamNames }[];
  stanzas: { xml: string; ns: string; el: Element }[];
  closes: number;
  errors: { condition: string; text: string }[];
}

function recorder(): { events: Events; handler: StreamHandler } {
  const events: Events = { opens: [], stanzas: [], closes: 0, errors: [] };
  const handler: StreamHandler = {
    onStreamOpen: (attrs, names) => events.opens.push({ attrs, names }),
    onStanza: (el, ns) => events.stanzas.push({ xml: el.toString(), ns, el }),
    onStreamClose: () => events.closes++,
    onError: (condition, text) => events.errors.push({ condition, text }),
  };
  return { events, handler };
}

function parse(input: (string | Buffer)[], options = { maxStanzaSize: 10000 }): Events {
  const { events, handler } = recorder();
  const parser = new StreamParser(handler, options);
  for (const chunk of input) parser.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return events;
}

describe('stream parser', () => {
  test('reports the header, each stanza with its namespace, and the end of the stream', () => {
    const ev = parse([
      HEADER,
      "<message to='b@localhost'><body>hi &amp; bye</body></message>",
      ' \n ',
      "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
      '</stream:stream>',
    ]);
    expect(ev.opens).toHaveLength(1);
    expect(ev.opens[0].attrs).toMatchObject({ to: 'localhost', version: '1.0', xmlns: 'jabber:client' });
    expect(ev.opens[0].names).toEqual({ local: 'stream', uri: 'http://etherx.jabber.org/streams', defaultNs: 'jabber:client' });
    expect(ev.stanzas.map((s) => [s.xml, s.ns])).toEqual([
      ['<message to="b@localhost"><body>hi &amp; bye</body></message>', 'jabber:client'],
      ['<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>', 'urn:ietf:params:xml:ns:xmpp-tls'],
    ]);
    expect(ev.closes).toBe(1);
    expect(ev.errors).toEqual([]);
  });

  test('a stanza split into single bytes, with a multibyte character split across chunks, arrives whole', () => {
    const bytes = Buffer.from(HEADER + '<message><body>zoë 😀</body></message>');
    const chunks = [...bytes].map((b) => Buffer.from([b]));
    const ev = parse(chunks);
    expect(ev.stanzas.map((s) => s.el.getChildText('body'))).toEqual(['zoë 😀']);
    expect(ev.errors).toEqual([]);
  });

  test('prefixed elements are reported in their declared namespace', () => {
    const ev = parse([HEADER, "<x:iq xmlns:x='jabber:client' type='get' id='1'/>", '<stream:features/>']);
    expect(ev.stanzas.map((s) => s.ns)).toEqual(['jabber:client', 'http://etherx.jabber.org/streams']);
  });

  test.each([
    ['a DOCTYPE', "<!DOCTYPE stream [<!ENTITY x 'y'>]>" + HEADER, 'restricted-xml'],
    ['a comment', HEADER + '<!-- hi --><presence/>', 'restricted-xml'],
    ['a comment inside a stanza', HEADER + '<message><!-- hi --></message>', 'restricted-xml'],
    ['a processing instruction', HEADER + '<?foo bar?><presence/>', 'restricted-xml'],
    ['an unknown entity', HEADER + '<message><body>&bogus;</body></message>', 'not-well-formed'],
    ['a mismatched close tag', HEADER + '<message></iq>', 'not-well-formed'],
    ['an unquoted attribute', HEADER + '<message to=x/>', 'not-well-formed'],
    ['an unbound prefix', HEADER + '<foo:bar/>', 'not-well-formed'],
    ['text between stanzas', HEADER + 'hello<presence/>', 'bad-format'],
  ])('%s is a stream error', (_what, input, condition) => {
    const ev = parse([input]);
    expect(ev.errors.map((e) => e.condition)).toEqual([condition]);
    expect(ev.stanzas).toEqual([]);
  });

  test('after an error nothing more is reported', () => {
    const ev = parse([HEADER, '<!-- x -->', '<presence/>', '</stream:stream>']);
    expect(ev.errors).toHaveLength(1);
    expect(ev.stanzas).toEqual([]);
    expect(ev.closes).toBe(0);
  });

  test('a stanza over the size limit is a policy-violation, in one chunk or many, counted in bytes', () => {
    const big = `<message><body>${'a'.repeat(2000)}</body></message>`;
    expect(parse([HEADER, big], { maxStanzaSize: 1000 }).errors.map((e) => e.condition)).toEqual(['policy-violation']);
    const pieces = big.match(/.{1,100}/g)!;
    const ev = parse([HEADER, ...pieces], { maxStanzaSize: 1000 });
    expect(ev.errors.map((e) => e.condition)).toEqual(['policy-violation']);
    // 400 characters of 3 bytes each: 1200 bytes.
    const wide = `<message><body>${'€'.repeat(400)}</body></message>`;
    expect(parse([HEADER, wide], { maxStanzaSize: 1000 }).errors.map((e) => e.condition)).toEqual(['policy-violation']);
  });

  test('many stanzas each under the limit pass, however they are chunked', () => {
    const one = `<message><body>${'a'.repeat(800)}</body></message>`;
    const ev = parse([HEADER, one + one + one, one.slice(0, 500), one.slice(500) + one], { maxStanzaSize: 1000 });
    expect(ev.errors).toEqual([]);
    expect(ev.stanzas).toHaveLength(5);
  });

  test('nesting deeper than the limit is a policy-violation', () => {
    const deep = '<a>'.repeat(100) + '</a>'.repeat(100);
    const ev = parse([HEADER, `<message>${deep}</message>`]);
    expect(ev.errors.map((e) => e.condition)).toEqual(['policy-violation']);
  });

  test('reset starts a new document: a restarted stream opens again', () => {
    const { events, handler } = recorder();
    const parser = new StreamParser(handler, { maxStanzaSize: 10000 });
    parser.write(Buffer.from(HEADER + "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>"));
    parser.reset();
    parser.write(Buffer.from(HEADER + '<iq type="set" id="b"/>'));
    expect(events.opens).toHaveLength(2);
    expect(events.stanzas.map((s) => s.el.name)).toEqual(['auth', 'iq']);
    expect(events.errors).toEqual([]);
  });

  test('framed: each frame is one element; open and close are stream events', () => {
    const { events, handler } = recorder();
    const parser = new StreamParser(handler, { maxStanzaSize: 1000, framed: true });
    parser.write("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>");
    parser.write("<iq xmlns='jabber:client' type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>");
    parser.write('<message><body>x</body></message>');
    parser.write("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
    expect(events.opens.map((o) => o.attrs.to)).toEqual(['localhost']);
    expect(events.stanzas.map((s) => [s.el.name, s.ns])).toEqual([
      ['iq', 'jabber:client'],
      ['message', 'jabber:client'],
    ]);
    expect(events.closes).toBe(1);
    expect(events.errors).toEqual([]);
  });

  test('framed: a frame with half an element or an oversized frame is refused', () => {
    const half = recorder();
    new StreamParser(half.handler, { maxStanzaSize: 1000, framed: true }).write('<message><body>');
    expect(half.events.errors.map((e) => e.condition)).toEqual(['not-well-formed']);
    const big = recorder();
    new StreamParser(big.handler, { maxStanzaSize: 100, framed: true }).write(`<message><body>${'x'.repeat(200)}</body></message>`);
    expect(big.events.errors.map((e) => e.condition)).toEqual(['policy-violation']);
  });

  test('parses a long run of small stanzas in big chunks', () => {
    const stanza =
      "<message to='bob@localhost/phone' type='chat' id='m1'><body>Hello there, how are you doing today?</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>";
    const n = 20000;
    const chunk = Buffer.from(stanza.repeat(10));
    const { events, handler } = recorder();
    let count = 0;
    handler.onStanza = () => count++;
    const parser = new StreamParser(handler, { maxStanzaSize: 262144 });
    parser.write(Buffer.from(HEADER));
    for (let i = 0; i < n / 10; i++) parser.write(chunk);
    expect(events.errors).toEqual([]);
    expect(count).toBe(n);
  });
});

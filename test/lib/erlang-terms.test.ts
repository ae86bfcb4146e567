import { ErlangSyntaxError, formatTerm, parseErlangTerms, termText, type Term } from '../../src/lib/erlang-terms';

/** The one term of `text`, without line numbers, so that expectations stay readable. */
function one(text: string): unknown {
  const terms = parseErlangTerms(text);
  expect(terms).toHaveLength(1);
  return strip(terms[0]);
}

function strip(t: Term): unknown {
  switch (t.type) {
    case 'tuple':
      return { tuple: t.items.map(strip) };
    case 'list':
      return t.tail ? { list: t.items.map(strip), tail: strip(t.tail) } : { list: t.items.map(strip) };
    case 'map':
      return { map: t.entries.map(([k, v]) => [strip(k), strip(v)]) };
    case 'binary':
      return { binary: t.value, bytes: [...t.bytes] };
    default:
      return { [t.type]: t.value };
  }
}

function syntaxError(text: string): { reason: string; line: number; column: number } {
  try {
    parseErlangTerms(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ErlangSyntaxError);
    const e = err as ErlangSyntaxError;
    expect(e.message).toBe(`line ${e.line}, column ${e.column}: ${e.reason}`);
    return { reason: e.reason, line: e.line, column: e.column };
  }
  throw new Error(`parsed without an error: ${text}`);
}

describe('parseErlangTerms: atoms and numbers', () => {
  test.each([
    ['plain atoms, with digits, _ and @', 'ejabberd@host_1.', { atom: 'ejabberd@host_1' }],
    ['a quoted atom with escapes', "'it''s'.", null],
    ['a quoted atom with a quote and a tab', "'it\\'s\\there'.", { atom: "it's\there" }],
    ['a Latin-1 atom', 'été.', { atom: 'été' }],
    ['an integer', '42.', { integer: 42 }],
    ['a negative integer, space after the sign', '- 42.', { integer: -42 }],
    ['a plus sign', '+7.', { integer: 7 }],
    ['a radix integer', '16#fF.', { integer: 255 }],
    ['a binary radix integer', '2#1010.', { integer: 10 }],
    ['digit separators', '1_000_000.', { integer: 1000000 }],
    ['a character literal', '$a.', { integer: 97 }],
    ['an escaped character literal', '$\\n.', { integer: 10 }],
    ['a space character literal', '$ .', { integer: 32 }],
    ['a float', '3.25.', { float: 3.25 }],
    ['a float with an exponent', '-1.5e-3.', { float: -0.0015 }],
    ['a float with a capital exponent', '2.0E2.', { float: 200 }],
  ])('%s', (_label, text, expected) => {
    if (expected === null) expect(() => parseErlangTerms(text)).toThrow(ErlangSyntaxError);
    else expect(one(text)).toEqual(expected);
  });
});

describe('parseErlangTerms: text', () => {
  test.each([
    ['a string', '"hello".', 'hello'],
    ['the empty string', '"".', ''],
    ['simple escapes', '"a\\n\\t\\r\\"\\\\\\s\\e\\d\\b\\f\\v".', 'a\n\t\r"\\ \x1b\x7f\b\f\v'],
    ['octal escapes, at most three digits', '"\\101\\1012\\7".', 'AA2\x07'],
    ['hexadecimal escapes', '"\\x41\\x{1F600}\\x{e9}".', 'A\u{1F600}é'],
    ['control escapes', '"\\^a\\^Z".', '\x01\x1a'],
    ['an unknown escape is the character itself', '"\\q".', 'q'],
    ['a new line inside the string', '"two\nlines".', 'two\nlines'],
    ['adjacent strings are one', '"ab" "cd"\n  "ef".', 'abcdef'],
    ['non-ASCII text', '"Zoë ☃".', 'Zoë ☃'],
  ])('%s', (_label, text, expected) => {
    expect(one(text)).toEqual({ string: expected });
  });

  test('binaries: text segments as UTF-8, bytes, /utf8, the empty binary', () => {
    expect(one('<<"bob">>.')).toEqual({ binary: 'bob', bytes: [98, 111, 98] });
    expect(one('<<"é"/utf8>>.')).toEqual({ binary: 'é', bytes: [0xc3, 0xa9] });
    expect(one('<<"é">>.')).toEqual({ binary: 'é', bytes: [0xc3, 0xa9] });
    expect(one('<<104, $i, "!">>.')).toEqual({ binary: 'hi!', bytes: [104, 105, 33] });
    expect(one('<<>>.')).toEqual({ binary: '', bytes: [] });
  });
});

describe('parseErlangTerms: structures', () => {
  test('tuples, lists and nesting', () => {
    expect(one('{a, [1, {b, "c"}], {}}.')).toEqual({
      tuple: [{ atom: 'a' }, { list: [{ integer: 1 }, { tuple: [{ atom: 'b' }, { string: 'c' }] }] }, { tuple: [] }],
    });
    expect(one('[].')).toEqual({ list: [] });
  });

  test('list tails: a proper tail joins the list, another stays a tail', () => {
    expect(one('[a | [b, c]].')).toEqual({ list: [{ atom: 'a' }, { atom: 'b' }, { atom: 'c' }] });
    expect(one('[a | "bc"].')).toEqual({ list: [{ atom: 'a' }, { integer: 98 }, { integer: 99 }] });
    expect(one('[a, b | c].')).toEqual({ list: [{ atom: 'a' }, { atom: 'b' }], tail: { atom: 'c' } });
  });

  test('maps', () => {
    expect(one('#{a => 1, "k" => [x]}.')).toEqual({
      map: [
        [{ atom: 'a' }, { integer: 1 }],
        [{ string: 'k' }, { list: [{ atom: 'x' }] }],
      ],
    });
    expect(one('#{}.')).toEqual({ map: [] });
  });

  test('several terms, comments anywhere, a byte order mark, and the line of each term', () => {
    const text =
      '\uFEFF% ejabberd.cfg\n{loglevel, 4}. % verbose\n\n{hosts, ["localhost",\n  % second host\n  "example.org"]}.\n{acl, admin, {user, "aleksey", "localhost"}}.';
    const terms = parseErlangTerms(text);
    expect(terms.map((t) => [t.line, formatTerm(t)])).toEqual([
      [2, '{loglevel,4}'],
      [4, '{hosts,["localhost","example.org"]}'],
      [7, '{acl,admin,{user,"aleksey","localhost"}}'],
    ]);
    const hosts = terms[1] as Extract<Term, { type: 'tuple' }>;
    const list = hosts.items[1] as Extract<Term, { type: 'list' }>;
    expect(list.items.map((t) => t.line)).toEqual([4, 6]);
  });

  test('an empty file, or one with only comments, holds no terms', () => {
    expect(parseErlangTerms('')).toEqual([]);
    expect(parseErlangTerms('% nothing here\n\n')).toEqual([]);
  });

  test('a dot may be followed by a comment or the end of the file', () => {
    expect(parseErlangTerms('a.%x\nb.').map(formatTerm)).toEqual(['a', 'b']);
  });

  test('an ejabberd.cfg listener survives a round trip through formatTerm', () => {
    const text =
      '{listen, [{5222, ejabberd_c2s, [{access, c2s}, {max_stanza_size, 65536}, starttls]}, {{0,0,0,0}, 5280, ejabberd_http, [{certfile, "/etc/ejabberd/server.pem"}]}]}.';
    const [t] = parseErlangTerms(text);
    expect(`${formatTerm(t)}.`).toBe(text.replace(/, /g, ','));
    expect(formatTerm(parseErlangTerms(`${formatTerm(t)}.`)[0])).toBe(formatTerm(t));
  });
});

describe('parseErlangTerms: errors name the line and column', () => {
  test.each([
    ['a missing final dot', '{a, b}', { line: 1, column: 7, reason: "the term that starts on line 1 does not end with '.'" }],
    ['a missing dot between terms', '{a}\n{b}.', { line: 2, column: 1, reason: "expected '.' after the term that starts on line 1, found '{'" }],
    [
      'a dot glued to the next term',
      '{a}.{b}.',
      { line: 1, column: 4, reason: "a '.' that ends a term must be followed by a space, a new line or the end of the file" },
    ],
    ['a missing comma', '{a\n  b}.', { line: 2, column: 3, reason: "expected ',' or '}', found 'b'" }],
    ['a tuple never closed', '\n[{a, b}.', { line: 2, column: 8, reason: "expected ',' or ']', found '.'" }],
    ['a list never closed at the end of the file', '[a, b', { line: 1, column: 1, reason: "'[' opened on line 1 is never closed" }],
    ['a string never closed', 'ok.\n{x, "abc}.\n', { line: 2, column: 5, reason: 'the string that starts here is never closed' }],
    ['a quoted atom never closed', "'abc", { line: 1, column: 1, reason: 'the quoted atom that starts here is never closed' }],
    ['a variable', '{user, Bob}.', { line: 1, column: 8, reason: "'Bob' is a variable: a data file holds only literal terms (quote it, 'Bob', for an atom)" }],
    ['an unexpected character', '{a, ;}.', { line: 1, column: 5, reason: "unexpected character ';'" }],
    ['a stray closing bracket', '].', { line: 1, column: 1, reason: "expected a term, found ']'" }],
    ['an empty term', '{a}.\n.', { line: 2, column: 1, reason: "expected a term, found '.'" }],
    ['a byte above 255 in a binary', '<<256>>.', { line: 1, column: 3, reason: 'the byte 256 of a binary is larger than 255' }],
    ['an atom inside a binary', '<<a>>.', { line: 1, column: 3, reason: "a binary holds strings and bytes (0 to 255), found 'a'" }],
    ['a bad radix', '40#1.', { line: 1, column: 1, reason: '40# is not a radix between 2 and 36' }],
    ['letters glued to a number', '12abc.', { line: 1, column: 3, reason: "unexpected 'a' after the number 12" }],
    [
      'an integer beyond 2^53',
      '9007199254740993.',
      { line: 1, column: 1, reason: 'the integer 9007199254740993 is too large (the limit is 9007199254740991)' },
    ],
    ['a bad hexadecimal escape', '"\\xZZ".', { line: 1, column: 4, reason: 'a \\x escape needs two hexadecimal digits' }],
    ['a map without =>', '#{a, b}.', { line: 1, column: 4, reason: "expected '=>' between a key and its value in a map, found ','" }],
    ['a sign without a number', '-a.', { line: 1, column: 2, reason: "expected a number after '-', found 'a'" }],
  ])('%s', (_label, text, expected) => {
    expect(syntaxError(text)).toEqual(expected);
  });

  test('nesting deeper than 512 levels is refused instead of overflowing the stack', () => {
    expect(syntaxError(`${'['.repeat(600)}${']'.repeat(600)}.`).reason).toBe('terms nested deeper than 512 levels');
    expect(() => parseErlangTerms(`${'['.repeat(500)}${']'.repeat(500)}.`)).not.toThrow();
  });
});

describe('termText and formatTerm', () => {
  const t = (text: string) => parseErlangTerms(text)[0];

  test('text comes from strings, binaries, atoms and lists of character codes', () => {
    expect(['"bob".', '<<"bob">>.', 'bob.', "'bob'.", '[98, 111, 98].', '[$b, $o | "b"].'].map((x) => termText(t(x)))).toEqual(Array(6).fill('bob'));
    expect(termText(t('[].'))).toBe('');
  });

  test('numbers, tuples, improper lists and lists of other things have no text', () => {
    expect(['42.', '{a}.', '[a].', '[98 | 99].', '[-1].', '#{}.'].map((x) => termText(t(x)))).toEqual(Array(6).fill(undefined));
  });

  test('formatTerm quotes atoms that need it and escapes text', () => {
    expect(formatTerm(t("{'Quoted atom', 'a-b', ok, 'it\\'s'}."))).toBe("{'Quoted atom','a-b',ok,'it\\'s'}");
    expect(formatTerm(t('["a\\"b\\\\c\\n", <<"x\\ty">>, 1.0, -2, [a | b], #{k => v}].'))).toBe('["a\\"b\\\\c\\n",<<"x\\ty">>,1.0,-2,[a|b],#{k => v}]');
    expect(formatTerm(t('"\\x{7}".'))).toBe('"\\x{7}"');
  });
});

import { execFileSync } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { checkNick, roomKey } from '../../src/features/muc/records';
import { nameprep, nodeprep } from '../../src/lib/jid';
import { PYTHON } from '../helpers/http-node';

/**
 * Nodeprep (RFC 3491 with RFC 6122's extra prohibitions) as Python's stringprep module has its
 * tables, over a fixed, seeded sample of characters of Unicode 3.2, the version it is defined on.
 * Characters nodeprep maps to nothing or that are format characters are left out of the sample:
 * those are refused here (see the tests below), and the bidirectional rule is not applied here,
 * so right-to-left characters are left out too.
 */
const ORACLE = String.raw`
import json, random, stringprep, unicodedata
u = unicodedata.ucd_3_2_0
EXTRA = set('"&\'/:<>@')
def prohibited(c):
    return (stringprep.in_table_c11(c) or stringprep.in_table_c12(c) or stringprep.in_table_c21(c) or stringprep.in_table_c22(c)
        or stringprep.in_table_c3(c) or stringprep.in_table_c4(c) or stringprep.in_table_c5(c) or stringprep.in_table_c6(c)
        or stringprep.in_table_c7(c) or stringprep.in_table_c8(c) or stringprep.in_table_c9(c) or c in EXTRA)
def nodeprep(s):
    s = ''.join(c for c in s if not stringprep.in_table_b1(c))
    s = u.normalize('NFKC', ''.join(stringprep.map_table_b2(c) for c in s))
    return None if s == '' or any(prohibited(c) for c in s) else s
pool = [chr(cp) for cp in range(0x20, 0x10000)
        if not 0xd800 <= cp <= 0xdfff and u.category(chr(cp)) not in ('Cn', 'Cf')
        and not stringprep.in_table_b1(chr(cp)) and not stringprep.in_table_d1(chr(cp))]
rng = random.Random(13)
cases = []
for i in range(4000):
    s = ''.join(rng.choice(pool) if rng.random() < 0.6 else rng.choice('abcXYZ09-._') for _ in range(rng.randint(1, 4)))
    cases.append([s, nodeprep(s)])
ascii = [chr(cp) for cp in range(0x20, 0x7f)]
for i in range(500):
    s = ''.join(rng.choice(ascii) for _ in range(rng.randint(1, 12)))
    cases.append([s, nodeprep(s)])
print(json.dumps(cases))
`;

test('user names are prepared as nodeprep prepares them, over a fixed sample of 4000 names and 500 in printable ASCII', () => {
  const cases = JSON.parse(execFileSync(PYTHON, ['-c', ORACLE], { maxBuffer: 1 << 24 }).toString()) as [string, string | null][];
  const ours = (s: string) => {
    try {
      return nodeprep(s);
    } catch {
      return null;
    }
  };
  const differ = cases
    .filter(([s, want]) => ours(s) !== want)
    .map(([s, want]) => ({ s, code: [...s].map((c) => c.codePointAt(0)!.toString(16)), want, got: ours(s) }));
  expect(differ).toEqual([]);
});

test.each([
  ['Alice.Liddell', 'alice.liddell'],
  ['4915112345678', '4915112345678'],
  ['straße', 'strasse'],
  ['STRASSE', 'strasse'],
  ['ΟΔΟΣ', 'οδοσ'],
  ['ﬁle', 'file'],
  ['Ⅻ', 'xii'],
  ['a\ufe0fb', 'ab'],
])('%s is prepared as %s', (name, prepared) => {
  expect(nodeprep(name)).toBe(prepared);
});

test.each([
  ['a\u0085b', 'U+0085'],
  ['a\u0080', 'U+0080'],
  ['a\u009fb', 'U+009F'],
  ['a\u200bb', 'U+200B'],
  ['a\u200cb', 'U+200C'],
  ['a\u200db', 'U+200D'],
  ['a\u200eb', 'U+200E'],
  ['a\u200fb', 'U+200F'],
  ['a\u202ab', 'U+202A'],
  ['admin\u202egpj', 'U+202E'],
  ['a\u2060b', 'U+2060'],
  ['a\u2066b', 'U+2066'],
  ['a\u2067b', 'U+2067'],
  ['a\u2068b', 'U+2068'],
  ['a\u2069b', 'U+2069'],
  ['\ufeffa', 'U+FEFF'],
  ['a\u00adb', 'U+00AD'],
  ['a\u2028b', 'U+2028'],
  ['a\u00a0b', 'U+00A0'],
  ['a\ue000b', 'U+E000'],
  ['a\ufffdb', 'U+FFFD'],
  ['a\ufdd0b', 'U+FDD0'],
  ['a\udc00b', 'U+DC00'],
  ['a\u{e0041}b', 'U+E0041'],
])('%j is refused, naming %s', (name, code) => {
  expect(() => nodeprep(name)).toThrow(`(user): a user name cannot contain ${code} (a control, format or invisible character)`);
});

test('the refused name is shown with its invisible characters written out', () => {
  expect(() => nodeprep('admin\u202egpj.exe')).toThrow("Invalid user name 'admin<U+202E>gpj.exe' (user)");
});

describe('room names and nicks refuse the same characters', () => {
  test.each(['a\u202eb', 'a\u200bb', 'a\u0085b', '\ufeffhall', 'a\u2066b'])('room %j', (name) => {
    expect(() => roomKey('conference.localhost', name)).toThrow(/\(name\): a user name cannot contain U\+[0-9A-F]{4}/);
  });

  test.each([
    ['Bob\u202e', 'U+202E'],
    ['B\u200bob', 'U+200B'],
    ['Bob\u0085', 'U+0085'],
    ['Bob\u2069', 'U+2069'],
    ['\u200fBob', 'U+200F'],
  ])('nick %j', (nick, code) => {
    expect(() => checkNick(nick)).toThrow(`The nick (nick) cannot contain ${code} (a control, format or invisible character)`);
  });

  test('a nick keeps its spaces and its case', () => {
    expect(() => checkNick('Bob Smith')).not.toThrow();
  });
});

test('a prepared name is a string of its own: it does not keep alive the text it was cut from', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  // Names of 13 characters and more are what V8 cuts as slices of their parent, a parser's chunk.
  const cut = (i: number, name: string) => {
    const chunk = `${'x'.repeat(1024 * 1024)}${name}${i}`;
    return chunk.slice(chunk.length - name.length - String(i).length);
  };
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept = Array.from({ length: 64 }, (_, i) => [nodeprep(cut(i, 'someone.longname')), nameprep(cut(i, 'conference.example.org'))]);
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  expect(kept[63]).toEqual(['someone.longname63', 'conference.example.org63']);
  // 128 chunks of 1 MB if the names kept them; a few kilobytes if not.
  expect(grown).toBeLessThan(16 * 1024 * 1024);
});

/**
 * The 33 `test`-tagged commands (mod_ecomm_test) on the command line: the bytes each prints in
 * ejabberdctl text format, its exit status, and the HTTP API's JSON shape of every result type.
 * Expected values come from reference/ejabberd-behaviour.md §1.5 and §6 and DESIGN.md §3.
 * Bad input, unicode and escaping are in test-commands-args.test.ts.
 */
import { allCommands } from '../../commands';
import { createRegistry } from '../../src/core/registry';
import { tempHome } from '../helpers/cli';

const home = tempHome();
afterAll(home.cleanup);

/** [argv, stdout, exit status]: stderr must stay empty. */
const TEXT: readonly [readonly string[], string, number][] = [
  // take_*: zero when the argument types match
  [['take_integer', '7'], '0\n', 0],
  [['take_integer_string', '7', 'abc'], '0\n', 0],
  [['take_list_integer', '1,2,3'], '0\n', 0],
  [['take_list_string', 'a,b'], '0\n', 0],
  [['take_string', 'hello'], '0\n', 0],
  [['take_tuple_2integer', '1:2'], '0\n', 0],
  [['take_tuple_2string', 'a:b'], '0\n', 0],
  // echo_*
  [['echo_integer', '42'], '42\n', 0],
  [['echo_integer', '-5'], '-5\n', 0],
  [['echo_string', 'hello'], 'hello\n', 0],
  [['echo_string', 'a b  c'], 'a b  c\n', 0],
  [['echo_integer_string', '5', 'a b'], '5\ta b\n', 0],
  [['echo_list_integer', '1,2,3'], '1\n2\n3\n', 0],
  [['echo_list_string', 'a,b,c'], 'a\nb\nc\n', 0],
  [['echo_integer_list_string', '3', 'a,b,c'], '3\ta,b,c\n', 0],
  [['echo_isatils', '2', 'hello', 'world', '2:a,b'], '2\thello\tworld\t2:a,b\n', 0],
  // tell_*
  [['tell_atom', '0'], 'zero\n', 0],
  [['tell_atom', '1'], 'one\n', 0],
  [['tell_atom', '5'], 'greater_than_one\n', 0],
  [['tell_rescode', '0'], '', 0],
  [['tell_rescode', '1'], '', 0],
  [['tell_rescode', '2'], '', 1],
  [['tell_rescode', '3'], '', 1],
  [['tell_rescode', '4'], '', 1],
  [['tell_restuple', '0'], 'All OK\n', 0],
  [['tell_restuple', '1'], 'Successful result\n', 0],
  [['tell_tuple_3integer'], '123\t456\t789\n', 0],
  [['tell_tuple_3string'], 'Tell\tme\ta tuple please\n', 0],
  [['tell_tuple_3atom'], 'ok\tworks\tperfectly\n', 0],
  [['tell_tuple_3list'], '1,23,456\tTell,me\tall,is,ok\n', 0],
  [['tell_list_3integer'], '123\n456\n789\n', 0],
  [['tell_list_3string'], 'Tell\nme\na tuple please\n', 0],
  [['tell_list_3atom'], 'ok\nworks\nperfectly\n', 0],
  [['tell_list_3tuple'], '123\tabcdefghijkl\tfirst\n593\tthis string\tmorning\n999\tSleeping dog\tnot_seen\n', 0],
  // the realistic ones
  [['pow', '2', '10'], '1024\n', 0],
  [['pow', '3', '0'], '1\n', 0],
  [['pow', '2', '-1'], '1\n', 0],
  [['pow', '2', '-2'], '0\n', 0],
  [['pow', '-3', '3'], '-27\n', 0],
  [['seq', '1', '5'], '1\n2\n3\n4\n5\n', 0],
  [['seq', '-2', '1'], '-2\n-1\n0\n1\n', 0],
  [['seq', '4', '4'], '4\n', 0],
  [['seq', '5', '4'], '', 0],
  [['substrs', 'stick'], 's\nst\nsti\nstic\nstick\n', 0],
  [['splitjid', 'user@example.org/res'], 'user\texample.org\tres\n', 0],
  [['splitjid', 'user@example.org'], 'user\texample.org\t\n', 0],
  [['splitjid', 'example.org'], '\texample.org\t\n', 0],
  [['splitjids', 'a@b.org/r1,c@d.org/r2'], 'a\tb.org\tr1\nc\td.org\tr2\n', 0],
];

test.each(TEXT)('text: ctl %j', async (argv, stdout, status) => {
  expect(await home.ctl(argv)).toEqual({ status, stdout, stderr: '' });
});

test('every test-tagged command has a text case above', () => {
  const tagged = createRegistry(allCommands)
    .tags()
    .get('test')!
    .map((c) => c.name);
  expect(tagged).toHaveLength(33);
  const covered = new Set(TEXT.map(([argv]) => argv[0]));
  for (const name of ['this_crashes', 'this_wrong_args', 'this_wrong_return']) covered.add(name);
  expect(tagged.filter((n) => !covered.has(n))).toEqual([]);
});

test("echo_isatils echoes its tuple as given (the contract, not mod_ecomm_test's listlen bug)", async () => {
  expect(await home.ctl(['echo_isatils', '7', 'hello', 'world', '2:a,b'])).toEqual({ status: 0, stdout: '7\thello\tworld\t2:a,b\n', stderr: '' });
});

test('tell_restuple 2 fails with its message on stderr', async () => {
  expect(await home.ctl(['tell_restuple', '2'])).toEqual({ status: 1, stdout: '', stderr: 'Error: This is an error message\n' });
});

describe('commands that fail on purpose', () => {
  const CASES: readonly (readonly string[])[] = [['this_crashes', '5'], ['this_wrong_args', '1', '2'], ['this_wrong_return']];

  test.each(CASES)('ctl %s: one clean error line, exit 1, no stack', async (...argv) => {
    const r = await home.ctl(argv);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Error: [^\n]+\n$/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test.each(CASES)('ctl %s --debug: the stack trace appears', async (...argv) => {
    const r = await home.ctl([...argv, '--debug']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Error: [^\n]+\n/);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  test('this_wrong_return does not print the string it returned', async () => {
    const r = await home.ctl(['this_wrong_return']);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toContain('this is a string\n');
  });
});

/** [argv, JSON text]; exit 0 unless given. */
const JSON_SHAPES: readonly [readonly string[], string, number?][] = [
  // integer, string, atom scalars: {"name": value}
  [['echo_integer', '42'], '{"thatinteger":42}'],
  [['take_integer', '7'], '{"zero":0}'],
  [['take_integer_string', '7', 'abc'], '{"zero":0}'],
  [['take_list_integer', '1,2'], '{"zero":0}'],
  [['take_list_string', 'a,b'], '{"zero":0}'],
  [['take_string', 'x'], '{"zero":0}'],
  [['take_tuple_2integer', '1:2'], '{"zero":0}'],
  [['take_tuple_2string', 'a:b'], '{"zero":0}'],
  [['pow', '2', '10'], '{"power":1024}'],
  [['echo_string', 'hello world'], '{"thatstring":"hello world"}'],
  [['tell_atom', '5'], '{"thisatom":"greater_than_one"}'],
  // rescode true/false (the HTTP API answers 0/1), restuple its text
  [['tell_rescode', '0'], 'true'],
  [['tell_rescode', '1'], 'true'],
  [['tell_rescode', '2'], 'false', 1],
  [['tell_rescode', '3'], 'false', 1],
  [['tell_rescode', '4'], 'false', 1],
  [['tell_restuple', '0'], '"All OK"'],
  [['tell_restuple', '1'], '"Successful result"'],
  // lists: arrays
  [['echo_list_integer', '1,2,3'], '[1,2,3]'],
  [['echo_list_string', 'a,b'], '["a","b"]'],
  [['tell_list_3integer'], '[123,456,789]'],
  [['tell_list_3string'], '["Tell","me","a tuple please"]'],
  [['tell_list_3atom'], '["ok","works","perfectly"]'],
  [['seq', '1', '3'], '[1,2,3]'],
  [['seq', '5', '4'], '[]'],
  [['substrs', 'abc'], '["a","ab","abc"]'],
  // tuples: objects keyed by field name
  [['echo_integer_string', '5', 'a b'], '{"thisinteger":5,"thisstring":"a b"}'],
  [['echo_integer_list_string', '3', 'a,b'], '{"thatinteger":3,"thatlist":["a","b"]}'],
  [['echo_isatils', '2', 's', 'at', '2:x,y'], '{"thatinteger":2,"thatstring":"s","thatatom":"at","thattuple":{"listlen":2,"thatlist":["x","y"]}}'],
  [['tell_tuple_3integer'], '{"first":123,"second":456,"third":789}'],
  [['tell_tuple_3string'], '{"first":"Tell","second":"me","third":"a tuple please"}'],
  [['tell_tuple_3atom'], '{"first":"ok","second":"works","third":"perfectly"}'],
  [['tell_tuple_3list'], '{"first":[1,23,456],"second":["Tell","me"],"third":["all","is","ok"]}'],
  [['splitjid', 'u@example.org/r'], '{"user":"u","server":"example.org","resource":"r"}'],
  // lists of tuples: arrays of objects
  [['splitjids', 'a@b.org/r1,c@d.org'], '[{"user":"a","server":"b.org","resource":"r1"},{"user":"c","server":"d.org","resource":""}]'],
  [
    ['tell_list_3tuple'],
    '[{"thisinteger":123,"thistring":"abcdefghijkl","thisatom":"first"},' +
      '{"thisinteger":593,"thistring":"this string","thisatom":"morning"},' +
      '{"thisinteger":999,"thistring":"Sleeping dog","thisatom":"not_seen"}]',
  ],
];

test.each(JSON_SHAPES)('json: ctl %j', async (argv, json, status = 0) => {
  expect(await home.ctl([...argv, '--format', 'json'])).toEqual({ status, stdout: `${json}\n`, stderr: '' });
});

test('json: a failed restuple is a JSON error on stderr, not JSON on stdout', async () => {
  expect(await home.ctl(['tell_restuple', '2', '--format', 'json'])).toEqual({
    status: 1,
    stdout: '',
    stderr: '{"error":"failed","message":"This is an error message"}\n',
  });
});

test('json: a crash is still a one-line error, in JSON', async () => {
  const r = await home.ctl(['this_crashes', '1', '--format', 'json']);
  expect(r.status).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^\{"error":"internal","message":"[^\n]+"\}\n$/);
});

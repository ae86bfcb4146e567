/**
 * Arguments of the `test` commands on the command line: arity and type errors (exit 2 with the
 * argument named and the usage line), list and tuple syntax (`a,b`, `a:b`, JSON), unicode, and
 * the escaping of TAB, newline and backslash inside records (DESIGN.md §3).
 */
import { tempHome } from '../helpers/cli';

const home = tempHome();
afterAll(home.cleanup);

/** A usage error: exit 2, nothing on stdout, the first line names ARG, then the usage line. */
async function expectUsageError(argv: readonly string[], arg: string, usage: string): Promise<void> {
  const r = await home.ctl(argv);
  expect(r.status).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n');
  expect(lines[0]).toMatch(/^Error: /);
  expect(lines[0]).toContain(arg);
  expect(r.stderr.endsWith(`\nUsage: ${usage}\n`)).toBe(true);
}

describe('argument count', () => {
  test.each([
    [['echo_integer'], 'thisinteger', 'ctl echo_integer thisinteger'],
    [['echo_integer_string', '5'], 'thisstring', 'ctl echo_integer_string thisinteger thisstring'],
    [['pow', '2'], 'exponent', 'ctl pow base exponent'],
    [['take_tuple_2integer'], 'thistuple', 'ctl take_tuple_2integer thistuple'],
    [['echo_isatils', '1', 's', 'a'], 'thistuple', 'ctl echo_isatils thisinteger thisstring thisatom thistuple'],
    [['this_wrong_args', '1'], 'b', 'ctl this_wrong_args a b'],
  ])('missing: ctl %j names %s', async (argv, arg, usage) => {
    await expectUsageError(argv, `'${arg}'`, usage);
  });

  test.each([
    [['echo_integer', '1', '2'], 'ctl echo_integer thisinteger'],
    [['tell_list_3integer', 'extra'], 'ctl tell_list_3integer'],
    [['this_wrong_return', 'x'], 'ctl this_wrong_return'],
    [['splitjid', 'a@b', 'c@d'], 'ctl splitjid jid'],
  ])('extra: ctl %j is a usage error', async (argv, usage) => {
    const r = await home.ctl(argv);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Error: [^\n]+\nUsage: /);
    expect(r.stderr.endsWith(`\nUsage: ${usage}\n`)).toBe(true);
  });
});

describe('integers are whole decimal numbers', () => {
  test.each(['12abc', '1.5', '', 'abc', '0x10', '1e3', ' 12', '1 2'])('echo_integer %j is a usage error', async (word) => {
    await expectUsageError(['echo_integer', word], "'thisinteger'", 'ctl echo_integer thisinteger');
  });

  test('a bad second integer names the second argument', async () => {
    await expectUsageError(['pow', '2', '3x'], "'exponent'", 'ctl pow base exponent');
  });

  test('an integer beyond 2^53-1 is refused, the largest exact one accepted', async () => {
    await expectUsageError(['echo_integer', '9007199254740992'], "'thisinteger'", 'ctl echo_integer thisinteger');
    expect(await home.ctl(['echo_integer', '9007199254740991'])).toEqual({ status: 0, stdout: '9007199254740991\n', stderr: '' });
  });

  test('inside a list or a tuple too', async () => {
    await expectUsageError(['echo_list_integer', '1,2x,3'], "'thislist'", 'ctl echo_list_integer thislist');
    await expectUsageError(['echo_list_integer', '1,2.5'], "'thislist'", 'ctl echo_list_integer thislist');
    await expectUsageError(['take_tuple_2integer', '1:x'], "'thistuple'", 'ctl take_tuple_2integer thistuple');
  });
});

describe('lists', () => {
  test.each([
    [['echo_list_integer', '[1,2,3]'], '1\n2\n3\n'],
    [['echo_list_integer', '[1, 2, 3]'], '1\n2\n3\n'],
    [['echo_list_integer', ' [4]'], '4\n'],
    [['echo_list_integer', '7'], '7\n'],
    [['echo_list_string', '["a,b","c d"]'], 'a,b\nc d\n'],
    [['echo_list_string', 'one'], 'one\n'],
    [['take_list_integer', '[1,2]'], '0\n'],
    [['take_list_string', '["x"]'], '0\n'],
    [['echo_integer_list_string', '2', '["a","b"]'], '2\ta,b\n'],
    [['splitjids', '["a@b.org/r"]'], 'a\tb.org\tr\n'],
  ])('ctl %j', async (argv, stdout) => {
    expect(await home.ctl(argv)).toEqual({ status: 0, stdout, stderr: '' });
  });

  test('an empty word is an empty list: nothing printed, exit 0', async () => {
    expect(await home.ctl(['echo_list_integer', ''])).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(await home.ctl(['echo_list_integer', '[]'])).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  test.each(['[1,2', '[1,"x"]', '[[1]]', '[1.5]'])('echo_list_integer %j is a usage error', async (word) => {
    await expectUsageError(['echo_list_integer', word], 'thislist', 'ctl echo_list_integer thislist');
  });
});

describe('tuples', () => {
  test.each([
    [['take_tuple_2integer', '{"thisinteger1":1,"thisinteger2":2}'], '0\n'],
    [['take_tuple_2string', '{"thisstring1":"a","thisstring2":"b"}'], '0\n'],
    [['echo_isatils', '1', 's', 'at', '{"listlen":3,"thislist":["x","y"]}'], '1\ts\tat\t3:x,y\n'],
    [['echo_isatils', '1', 's', 'at', '0:'], '1\ts\tat\t0:\n'],
  ])('ctl %j', async (argv, stdout) => {
    expect(await home.ctl(argv)).toEqual({ status: 0, stdout, stderr: '' });
  });

  test.each(['1', '1:2:3', ':', '[1,2]', '{"thisinteger1":1}', '{"thisinteger1":1,"thisinteger2":2,"x":3}', '{"thisinteger1":1,'])(
    'take_tuple_2integer %j (wrong fields or syntax) is a usage error',
    async (word) => {
      await expectUsageError(['take_tuple_2integer', word], 'thistuple', 'ctl take_tuple_2integer thistuple');
    },
  );

  test('take_tuple_2string with one field is a usage error', async () => {
    await expectUsageError(['take_tuple_2string', 'onlyone'], "'thistuple'", 'ctl take_tuple_2string thistuple');
  });
});

describe('unicode', () => {
  test('strings pass through unchanged', async () => {
    expect(await home.ctl(['echo_string', 'héllo wörld 😀 日本'])).toEqual({ status: 0, stdout: 'héllo wörld 😀 日本\n', stderr: '' });
    expect(await home.ctl(['echo_list_string', 'ä,😀,日本'])).toEqual({ status: 0, stdout: 'ä\n😀\n日本\n', stderr: '' });
  });

  test('substrs splits a word with emoji between characters, never inside one', async () => {
    expect(await home.ctl(['substrs', 'añ😀b'])).toEqual({ status: 0, stdout: 'a\nañ\nañ😀\nañ😀b\n', stderr: '' });
    expect(await home.ctl(['substrs', '😀😀'])).toEqual({ status: 0, stdout: '😀\n😀😀\n', stderr: '' });
  });

  test('splitjid with non-ASCII parts', async () => {
    expect(await home.ctl(['splitjid', 'jörg@exämple.org/résource 😀'])).toEqual({
      status: 0,
      stdout: 'jörg\texämple.org\trésource 😀\n',
      stderr: '',
    });
  });

  test('json output keeps the characters', async () => {
    expect(await home.ctl(['substrs', 'é😀', '--format', 'json'])).toEqual({ status: 0, stdout: '["é","é😀"]\n', stderr: '' });
  });
});

describe('TAB, newline and backslash', () => {
  const nasty = 'a\tb\nc\\d';

  test('a top-level string prints raw', async () => {
    expect(await home.ctl(['echo_string', nasty])).toEqual({ status: 0, stdout: 'a\tb\nc\\d\n', stderr: '' });
  });

  test('inside a tuple record they are escaped', async () => {
    expect(await home.ctl(['echo_integer_string', '5', nasty])).toEqual({ status: 0, stdout: '5\ta\\tb\\nc\\\\d\n', stderr: '' });
    expect(await home.ctl(['splitjid', 'u@example.org/r\\x\ty'])).toEqual({ status: 0, stdout: 'u\texample.org\tr\\\\x\\ty\n', stderr: '' });
  });

  test('inside list elements they are escaped, one element per line', async () => {
    expect(await home.ctl(['echo_list_string', '["a\\tb","c\\nd","e\\\\f"]'])).toEqual({ status: 0, stdout: 'a\\tb\nc\\nd\ne\\\\f\n', stderr: '' });
    expect(await home.ctl(['echo_list_string', 'x\ty,z'])).toEqual({ status: 0, stdout: 'x\\ty\nz\n', stderr: '' });
  });

  test('inside a nested list of a tuple they are escaped too', async () => {
    expect(await home.ctl(['echo_integer_list_string', '1', '["p\\tq","r"]'])).toEqual({ status: 0, stdout: '1\tp\\tq,r\n', stderr: '' });
  });

  test('json output carries the raw value', async () => {
    expect(await home.ctl(['echo_integer_string', '5', nasty, '--format', 'json'])).toEqual({
      status: 0,
      stdout: '{"thisinteger":5,"thisstring":"a\\tb\\nc\\\\d"}\n',
      stderr: '',
    });
  });
});

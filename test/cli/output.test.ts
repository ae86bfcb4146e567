/**
 * Output formats of the command line (DESIGN.md §3): text (ejabberdctl's, the default on a
 * pipe), tsv (text with a header line), json (the HTTP API's shape), table (cli-table3, the
 * default on a terminal); colour only on a terminal and never with NO_COLOR; empty results
 * print nothing; rescode and restuple set the exit status in every format.
 */
import { tempHome } from '../helpers/cli';

const home = tempHome();
afterAll(home.cleanup);

const ESC = '\u001b[';

const TUPLES_TABLE =
  '┌─────────────┬──────────────┬──────────┐\n' +
  '│ thisinteger │ thistring    │ thisatom │\n' +
  '├─────────────┼──────────────┼──────────┤\n' +
  '│ 123         │ abcdefghijkl │ first    │\n' +
  '├─────────────┼──────────────┼──────────┤\n' +
  '│ 593         │ this string  │ morning  │\n' +
  '├─────────────┼──────────────┼──────────┤\n' +
  '│ 999         │ Sleeping dog │ not_seen │\n' +
  '└─────────────┴──────────────┴──────────┘\n';

const TUPLE_TABLE =
  '┌───────┬────────┬───────┐\n' +
  '│ first │ second │ third │\n' +
  '├───────┼────────┼───────┤\n' +
  '│ 123   │ 456    │ 789   │\n' +
  '└───────┴────────┴───────┘\n';

const TUPLES_TEXT = '123\tabcdefghijkl\tfirst\n593\tthis string\tmorning\n999\tSleeping dog\tnot_seen\n';

function strip(s: string): string {
  return s.replace(/\u001b\[[0-9;]*m/g, '');
}

describe('text (the default when stdout is not a terminal)', () => {
  test('no --format and --format text print the same ejabberdctl bytes', async () => {
    expect(await home.ctl(['tell_list_3tuple'])).toEqual({ status: 0, stdout: TUPLES_TEXT, stderr: '' });
    expect(await home.ctl(['tell_list_3tuple', '--format', 'text'])).toEqual({ status: 0, stdout: TUPLES_TEXT, stderr: '' });
    expect(await home.ctl(['--format', 'text', 'tell_tuple_3integer'])).toEqual({ status: 0, stdout: '123\t456\t789\n', stderr: '' });
  });

  test('--format text on a terminal still prints plain text, without colour', async () => {
    expect(await home.ctl(['tell_list_3tuple', '--format', 'text'], { tty: true })).toEqual({ status: 0, stdout: TUPLES_TEXT, stderr: '' });
  });

  test('a pipe never gets colour, even for errors', async () => {
    const r = await home.ctl(['tell_restuple', '2']);
    expect(r).toEqual({ status: 1, stdout: '', stderr: 'Error: This is an error message\n' });
  });
});

describe('tsv', () => {
  test.each([
    [['tell_list_3tuple'], 'thisinteger\tthistring\tthisatom\n' + TUPLES_TEXT],
    [['tell_tuple_3integer'], 'first\tsecond\tthird\n123\t456\t789\n'],
    [['tell_tuple_3list'], 'first\tsecond\tthird\n1,23,456\tTell,me\tall,is,ok\n'],
    [['splitjids', 'a@b.org/r,c@d.org'], 'user\tserver\tresource\na\tb.org\tr\nc\td.org\t\n'],
    [['tell_list_3integer'], 'thisinteger\n123\n456\n789\n'],
    [['substrs', 'ab'], 'miniword\na\nab\n'],
    [['echo_integer', '5'], 'thatinteger\n5\n'],
    [['tell_atom', '1'], 'thisatom\none\n'],
    [['echo_string', 'hi there'], 'thatstring\nhi there\n'],
  ])('ctl %j --format tsv', async (argv, stdout) => {
    expect(await home.ctl([...argv, '--format', 'tsv'])).toEqual({ status: 0, stdout, stderr: '' });
  });

  test('values are escaped once: TAB, newline, backslash', async () => {
    expect(await home.ctl(['echo_integer_string', '5', 'a\tb\\c', '--format', 'tsv'])).toEqual({
      status: 0,
      stdout: 'thisinteger\tthisstring\n5\ta\\tb\\\\c\n',
      stderr: '',
    });
    expect(await home.ctl(['echo_string', 'x\ny', '--format', 'tsv'])).toEqual({ status: 0, stdout: 'thatstring\nx\\ny\n', stderr: '' });
  });

  test('on a terminal, tsv is still plain tsv', async () => {
    expect(await home.ctl(['tell_tuple_3integer', '--format', 'tsv'], { tty: true })).toEqual({
      status: 0,
      stdout: 'first\tsecond\tthird\n123\t456\t789\n',
      stderr: '',
    });
  });
});

describe('json', () => {
  test('one line of JSON plus a newline', async () => {
    expect(await home.ctl(['tell_tuple_3list', '--format', 'json'])).toEqual({
      status: 0,
      stdout: '{"first":[1,23,456],"second":["Tell","me"],"third":["all","is","ok"]}\n',
      stderr: '',
    });
  });

  test('empty values are still JSON', async () => {
    expect(await home.ctl(['seq', '5', '4', '--format', 'json'])).toEqual({ status: 0, stdout: '[]\n', stderr: '' });
    expect(await home.ctl(['echo_string', '', '--format', 'json'])).toEqual({ status: 0, stdout: '{"thatstring":""}\n', stderr: '' });
  });

  test('on a terminal json is the same bytes, never coloured', async () => {
    expect(await home.ctl(['tell_list_3integer', '--format', 'json'], { tty: true })).toEqual({ status: 0, stdout: '[123,456,789]\n', stderr: '' });
  });

  test('--format=json is accepted too', async () => {
    expect(await home.ctl(['echo_integer', '3', '--format=json'])).toEqual({ status: 0, stdout: '{"thatinteger":3}\n', stderr: '' });
  });
});

describe('table', () => {
  test('--format table on a pipe draws the table without colour', async () => {
    expect(await home.ctl(['tell_list_3tuple', '--format', 'table'])).toEqual({ status: 0, stdout: TUPLES_TABLE, stderr: '' });
    expect(await home.ctl(['tell_tuple_3integer', '--format', 'table'])).toEqual({ status: 0, stdout: TUPLE_TABLE, stderr: '' });
  });

  test('a terminal defaults to a table; NO_COLOR gives the plain bytes', async () => {
    const env = { NO_COLOR: '1' };
    expect(await home.ctl(['tell_list_3tuple'], { tty: true, env })).toEqual({ status: 0, stdout: TUPLES_TABLE, stderr: '' });
    expect(await home.ctl(['tell_tuple_3integer'], { tty: true, env })).toEqual({ status: 0, stdout: TUPLE_TABLE, stderr: '' });
  });

  test('a terminal without NO_COLOR colours the table headers', async () => {
    const r = await home.ctl(['tell_list_3tuple'], { tty: true, env: {} });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(ESC);
    expect(strip(r.stdout)).toBe(TUPLES_TABLE);
  });

  test('a terminal without NO_COLOR colours the error label; NO_COLOR does not', async () => {
    const coloured = await home.ctl(['tell_restuple', '2'], { tty: true, env: {} });
    expect(coloured.status).toBe(1);
    expect(coloured.stderr).toContain(ESC);
    expect(strip(coloured.stderr)).toBe('Error: This is an error message\n');
    expect(await home.ctl(['tell_restuple', '2'], { tty: true, env: { NO_COLOR: '1' } })).toEqual({
      status: 1,
      stdout: '',
      stderr: 'Error: This is an error message\n',
    });
  });

  test.each([
    [['echo_integer', '5'], '5\n'],
    [['echo_string', 'hello'], 'hello\n'],
    [['tell_atom', '0'], 'zero\n'],
    [['tell_list_3integer'], '123\n456\n789\n'],
    [['tell_list_3string'], 'Tell\nme\na tuple please\n'],
    [['tell_restuple', '0'], 'All OK\n'],
  ])('results that are not tuples print as plain text: ctl %j', async (argv, stdout) => {
    expect(await home.ctl([...argv, '--format', 'table'])).toEqual({ status: 0, stdout, stderr: '' });
    expect(await home.ctl(argv, { tty: true, env: { NO_COLOR: '1' } })).toEqual({ status: 0, stdout, stderr: '' });
  });

  test('scalars on a colour terminal carry no escapes', async () => {
    expect(await home.ctl(['echo_integer', '5'], { tty: true, env: {} })).toEqual({ status: 0, stdout: '5\n', stderr: '' });
  });
});

describe('empty results print nothing', () => {
  test.each([[['seq', '5', '4']], [['echo_list_integer', '']], [['echo_list_string', '[]']], [['splitjids', '[]']], [['echo_string', '']]])(
    'ctl %j',
    async (argv) => {
      expect(await home.ctl(argv)).toEqual({ status: 0, stdout: '', stderr: '' });
      expect(await home.ctl([...argv, '--format', 'table'])).toEqual({ status: 0, stdout: '', stderr: '' });
      expect(await home.ctl(argv, { tty: true })).toEqual({ status: 0, stdout: '', stderr: '' });
    },
  );
});

describe('rescode and restuple set the exit status in every format', () => {
  test.each(['text', 'tsv', 'table'])('--format %s: rescode prints nothing', async (format) => {
    for (const [n, status] of [
      ['0', 0],
      ['1', 0],
      ['2', 1],
      ['3', 1],
      ['4', 1],
    ] as const) {
      expect(await home.ctl(['tell_rescode', n, '--format', format])).toEqual({ status, stdout: '', stderr: '' });
    }
  });

  test('json: rescode prints 0 or 1 and sets the status', async () => {
    expect(await home.ctl(['tell_rescode', '1', '--format', 'json'])).toEqual({ status: 0, stdout: '0\n', stderr: '' });
    expect(await home.ctl(['tell_rescode', '3', '--format', 'json'])).toEqual({ status: 1, stdout: '1\n', stderr: '' });
  });

  test.each(['text', 'tsv', 'table', 'json'])('--format %s: restuple', async (format) => {
    const ok = await home.ctl(['tell_restuple', '1', '--format', format]);
    expect(ok).toEqual({ status: 0, stdout: format === 'json' ? '"Successful result"\n' : 'Successful result\n', stderr: '' });
    expect(await home.ctl(['tell_restuple', '2', '--format', format])).toEqual({ status: 1, stdout: '', stderr: 'Error: This is an error message\n' });
  });

  test('a rescode on a terminal prints nothing either', async () => {
    expect(await home.ctl(['tell_rescode', '2'], { tty: true })).toEqual({ status: 1, stdout: '', stderr: '' });
  });
});

test('an unknown --format is a usage error', async () => {
  const r = await home.ctl(['echo_integer', '1', '--format', 'xml']);
  expect(r.status).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^Error: .*--format.*'xml'/);
});

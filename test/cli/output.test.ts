/**
 * Output formats of the command line (DESIGN.md §3): text (ejabberdctl's, the default on a
 * pipe), tsv (text with a header line), json (the HTTP API's shape, a rescode as a boolean,
 * failures as JSON on stderr), table (cli-table3, the default on a terminal, fitted to its
 * width, no rules between rows); colour only on a terminal, never with a non-empty NO_COLOR,
 * and as FORCE_COLOR says; empty results print nothing; rescode and restuple set the exit status
 * in every format.
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
  '│ 593         │ this string  │ morning  │\n' +
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

  test('json: rescode prints true or false and sets the status', async () => {
    expect(await home.ctl(['tell_rescode', '1', '--format', 'json'])).toEqual({ status: 0, stdout: 'true\n', stderr: '' });
    expect(await home.ctl(['tell_rescode', '0', '--format', 'json'])).toEqual({ status: 0, stdout: 'true\n', stderr: '' });
    expect(await home.ctl(['tell_rescode', '3', '--format', 'json'])).toEqual({ status: 1, stdout: 'false\n', stderr: '' });
    expect(await home.ctl(['tell_rescode', '2', '--format', 'json'])).toEqual({ status: 1, stdout: 'false\n', stderr: '' });
  });

  test.each(['text', 'tsv', 'table', 'json'])('--format %s: restuple', async (format) => {
    const ok = await home.ctl(['tell_restuple', '1', '--format', format]);
    expect(ok).toEqual({ status: 0, stdout: format === 'json' ? '"Successful result"\n' : 'Successful result\n', stderr: '' });
    const error = format === 'json' ? '{"error":"failed","message":"This is an error message"}\n' : 'Error: This is an error message\n';
    expect(await home.ctl(['tell_restuple', '2', '--format', format])).toEqual({ status: 1, stdout: '', stderr: error });
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

describe('--format json reports failures as JSON on stderr', () => {
  test('a usage error names its code, message, argument and usage line; status 2', async () => {
    expect(await home.ctl(['echo_integer', 'x', '--format', 'json'])).toEqual({
      status: 2,
      stdout: '',
      stderr:
        '{"error":"bad_argument","message":"Bad value for argument \'thisinteger\': expected a whole number, got \'x\'","argument":"thisinteger","usage":"ctl echo_integer thisinteger"}\n',
    });
  });

  test('a command that is not known, even before the line is parsed', async () => {
    const r = await home.ctl(['--format', 'json', 'echo_integr', '1']);
    expect(r).toEqual({
      status: 1,
      stdout: '',
      stderr: '{"error":"unknown_command","message":"Unknown command \'echo_integr\'. Did you mean \'echo_integer\'?","suggestion":"echo_integer"}\n',
    });
  });

  test('--format=json too, and the not-found of a data command', async () => {
    expect(await home.ctl(['check_account', 'nobody', 'localhost', '--format=json'])).toEqual({ status: 1, stdout: 'false\n', stderr: '' });
    const r = await home.ctl(['get_vcard', 'nobody', 'localhost', 'FN', '--format=json']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr)).toEqual({ error: 'not_found', message: expect.any(String) });
  });

  test('ctl batch: one JSON object per failing line, with its number', async () => {
    const r = await home.ctl(['batch', '--format', 'json'], { stdin: 'echo_integer 4\necho_integer four\ntell_rescode 3\n' });
    expect(r).toEqual({
      status: 1,
      stdout: '{"thatinteger":4}\nfalse\n',
      stderr:
        '{"line":2,"error":"bad_argument","message":"Bad value for argument \'thisinteger\': expected a whole number, got \'four\'","argument":"thisinteger","usage":"ctl echo_integer thisinteger"}\n' +
        '{"line":3,"error":"failed","message":"tell_rescode answered false"}\n',
    });
  });

  test('without --format json, errors stay sentences', async () => {
    expect(await home.ctl(['echo_integer', 'x'])).toEqual({
      status: 2,
      stdout: '',
      stderr: "Error: Bad value for argument 'thisinteger': expected a whole number, got 'x'\nUsage: ctl echo_integer thisinteger\n",
    });
  });
});

describe('colour: NO_COLOR and FORCE_COLOR', () => {
  test('an empty NO_COLOR is no NO_COLOR: a terminal still gets colour', async () => {
    const r = await home.ctl(['tell_list_3tuple'], { tty: true, env: { NO_COLOR: '' } });
    expect(r.stdout).toContain(ESC);
    expect(strip(r.stdout)).toBe(TUPLES_TABLE);
  });

  test('FORCE_COLOR colours a pipe: the table headers and the error label', async () => {
    const r = await home.ctl(['tell_list_3tuple', '--format', 'table'], { env: { FORCE_COLOR: '1' } });
    expect(r.stdout).toBe(TUPLES_TABLE.replace(/(thisinteger|thistring|thisatom)/g, `${ESC}36m$1${ESC}39m`));
    const e = await home.ctl(['tell_restuple', '2'], { env: { FORCE_COLOR: '1' } });
    expect(e).toEqual({ status: 1, stdout: '', stderr: `${ESC}31m${ESC}1mError:${ESC}22m${ESC}39m This is an error message\n` });
  });

  test('FORCE_COLOR wins over NO_COLOR; FORCE_COLOR=0 or false turns colour off on a terminal', async () => {
    expect((await home.ctl(['tell_restuple', '2'], { env: { FORCE_COLOR: 'true', NO_COLOR: '1' } })).stderr).toContain(ESC);
    for (const FORCE_COLOR of ['0', 'false']) {
      expect(await home.ctl(['tell_list_3tuple'], { tty: true, env: { FORCE_COLOR } })).toEqual({ status: 0, stdout: TUPLES_TABLE, stderr: '' });
    }
  });

  test('an empty FORCE_COLOR forces nothing', async () => {
    expect(await home.ctl(['tell_restuple', '2'], { env: { FORCE_COLOR: '' } })).toEqual({
      status: 1,
      stdout: '',
      stderr: 'Error: This is an error message\n',
    });
  });

  test('text, tsv and json stay plain even when colour is forced', async () => {
    const env = { FORCE_COLOR: '1' };
    expect(await home.ctl(['tell_list_3tuple'], { env })).toEqual({ status: 0, stdout: TUPLES_TEXT, stderr: '' });
    expect((await home.ctl(['tell_tuple_3integer', '--format', 'tsv'], { env })).stdout).toBe('first\tsecond\tthird\n123\t456\t789\n');
    expect((await home.ctl(['tell_tuple_3integer', '--format', 'json'], { env })).stdout).toBe('{"first":123,"second":456,"third":789}\n');
  });
});

describe('tables fit the terminal', () => {
  const env = { NO_COLOR: '1' };

  test('a table that fits is left as it is', async () => {
    expect(await home.ctl(['tell_list_3tuple'], { tty: true, columns: 42, env })).toEqual({ status: 0, stdout: TUPLES_TABLE, stderr: '' });
  });

  test('a narrower terminal wraps the widest column only', async () => {
    expect(await home.ctl(['tell_list_3tuple'], { tty: true, columns: 36, env })).toEqual({
      status: 0,
      stdout:
        '┌─────────────┬─────────┬──────────┐\n' +
        '│ thisinteger │ thistri │ thisatom │\n' +
        '│             │ ng      │          │\n' +
        '├─────────────┼─────────┼──────────┤\n' +
        '│ 123         │ abcdefg │ first    │\n' +
        '│             │ hijkl   │          │\n' +
        '│ 593         │ this    │ morning  │\n' +
        '│             │ string  │          │\n' +
        '│ 999         │ Sleepin │ not_seen │\n' +
        '│             │ g dog   │          │\n' +
        '└─────────────┴─────────┴──────────┘\n',
      stderr: '',
    });
  });

  test('COLUMNS is the width when the terminal tells none', async () => {
    const narrow = await home.ctl(['tell_list_3tuple'], { tty: true, env: { ...env, COLUMNS: '36' } });
    expect(narrow.stdout.split('\n')[0]).toBe('┌─────────────┬─────────┬──────────┐');
  });

  test('on a pipe, --format table is never narrowed', async () => {
    expect(await home.ctl(['tell_list_3tuple', '--format', 'table'], { env: { COLUMNS: '20' } })).toEqual({ status: 0, stdout: TUPLES_TABLE, stderr: '' });
  });

  test('a very long single line is cut on a terminal, whole on a pipe and with --format text', async () => {
    const long = `Deleted 5000 users: ${'user@localhost, '.repeat(5000)}`.slice(0, -2);
    const cut = await home.ctl(['echo_string', long], { tty: true, columns: 80, env });
    expect(cut).toEqual({
      status: 0,
      stdout: `${long.slice(0, 32)}… (${long.length - 32} more characters: --format text prints them all)\n`,
      stderr: '',
    });
    expect(await home.ctl(['echo_string', long, '--format', 'text'], { tty: true, columns: 80, env })).toEqual({ status: 0, stdout: `${long}\n`, stderr: '' });
    expect(await home.ctl(['echo_string', long])).toEqual({ status: 0, stdout: `${long}\n`, stderr: '' });
  });
});

/**
 * `ctl batch` (DESIGN.md §3): one command per line on stdin with shell quoting, the same output
 * as separate calls, failing lines reported as `line N: Error: ...` while later lines still run,
 * and exit 1 if any line failed.
 */
import { tempHome } from '../helpers/cli';

const home = tempHome();
afterAll(home.cleanup);

/** [batch line, the same call as argv]. */
const CALLS: readonly [string, readonly string[]][] = [
  ['echo_integer 5', ['echo_integer', '5']],
  ["echo_string 'hello world'", ['echo_string', 'hello world']],
  ['echo_integer_string 5 "a b"', ['echo_integer_string', '5', 'a b']],
  ['tell_tuple_3list', ['tell_tuple_3list']],
  ['tell_list_3tuple', ['tell_list_3tuple']],
  ['seq 1 3', ['seq', '1', '3']],
  ['seq 5 4', ['seq', '5', '4']],
  ['substrs stick', ['substrs', 'stick']],
  ['tell_rescode 0', ['tell_rescode', '0']],
  ['tell_restuple 1', ['tell_restuple', '1']],
  ['tell_atom 5', ['tell_atom', '5']],
  ['splitjids a@b.org/r1,c@d.org/r2', ['splitjids', 'a@b.org/r1,c@d.org/r2']],
  ['echo_list_integer [1,2,3]', ['echo_list_integer', '[1,2,3]']],
  [`take_tuple_2integer '{"thisinteger1":1,"thisinteger2":2}'`, ['take_tuple_2integer', '{"thisinteger1":1,"thisinteger2":2}']],
  ['echo_isatils 2 s at 2:x,y', ['echo_isatils', '2', 's', 'at', '2:x,y']],
  ['pow 2 10', ['pow', '2', '10']],
  ["echo_string ''", ['echo_string', '']],
  ["echo_integer_string 1 'p\tq'", ['echo_integer_string', '1', 'p\tq']],
];

const EXPECTED_TEXT =
  '5\n' +
  'hello world\n' +
  '5\ta b\n' +
  '1,23,456\tTell,me\tall,is,ok\n' +
  '123\tabcdefghijkl\tfirst\n593\tthis string\tmorning\n999\tSleeping dog\tnot_seen\n' +
  '1\n2\n3\n' +
  's\nst\nsti\nstic\nstick\n' +
  'Successful result\n' +
  'greater_than_one\n' +
  'a\tb.org\tr1\nc\td.org\tr2\n' +
  '1\n2\n3\n' +
  '0\n' +
  '2\ts\tat\t2:x,y\n' +
  '1024\n' +
  '1\tp\\tq\n';

const batchInput = CALLS.map(([line]) => line).join('\n') + '\n';

async function separately(extra: readonly string[]): Promise<string> {
  let out = '';
  for (const [, argv] of CALLS) {
    const r = await home.ctl([...argv, ...extra]);
    expect(r.status).toBe(0);
    out += r.stdout;
  }
  return out;
}

describe('batch prints exactly what separate calls print', () => {
  test('text', async () => {
    const expected = await separately([]);
    expect(expected).toBe(EXPECTED_TEXT);
    expect(await home.ctl(['batch'], { stdin: batchInput })).toEqual({ status: 0, stdout: expected, stderr: '' });
  });

  test.each(['json', 'tsv', 'table'])('--format %s', async (format) => {
    const expected = await separately(['--format', format]);
    expect(await home.ctl(['batch', '--format', format], { stdin: batchInput })).toEqual({ status: 0, stdout: expected, stderr: '' });
  });

  test('json bytes', async () => {
    const r = await home.ctl(['--format', 'json', 'batch'], { stdin: 'echo_integer 5\ntell_rescode 1\nseq 1 2\ntell_tuple_3atom\n' });
    expect(r).toEqual({ status: 0, stdout: '{"thatinteger":5}\ntrue\n[1,2]\n{"first":"ok","second":"works","third":"perfectly"}\n', stderr: '' });
  });

  test('on a terminal, the same table as a separate call', async () => {
    const env = { NO_COLOR: '1' };
    const single = await home.ctl(['tell_tuple_3integer'], { tty: true, env });
    expect(single.stdout).toContain('│ first │ second │ third │\n');
    expect(await home.ctl(['batch'], { stdin: 'tell_tuple_3integer\n', tty: true, env })).toEqual({ status: 0, stdout: single.stdout, stderr: '' });
  });

  test('empty input: nothing, exit 0', async () => {
    expect(await home.ctl(['batch'], { stdin: '' })).toEqual({ status: 0, stdout: '', stderr: '' });
  });
});

describe('quoting and comments', () => {
  test('single, double, backslash, comments and blank lines', async () => {
    const stdin = [
      'echo_string \'single quoted  $HOME "x"\'',
      'echo_string "double \\"quoted\\" \\\\ \\$x \'y\'"',
      'echo_string back\\ slash\\ space',
      "echo_string 'it'\\''s'",
      'echo_string "a"\'b\'c',
      "echo_string 'a\\tb'",
      '# a comment line',
      '   # an indented comment',
      '',
      '   ',
      'echo_string x # a trailing comment',
      'echo_string a#b',
      '\techo_string   tabbed\t',
      'echo_string ""',
      'take_string ""',
      'echo_string "héllo 😀"',
    ].join('\n');
    expect(await home.ctl(['batch'], { stdin })).toEqual({
      status: 0,
      stdout:
        'single quoted  $HOME "x"\n' +
        'double "quoted" \\ $x \'y\'\n' +
        'back slash space\n' +
        "it's\n" +
        'abc\n' +
        'a\\tb\n' +
        'x\n' +
        'a#b\n' +
        'tabbed\n' +
        '0\n' +
        'héllo 😀\n',
      stderr: '',
    });
  });

  test('CRLF line ends and a last line without newline', async () => {
    expect(await home.ctl(['batch'], { stdin: 'echo_integer 1\r\necho_string "a b"\r\necho_integer 3' })).toEqual({
      status: 0,
      stdout: '1\na b\n3\n',
      stderr: '',
    });
  });

  test('dashed command names work as on the command line', async () => {
    expect(await home.ctl(['batch'], { stdin: 'echo-string hi\ntell-atom 0\n' })).toEqual({ status: 0, stdout: 'hi\nzero\n', stderr: '' });
  });
});

describe('failing lines', () => {
  const stdin = [
    'echo_integer 1', // 1
    '', // 2
    'echo_integer 12abc', // 3: usage
    'tell_rescode 2', // 4: rescode false
    'tell_restuple 2', // 5: restuple error
    'this_crashes 5', // 6: crash
    'echo_integer 2', // 7
    'echo_integer', // 8: missing argument
    '# comment', // 9
    'echo_integer 3', // 10
  ].join('\n');

  test('are reported by number on stderr; later lines still run; exit 1', async () => {
    const r = await home.ctl(['batch'], { stdin });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('1\n2\n3\n');
    const reported = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('line '))
      .map((l) => Number(/^line (\d+): /.exec(l)?.[1]));
    expect(reported).toEqual([3, 4, 5, 6, 8]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test('each report is `line N: Error: ...`, usage errors with the usage line', async () => {
    const r = await home.ctl(['batch'], { stdin });
    const lines = r.stderr.split('\n');
    expect(lines).toContain('line 5: Error: This is an error message');
    expect(r.stderr).toMatch(/^line 3: Error: [^\n]*thisinteger[^\n]*\nUsage: ctl echo_integer thisinteger\n/m);
    expect(r.stderr).toMatch(/^line 8: Error: [^\n]*'thisinteger'[^\n]*\nUsage: ctl echo_integer thisinteger\n/m);
    expect(r.stderr).toMatch(/^line 6: Error: [^\n]*this_crashes[^\n]*$/m);
    expect(r.stderr).toMatch(/^line 4: Error: [^\n]*tell_rescode/m);
  });

  test('--debug shows the stack of a crashing line', async () => {
    const r = await home.ctl(['batch', '--debug'], { stdin: 'this_crashes 5\necho_integer 4\n' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('4\n');
    expect(r.stderr).toMatch(/^line 1: Error: /);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  test('an unknown command suggests the nearest name', async () => {
    const r = await home.ctl(['batch'], { stdin: 'echo_integer 1\necho_strin x\ntell_atm 0\necho_integer 2\n' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('1\n2\n');
    expect(r.stderr).toMatch(/^line 2: Error: [^\n]*'echo_strin'[^\n]*'echo_string'/m);
    expect(r.stderr).toMatch(/^line 3: Error: [^\n]*'tell_atm'[^\n]*'tell_atom'/m);
  });

  test('an unterminated quote is reported with its line number', async () => {
    const r = await home.ctl(['batch'], { stdin: 'echo_integer 1\necho_string \'abc\necho_string "abc\necho_string ok\n' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('1\nok\n');
    expect(r.stderr).toMatch(/^line 2: Error: [^\n]*unterminated[^\n]*quote/m);
    expect(r.stderr).toMatch(/^line 3: Error: [^\n]*unterminated[^\n]*quote/m);
  });

  test('the exit status is 1 even when only the last line fails', async () => {
    expect(await home.ctl(['batch'], { stdin: 'echo_integer 1\ntell_restuple 2\n' })).toEqual({
      status: 1,
      stdout: '1\n',
      stderr: 'line 2: Error: This is an error message\n',
    });
  });
});

/**
 * A ctl.yml that is not valid YAML: the error gives the parser's reason and quotes the line it
 * is about, so that the operator sees what to fix without opening the file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_FILE as FILE, failure } from '../helpers/config';
import { fails, tempHome } from '../helpers/cli';

describe('YAML syntax errors', () => {
  test.each([
    ['a mapping key out of line', 'hosts:\n  - localhost\n loglevel: info\n', 3, 'All mapping items must start at the same column', ' loglevel: info'],
    ['a key given twice', 'hosts: [localhost]\nhosts: [example.org]\n', 2, 'Map keys must be unique', 'hosts: [example.org]'],
    ['a tab as indentation', 'hosts:\n\t- localhost\n', 2, 'Tabs are not allowed as indentation', '\t- localhost'],
    ['a nested compact mapping', 'loglevel: info: debug\n', 1, 'Nested mappings are not allowed in compact mappings', 'loglevel: info: debug'],
  ])('%s: the reason, then the line as written', (_what, text, line, reason, quoted) => {
    expect(failure(text)).toBe(`Invalid configuration ${FILE} (line ${line}): ${reason}\n  ctl.yml line ${line}: ${quoted}`);
  });

  test('an unclosed bracket or quote is shown on the line that opens it, not the blank line the parser stopped at', () => {
    expect(failure('hosts:\n  - localhost\nloglevel: info\nfoo: [a, b\n')).toBe(
      `Invalid configuration ${FILE} (line 4): Flow sequence in block collection must be sufficiently indented and end with a ]\n  ctl.yml line 4: foo: [a, b`,
    );
    expect(failure('hosts: "localhost\n\n\n')).toBe(`Invalid configuration ${FILE} (line 1): Missing closing "quote\n  ctl.yml line 1: hosts: "localhost`);
  });

  test('a long line is quoted only in part', () => {
    const long = `hosts: [${'a'.repeat(300)}`;
    expect(failure(`${long}\n`)).toMatch(new RegExp(`\\n  ctl\\.yml line 1: ${long.slice(0, 120).replace(/[[\]]/g, '\\$&')}\\.\\.\\.$`));
  });
});

describe('the command line', () => {
  const home = tempHome('ctl-yaml-');
  afterAll(home.cleanup);

  test('prints the error and the quoted line on stderr, without a usage line, and exits 1', async () => {
    writeFileSync(join(home.dir, 'ctl.yml'), 'hosts:\n  - localhost\n  - example.org\n auth_password_format: plain\n');
    expect(await home.ctl(['registered_vhosts'])).toEqual(
      fails(
        1,
        `Error: Invalid configuration ${join(home.dir, 'ctl.yml')} (line 4): All mapping items must start at the same column\n` +
          '  ctl.yml line 4:  auth_password_format: plain\n',
      ),
    );
  });

  test('a configuration path that is a directory is a plain error, not a crash', async () => {
    const dir = join(home.dir, 'conf.d');
    mkdirSync(dir);
    expect(await home.ctl(['registered_vhosts', '--config', dir])).toEqual(fails(1, `Error: Cannot read the configuration ${dir}: it is a directory\n`));
  });
});

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fails, tempHome } from '../helpers/cli';

let home: ReturnType<typeof tempHome>;
let input: string;
let output: string;
beforeEach(() => {
  home = tempHome();
  input = join(home.dir, 'ejabberd.cfg');
  output = join(home.dir, 'ejabberd.yml');
  // An earlier result stays as it was whenever a conversion fails.
  writeFileSync(output, 'previous: true\n');
});
afterEach(() => {
  expect(readFileSync(output, 'utf8')).toBe('previous: true\n');
  home.cleanup();
});

const USAGE = 'Usage: ctl convert_to_yaml in out\n';

async function convert(cfg: string) {
  writeFileSync(input, cfg);
  return home.ctl(['convert_to_yaml', input, output]);
}
const malformed = (line: number, column: number, why: string) =>
  fails(1, `Error: Malformed ejabberd configuration ${input} (line ${line}, column ${column}): ${why}\n`);
const cannot = (line: number, why: string) => fails(1, `Error: Cannot convert ${input} (line ${line}): ${why}\n`);

describe('convert_to_yaml refuses what it cannot read or convert, naming the line', () => {
  test('syntax errors: a missing dot, an unclosed list, a variable', async () => {
    expect(await convert('{loglevel, 4}.\n{hosts, ["a"]}\n{language, "en"}.\n')).toEqual(
      malformed(3, 1, "expected '.' after the term that starts on line 2, found '{'"),
    );
    expect(await convert('{loglevel, 4}.\n\n{hosts, ["a", "b"}.\n')).toEqual(malformed(3, 18, "expected ',' or ']', found '}'"));
    expect(await convert('{hosts, [Host]}.\n')).toEqual(
      malformed(1, 10, "'Host' is a variable: a data file holds only literal terms (quote it, 'Host', for an atom)"),
    );
    expect(await convert('{motd, "never closed}.\n')).toEqual(malformed(1, 8, 'the string that starts here is never closed'));
  });

  test('terms nested beyond reason are refused, not allowed to exhaust the stack', async () => {
    const r = await convert(`{deep,\n${'['.repeat(600)}${']'.repeat(600)}}.\n`);
    expect(r).toEqual(malformed(2, 513, 'terms nested deeper than 512 levels'));
  });

  test('terms that are not options', async () => {
    expect(await convert('{loglevel, 4}.\n"just a string".\n')).toEqual(cannot(2, 'an option is {Key, Value}, found "just a string"'));
    expect(await convert('{a, b, c, d}.\n')).toEqual(cannot(1, 'an option is {Key, Value} or {Key, Host, Value}, found {a,b,c,d}'));
    expect(await convert('{hosts, ["a" | b]}.\n')).toEqual(cannot(1, 'an improper list cannot be written in YAML: ["a"|b]'));
  });

  test('malformed acl, access and shaper definitions', async () => {
    expect(await convert('\n{acl, admin, {group, "x"}}.\n')).toEqual(
      cannot(
        2,
        "unknown ACL type 'group': use user, server, resource, user_regexp, server_regexp, resource_regexp, node_regexp, user_glob, server_glob, resource_glob, node_glob, shared_group, ip",
      ),
    );
    expect(await convert('{acl, "admin", {user, "a"}}.\n')).toEqual(cannot(1, 'the name of the acl must be an atom, found "admin"'));
    expect(await convert('{access, c2s, [{allow}]}.\n')).toEqual(cannot(1, "a rule of access 'c2s' is {Action, ACL}, found {allow}"));
    expect(await convert('{access, c2s, allow}.\n')).toEqual(cannot(1, "the rules of access 'c2s' must be a list of {Action, ACL}, found allow"));
    expect(await convert('{shaper, normal, {rate, 10}}.\n')).toEqual(cannot(1, "shaper 'normal' must be {maxrate, Bytes} or none, found {rate,10}"));
    expect(await convert('{acl, admin}.\n')).toEqual(cannot(1, 'acl is {acl, Name, Spec}, found {acl,admin}'));
    expect(await convert('{host_config, "h", [{access, c2s, [{allow, all}], extra}]}.\n')).toEqual(
      cannot(1, 'access is {access, Name, Rules}, found {access,c2s,[{allow,all}],extra}'),
    );
  });

  test('malformed listeners and modules', async () => {
    expect(await convert('{listen, [{70000, ejabberd_c2s, []}]}.\n')).toEqual(cannot(1, "a listener's port must be a number from 0 to 65535, found 70000"));
    expect(await convert('{listen, [{{5222, {1,2,3}}, ejabberd_c2s, []}]}.\n')).toEqual(
      cannot(1, 'an IP address is a string or a tuple such as {127,0,0,1}, found {1,2,3}'),
    );
    expect(await convert('{listen, [{5222, ejabberd_c2s, [{a, b, c}]}]}.\n')).toEqual(
      cannot(1, 'an item of the options of a listener is {Option, Value} or an atom, found {a,b,c}'),
    );
    expect(await convert('{modules, [{mod_roster}]}.\n')).toEqual(cannot(1, 'a module is {Module, Options}, found {mod_roster}'));
    expect(await convert('{modules, [{mod_roster, all}]}.\n')).toEqual(cannot(1, 'the options of mod_roster must be a list, found all'));
    expect(await convert('{odbc_server, {oracle, "h", "d", "u", "p"}}.\n')).toEqual(
      cannot(1, "unknown database type 'oracle' in odbc_server: use mysql, pgsql, sqlite, mssql, odbc"),
    );
  });

  test('malformed host_config', async () => {
    expect(await convert('{host_config, "h", [{a, b, c, d}]}.\n')).toEqual(cannot(1, 'an option of host_config "h" is {Key, Value}, found {a,b,c,d}'));
    expect(await convert('{host_config, "h", all}.\n')).toEqual(cannot(1, 'the options of host_config "h" must be a list'));
  });

  test('missing, special and oversized input files', async () => {
    const missing = join(home.dir, 'missing.cfg');
    expect(await home.ctl(['convert_to_yaml', missing, output])).toEqual(
      fails(1, `Error: Cannot read the ejabberd configuration ${missing}: it does not exist\n`),
    );
    expect(await home.ctl(['convert_to_yaml', home.dir, output])).toEqual(
      fails(1, `Error: Cannot read the ejabberd configuration ${home.dir}: it is a directory\n`),
    );
    writeFileSync(input, Buffer.alloc(16 * 1024 * 1024 + 1, 0x20));
    expect(await home.ctl(['convert_to_yaml', input, output])).toEqual(
      fails(1, `Error: Cannot read the ejabberd configuration ${input}: it is larger than 16777216 bytes\n`),
    );
  });

  test('the output must go to a file in an existing directory', async () => {
    writeFileSync(input, '{loglevel, 4}.\n');
    const missing = join(home.dir, 'nowhere', 'out.yml');
    expect(await home.ctl(['convert_to_yaml', input, missing])).toEqual(fails(1, `Error: Cannot write ${missing}: the directory does not exist\n`));
    const dir = join(home.dir, 'dir');
    mkdirSync(dir);
    expect(await home.ctl(['convert_to_yaml', input, dir])).toEqual(fails(1, `Error: Cannot write ${dir}: it is a directory\n`));
    expect(await home.ctl(['convert_to_yaml', input])).toEqual(fails(2, `Error: missing argument 'out'\n${USAGE}`));
  });
});

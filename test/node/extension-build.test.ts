import { build, compareVersions, readManifest, versionMatches } from '../../src/node/extensions/build';
import { parseConfig } from '../../src/config/config';

const manifest = (text: string) => readManifest(new Map([['module.yml', Buffer.from(text)]]), 'mod_x', '0.1.0');

test('ctl version ranges: comparators, caret, tilde, wildcards; an unreadable range is undefined', () => {
  const cases: [string, string, boolean | undefined][] = [
    ['0.1.0', '*', true],
    ['0.1.0', '>=0.1.0 <1.0.0', true],
    ['1.0.0', '>=0.1.0 <1.0.0', false],
    ['0.1.5', '^0.1', true],
    ['0.2.0', '^0.1', false],
    ['1.4.0', '^1.2', true],
    ['2.0.0', '^1.2', false],
    ['0.1.9', '~0.1.2', true],
    ['0.2.0', '~0.1.2', false],
    ['0.1.7', '0.1.x', true],
    ['0.2.0', '0.1.x', false],
    ['0.1.0', '=0.1.0', true],
    ['0.1.0', 'latest', undefined],
  ];
  for (const [version, range, expected] of cases)
    expect({ version, range, matches: versionMatches(version, range) }).toEqual({ version, range, matches: expected });
  expect(compareVersions('1.10.0', '1.9.9')).toBe(1);
  expect(compareVersions('1.2', '1.2.0')).toBe(0);
});

test('a manifest names every problem it has', () => {
  expect(manifest('name: mod_x\nversion: 1.0.0\nsummary: S\nauthor: A\nctl: "*"\n')).toEqual({
    manifest: { name: 'mod_x', version: '1.0.0', summary: 'S', author: 'A', ctl: '*' },
    problems: [],
  });
  expect(manifest('name: mod_y\nversion: 1.0.0\nsummary: S\nctl: "<0.1.0"\nmain: ../x.js\ncolour: red\n').problems).toEqual([
    "module.yml: 'name' is 'mod_y', but the folder is 'mod_x': they must be the same",
    "module.yml: 'author' must be one line of text, and is missing",
    'module.yml: the module works with ctl <0.1.0, and this is ctl 0.1.0',
    "module.yml: 'main' must be a file of the module's folder, got '../x.js'",
    "module.yml: unknown key 'colour' (it takes name, version, summary, author, ctl, main, url, home)",
  ]);
  expect(manifest('- a list\n').problems).toEqual(['module.yml must be a mapping of name, version, summary, author and ctl']);
});

test('TypeScript is built to CommonJS; a syntax error names the file and line', () => {
  const built = build(new Map([['index.ts', Buffer.from('import { x } from "./x";\nexport const y: number = x;\n')]]), 'index.ts');
  expect(built.main).toBe('index.js');
  expect(built.code.get('index.js')).toContain('require("./x")');
  expect(() => build(new Map([['index.ts', Buffer.from('const = 1;\n')]]), 'index.ts')).toThrow(
    'the build failed: index.ts line 1: Variable declaration expected',
  );
});

test('ext_modules in ctl.yml: sources as directories (relative to the file) or git repositories; bad values name the key', () => {
  const config = parseConfig(
    'ext_modules:\n  sources:\n    - mods\n    - https://example.org/m.git\n    - {git: ../repo, branch: main}\n  http_api: true\n',
    '/etc/ctl/ctl.yml',
  );
  expect(config.extModules).toEqual({
    sources: [
      { kind: 'dir', path: '/etc/ctl/mods' },
      { kind: 'git', url: 'https://example.org/m.git' },
      { kind: 'git', url: '/etc/repo', branch: 'main' },
    ],
    httpApi: true,
  });
  expect(() => parseConfig('ext_modules:\n  http_api: yes please\n', '/c.yml')).toThrow(
    "Invalid configuration /c.yml (line 2): 'ext_modules: http_api' must be true or false",
  );
  expect(() => parseConfig('ext_modules:\n  sources: [{svn: x}]\n', '/c.yml')).toThrow(
    "'ext_modules: sources' item 1: unknown option 'svn' (a source takes git and branch, or path)",
  );
});

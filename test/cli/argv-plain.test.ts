import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allCommands } from '../../commands';
import { createRegistry } from '../../src/core/registry';
import { parseArgv, type Invocation } from '../../src/transports/cli/argv';
import { commandRegistry, MANIFEST_FILE } from '../../src/node/manifest';

const registry = createRegistry(allCommands);

/** What a parse gives, or the message it fails with. */
function outcome(argv: readonly string[], plain: boolean): { invocation?: Invocation; error?: string } {
  try {
    return { invocation: parseArgv(argv, registry, { plain }) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

// The lines the reader without commander takes, and lines beside them that it leaves to commander.
const LINES: readonly (readonly string[])[] = [
  ['check_account', 'alice', 'localhost'],
  ['check-account', 'alice', 'localhost'],
  ['--home', '/srv/x', 'check_account', 'alice', 'localhost'],
  ['check_account', 'alice', 'localhost', '--home', '/srv/x', '--format', 'json'],
  ['--debug', 'register', 'bob', 'example.org', 'pw', '--verbose', '--strict'],
  ['--timeout', '5', '--no-timeout', 'status'],
  ['--no-timeout', '--timeout', '5', 'status'],
  ['--timeout', 'soon', 'status'],
  ['--format', 'yaml', 'status'],
  ['--home', 'a', '--home', 'b', 'registered_users', 'localhost'],
  ['--url', 'http://127.0.0.1:1/api', '--token-file', 't', '--user', 'a@b', '--password-file', 'p', 'status'],
  ['register', 'bob', 'example.org'],
  ['register', 'bob', 'example.org', 'pw', 'extra', 'words'],
  ['register', 'bob', 'example.org', '-pw'],
  ['register', 'bob', 'example.org', '--', 'pw'],
  ['--home=/srv/x', 'status'],
  ['--home'],
  ['--home', '--debug', 'status'],
  ['--stdin', 'password', 'register', 'bob', 'example.org'],
  ['status', '--help'],
  ['-h'],
  ['--version'],
  ['help', 'register'],
  ['batch'],
  ['ping', '--home', 'x'],
  ['live'],
  ['chek_account', 'alice', 'localhost'],
  ['check_account-', 'alice'],
  ['check-account_x'],
  ['register', '', '', ''],
  [],
];

test.each(LINES.map((line) => [line.join(' ') || '(nothing)', line]))('%s: read as commander reads it', (_, line) => {
  expect(outcome(line, true)).toEqual(outcome(line, false));
});

describe('the registry of the command line', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ctl-manifest-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('a manifest naming the file of each command gives the same commands as the full list', () => {
    const manifest = join(dir, MANIFEST_FILE);
    writeFileSync(manifest, JSON.stringify({ commands: { check_account: 'accounts', get_vcard: 'vcard' } }));
    const lazy = commandRegistry({ manifest });
    expect(lazy.get('check_account')).toBe(registry.get('check_account'));
    expect(lazy.get('get_vcard')).toBe(registry.get('get_vcard'));
    // A name the manifest does not know (a newer command, a module's) is looked up in every file.
    expect(lazy.get('registered_users')).toBe(registry.get('registered_users'));
    expect(lazy.get('no_such_command')).toBeUndefined();
    expect(lazy.list().map((c) => c.name)).toEqual(registry.list().map((c) => c.name));
    expect(lazy.suggest('chek_account')).toBe('check_account');
  });

  test('a stale manifest, naming the wrong file, still finds the command', () => {
    const manifest = join(dir, MANIFEST_FILE);
    writeFileSync(manifest, JSON.stringify({ commands: { check_account: 'vcard' } }));
    expect(commandRegistry({ manifest }).get('check_account')).toBe(registry.get('check_account'));
  });

  test('without a readable manifest every command is there', () => {
    writeFileSync(join(dir, MANIFEST_FILE), '{not json');
    for (const manifest of [join(dir, MANIFEST_FILE), join(dir, 'missing.json')]) {
      const r = commandRegistry({ manifest });
      expect(r.list()).toHaveLength(registry.list().length);
      expect(r.get('check_account')).toBe(registry.get('check_account'));
    }
  });
});

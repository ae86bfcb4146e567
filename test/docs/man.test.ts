import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { allCommands } from '../../commands';
import { createRegistry } from '../../src/core/registry';
import { renderMan } from '../../src/docs/man';
import { BUILTINS, GLOBAL_OPTIONS } from '../../src/transports/cli/argv';

const root = resolve(__dirname, '../..');
const version = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')).version;
const page = renderMan(createRegistry(allCommands), GLOBAL_OPTIONS, BUILTINS, version);

test('man/ctl.1 is up to date with the registry (run `npm run build && npm run man`)', () => {
  expect(readFileSync(resolve(root, 'man/ctl.1'), 'utf8')).toBe(page);
});

test('the page has every section and every command', () => {
  for (const section of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'COMMANDS', 'EXIT STATUS', 'ENVIRONMENT', 'FILES', 'EXAMPLES']) {
    expect(page).toContain(`\n.SH ${section}\n`);
  }
  for (const c of allCommands) expect(page).toContain(`\n.B ${c.name.replace(/-/g, '\\-')}`);
  expect(page).toContain('.B register \\fIuser host password\\fR\nRegister a user\n');
  expect(page).toContain('.B join_cluster \\fInode\\fR\nJoin this node into the cluster handled by Node\n');
  expect(page).toContain('.B \\-\\-no\\-timeout\nwait forever (same as \\-\\-timeout 0)\n');
  expect(page).toContain('.TP\n.B 3\nthe node is not reachable, or the database is held by another process\n');
});

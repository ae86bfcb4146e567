/**
 * Extension modules without a node: ctl installs, checks, lists and removes them on the home's
 * files, and says that the rest needs a node; the node started afterwards loads what is
 * installed. A git repository of modules as a source: cloned, then pulled by modules_update_specs.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempHome } from '../helpers/cli';
import { ctlProcess, ensureBuilt } from '../helpers/proc';

jest.setTimeout(60_000);

const EXAMPLES = join(__dirname, '..', '..', 'examples', 'modules');
const ok = (stdout = '') => ({ status: 0, stdout, stderr: '' });
const HELLO = 'mod_hello\tAnswers urn:example:hello IQs with a greeting for the sender\n';
const MOTD = 'mod_motd\tMessage of the day, set with ctl and sent to users as they log in\n';

const homes: { cleanup(): void }[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const h of homes) h.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function home(config: string) {
  const h = tempHome('ctl-modules-');
  homes.push(h);
  writeFileSync(join(h.dir, 'ctl.yml'), config);
  return h;
}

test('without a node: install, check, list and uninstall work on the files; the modules run once a node starts', async () => {
  ensureBuilt();
  const h = home(`ext_modules:\n  sources:\n    - ${JSON.stringify(EXAMPLES)}\n`);
  expect(await h.ctl(['modules_available'])).toEqual(ok(HELLO + MOTD));
  expect(await h.ctl(['module_install', 'mod_motd'])).toEqual(ok('0\n'));
  expect(await h.ctl(['module_install', 'mod_motd'])).toEqual({
    status: 1,
    stdout: '',
    stderr: "Error: The module mod_motd is installed already (version 1.0.0): module_upgrade installs the sources' version\n",
  });
  expect(existsSync(join(h.dir, 'modules', 'mod_motd', 'index.ts'))).toBe(true);
  expect(await h.ctl(['modules_installed'])).toEqual(ok(MOTD));
  expect((await h.ctl(['help', 'motd'])).stdout).toContain('motd_set host text');
  expect(await h.ctl(['motd_get', 'localhost'])).toEqual({
    status: 3,
    stdout: '',
    stderr: `Error: motd_get needs a running node, and none is running on ${h.dir}: start it with 'ctl start'\n`,
  });
  for (const args of [['update_list'], ['update', 'all'], ['compile', join(h.dir, 'modules', 'mod_motd', 'index.ts')]]) {
    expect(await h.ctl(args)).toEqual({
      status: 3,
      stdout: '',
      stderr: `Error: ${args[0]} needs a running node, and none is running on ${h.dir}: start it with 'ctl start'\n`,
    });
  }
  expect(await h.ctl(['module_check', 'mod_hello'])).toEqual(ok('0\n'));
  expect(await h.ctl(['module_check', 'mod_hello', '--verbose'])).toEqual({
    status: 0,
    stdout: '0\n',
    stderr: 'mod_hello 1.0.0 is sound: disco feature urn:example:hello, IQ urn:example:hello\n',
  });

  // The real launcher, and a node in a process of its own.
  expect(await ctlProcess(h.dir, ['start'])).toMatchObject({ status: 0 });
  try {
    expect(await ctlProcess(h.dir, ['motd_set', 'localhost', 'Hello from a module'])).toEqual(ok());
    expect(await ctlProcess(h.dir, ['motd_get', 'localhost'])).toEqual(ok('Hello from a module\n'));
    expect(await ctlProcess(h.dir, ['module_uninstall', 'mod_motd'])).toEqual(ok('0\n'));
    expect(await ctlProcess(h.dir, ['motd_get', 'localhost'])).toMatchObject({ status: 1, stderr: "Error: Unknown command 'motd_get'\n" });
  } finally {
    expect(await ctlProcess(h.dir, ['stop'])).toMatchObject({ status: 0 });
  }
  expect(await h.ctl(['modules_installed'])).toEqual(ok());
  // The module's table outlives it, and a dump of the database holding it loads back.
  const dump = join(h.dir, 'all.dump');
  expect(await h.ctl(['dump', dump])).toEqual(ok());
  expect(readFileSync(dump, 'utf8')).toContain('{"table":"ext.mod_motd.motd","key":["localhost"],"value":{"text":"Hello from a module"');
  expect(await h.ctl(['load', dump])).toEqual(ok());
});

test('a source that is not there, and no source at all, are errors naming ctl.yml', async () => {
  const none = home('hosts: [localhost]\n');
  expect(await none.ctl(['modules_available'])).toEqual({
    status: 1,
    stdout: '',
    stderr: `Error: No module sources are configured: list directories or git repositories under 'ext_modules: sources' in ${join(none.dir, 'ctl.yml')}\n`,
  });
  const missing = home('ext_modules:\n  sources: [/nonexistent/modules]\n');
  expect(await missing.ctl(['module_install', 'mod_motd'])).toEqual({
    status: 1,
    stdout: '',
    stderr: 'Error: The module source /nonexistent/modules is not a directory (ext_modules: sources in ctl.yml)\n',
  });
  const bad = home('ext_modules:\n  sources: 12\n');
  expect((await bad.ctl(['modules_available'])).stderr).toBe(
    `Error: Invalid configuration ${join(bad.dir, 'ctl.yml')} (line 2): 'ext_modules: sources' must be a list of directories and git repositories\n`,
  );
});

test('a git repository of modules is cloned on first use and pulled by modules_update_specs', async () => {
  const repo = mkdtempSync(join(tmpdir(), 'ctl-modules-git-'));
  dirs.push(repo);
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.org', ...args], { cwd: repo, stdio: 'pipe' });
  git('init', '--quiet', '--initial-branch=main');
  cpSync(join(EXAMPLES, 'mod_hello'), join(repo, 'mod_hello'), { recursive: true });
  git('add', '.');
  git('commit', '--quiet', '-m', 'mod_hello');

  const h = home(`ext_modules:\n  sources:\n    - git: ${JSON.stringify(repo)}\n`);
  expect(await h.ctl(['modules_available'])).toEqual(ok(HELLO));
  cpSync(join(EXAMPLES, 'mod_motd'), join(repo, 'mod_motd'), { recursive: true });
  git('add', '.');
  git('commit', '--quiet', '-m', 'mod_motd');
  expect(await h.ctl(['modules_available'])).toEqual(ok(HELLO));
  expect(await h.ctl(['modules_update_specs', '--verbose'])).toEqual({ status: 0, stdout: '0\n', stderr: `Updated ${repo}\n` });
  expect(await h.ctl(['modules_available'])).toEqual(ok(HELLO + MOTD));
  expect(await h.ctl(['module_install', 'mod_motd'])).toEqual(ok('0\n'));

  const gone = home(`ext_modules:\n  sources:\n    - git: ${JSON.stringify(join(repo, 'nothing-here'))}\n`);
  const r = await gone.ctl(['modules_available']);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(new RegExp(`^Error: Cannot fetch the module source ${join(repo, 'nothing-here')}: git clone failed: .+\\n$`));
});

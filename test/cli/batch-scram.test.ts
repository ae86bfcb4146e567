/**
 * `ctl batch` of SCRAM registrations hashes several lines at once, without a node and through
 * one: results, failures and their line numbers stay those of running the lines one by one, and
 * every account gets the password of its own line, however many lines share one.
 */
import { allCommands } from '../../commands';
import { createRegistry } from '../../src/core/registry';
import { startNode } from '../../src/node/daemon';
import { resolveHome } from '../../src/config/home';
import { tempHome } from '../helpers/cli';

const homes: ReturnType<typeof tempHome>[] = [];
afterAll(() => homes.forEach((h) => h.cleanup()));

/** Runs `check` on a fresh home, with a node running there when `withNode`. */
async function inHome(withNode: boolean, check: (home: ReturnType<typeof tempHome>) => Promise<void>): Promise<void> {
  const home = tempHome();
  homes.push(home);
  if (!withNode) return check(home);
  const node = await startNode({ home: resolveHome({ home: home.dir }), registry: createRegistry(allCommands), version: '9.9.9', lockTimeout: 5000 });
  try {
    await check(home);
  } finally {
    await node.control.stop();
    await node.stopped;
  }
}

test.each([
  ['without a node', false],
  ['through a node', true],
])('registrations sharing passwords, with failing lines between them, %s', (_, withNode) => inHome(withNode, (home) => registrations(home)));

async function registrations(home: ReturnType<typeof tempHome>): Promise<void> {
  const lines = [
    'register ann localhost same',
    'register bob localhost same',
    'register ann localhost other',
    'register dan localhost',
    'register cat localhost same',
    "register 'e@f' localhost same",
    'register eve localhost other',
  ];
  const r = await home.ctl(['batch'], { stdin: `${lines.join('\n')}\n` });
  expect(r.status).toBe(1);
  expect(r.stdout).toBe(['ann', 'bob', 'cat', 'eve'].map((u) => `User ${u}@localhost successfully registered\n`).join(''));
  expect(r.stderr).toBe(
    'line 3: Error: User ann@localhost already registered\n' +
      "line 4: Error: missing argument 'password'\nUsage: ctl register user host password\n" +
      "line 6: Error: Invalid user name 'e@f' (user): a user name cannot contain spaces, control characters or any of \"&'/:<>@\n" +
      'Usage: ctl register user host password\n',
  );
  for (const [user, password, status] of [
    ['ann', 'same', 0],
    ['ann', 'other', 1],
    ['bob', 'same', 0],
    ['cat', 'same', 0],
    ['eve', 'other', 0],
    ['eve', 'same', 1],
  ] as const) {
    expect((await home.ctl(['check_password', user, 'localhost', password])).status).toBe(status);
  }
}

/**
 * `ctl batch` of SCRAM registrations hashes lines ahead of their turn: results, failures and
 * their line numbers stay those of running the lines one by one, and every account gets the
 * password of its own line, however many lines share one.
 */
import { tempHome } from '../helpers/cli';

const home = tempHome();
afterAll(home.cleanup);

test('registrations sharing passwords, with failing lines between them', async () => {
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
});

/**
 * A path that cannot be used (a missing directory, a directory where a file is wanted, a file
 * that is not there) is a plain error naming the path and why: exit 1, no usage line, no crash.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fails, tempHome } from '../helpers/cli';

const home = tempHome('ctl-paths-');
afterAll(home.cleanup);
const dir = join(home.dir, 'a-directory');
const missing = join(home.dir, 'no-such-dir', 'file');

beforeAll(async () => {
  mkdirSync(dir);
  expect((await home.ctl(['register', 'alice', 'localhost', 'pw'])).status).toBe(0);
});

const cases: [string[], string][] = [
  [['backup', missing], `Cannot write ${missing}: the directory does not exist`],
  [['backup', dir], `Cannot write ${dir}: it is a directory`],
  [['dump', dir], `Cannot write ${dir}: it is a directory`],
  [['dump', missing], `Cannot write ${missing}: the directory does not exist`],
  [['dump_table', dir, 'passwd'], `Cannot write ${dir}: it is a directory`],
  [['export_odbc', 'localhost', dir], `Cannot write ${dir}: it is a directory`],
  [['load', dir], `Cannot read the dump ${dir}: it is a directory`],
  [['load', missing], `Cannot read the dump ${missing}: it does not exist`],
  [['restore', dir], `Cannot read the backup ${dir}: it is a directory`],
  [['install_fallback', missing], `Cannot read the backup ${missing}: it does not exist`],
  [['import_piefxis', dir], `Cannot read the XEP-0227 file ${dir}: it is a directory`],
  [['convert_to_yaml', dir, join(home.dir, 'out.yml')], `Cannot read the ejabberd configuration ${dir}: it is a directory`],
  [['push_roster', dir, 'alice', 'localhost'], `Cannot read the roster file ${dir}: it is a directory`],
];

// Titles name the home as HOME: they stay the same from run to run.
test.each(cases.map(([args, message]) => [args.join(' ').split(home.dir).join('HOME'), args, message] as const))(
  'ctl %s: a plain error naming the path',
  async (_title, args, message) => {
    expect(await home.ctl(args)).toEqual(fails(1, `Error: ${message}\n`));
  },
);

test('a home whose db is a file: the database cannot be opened, and the message says why in words', async () => {
  const other = tempHome('ctl-paths-db-');
  try {
    writeFileSync(join(other.dir, 'db'), '');
    expect(await other.ctl(['registered_users', 'localhost'])).toEqual(
      fails(3, `Error: Cannot open the database ${join(other.dir, 'db')}: a file of that name exists\n`),
    );
  } finally {
    other.cleanup();
  }
});

test('a home whose db is a dangling symbolic link: said so, not a crash', async () => {
  const other = tempHome('ctl-paths-link-');
  try {
    symlinkSync(join(other.dir, 'gone', 'db'), join(other.dir, 'db'));
    expect(await other.ctl(['registered_users', 'localhost'])).toEqual(
      fails(1, `Error: Cannot create the directory ${join(other.dir, 'db')}: a part of the path does not exist, or is a dangling symbolic link\n`),
    );
  } finally {
    other.cleanup();
  }
});

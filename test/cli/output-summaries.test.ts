/**
 * One rule for what long commands tell people: stdout keeps what ejabberdctl prints (scripts
 * read it), and the summary of what was done goes to stderr only on a terminal or with
 * --verbose. A very long result line is shortened on a terminal only.
 */
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tempHome } from '../helpers/cli';

// Thousands of registrations: seconds on a loaded 2-core machine.
jest.setTimeout(60_000);

let home: ReturnType<typeof tempHome>;
beforeEach(async () => {
  home = tempHome();
  writeFileSync(join(home.dir, 'ctl.yml'), 'auth_password_format: plain\n');
  expect((await home.ctl(['register', 'alice', 'localhost', 'pw'])).status).toBe(0);
});
afterEach(() => home.cleanup());

const quiet = { status: 0, stdout: '', stderr: '' };
const told = (stderr: string) => ({ status: 0, stdout: '', stderr });

describe('on a pipe, a long command prints what ejabberdctl prints, and nothing on stderr', () => {
  test.each([
    ['backup', (d: string) => ['backup', join(d, 'b.backup')]],
    ['dump', (d: string) => ['dump', join(d, 'd.dump')]],
    ['dump_table', (d: string) => ['dump_table', join(d, 't.dump'), 'passwd']],
    ['export_odbc', (d: string) => ['export_odbc', 'localhost', join(d, 'out.sql')]],
    ['export_piefxis', (d: string) => ['export_piefxis', join(d, 'pie')]],
  ])('%s', async (_name, argv) => {
    expect(await home.ctl(argv(home.dir))).toEqual(quiet);
  });

  test('restore, load, install_fallback and the imports too', async () => {
    const backup = join(home.dir, 'b.backup');
    const dump = join(home.dir, 'd.dump');
    const pie = join(home.dir, 'pie');
    expect(await home.ctl(['backup', backup])).toEqual(quiet);
    expect(await home.ctl(['dump', dump])).toEqual(quiet);
    expect(await home.ctl(['export_piefxis', pie], { clock: () => Date.UTC(2024, 0, 2, 3, 4, 5) })).toEqual(quiet);
    expect(await home.ctl(['restore', backup])).toEqual(quiet);
    expect(await home.ctl(['load', dump])).toEqual(quiet);
    expect(await home.ctl(['install_fallback', backup])).toEqual(quiet);
    expect(await home.ctl(['unregister', 'alice', 'localhost'])).toEqual(quiet);
    expect(await home.ctl(['import_piefxis', join(pie, '20240102-030405.xml')])).toEqual(quiet);
    const spool = join(home.dir, 'localhost');
    mkdirSync(spool);
    writeFileSync(join(spool, 'bob.xml'), "<xdb><password xmlns='jabber:iq:auth'>pw</password></xdb>");
    expect(await home.ctl(['import_file', join(spool, 'bob.xml')])).toEqual(quiet);
    writeFileSync(join(spool, 'carol.xml'), "<xdb><password xmlns='jabber:iq:auth'>pw</password></xdb>");
    expect(await home.ctl(['import_dir', spool])).toEqual(quiet);
    expect((await home.ctl(['registered_users', 'localhost'])).stdout).toBe('alice\nbob\ncarol\n');
  });
});

describe('the summary: with --verbose, or when stderr is a terminal', () => {
  test('backup and dump', async () => {
    const file = join(home.dir, 'b.backup');
    expect(await home.ctl(['backup', file, '--verbose'])).toEqual(told(`Backed up 1 records to ${file}\n`));
    expect(await home.ctl(['--verbose', 'dump', join(home.dir, 'd')])).toEqual(told(`Dumped 1 records to ${join(home.dir, 'd')}\n`));
    expect(await home.ctl(['backup', file], { tty: true, env: { NO_COLOR: '1' } })).toEqual(told(`Backed up 1 records to ${file}\n`));
  });

  test('export_odbc says which host it wrote, with how many users, and where', async () => {
    const file = join(home.dir, 'out.sql');
    expect(await home.ctl(['export_odbc', 'localhost', file, '--verbose'])).toEqual(told(`Exported localhost (1 user) as SQL to ${file}\n`));
    expect(await home.ctl(['export2odbc', 'localhost', file], { tty: true })).toEqual(told(`Exported localhost (1 user) as SQL to ${file}\n`));
  });

  test('import_file and import_dir', async () => {
    const spool = join(home.dir, 'localhost');
    mkdirSync(spool);
    writeFileSync(join(spool, 'bob.xml'), "<xdb><password xmlns='jabber:iq:auth'>pw</password></xdb>");
    expect(await home.ctl(['import_file', join(spool, 'bob.xml'), '--verbose'])).toEqual(told(`Imported bob@localhost from ${join(spool, 'bob.xml')}\n`));
    expect(await home.ctl(['import_dir', spool], { tty: true })).toEqual(told(`Imported 0 users from ${spool}, skipped 1 that already exists\n`));
  });

  test('a failure is an error whatever the mode, and no summary', async () => {
    const missing = join(home.dir, 'no', 'b.backup');
    for (const extra of [[], ['--verbose']]) {
      const r = await home.ctl(['backup', missing, ...extra]);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^Error: [^\n]*\n$/);
    }
  });
});

describe('delete_old_users', () => {
  const NOW = 1_750_000_000_000;

  test('on a pipe, the whole result line, as before', async () => {
    const lines = Array.from({ length: 3000 }, (_, i) => `register user${i} localhost pw`).join('\n');
    expect((await home.ctl(['batch'], { stdin: `${lines}\n` })).status).toBe(0);
    const r = await home.ctl(['delete_old_users', '30'], { clock: () => NOW });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.startsWith('Deleted 3001 users: alice@localhost, user0@localhost, user1@localhost, ')).toBe(true);
    expect(r.stdout.split(', ')).toHaveLength(3001);
    expect(r.stdout.endsWith('user999@localhost\n')).toBe(true);
  });

  test('on a terminal, the count and the start of the list, not a 50 KB line', async () => {
    const lines = Array.from({ length: 3000 }, (_, i) => `register user${i} localhost pw`).join('\n');
    expect((await home.ctl(['batch'], { stdin: `${lines}\n` })).status).toBe(0);
    const names = ['alice', ...Array.from({ length: 3000 }, (_, i) => `user${i}`)].sort().map((u) => `${u}@localhost`);
    const full = `Deleted 3001 users: ${names.join(', ')}`;
    const r = await home.ctl(['delete_old_users', '30'], { clock: () => NOW, tty: true, columns: 100, env: { NO_COLOR: '1' } });
    expect(r).toEqual({
      status: 0,
      stdout: 'Deleted 3001 users: alice@localhost, user0@localhost… (' + String(full.length - 52) + ' more characters: --format text prints them all)\n',
      stderr: '',
    });
    expect(full.length).toBeGreaterThan(50_000);
  });

  test('a short result is shown whole on a terminal', async () => {
    expect(await home.ctl(['delete_old_users', '30'], { clock: () => NOW, tty: true, env: { NO_COLOR: '1' } })).toEqual({
      status: 0,
      stdout: 'Deleted 1 users: alice@localhost\n',
      stderr: '',
    });
  });
});

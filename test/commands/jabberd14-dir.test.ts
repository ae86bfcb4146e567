import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fails, ok, summary, tempHome } from '../helpers/cli';

const FIXTURES = resolve(__dirname, '../fixtures/jabberd14/example.org');

let home: ReturnType<typeof tempHome>;
let spool: string;
beforeEach(() => {
  home = tempHome();
  writeFileSync(join(home.dir, 'ctl.yml'), 'hosts:\n  - localhost\n  - example.org\n');
  spool = join(home.dir, 'spool', 'example.org');
  mkdirSync(spool, { recursive: true });
});
afterEach(() => home.cleanup());

const user = (name: string, pw: string) => writeFileSync(join(spool, `${name}.xml`), `<xdb><password xmlns='jabber:iq:auth'>${pw}</password></xdb>`);

describe('import_dir', () => {
  test('imports every *.xml of the directory; other files are not spool files', async () => {
    cpSync(FIXTURES, spool, { recursive: true });
    user('zed', 'zpw');
    writeFileSync(join(spool, 'README'), 'not a spool file');
    writeFileSync(join(spool, 'notes.xml~'), 'an editor backup');
    expect(await home.ctl(['import_dir', spool, '--verbose'])).toEqual(summary(`Imported 3 users from ${spool}\n`));
    expect(await home.ctl(['registered_users', 'example.org'])).toEqual(ok('alice\nbob\nzed\n'));
    expect(await home.ctl(['check_password', 'zed', 'example.org', 'zpw'])).toEqual(ok());
    expect(await home.ctl(['get_vcard', 'alice', 'example.org', 'NICKNAME'])).toEqual(ok('al\n'));
  });

  test('users that already exist are skipped, so a run can be repeated', async () => {
    cpSync(FIXTURES, spool, { recursive: true });
    expect((await home.ctl(['register', 'bob', 'example.org', 'kept'])).status).toBe(0);
    expect(await home.ctl(['import_dir', spool, '--verbose'])).toEqual(summary(`Imported 1 user from ${spool}, skipped 1 that already exists\n`));
    expect(await home.ctl(['check_password', 'bob', 'example.org', 'kept'])).toEqual(ok());
    expect(await home.ctl(['import_dir', spool, '--verbose'])).toEqual(summary(`Imported 0 users from ${spool}, skipped 2 that already exist\n`));
  });

  test('a file that fails is reported, the others are imported, and it leaves nothing behind', async () => {
    user('amy', 'apw');
    writeFileSync(join(spool, 'broken.xml'), "<xdb><password xmlns='jabber:iq:auth'>pw</password><query xmlns='jabber:iq:roster'>");
    writeFileSync(join(spool, 'nopass.xml'), "<xdb><vCard xmlns='vcard-temp'><FN>N</FN></vCard></xdb>");
    writeFileSync(join(spool, 'bad user.xml'), '<xdb/>');
    user('zoe', 'zpw');
    const r = await home.ctl(['import_dir', spool]);
    expect(r).toEqual(
      fails(
        1,
        `Error: Imported 2 users from ${spool}; 3 of 5 files failed:\n` +
          `Cannot import ${join(spool, 'bad user.xml')}: the file name gives the user, and 'bad user' is not a user name: a user name cannot contain spaces, control characters or any of "&'/:<>@\n` +
          `Malformed XML in the jabberd14 spool file ${join(spool, 'broken.xml')} (line 1, column 83): unclosed tag: query\n` +
          `Invalid jabberd14 spool file ${join(spool, 'nopass.xml')}: it holds no password (jabber:iq:auth): accounts whose password jabberd14 kept only as a hash cannot be imported\n`,
      ),
    );
    expect(await home.ctl(['registered_users', 'example.org'])).toEqual(ok('amy\nzoe\n'));
    expect(await home.ctl(['check_account', 'broken', 'example.org'])).toEqual(fails(1, ''));
    expect(await home.ctl(['check_account', 'nopass', 'example.org'])).toEqual(fails(1, ''));
  });

  test('an empty directory imports nothing, successfully', async () => {
    expect(await home.ctl(['import_dir', spool, '--verbose'])).toEqual(summary(`Imported 0 users from ${spool}\n`));
  });

  test('a relative directory is taken from the current directory', async () => {
    user('amy', 'apw');
    const cwd = process.cwd();
    process.chdir(join(home.dir, 'spool'));
    try {
      expect(await home.ctl(['import_dir', 'example.org/', '--verbose'])).toEqual(summary(`Imported 1 user from ${spool}\n`));
    } finally {
      process.chdir(cwd);
    }
  });

  test('the directory must exist, be a directory, and be named after a host of this node', async () => {
    const missing = join(home.dir, 'spool', 'localhostx');
    expect(await home.ctl(['import_dir', missing])).toEqual(fails(1, `Error: Cannot read the jabberd14 spool directory ${missing}: it does not exist\n`));
    user('amy', 'apw');
    const file = join(spool, 'amy.xml');
    expect(await home.ctl(['import_dir', file])).toEqual(fails(1, `Error: Cannot read the jabberd14 spool directory ${file}: it is not a directory\n`));
    const other = join(home.dir, 'spool', 'jabber.example.net');
    mkdirSync(other);
    writeFileSync(join(other, 'amy.xml'), "<xdb><password xmlns='jabber:iq:auth'>pw</password></xdb>");
    expect(await home.ctl(['import_dir', other])).toEqual(
      fails(
        1,
        `Error: Cannot import ${other}: the spool directory ${other} stands for the server jabber.example.net, which is not a host of this node: it serves localhost, example.org (hosts in ${join(home.dir, 'ctl.yml')})\n`,
      ),
    );
    expect(await home.ctl(['registered_users', 'example.org'])).toEqual(ok());
  });

  test('wrong number of arguments is a usage error', async () => {
    expect(await home.ctl(['import_dir'])).toEqual(fails(2, "Error: missing argument 'file'\nUsage: ctl import_dir file\n"));
  });
});

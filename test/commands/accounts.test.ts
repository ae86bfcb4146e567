import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fails, ok, tempHome } from '../helpers/cli';
import { openLevelStore } from '../../src/storage/level';
import { readAccount, type AccountRecord } from '../../src/features/accounts/records';

let home: ReturnType<typeof tempHome>;
beforeEach(() => (home = tempHome()));
afterEach(() => home.cleanup());

async function stored(host: string, user: string): Promise<AccountRecord | undefined> {
  const store = await openLevelStore(join(home.dir, 'db'));
  try {
    return await readAccount(store, { host, user });
  } finally {
    await store.close();
  }
}

function plainConfig() {
  writeFileSync(join(home.dir, 'ctl.yml'), 'auth_password_format: plain\n');
}

describe('register', () => {
  test('creates the account and says so', async () => {
    expect(await home.ctl(['register', 'alice', 'localhost', 's3cret'])).toEqual(ok('User alice@localhost successfully registered\n'));
    expect(await home.ctl(['check_account', 'alice', 'localhost'])).toEqual(ok());
  });

  test('refuses an existing account with a conflict', async () => {
    await home.ctl(['register', 'alice', 'localhost', 's3cret']);
    expect(await home.ctl(['register', 'alice', 'localhost', 'other'])).toEqual(fails(1, 'Error: User alice@localhost already registered\n'));
    expect(await home.ctl(['check_password', 'alice', 'localhost', 's3cret'])).toEqual(ok());
  });

  test('normalises user names: case folding and unicode NFKC', async () => {
    expect((await home.ctl(['register', 'Alice', 'LocalHost', 'pw'])).stdout).toBe('User alice@localhost successfully registered\n');
    expect((await home.ctl(['check_account', 'ALICE', 'localhost'])).status).toBe(0);
    expect((await home.ctl(['register', 'ÉMILE', 'localhost', 'pw'])).stdout).toBe('User émile@localhost successfully registered\n');
    // U+FB01 (the "fi" ligature) folds to "fi" under NFKC.
    expect((await home.ctl(['register', '\ufb01ona', 'localhost', 'pw'])).stdout).toBe('User fiona@localhost successfully registered\n');
    expect((await home.ctl(['register', 'fiona', 'localhost', 'pw'])).status).toBe(1);
  });

  test.each([
    ['a space', 'a b', "Error: Invalid user name 'a b' (user): a user name cannot contain spaces, control characters or any of \"&'/:<>@\n"],
    ['an at sign', 'a@b', "Error: Invalid user name 'a@b' (user): a user name cannot contain spaces, control characters or any of \"&'/:<>@\n"],
    ['a quote', "o'neil", "Error: Invalid user name 'o'neil' (user): a user name cannot contain spaces, control characters or any of \"&'/:<>@\n"],
    ['nothing', '', 'Error: The user name (user) must not be empty\n'],
    ['1024 bytes', 'x'.repeat(1024), 'Error: The user name (user) is longer than 1023 bytes\n'],
  ])('refuses a user name with %s as a usage error', async (_label, user, message) => {
    expect(await home.ctl(['register', user, 'localhost', 'pw'])).toEqual(fails(2, `${message}Usage: ctl register user host password\n`));
    expect((await home.ctl(['registered_users', 'localhost'])).stdout).toBe('');
  });

  test('refuses an unknown host, naming the configured hosts and the file', async () => {
    const r = await home.ctl(['register', 'alice', 'example.org', 'pw']);
    expect(r).toEqual(fails(1, `Error: Unknown host 'example.org': this node serves localhost (hosts in ${join(home.dir, 'ctl.yml')})\n`));
  });

  test('refuses an empty or over-long password', async () => {
    expect((await home.ctl(['register', 'alice', 'localhost', ''])).stderr).toBe(
      'Error: The password (password) must not be empty\nUsage: ctl register user host password\n',
    );
    expect((await home.ctl(['register', 'alice', 'localhost', 'p'.repeat(1025)])).status).toBe(2);
    expect((await home.ctl(['check_account', 'alice', 'localhost'])).status).toBe(1);
  });

  test('wrong number of arguments is a usage error', async () => {
    expect(await home.ctl(['register', 'alice', 'localhost'])).toEqual(
      fails(2, "Error: missing argument 'password'\nUsage: ctl register user host password\n"),
    );
    expect(await home.ctl(['register', 'alice', 'localhost', 'pw', 'extra'])).toEqual(
      fails(2, 'Error: too many arguments for register: it takes 3, got 4\nUsage: ctl register user host password\n'),
    );
  });

  test('stores SCRAM by default: the password never reaches the disk', async () => {
    await home.ctl(['register', 'alice', 'localhost', 'Unmistakable-Passw0rd']);
    const rec = await stored('localhost', 'alice');
    expect(rec?.secret).toMatchObject({ format: 'scram', hash: 'sha1', iterations: 4096 });
    const db = join(home.dir, 'db');
    for (const file of readdirSync(db)) expect(readFileSync(join(db, file)).includes('Unmistakable-Passw0rd')).toBe(false);
  });

  test('stores the plain password with auth_password_format: plain', async () => {
    plainConfig();
    await home.ctl(['register', 'alice', 'localhost', 'pw']);
    expect((await stored('localhost', 'alice'))?.secret).toEqual({ format: 'plain', password: 'pw' });
  });

  test('a password may start with a dash', async () => {
    expect((await home.ctl(['register', 'alice', 'localhost', '-pw'])).status).toBe(0);
    expect((await home.ctl(['check_password', 'alice', 'localhost', '-pw'])).status).toBe(0);
  });
});

describe('unregister', () => {
  test('removes the account and its last activity, and nobody else', async () => {
    await home.ctl(['register', 'alice', 'localhost', 'pw']);
    await home.ctl(['register', 'bob', 'localhost', 'pw']);
    await home.ctl(['set_last', 'alice', 'localhost', '1700000000', 'gone']);
    expect(await home.ctl(['unregister', 'alice', 'localhost'])).toEqual(ok());
    expect((await home.ctl(['registered_users', 'localhost'])).stdout).toBe('bob\n');
    await home.ctl(['register', 'alice', 'localhost', 'pw']);
    expect((await home.ctl(['get_last', 'alice', 'localhost'])).stdout).toBe('Never\n');
  });

  test('a user that does not exist is gone already: exit 0, silently, as ejabberdctl; an unknown host still fails', async () => {
    await home.ctl(['register', 'bob', 'localhost', 'pw']);
    expect(await home.ctl(['unregister', 'nobody', 'localhost'])).toEqual(ok());
    expect(await home.ctl(['unregister', 'bob', 'localhost'])).toEqual(ok());
    expect(await home.ctl(['unregister', 'bob', 'localhost'])).toEqual(ok());
    expect((await home.ctl(['registered_users', 'localhost'])).stdout).toBe('');
    expect((await home.ctl(['unregister', 'nobody', 'nowhere.example'])).stderr).toMatch(/^Error: Unknown host 'nowhere.example'/);
  });
});

describe('passwords', () => {
  beforeEach(async () => {
    await home.ctl(['register', 'alice', 'localhost', 'old']);
  });

  test('change_password replaces the password', async () => {
    expect(await home.ctl(['change_password', 'alice', 'localhost', 'new'])).toEqual(ok());
    expect((await home.ctl(['check_password', 'alice', 'localhost', 'new'])).status).toBe(0);
    expect(await home.ctl(['check_password', 'alice', 'localhost', 'old'])).toEqual({ status: 1, stdout: '', stderr: '' });
  });

  test('change-password (the old spelling) works too', async () => {
    expect(await home.ctl(['change-password', 'alice', 'localhost', 'new'])).toEqual(ok());
    expect((await home.ctl(['check_password', 'alice', 'localhost', 'new'])).status).toBe(0);
  });

  test('change_password fails for an unknown user and an empty password', async () => {
    expect(await home.ctl(['change_password', 'bob', 'localhost', 'x'])).toEqual(fails(1, 'Error: User bob@localhost does not exist\n'));
    expect((await home.ctl(['change_password', 'alice', 'localhost', ''])).status).toBe(2);
    expect((await home.ctl(['check_password', 'alice', 'localhost', 'old'])).status).toBe(0);
  });

  test('check_password is false for an unknown user', async () => {
    expect(await home.ctl(['check_password', 'bob', 'localhost', 'old'])).toEqual({ status: 1, stdout: '', stderr: '' });
  });

  test('check_account answers through the exit status', async () => {
    expect(await home.ctl(['check_account', 'alice', 'localhost'])).toEqual(ok());
    expect(await home.ctl(['check_account', 'bob', 'localhost'])).toEqual({ status: 1, stdout: '', stderr: '' });
    expect((await home.ctl(['check_account', 'a b', 'localhost'])).status).toBe(2);
  });
});

describe('check_password_hash', () => {
  const md5 = 'a029d0df84eb5549c641e04a9ef389e5'; // md5("mypass")
  const sha = 'e727d1464ae12436e899a726da5b2f11d8381b26'; // sha1("mypass")

  test('compares md5 and sha hex digests case-insensitively over plain storage', async () => {
    plainConfig();
    await home.ctl(['register', 'alice', 'localhost', 'mypass']);
    expect(await home.ctl(['check_password_hash', 'alice', 'localhost', md5, 'md5'])).toEqual(ok());
    expect(await home.ctl(['check_password_hash', 'alice', 'localhost', md5.toUpperCase(), 'md5'])).toEqual(ok());
    expect(await home.ctl(['check_password_hash', 'alice', 'localhost', sha, 'sha'])).toEqual(ok());
    expect(await home.ctl(['check_password_hash', 'alice', 'localhost', sha, 'md5'])).toEqual({ status: 1, stdout: '', stderr: '' });
    expect(await home.ctl(['check_password_hash', 'bob', 'localhost', md5, 'md5'])).toEqual({ status: 1, stdout: '', stderr: '' });
  });

  test('rejects an unknown hash method', async () => {
    plainConfig();
    await home.ctl(['register', 'alice', 'localhost', 'mypass']);
    expect((await home.ctl(['check_password_hash', 'alice', 'localhost', md5, 'sha256'])).stderr).toBe(
      "Error: Unknown hash method 'sha256' (hashmethod): use md5 or sha\nUsage: ctl check_password_hash user host passwordhash hashmethod\n",
    );
  });

  test('explains that SCRAM storage cannot be compared', async () => {
    await home.ctl(['register', 'alice', 'localhost', 'mypass']);
    expect(await home.ctl(['check_password_hash', 'alice', 'localhost', md5, 'md5'])).toEqual(
      fails(
        1,
        'Error: The password of alice@localhost is stored as SCRAM, so its hash cannot be compared: check_password_hash needs auth_password_format: plain\n',
      ),
    );
  });
});

describe('ban_account', () => {
  test('locks the account out with an unknown password and records the reason', async () => {
    await home.ctl(['register', 'alice', 'localhost', 'pw']);
    expect(await home.ctl(['ban_account', 'alice', 'localhost', 'spamming'])).toEqual(ok());
    expect((await home.ctl(['check_password', 'alice', 'localhost', 'pw'])).status).toBe(1);
    expect((await home.ctl(['check_account', 'alice', 'localhost'])).status).toBe(0);
    expect((await stored('localhost', 'alice'))?.banned?.reason).toBe('spamming');
    expect((await home.ctl(['register', 'alice', 'localhost', 'pw'])).status).toBe(1);
  });

  test('an empty reason becomes the default one; change_password lifts the ban', async () => {
    await home.ctl(['register', 'alice', 'localhost', 'pw']);
    await home.ctl(['ban_account', 'alice', 'localhost', '']);
    expect((await stored('localhost', 'alice'))?.banned?.reason).toBe('Kicked by administrator');
    await home.ctl(['change_password', 'alice', 'localhost', 'fresh']);
    expect((await home.ctl(['check_password', 'alice', 'localhost', 'fresh'])).status).toBe(0);
    expect((await stored('localhost', 'alice'))?.banned).toBeUndefined();
  });

  test('fails for a user that does not exist, and creates nothing', async () => {
    expect(await home.ctl(['ban_account', 'ghost', 'localhost', 'x'])).toEqual(fails(1, 'Error: User ghost@localhost does not exist\n'));
    expect((await home.ctl(['check_account', 'ghost', 'localhost'])).status).toBe(1);
  });
});

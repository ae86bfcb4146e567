import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { tempHome } from '../helpers/cli';
import { openLevelStore } from '../../src/storage/level';
import { hostAccounts } from '../../src/features/accounts/records';
import { hostLasts } from '../../src/features/last/records';

let home: ReturnType<typeof tempHome>;
beforeEach(() => (home = tempHome()));
afterEach(() => home.cleanup());

const DAY = 86400;
const NOW = 1_750_000_000; // seconds
const clock = () => NOW * 1000;
const ctl = (argv: string[]) => home.ctl(argv, { clock });

function hosts(...names: string[]) {
  writeFileSync(join(home.dir, 'ctl.yml'), `hosts:\n${names.map((n) => `  - ${n}\n`).join('')}`);
}

async function register(...jids: string[]) {
  for (const jid of jids) {
    const [user, host] = jid.split('@');
    expect((await ctl(['register', user, host, 'pw'])).status).toBe(0);
  }
}

describe('registered_users and registered_vhosts', () => {
  test('lists user names sorted by their bytes, one per line', async () => {
    await register('mallory@localhost', 'bob@localhost', 'Zed@localhost', 'émile@localhost', 'alice@localhost');
    expect(await ctl(['registered_users', 'localhost'])).toEqual({ status: 0, stdout: 'alice\nbob\nmallory\nzed\némile\n', stderr: '' });
  });

  test('an empty host prints nothing; an unknown host fails', async () => {
    expect(await ctl(['registered_users', 'localhost'])).toEqual({ status: 0, stdout: '', stderr: '' });
    expect((await ctl(['registered_users', 'nowhere.example'])).status).toBe(1);
  });

  test('users of one host do not leak into another', async () => {
    hosts('a.example', 'b.example');
    await register('ann@a.example', 'bea@b.example');
    expect((await ctl(['registered_users', 'a.example'])).stdout).toBe('ann\n');
    expect((await ctl(['registered_users', 'B.Example'])).stdout).toBe('bea\n');
  });

  test('registered_vhosts lists the configured hosts', async () => {
    expect(await ctl(['registered_vhosts'])).toEqual({ status: 0, stdout: 'localhost\n', stderr: '' });
    hosts('a.example', 'B.example');
    expect((await ctl(['registered_vhosts'])).stdout).toBe('a.example\nb.example\n');
  });
});

describe('last activity', () => {
  test('get_last says Never, then the stored time in UTC and the status', async () => {
    await register('alice@localhost');
    expect(await ctl(['get_last', 'alice', 'localhost'])).toEqual({ status: 0, stdout: 'Never\n', stderr: '' });
    expect(await ctl(['set_last', 'alice', 'localhost', '1700000000', 'Gone fishing'])).toEqual({ status: 0, stdout: '', stderr: '' });
    expect((await ctl(['get_last', 'alice', 'localhost'])).stdout).toBe('2023-11-14 22:13:20 Gone fishing\n');
    await ctl(['set_last', 'alice', 'localhost', '0', '']);
    expect((await ctl(['get_last', 'alice', 'localhost'])).stdout).toBe('1970-01-01 00:00:00\n');
  });

  test('both fail for an unknown user; set_last refuses bad timestamps', async () => {
    expect((await ctl(['get_last', 'ghost', 'localhost'])).stderr).toBe('Error: User ghost@localhost does not exist\n');
    expect((await ctl(['set_last', 'ghost', 'localhost', '1', 's'])).status).toBe(1);
    await register('alice@localhost');
    expect((await ctl(['set_last', 'alice', 'localhost', '-5', 's'])).status).toBe(2);
    expect((await ctl(['set_last', 'alice', 'localhost', 'yesterday', 's'])).stderr).toBe(
      "Error: Bad value for argument 'timestamp': expected a whole number, got 'yesterday'\nUsage: ctl set_last user host timestamp status\n",
    );
    expect((await ctl(['get_last', 'alice', 'localhost'])).stdout).toBe('Never\n');
  });
});

describe('delete_old_users', () => {
  beforeEach(async () => {
    await register('old@localhost', 'recent@localhost', 'never@localhost');
    await ctl(['set_last', 'old', 'localhost', String(NOW - 100 * DAY), '']);
    await ctl(['set_last', 'recent', 'localhost', String(NOW - DAY), '']);
  });

  test('deletes users idle longer than DAYS and those never seen, with everything they own', async () => {
    expect(await ctl(['delete_old_users', '30'])).toEqual({
      status: 0,
      stdout: 'Deleted 2 users: never@localhost, old@localhost\n',
      stderr: '',
    });
    expect((await ctl(['registered_users', 'localhost'])).stdout).toBe('recent\n');
    const store = await openLevelStore(join(home.dir, 'db'));
    const left: string[] = [];
    for await (const [jid] of hostLasts(store, 'localhost')) left.push(jid.user);
    await store.close();
    expect(left).toEqual(['recent']);
  });

  test('says so when nobody is old enough', async () => {
    expect((await ctl(['delete_old_users', '1000'])).stdout).toBe('Deleted 1 users: never@localhost\n');
    expect((await ctl(['delete_old_users', '1000'])).stdout).toBe('Deleted 0 users\n');
  });

  test('delete_old_users_vhost touches one host only', async () => {
    hosts('localhost', 'other.example');
    await register('idle@other.example');
    expect((await ctl(['delete_old_users_vhost', 'other.example', '30'])).stdout).toBe('Deleted 1 users: idle@other.example\n');
    expect((await ctl(['registered_users', 'localhost'])).stdout).toBe('never\nold\nrecent\n');
    expect((await ctl(['delete_old_users_vhost', 'nowhere.example', '30'])).status).toBe(1);
  });

  test('refuses negative and non-integer days', async () => {
    expect((await ctl(['delete_old_users', '-1'])).stderr).toBe(
      'Error: The number of days (days) must not be negative, got -1\nUsage: ctl delete_old_users days\n',
    );
    expect((await ctl(['delete_old_users', '30days'])).status).toBe(2);
    expect((await ctl(['registered_users', 'localhost'])).stdout).toBe('never\nold\nrecent\n');
  });
});

describe('num_active_users', () => {
  test('counts users seen within DAYS', async () => {
    await register('a@localhost', 'b@localhost', 'c@localhost');
    await ctl(['set_last', 'a', 'localhost', String(NOW - 2 * DAY), '']);
    await ctl(['set_last', 'b', 'localhost', String(NOW - 40 * DAY), '']);
    expect(await ctl(['num_active_users', 'localhost', '7'])).toEqual({ status: 0, stdout: '1\n', stderr: '' });
    expect((await ctl(['num_active_users', 'localhost', '60'])).stdout).toBe('2\n');
    expect((await ctl(['num_active_users', 'localhost', '-3'])).status).toBe(2);
    expect((await ctl(['num_active_users', 'nowhere.example', '3'])).status).toBe(1);
  });
});

describe('convert_to_scram', () => {
  test('turns plain passwords into SCRAM and keeps them working', async () => {
    writeFileSync(join(home.dir, 'ctl.yml'), 'auth_password_format: plain\n');
    await register('alice@localhost', 'bob@localhost');
    expect(await ctl(['convert_to_scram', 'localhost'])).toEqual({ status: 0, stdout: '', stderr: '' });
    const store = await openLevelStore(join(home.dir, 'db'));
    const formats: string[] = [];
    for await (const [, rec] of hostAccounts(store, 'localhost')) formats.push(rec.secret.format);
    await store.close();
    expect(formats).toEqual(['scram', 'scram']);
    expect((await ctl(['check_password', 'alice', 'localhost', 'pw'])).status).toBe(0);
    expect((await ctl(['check_password', 'bob', 'localhost', 'wrong'])).status).toBe(1);
    expect((await ctl(['convert_to_scram', 'nowhere.example'])).status).toBe(1);
  });
});

describe('through ctl batch', () => {
  test('account commands answer as they do alone: same output, same errors', async () => {
    const script: string[][] = [
      ['register', 'alice', 'localhost', 'pw'],
      ['register', 'alice', 'localhost', 'pw'],
      ['register', 'Bob', 'localhost', 'two words'],
      ['register', 'a b', 'localhost', 'pw'],
      ['check_account', 'bob', 'localhost'],
      ['check_password', 'bob', 'localhost', 'two words'],
      ['check_password', 'bob', 'localhost', 'wrong'],
      ['change_password', 'alice', 'localhost', 'new'],
      ['set_last', 'alice', 'localhost', String(NOW - 90 * DAY), 'away'],
      ['get_last', 'alice', 'localhost'],
      ['num_active_users', 'localhost', '100'],
      ['ban_account', 'ghost', 'localhost', 'x'],
      ['registered_users', 'localhost'],
      ['delete_old_users', '30'],
      ['unregister', 'bob', 'localhost'],
      ['registered_users', 'localhost'],
    ];
    const alone = [];
    for (const argv of script) alone.push(await ctl(argv));
    const expected =
      'User alice@localhost successfully registered\nUser bob@localhost successfully registered\n' +
      '2025-03-17 15:06:40 away\n1\nalice\nbob\nDeleted 2 users: alice@localhost, bob@localhost\n';
    expect(alone.map((r) => r.stdout).join('')).toBe(expected);
    // unregister of bob, whom delete_old_users removed, succeeds silently as in ejabberdctl.
    expect(alone.map((r) => r.status)).toEqual([0, 1, 0, 2, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0]);

    const other = tempHome();
    try {
      const input = script.map((argv) => argv.map((w) => `'${w}'`).join(' ')).join('\n');
      const batch = await other.ctl(['batch'], { clock, stdin: input });
      expect(batch.status).toBe(1);
      expect(batch.stdout).toBe(expected);
      alone.forEach((r, i) => {
        if (r.stderr) expect(batch.stderr).toContain(`line ${i + 1}: ${r.stderr}`);
      });
      expect(batch.stderr).toContain('line 7: Error: check_password answered false\n');
      expect(batch.stderr.match(/^line \d+: Error/gm)).toEqual(['line 2: Error', 'line 4: Error', 'line 7: Error', 'line 12: Error']);
    } finally {
      other.cleanup();
    }
  });
});

/**
 * Numbers the commands accept are numbers the rest of the program can read back: days, seconds
 * and timestamps past what a date can hold are usage errors naming the argument, and a bad
 * value that is stored all the same (by hand, by an old version) makes the one record it is in
 * fail, not the whole listing.
 */
import { join } from 'node:path';
import { tempHome } from '../helpers/cli';
import { openLevelStore } from '../../src/storage/level';
import { API_TOKENS, tokenOps } from '../../src/features/tokens/records';
import { lastOps } from '../../src/features/last/records';

let home: ReturnType<typeof tempHome>;
beforeEach(async () => {
  home = tempHome();
  expect(await home.ctl(['register', 'alice', 'localhost', 'pw'])).toMatchObject({ status: 0 });
});
afterEach(() => home.cleanup());

const DAYS = 'The number of days (days) must be at most 1000000, got 100000000';

test.each([
  [['api_token_create', 'alice', 'localhost', '100000000'], DAYS, 'ctl api_token_create user host days'],
  [['delete_old_users', '100000000'], DAYS, 'ctl delete_old_users days'],
  [['delete_old_users_vhost', 'localhost', '100000000'], DAYS, 'ctl delete_old_users_vhost host days'],
  [['num_active_users', 'localhost', '100000000'], DAYS, 'ctl num_active_users host days'],
  [['delete_old_messages', '100000000'], DAYS, 'ctl delete_old_messages days'],
  [['delete_old_mam_messages', 'all', '100000000'], DAYS, 'ctl delete_old_mam_messages type days'],
  [
    ['set_last', 'alice', 'localhost', '8640000000001', 'away'],
    'The timestamp (timestamp) must be at most 253402300799 (9999-12-31 23:59:59 UTC), got 8640000000001',
    'ctl set_last user host timestamp status',
  ],
])('%j is a usage error naming the argument', async (argv, message, usage) => {
  expect(await home.ctl(argv)).toEqual({ status: 2, stdout: '', stderr: `Error: ${message}\n${usage.startsWith('ctl') ? `Usage: ${usage}\n` : ''}` });
});

test('the largest values accepted are read back', async () => {
  expect(await home.ctl(['set_last', 'alice', 'localhost', '253402300799', 'away'])).toEqual({ status: 0, stdout: '', stderr: '' });
  expect(await home.ctl(['get_last', 'alice', 'localhost'])).toEqual({ status: 0, stdout: '9999-12-31 23:59:59 away\n', stderr: '' });
  expect(await home.ctl(['api_token_create', 'alice', 'localhost', '1000000'])).toMatchObject({ status: 0 });
  const list = await home.ctl(['api_token_list']);
  expect(list.stderr).toBe('');
  expect(list.stdout).toMatch(/^[0-9a-f]{12}\talice@localhost\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\t47\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);
});

async function store<T>(fn: (s: Awaited<ReturnType<typeof openLevelStore>>) => Promise<T>): Promise<T> {
  const s = await openLevelStore(join(home.dir, 'db'));
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

test('api_token_list skips a stored token whose time cannot be read, with a warning naming it', async () => {
  expect(await home.ctl(['api_token_create', 'alice', 'localhost', '30'])).toMatchObject({ status: 0 });
  const hash = 'ab'.repeat(32);
  await store((s) => s.batch(tokenOps(hash, { jid: 'alice@localhost', created: 1, expires: 8_640_000_000_001 })));
  const r = await home.ctl(['api_token_list']);
  expect(r.stdout).toMatch(/^[0-9a-f]{12}\talice@localhost\t[^\t]+\t[^\t]+\n$/);
  expect(r.stdout).not.toContain('abababababab');
  expect(r.stderr).toBe('Warning: the API token abababababab of alice@localhost is skipped: its expiry (8640000000001) is not a time\n');
  expect(r.status).toBe(0);
  expect(await store((s) => s.get(API_TOKENS, [hash]))).toBeDefined();
});

test('get_last of a stored timestamp that is not a time is an error naming the record', async () => {
  await store((s) => s.batch(lastOps({ host: 'localhost', user: 'alice' }, { timestamp: 8_640_000_000_001, status: 'x' })));
  expect(await home.ctl(['get_last', 'alice', 'localhost'])).toEqual({
    status: 1,
    stdout: '',
    stderr: 'Error: The last activity of alice@localhost holds 8640000000001, which is not a time\n',
  });
});

test('stop_kindly and rooms_unused_* refuse what no timer or date can reach, before touching the node', async () => {
  const { stopKindly } = await import('../../commands/support/node');
  const { unusedRooms } = await import('../../commands/support/muc');
  await expect(stopKindly({} as never, 3_000_000, 'bye', () => undefined)).rejects.toMatchObject({
    code: 'bad_argument',
    message: 'The delay (delay) must be at most 86400 seconds (one day), got 3000000',
  });
  await expect(unusedRooms({} as never, 'global', 100_000_000, true, () => undefined)).rejects.toMatchObject({ code: 'bad_argument', message: DAYS });
});

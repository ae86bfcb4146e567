import { fails, ok, tempHome } from '../helpers/cli';

let home: ReturnType<typeof tempHome>;
beforeEach(async () => {
  home = tempHome();
  await home.ctl(['register', 'alice', 'localhost', 'pw']);
});
afterEach(() => home.cleanup());

test('api_token_create gives a token shown once; api_token_list shows ids, never tokens', async () => {
  const r = await home.ctl(['api_token_create', 'Alice', 'localhost', '0']);
  expect(r.status).toBe(0);
  const token = r.stdout.trim();
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  const list = await home.ctl(['api_token_list']);
  expect(list.stdout).toMatch(/^[0-9a-f]{12}\talice@localhost\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\tnever\n$/);
  expect(list.stdout).not.toContain(token);
  expect(await home.ctl(['api_token_list', 'extra'])).toEqual(
    fails(2, 'Error: too many arguments for api_token_list: it takes 0, got 1\nUsage: ctl api_token_list\n'),
  );
});

test('api_token_create refuses an unknown account, an unknown host and negative or non-integer days', async () => {
  expect(await home.ctl(['api_token_create', 'bob', 'localhost', '1'])).toEqual(fails(1, 'Error: User bob@localhost does not exist\n'));
  expect((await home.ctl(['api_token_create', 'alice', 'nowhere.example', '1'])).status).toBe(1);
  expect(await home.ctl(['api_token_create', 'alice', 'localhost', '-1'])).toEqual(
    fails(2, 'Error: The number of days (days) must not be negative, got -1\nUsage: ctl api_token_create user host days\n'),
  );
  expect((await home.ctl(['api_token_create', 'alice', 'localhost', 'soon'])).status).toBe(2);
  expect(await home.ctl(['api_token_list'])).toEqual(ok());
});

test('api_token_revoke removes a token by id; a bad or unknown id is an error', async () => {
  await home.ctl(['api_token_create', 'alice', 'localhost', '7']);
  const id = (await home.ctl(['api_token_list'])).stdout.slice(0, 12);
  expect(await home.ctl(['api_token_revoke', 'xyz'])).toEqual(
    fails(2, "Error: Invalid token id 'xyz' (id): ids are the 12 hex digits api_token_list shows\nUsage: ctl api_token_revoke id\n"),
  );
  expect(await home.ctl(['api_token_revoke', '000000000000'])).toEqual(fails(1, 'Error: No API token has the id 000000000000\n'));
  expect(await home.ctl(['api_token_revoke', id])).toEqual(ok());
  expect(await home.ctl(['api_token_list'])).toEqual(ok());
  expect(await home.ctl(['api_token_revoke', id])).toEqual(fails(1, `Error: No API token has the id ${id}\n`));
});

test('unregistering an account revokes its tokens', async () => {
  await home.ctl(['api_token_create', 'alice', 'localhost', '0']);
  await home.ctl(['unregister', 'alice', 'localhost']);
  expect(await home.ctl(['api_token_list'])).toEqual(ok());
});

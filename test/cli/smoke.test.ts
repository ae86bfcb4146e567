import { tempHome } from '../helpers/cli';

const home = tempHome();
afterAll(home.cleanup);

test('register then list', async () => {
  expect(await home.ctl(['register', 'alice', 'localhost', 's3cret'])).toEqual({
    status: 0,
    stdout: 'User alice@localhost successfully registered\n',
    stderr: '',
  });
  expect((await home.ctl(['registered_users', 'localhost'])).stdout).toBe('alice\n');
});

/**
 * The statistics the database holds need no node: a monitoring script gets registeredusers
 * whether or not the node runs. What only a running node knows (sessions, uptime, processes)
 * still needs one and says so with exit 3, so that a stopped node never reads as a quiet one.
 */
import { fails, ok, tempHome } from '../helpers/cli';

const home = tempHome('ctl-stats-');
afterAll(home.cleanup);
const NO_NODE = (name: string) =>
  fails(3, `Error: The statistic ${name} needs a running node, and none is running: start it with 'ctl start' (registeredusers needs none)\n`);

beforeAll(async () => {
  for (const user of ['alice', 'bob', 'carol']) expect((await home.ctl(['register', user, 'localhost', 'pw'])).status).toBe(0);
});

test('stats registeredusers and stats_host registeredusers count the stored accounts', async () => {
  expect(await home.ctl(['stats', 'registeredusers'])).toEqual(ok('3\n'));
  expect(await home.ctl(['stats_host', 'registeredusers', 'localhost'])).toEqual(ok('3\n'));
  expect(await home.ctl(['stats_host', 'registeredusers', 'LocalHost'])).toEqual(ok('3\n'));
});

test.each(['onlineusers', 'onlineusersnode', 'uptimeseconds', 'processes'])('stats %s needs a running node: exit 3', async (name) => {
  expect(await home.ctl(['stats', name])).toEqual(NO_NODE(name));
});

test('stats_host onlineusers needs a running node; a host this node does not serve is said first', async () => {
  expect(await home.ctl(['stats_host', 'onlineusers', 'localhost'])).toEqual(NO_NODE('onlineusers'));
  expect((await home.ctl(['stats_host', 'onlineusers', 'elsewhere.example'])).stderr).toMatch(/^Error: Unknown host 'elsewhere\.example': /);
});

test('an unknown statistic is a usage error, with or without a node', async () => {
  expect(await home.ctl(['stats', 'users'])).toEqual(
    fails(2, "Error: Unknown statistic 'users' (name): use registeredusers, onlineusers, onlineusersnode, uptimeseconds, processes\nUsage: ctl stats name\n"),
  );
});

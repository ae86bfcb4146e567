import { parseConfig } from '../../src/config/config';
import { configChanges } from '../../src/node/reload';

const FILE = '/etc/ctl/ctl.yml';
const parse = (text: string) => parseConfig(text, FILE);

test('redis_server names the cluster Redis, with the defaults for what is left out', () => {
  expect(parse('').redis).toBeUndefined();
  expect(parse('redis_server: redis.example.org\n').redis).toEqual({ server: 'redis.example.org', port: 6379, db: 0, leaseMs: 15_000 });
  expect(parse('redis_server: 10.0.0.5\nredis_port: 6380\nredis_db: 3\nredis_password: s3cret\ncluster_lease: 2.5\n').redis).toEqual({
    server: '10.0.0.5',
    port: 6380,
    db: 3,
    password: 's3cret',
    leaseMs: 2500,
  });
  expect(parse('redis_server: r\nredis_password_file: secrets/redis\n').redis).toMatchObject({ passwordFile: '/etc/ctl/secrets/redis' });
});

test.each([
  ['redis_port: 0', "'redis_port' must be a whole number from 1 to 65535, got 0"],
  ['redis_db: 16', "'redis_db' must be a whole number from 0 to 15, got 16"],
  ['cluster_lease: 0', "'cluster_lease' must be a number of seconds from 1 to 300, got 0"],
  ['cluster_lease: soon', `'cluster_lease' must be a number of seconds from 1 to 300, got "soon"`],
  ['redis_password_file: pw\nredis_password: x', "'redis_password_file' and 'redis_password' say the same thing: keep one"],
])('%s is refused, naming the key and the line', (lines, message) => {
  expect(() => parse(`redis_server: r\n${lines}\n`)).toThrow(`Invalid configuration ${FILE} (line 2): ${message}`);
});

test('an empty redis_server is refused', () => {
  expect(() => parse('redis_server: ""\n')).toThrow(
    `Invalid configuration ${FILE} (line 1): 'redis_server' must be the host name or address of the cluster's Redis`,
  );
});

test('a redis_* option without redis_server is refused, as it would do nothing', () => {
  expect(() => parse('hosts: [localhost]\nredis_port: 6380\n')).toThrow(
    `Invalid configuration ${FILE} (line 2): 'redis_port' is used only with 'redis_server', the Redis of the cluster, which this file does not name`,
  );
});

test('reload_config says a changed Redis takes effect when the node starts again', () => {
  const started = { nodeName: 'ctl@localhost', socketGroup: undefined };
  const texts = (from: string, to: string) => configChanges(parse(from), parse(to), started).map((c) => c.text);
  const r = 'redis_server: r\n';
  const note = "Not applied: redis_*, cluster_lease: the cluster's Redis changes when the node starts again (ctl stop, then ctl start)";
  expect(texts('', r)).toEqual([note]);
  expect(texts(r, `${r}cluster_lease: 5\n`)).toEqual([note]);
  expect(texts(r, r)).toEqual([]);
});

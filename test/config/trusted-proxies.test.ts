import { isTrustedProxy } from '../../src/config/access';
import { parseConfig } from '../../src/config/config';

const FILE = '/etc/ctl/ctl.yml';
const parse = (text: string) => parseConfig(text, FILE);

test('none by default; all; addresses and networks, IPv4 in either spelling', () => {
  expect(isTrustedProxy(parse('').trustedProxies, '127.0.0.1')).toBe(false);
  expect(isTrustedProxy(parse('trusted_proxies: all\n').trustedProxies, '198.51.100.1')).toBe(true);
  const some = parse('trusted_proxies: [127.0.0.1, 10.0.0.0/8, "::1"]\n').trustedProxies;
  expect(['127.0.0.1', '::ffff:127.0.0.1', '10.9.8.7', '::1'].map((a) => isTrustedProxy(some, a))).toEqual([true, true, true, true]);
  expect(['127.0.0.2', '11.0.0.1', '::2', 'not an address'].map((a) => isTrustedProxy(some, a))).toEqual([false, false, false, false]);
});

test.each([
  ['trusted_proxies: 127.0.0.1', "'trusted_proxies' must be all or a list of addresses and networks (e.g. [127.0.0.1, 10.0.0.0/8])"],
  ['trusted_proxies: [proxy.example.org]', "'trusted_proxies': 'proxy.example.org' is not an address or a network such as 10.0.0.0/8"],
  ['trusted_proxies: [10.0.0.0/33]', "'trusted_proxies': '10.0.0.0/33': the prefix length must be 0 to 32"],
])('%s is refused, naming the key and the line', (line, message) => {
  expect(() => parse(`hosts: [localhost]\n${line}\n`)).toThrow(`Invalid configuration ${FILE} (line 2): ${message}`);
});

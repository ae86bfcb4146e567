import { allowed, parseAddress } from '../../src/config/access';
import type { Config } from '../../src/config/config';
import { CONFIG_FILE as FILE, failure, parse } from '../helpers/config';

const who = (jid: string, ip = '192.0.2.7') => {
  const [user, host] = jid.split('@');
  return { jid: { user, host }, ip };
};
/** A configuration serving example.org and chat.example.org with `acl` and a rule `r` of `items`. */
const withRule = (acl: string, items: string) => parse(`hosts: [example.org, chat.example.org]\nacl:\n${acl}access_rules:\n  r:\n${items}`);

const SHIPPED = [
  'hosts: [localhost]',
  'acl:',
  '  local:',
  '    user_regexp: ""',
  '  loopback:',
  '    ip:',
  '      - 127.0.0.0/8',
  '      - ::1/128',
  'access_rules:',
  '  local:',
  '    allow: local',
  '  c2s:',
  '    deny: blocked',
  '    allow: all',
  '  trusted_network:',
  '    allow: loopback',
  'listen:',
  '  - port: 5222',
  '    module: ejabberd_c2s',
  '    access: c2s',
  '',
].join('\n');

describe("ejabberd's shipped acl and access_rules", () => {
  let config: Config;
  beforeAll(() => {
    config = parse(SHIPPED);
  });

  test('read as they are, the listener keeping its rule', () => {
    expect([...config.acl.keys()]).toEqual(['local', 'loopback']);
    expect([...config.accessRules.keys()]).toEqual(['local', 'c2s', 'trusted_network']);
    expect(config.c2s[0].access).toBe('c2s');
  });

  test('local: any user of a served host, nobody of another', () => {
    expect(allowed(config, 'local', who('alice@localhost'))).toBe(true);
    expect(allowed(config, 'local', who('alice@elsewhere.org'))).toBe(false);
  });

  test('c2s: everyone, the undefined blocked ACL denying no one', () => {
    expect(allowed(config, 'c2s', who('alice@localhost'))).toBe(true);
  });

  test('trusted_network: loopback addresses, IPv4 and IPv6, and only those', () => {
    expect(allowed(config, 'trusted_network', who('a@localhost', '127.0.0.1'))).toBe(true);
    expect(allowed(config, 'trusted_network', who('a@localhost', '127.255.3.4'))).toBe(true);
    expect(allowed(config, 'trusted_network', who('a@localhost', '::1'))).toBe(true);
    expect(allowed(config, 'trusted_network', who('a@localhost', '::ffff:127.0.0.1'))).toBe(true);
    expect(allowed(config, 'trusted_network', who('a@localhost', '128.0.0.1'))).toBe(false);
    expect(allowed(config, 'trusted_network', who('a@localhost', '::2'))).toBe(false);
    expect(allowed(config, 'trusted_network', who('a@localhost', ''))).toBe(false);
  });

  test('the built-in rules all and none; a rule nobody defined denies', () => {
    expect(allowed(config, 'all', who('x@nowhere'))).toBe(true);
    expect(allowed(config, 'none', who('alice@localhost'))).toBe(false);
    expect(allowed(config, 'nosuchrule', who('alice@localhost'))).toBe(false);
  });

  test('the admin ACL still gives the HTTP API its administrators', () => {
    expect(parse('acl:\n  admin:\n    user: [Admin@Example.org]\n').admins).toEqual(['admin@example.org']);
  });

  test('a configuration without them has none, and allows only through the built-in rules', () => {
    const bare = parse('hosts: [localhost]\n');
    expect(bare.acl.size + bare.accessRules.size).toBe(0);
    expect(allowed(bare, 'all', who('a@localhost'))).toBe(true);
    expect(allowed(bare, 'c2s', who('a@localhost'))).toBe(false);
  });
});

describe('each matcher', () => {
  const matches = (definition: string, jid: string, ip?: string) => allowed(withRule(`  it:\n${definition}`, '    allow: it\n'), 'r', who(jid, ip));

  test('user: a name on any served host, normalised; user@host on that host only', () => {
    const def = '    user: [Bob, "carol@chat.example.org"]\n';
    expect(matches(def, 'bob@example.org')).toBe(true);
    expect(matches(def, 'bob@chat.example.org')).toBe(true);
    expect(matches(def, 'bob@elsewhere.org')).toBe(false);
    expect(matches(def, 'carol@chat.example.org')).toBe(true);
    expect(matches(def, 'carol@example.org')).toBe(false);
    expect(matches(def, 'dave@example.org')).toBe(false);
  });

  test('user in the older mapping form {user: host}', () => {
    expect(matches('    user:\n      bob: example.org\n', 'bob@example.org')).toBe(true);
    expect(matches('    user:\n      bob: example.org\n', 'bob@chat.example.org')).toBe(false);
  });

  test('server: every user of that host', () => {
    expect(matches('    server: Chat.Example.org\n', 'x@chat.example.org')).toBe(true);
    expect(matches('    server: chat.example.org\n', 'x@example.org')).toBe(false);
  });

  test('user_regexp: matched anywhere in the name (as PCRE is), on served hosts, or on the host after @', () => {
    expect(matches('    user_regexp: "^bot"\n', 'bot7@example.org')).toBe(true);
    expect(matches('    user_regexp: "^bot"\n', 'robot@example.org')).toBe(false);
    expect(matches('    user_regexp: "bot"\n', 'robot@example.org')).toBe(true);
    expect(matches('    user_regexp: "bot"\n', 'robot@elsewhere.org')).toBe(false);
    expect(matches('    user_regexp: "^bot@chat.example.org"\n', 'bot1@chat.example.org')).toBe(true);
    expect(matches('    user_regexp: "^bot@chat.example.org"\n', 'bot1@example.org')).toBe(false);
  });

  test('server_regexp and node_regexp', () => {
    expect(matches('    server_regexp: "^chat\\\\."\n', 'x@chat.example.org')).toBe(true);
    expect(matches('    server_regexp: "^chat\\\\."\n', 'x@example.org')).toBe(false);
    const node = '    node_regexp:\n      "^adm": "^example"\n';
    expect(matches(node, 'admin@example.org')).toBe(true);
    expect(matches(node, 'admin@chat.example.org')).toBe(false);
    expect(matches(node, 'bob@example.org')).toBe(false);
  });

  test('user_glob, server_glob and node_glob match the whole value', () => {
    expect(matches('    user_glob: "bot*"\n', 'bot12@example.org')).toBe(true);
    expect(matches('    user_glob: "bot*"\n', 'robot@example.org')).toBe(false);
    expect(matches('    user_glob: "b?b"\n', 'bob@example.org')).toBe(true);
    expect(matches('    server_glob: "*.example.org"\n', 'x@chat.example.org')).toBe(true);
    expect(matches('    server_glob: "*.example.org"\n', 'x@example.org')).toBe(false);
    expect(matches('    node_glob:\n      "a*": "chat.*"\n', 'ann@chat.example.org')).toBe(true);
  });

  test('ip: networks and bare addresses, IPv4 and IPv6', () => {
    const def = '    ip: [10.1.0.0/16, 192.0.2.9, "2001:db8::/32", "fe80::1"]\n';
    expect(matches(def, 'a@example.org', '10.1.200.3')).toBe(true);
    expect(matches(def, 'a@example.org', '10.2.0.1')).toBe(false);
    expect(matches(def, 'a@example.org', '192.0.2.9')).toBe(true);
    expect(matches(def, 'a@example.org', '192.0.2.10')).toBe(false);
    expect(matches(def, 'a@example.org', '2001:db8:ff::1')).toBe(true);
    expect(matches(def, 'a@example.org', '2001:db9::1')).toBe(false);
    expect(matches(def, 'a@example.org', 'fe80:0:0:0:0:0:0:1')).toBe(true);
    expect(matches('    ip: 0.0.0.0/0\n', 'a@example.org', '203.0.113.1')).toBe(true);
    expect(matches('    ip: 0.0.0.0/0\n', 'a@example.org', '2001:db8::1')).toBe(false);
  });

  test('an ACL given as a list of mappings is their union', () => {
    const def = '    - user: bob\n    - server: chat.example.org\n';
    expect(matches(def, 'bob@example.org')).toBe(true);
    expect(matches(def, 'x@chat.example.org')).toBe(true);
    expect(matches(def, 'x@example.org')).toBe(false);
  });

  test('addresses read as 128-bit numbers, IPv4 mapped', () => {
    expect(parseAddress('::ffff:1.2.3.4')).toBe(parseAddress('1.2.3.4'));
    expect(parseAddress('::1')).toBe(1n);
    expect(parseAddress('1:2:3:4:5:6:7:8')).toBe(0x00010002000300040005000600070008n);
    expect(parseAddress('localhost')).toBeUndefined();
  });
});

describe('rules', () => {
  const ACL = '  bots:\n    user_regexp: "^bot"\n  lan:\n    ip: 10.0.0.0/8\n';

  test('the first item that matches decides, in the order written', () => {
    const denyFirst = withRule(ACL, '    deny: bots\n    allow: all\n');
    expect(allowed(denyFirst, 'r', who('bot1@example.org'))).toBe(false);
    expect(allowed(denyFirst, 'r', who('alice@example.org'))).toBe(true);
    const allowFirst = withRule(ACL, '    - allow: bots\n    - deny: all\n');
    expect(allowed(allowFirst, 'r', who('bot1@example.org'))).toBe(true);
    expect(allowed(allowFirst, 'r', who('alice@example.org'))).toBe(false);
  });

  test('nothing matching means deny', () => {
    const config = withRule(ACL, '    allow: bots\n');
    expect(allowed(config, 'r', who('alice@example.org'))).toBe(false);
  });

  test('a list of ACL names must all match', () => {
    const config = withRule(ACL, '    allow: [bots, lan]\n');
    expect(allowed(config, 'r', who('bot1@example.org', '10.0.0.5'))).toBe(true);
    expect(allowed(config, 'r', who('bot1@example.org', '192.0.2.1'))).toBe(false);
    expect(allowed(config, 'r', who('alice@example.org', '10.0.0.5'))).toBe(false);
  });

  test('an inline definition: any of the values of a kind, all of its kinds', () => {
    const config = withRule(ACL, '    - deny:\n        user: [mallory, eve]\n    - allow: {server: example.org, ip: 10.0.0.0/8}\n');
    expect(allowed(config, 'r', who('eve@example.org', '10.0.0.1'))).toBe(false);
    expect(allowed(config, 'r', who('mallory@example.org', '10.0.0.1'))).toBe(false);
    expect(allowed(config, 'r', who('alice@example.org', '10.0.0.1'))).toBe(true);
    expect(allowed(config, 'r', who('alice@example.org', '192.0.2.1'))).toBe(false);
    expect(allowed(config, 'r', who('alice@chat.example.org', '10.0.0.1'))).toBe(false);
  });

  test('acl: inside an inline definition names an ACL; a bare allow allows everyone', () => {
    const config = withRule(ACL, '    - deny: {acl: bots}\n    - allow\n');
    expect(allowed(config, 'r', who('bot1@example.org'))).toBe(false);
    expect(allowed(config, 'r', who('alice@elsewhere.org'))).toBe(true);
  });

  test('acl and access_rules may come in either order', () => {
    const config = parse('access_rules:\n  r:\n    allow: bots\nacl:\n  bots:\n    user: bot\n');
    expect(allowed(config, 'r', who('bot@localhost'))).toBe(true);
  });
});

describe('errors name the file and the line', () => {
  test.each([
    ['access_rules:\n  c2s:\n    deny: blocked\n    allow: lcoal\n', 4, "access rule 'c2s' allows the ACL 'lcoal', which 'acl' does not define"],
    ['access_rules:\n  r:\n    - deny: all\n    - allow: [all, ghosts]\n', 4, "access rule 'r' allows the ACL 'ghosts', which 'acl' does not define"],
    [
      'hosts: [localhost]\nlisten:\n  - port: 5222\n    module: ejabberd_c2s\n    access: c2s\n',
      5,
      "'listen' item 1: 'access' names the rule 'c2s', which 'access_rules' does not define",
    ],
    ['acl:\n  lan:\n    ip:\n      - 10.0.0.0/8\n      - 10.0.0.0/33\n', 5, "'acl: lan: ip': '10.0.0.0/33': the prefix length must be 0 to 32"],
    ['acl:\n  lan:\n    ip: 10.0.0.300\n', 3, "'acl: lan: ip': '10.0.0.300' is not an address or a network such as 10.0.0.0/8"],
    [
      'acl:\n  bad:\n    user_regexp: "("\n',
      3,
      "'acl: bad: user_regexp': '(' is not a valid regular expression: Invalid regular expression: /(/u: Unterminated group",
    ],
    ['acl:\n  bad:\n    user_glob: "[a"\n', 3, "'acl: bad: user_glob': '[a' is not a valid glob: '[' at position 1 has no closing ']'"],
    ['acl:\n  bad:\n    user: "a@b@c"\n', 3, "'acl: bad: user': 'a@b@c' has more than one @"],
    [
      'acl:\n  bad:\n    group: staff\n',
      3,
      "'acl: bad': unknown ACL kind 'group' (this node matches user, server, user_regexp, server_regexp, node_regexp, user_glob, server_glob, node_glob, ip)",
    ],
    ['acl:\n  bad:\n    resource: phone\n', 3, expect.stringMatching(/^'acl: bad: resource': this node does not match on resource yet/)],
    ['acl:\n  all:\n    user: bob\n', 3, "'acl': 'all' is built in and cannot be defined"],
    ['access_rules:\n  r:\n    permit: all\n', 3, "access rule 'r': 'permit' is neither allow nor deny"],
    ['access_rules:\n  r: everyone\n', 2, "access rule 'r' must be a list of allow: ACL and deny: ACL"],
    ['access_rules:\n  r:\n    allow: []\n', 3, "'access rule 'r': allow' names no ACL"],
    ['access_rules:\n  r:\n    allow: {user: [bob, "b o b"]}\n', 3, expect.stringMatching(/^'access rule 'r': allow: user': .*space/)],
  ])('%j', (text, line, message) => {
    const got = failure(text);
    expect(got.startsWith(`Invalid configuration ${FILE} (line ${line}): `)).toBe(true);
    expect(got.slice(`Invalid configuration ${FILE} (line ${line}): `.length)).toEqual(message);
  });
});

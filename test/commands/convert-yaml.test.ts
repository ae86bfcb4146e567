import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { ok, tempHome } from '../helpers/cli';

const CFG = resolve(__dirname, '../fixtures/cfg/ejabberd.cfg');

let home: ReturnType<typeof tempHome>;
beforeEach(() => {
  home = tempHome();
});
afterEach(() => home.cleanup());

const out = () => join(home.dir, 'ejabberd.yml');

/** Converts `cfg` (text) and returns the YAML written. */
async function convert(cfg: string | Buffer): Promise<string> {
  const input = join(home.dir, 'ejabberd.cfg');
  writeFileSync(input, cfg);
  expect(await home.ctl(['convert_to_yaml', input, out()])).toEqual(ok());
  return readFileSync(out(), 'utf8');
}

const HEAD = '# Converted from ejabberd.cfg by ctl convert_to_yaml.\n\n';

const EXPECTED = `# Converted from ejabberd.cfg by ctl convert_to_yaml.
# Dropped: override_local (line 4), which told ejabberd how to merge the file with its database

loglevel: 4
hosts:
  - localhost
  - example.org
route_subdomains: s2s
listen:
  - port: 5222
    module: ejabberd_c2s
    access: c2s
    shaper: c2s_shaper
    max_stanza_size: 65536
    starttls: true
    certfile: /etc/ejabberd/ejabberd.pem
  - port: 5269
    ip: "::"
    module: ejabberd_s2s_in
    shaper: s2s_shaper
    max_stanza_size: 131072
  - port: 3478
    transport: udp
    module: ejabberd_stun
  - port: 5280
    ip: 127.0.0.1
    module: ejabberd_http
    request_handlers:
      /api: mod_http_api
      /ws: ejabberd_http_ws
    captcha: true
    http_bind: true
    web_admin: true
s2s_use_starttls: optional
auth_method: sql
sql_type: pgsql
sql_server: db.example.org
sql_database: ejabberd
sql_username: ejabberd
sql_password: "pa'ss: yes"
sql_pool_size: 10
shaper:
  normal: 1000
  fast: 50000
  unlimited: none
acl:
  admin:
    user:
      - aleksey@localhost
      - ékaterina@example.org
  local:
    user_regexp:
      - ""
  blocked:
    user:
      - spammer
  loopback:
    ip:
      - 127.0.0.0/8
shaper_rules:
  max_user_sessions:
    - 10: all
  c2s_shaper:
    - none: admin
    - normal: all
access_rules:
  local:
    - allow: local
  c2s:
    - deny: blocked
    - allow: all
  register:
    - allow: all
language: en
registration_timeout: infinity
hide_sensitive_log_data: false
modules:
  mod_adhoc: {}
  mod_announce:
    access: announce
  mod_muc:
    host: conference.@HOST@
    access: muc
    history_size: 20
    default_room_options:
      persistent: true
      mam: false
  mod_offline:
    access_max_user_messages: max_user_offline_messages
  mod_register:
    welcome_message:
      subject: Welcome!
      body: |-
        Hi.
        Welcome to this XMPP server.
    ip_access:
      - allow: 127.0.0.0/8
      - deny: 0.0.0.0/0
      - allow: ::1
    access: register
  mod_roster:
    versioning: true
  mod_vcard:
    search: false
host_config:
  example.org:
    domain_certfile: /etc/ejabberd/example_org.pem
    auth_method:
      - internal
      - anonymous
    acl:
      admin:
        user:
          - boss@example.org
append_host_config:
  example.org:
    modules:
      mod_echo:
        host: echo.example.org
`;

describe('convert_to_yaml', () => {
  test('an ejabberd 2.x configuration becomes ejabberd.yml', async () => {
    expect(await home.ctl(['convert_to_yaml', CFG, out()])).toEqual(ok());
    expect(readFileSync(out(), 'utf8')).toBe(EXPECTED);
  });

  test("the YAML reads back, as YAML 1.1 (ejabberd's libyaml), to the right types", async () => {
    await home.ctl(['convert_to_yaml', CFG, out()]);
    const doc = YAML.parse(readFileSync(out(), 'utf8'), { version: '1.1' });
    expect(doc.sql_password).toBe("pa'ss: yes");
    expect(doc.hide_sensitive_log_data).toBe(false);
    expect(doc.listen[0].starttls).toBe(true);
    expect(doc.listen[1].ip).toBe('::');
    expect(doc.shaper_rules.max_user_sessions).toEqual([{ 10: 'all' }]);
    expect(doc.modules.mod_register.ip_access[2]).toEqual({ allow: '::1' });
    expect(doc.modules.mod_register.welcome_message.body).toBe('Hi.\nWelcome to this XMPP server.');
  });

  test('hosts and loglevel; strings YAML 1.1 would misread are quoted', async () => {
    expect(await convert('{hosts, ["a.example", "yes", "1.5"]}.\n{loglevel, 4}.\n{motd, "on"}.\n')).toBe(
      `${HEAD}hosts:\n  - a.example\n  - "yes"\n  - "1.5"\nloglevel: 4\nmotd: "on"\n`,
    );
  });

  test('binaries, Erlang maps, generic tuples, IPv6 tuples, floats; a later option replaces an earlier one', async () => {
    const cfg = `{listen, [{{5222, {0,0,0,0,0,0,0,1}, tcp}, ejabberd_c2s, []}, {5223, ejabberd_c2s, [{ip, {8193,3512,0,0,0,0,0,1}}, tls]}]}.
{certfiles, [<<"/etc/a.pem">>, <<"/etc/b.pem"/utf8>>]}.
{extra, #{key => <<"v">>, 2 => [1.5, {a, b, c}]}}.
{loglevel, 3}.
{loglevel, 5}.
`;
    expect(await convert(cfg)).toBe(
      `${HEAD}listen:\n  - port: 5222\n    ip: ::1\n    module: ejabberd_c2s\n  - port: 5223\n    module: ejabberd_c2s\n    ip: 2001:db8::1\n    tls: true\ncertfiles:\n  - /etc/a.pem\n  - /etc/b.pem\n` +
        'extra:\n  key: v\n  2:\n    - 1.5\n    - - a\n      - b\n      - c\nloglevel: 5\n',
    );
  });

  test('ACL types, several definitions of a name, and all', async () => {
    const cfg = `{acl, admin, {user, "a", "h"}}.
{acl, admin, {server, "other.example"}}.
{acl, admin, {node_glob, "*", "*.example"}}.
{acl, friends, {shared_group, "g", "h"}}.
{acl, everybody, all}.
`;
    expect(await convert(cfg)).toBe(
      `${HEAD}acl:\n  admin:\n    user:\n      - a@h\n    server:\n      - other.example\n    node_glob:\n      - "*@*.example"\n  friends:\n    shared_group:\n      - g@h\n  everybody: all\n`,
    );
  });

  test('a file in ISO-8859-1, as old Erlang read it', async () => {
    const yml = await convert(Buffer.concat([Buffer.from('{welcome, "Caf'), Buffer.from([0xe9]), Buffer.from('"}.\n')]));
    expect(yml).toBe(`${HEAD}welcome: Café\n`);
  });

  test('a line of 2 MB is converted like any other', async () => {
    const long = 'x'.repeat(2 * 1024 * 1024);
    const yml = await convert(`{motd, "${long}"}.`);
    expect(yml).toBe(`${HEAD}motd: ${long}\n`);
  });

  test('relative paths are taken from the current directory', async () => {
    writeFileSync(join(home.dir, 'in.cfg'), '{loglevel, 4}.\n');
    const cwd = process.cwd();
    process.chdir(home.dir);
    try {
      expect(await home.ctl(['convert_to_yaml', 'in.cfg', 'out.yml'])).toEqual(ok());
    } finally {
      process.chdir(cwd);
    }
    expect(readFileSync(join(home.dir, 'out.yml'), 'utf8')).toBe('# Converted from in.cfg by ctl convert_to_yaml.\n\nloglevel: 4\n');
  });

  test('a configuration of the options ctl knows gives a ctl.yml that ctl accepts', async () => {
    const yml = await convert(
      `{hosts, ["example.org"]}.\n{loglevel, 3}.\n{acl, admin, {user, "boss", "example.org"}}.\n{access, configure, [{allow, admin}]}.\n{shaper, normal, {maxrate, 1000}}.\n{modules, [{mod_roster, []}]}.\n{host_config, "example.org", [{modules, []}]}.\n`,
    );
    writeFileSync(join(home.dir, 'ctl.yml'), yml);
    expect(await home.ctl(['register', 'boss', 'example.org', 'pw'])).toEqual(ok('User boss@example.org successfully registered\n'));
    expect(await home.ctl(['registered_users', 'example.org'])).toEqual(ok('boss\n'));
  });
});

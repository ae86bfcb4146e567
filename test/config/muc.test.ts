import { allowed } from '../../src/config/access';
import { defaultConfig } from '../../src/config/config';
import { DEFAULT_ROOM_OPTIONS, defaultMucConfig, mucHostOf, mucServiceOf } from '../../src/config/muc';
import { CONFIG_FILE, failure, parse } from '../helpers/config';

describe('modules: mod_muc', () => {
  test("no modules key: the MUC service is on with ejabberd's defaults", () => {
    for (const config of [parse('hosts: [example.org]\n'), parse(''), defaultConfig(CONFIG_FILE)]) {
      expect(config.muc).toEqual({
        host: 'conference.@HOST@',
        name: 'Chatrooms',
        access: 'all',
        accessCreate: 'all',
        accessAdmin: 'none',
        accessPersistent: 'all',
        defaultRoomOptions: DEFAULT_ROOM_OPTIONS,
        maxUsers: 200,
        historySize: 20,
        maxRoomId: Infinity,
        maxRoomName: Infinity,
        maxRoomDesc: Infinity,
        roomCacheSize: 1000,
      });
    }
  });

  test('modules without mod_muc: no MUC service; other modules are accepted as before', () => {
    expect(parse('modules:\n  mod_roster: {}\n  mod_vcard: {search: false}\n').muc).toBeUndefined();
    expect(parse('modules:\n').muc).toBeUndefined();
    expect(parse('modules: {}\n').muc).toBeUndefined();
  });

  test('mod_muc without options, or empty: the defaults', () => {
    expect(parse('modules:\n  mod_muc:\n').muc).toEqual(defaultMucConfig());
    expect(parse('modules:\n  mod_muc: {}\n  mod_roster: {}\n').muc).toEqual(defaultMucConfig());
  });

  test("each option ejabberd's way, default_room_options over ejabberd's defaults", () => {
    const config = parse(`hosts: [example.org]
access_rules:
  muc_create:
    allow: all
modules:
  mod_muc:
    host: "rooms.@HOST@"
    name: Salons
    access_create: muc_create
    access_admin:
      - allow: all
    access_persistent: none
    max_users: 500
    history_size: 50
    max_room_id: 64
    max_room_name: infinity
    max_room_desc: 0
    room_cache_size: 10
    hibernation_timeout: 90000
    preload_rooms: false
    default_room_options:
      persistent: true
      mam: true
      title: "Tea & cake"
      max_users: 50
      presence_broadcast: [moderator, participant]
      allow_private_messages_from_visitors: nobody
`);
    expect(config.muc).toEqual({
      host: 'rooms.@HOST@',
      name: 'Salons',
      access: 'all',
      accessCreate: 'muc_create',
      accessAdmin: 'mod_muc:access_admin',
      accessPersistent: 'none',
      defaultRoomOptions: {
        ...DEFAULT_ROOM_OPTIONS,
        persistent: true,
        mam: true,
        title: 'Tea & cake',
        max_users: 50,
        presence_broadcast: ['moderator', 'participant'],
        allow_private_messages_from_visitors: 'nobody',
      },
      maxUsers: 500,
      historySize: 50,
      maxRoomId: 64,
      maxRoomName: Infinity,
      maxRoomDesc: 0,
      roomCacheSize: 10,
    });
    // The inline rule decides as a named one would.
    expect(allowed(config, 'mod_muc:access_admin', { jid: { user: 'bob', host: 'example.org' }, ip: '127.0.0.1' })).toBe(true);
  });

  test('a bad default_room_options value: the error names the key, its line, and the values allowed', () => {
    expect(failure('modules:\n  mod_muc:\n    default_room_options:\n      persistent: maybe\n')).toBe(
      `Invalid configuration ${CONFIG_FILE} (line 4): 'modules: mod_muc: default_room_options: persistent': Invalid value 'maybe' for room option persistent: use true or false`,
    );
    expect(failure('modules:\n  mod_muc:\n    default_room_options:\n      colour: red\n')).toMatch(
      /^Invalid configuration \/etc\/ctl\/ctl.yml \(line 4\): 'modules: mod_muc: default_room_options: colour': Unknown room option 'colour': the options are title, /,
    );
    expect(failure('modules:\n  mod_muc:\n    default_room_options:\n      max_users: 0\n')).toBe(
      `Invalid configuration ${CONFIG_FILE} (line 4): 'modules: mod_muc: default_room_options: max_users': Invalid value '0' for room option max_users: use a whole number from 1 to 2147483647`,
    );
    expect(failure('modules:\n  mod_muc:\n    default_room_options: [persistent]\n')).toBe(
      `Invalid configuration ${CONFIG_FILE} (line 3): 'modules: mod_muc: default_room_options' must be a mapping of room option: value`,
    );
  });

  test('bad options of mod_muc are named with their line', () => {
    const line = (n: number, text: string) => `Invalid configuration ${CONFIG_FILE} (line ${n}): ${text}`;
    expect(failure('modules:\n  mod_muc:\n    max_users: lots\n')).toBe(line(3, "'modules: mod_muc: max_users' must be a whole number of at least 1"));
    expect(failure('modules:\n  mod_muc:\n    history_size: -1\n')).toBe(line(3, "'modules: mod_muc: history_size' must be a whole number of at least 0"));
    expect(failure('modules:\n  mod_muc:\n    max_room_id: big\n')).toBe(
      line(3, "'modules: mod_muc: max_room_id' must be a whole number of at least 1, or infinity"),
    );
    expect(failure('modules:\n  mod_muc:\n    colour: red\n')).toBe(line(3, "'modules: mod_muc: colour' is not an option of mod_muc"));
    expect(failure('modules:\n  mod_muc:\n    host: 5\n')).toBe(line(3, "'modules: mod_muc: host' must be a domain such as conference.@HOST@"));
    expect(failure('modules:\n  mod_muc: [host]\n')).toBe(line(2, "'modules: mod_muc' must be a mapping of option: value"));
    expect(failure('modules: [mod_muc]\n')).toBe(line(1, "'modules' must map module names to their options"));
    expect(failure('modules:\n  mod_muc:\n    access_create: muc_create\n')).toBe(
      line(3, "'modules: mod_muc: access_create' names the rule 'muc_create', which 'access_rules' does not define"),
    );
  });

  test('a service that cannot be one is refused', () => {
    const line = (n: number, text: string) => `Invalid configuration ${CONFIG_FILE} (line ${n}): ${text}`;
    expect(failure('hosts: [a.org, b.org]\nmodules:\n  mod_muc:\n    host: conference.a.org\n')).toBe(
      line(4, "'modules: mod_muc: host' is conference.a.org for each of 2 hosts: write it with @HOST@, such as conference.@HOST@"),
    );
    expect(failure('hosts: [a.org, conference.a.org]\n')).toBe(
      line(1, "'modules: mod_muc: host' gives conference.a.org for a.org, which is a served host itself"),
    );
    expect(failure('modules:\n  mod_muc:\n    host: "conf @HOST@"\n')).toMatch(
      /^Invalid configuration \/etc\/ctl\/ctl.yml \(line 3\): 'modules: mod_muc: host' gives an invalid domain for localhost/,
    );
  });

  test('the service of a served host, and the host of a service', () => {
    const config = parse('hosts: [example.org, chat.example.net]\n');
    expect(mucServiceOf(config, 'example.org')).toBe('conference.example.org');
    expect(mucServiceOf(config, 'chat.example.net')).toBe('conference.chat.example.net');
    expect(mucServiceOf(config, 'other.org')).toBeUndefined();
    expect(mucHostOf(config, 'conference.example.org')).toBe('example.org');
    expect(mucHostOf(config, 'conference.chat.example.net')).toBe('chat.example.net');
    expect(mucHostOf(config, 'example.org')).toBeUndefined();
    expect(mucHostOf(config, 'conference.other.org')).toBeUndefined();
    const single = parse('hosts: [example.org]\nmodules:\n  mod_muc:\n    host: muc.example.org\n');
    expect(mucServiceOf(single, 'example.org')).toBe('muc.example.org');
    expect(mucHostOf(single, 'muc.example.org')).toBe('example.org');
    const off = parse('hosts: [example.org]\nmodules:\n  mod_roster: {}\n');
    expect(mucServiceOf(off, 'example.org')).toBeUndefined();
    expect(mucHostOf(off, 'conference.example.org')).toBeUndefined();
  });
});

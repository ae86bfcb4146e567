/**
 * mod_muc's configuration and the room options of ejabberd's `config` record: their names in
 * record order, their defaults, and how a value is read from text (change_room_option,
 * default_room_options) and printed (get_room_options).
 */
import { CommandError } from '../lib/errors';
import { formatJid, nameprep, parseJid, type Jid } from '../lib/jid';
import { AccessError, parseAccessRules, type AccessRule } from './access';

export type Affiliation = 'owner' | 'admin' | 'member' | 'outcast' | 'none';
export type Role = 'moderator' | 'participant' | 'visitor' | 'none';
export type PrivateMessagesFrom = 'anyone' | 'moderators' | 'nobody';

/** A room's configuration, in the order of ejabberd's `config` record (what get_room_options prints). */
export interface RoomOptions {
  readonly title: string;
  readonly description: string;
  readonly allow_change_subj: boolean;
  readonly allow_query_users: boolean;
  readonly allow_private_messages: boolean;
  readonly allow_private_messages_from_visitors: PrivateMessagesFrom;
  readonly allow_visitor_status: boolean;
  readonly allow_visitor_nickchange: boolean;
  readonly public: boolean;
  readonly public_list: boolean;
  readonly persistent: boolean;
  readonly moderated: boolean;
  readonly captcha_protected: boolean;
  readonly members_by_default: boolean;
  readonly members_only: boolean;
  readonly allow_user_invites: boolean;
  readonly allow_subscription: boolean;
  readonly password_protected: boolean;
  readonly password: string;
  readonly anonymous: boolean;
  /** The roles whose presence is broadcast. */
  readonly presence_broadcast: readonly Exclude<Role, 'none'>[];
  readonly allow_voice_requests: boolean;
  /** Seconds. */
  readonly voice_request_min_interval: number;
  readonly max_users: number;
  readonly logging: boolean;
  /** The room's vCard, serialised; empty for none. */
  readonly vcard: string;
  /** ejabberd's `undefined` until set: printed as it is. */
  readonly vcard_xupdate: string;
  /** Bare JIDs that skip the CAPTCHA; empty prints ejabberd's `{0,nil}`. */
  readonly captcha_whitelist: readonly string[];
  readonly mam: boolean;
  readonly pubsub: string;
  readonly enable_hats: boolean;
  readonly lang: string;
}

export type RoomOptionName = keyof RoomOptions;

/** mod_muc's options that the service applies (ejabberd's names). */
export interface MucConfig {
  /** The service's domain with `@HOST@` standing for each served host: `conference.@HOST@`. */
  readonly host: string;
  /** The service's disco name. */
  readonly name: string;
  /** Access rules (names of `access_rules`, or `all` / `none`). */
  readonly access: string;
  readonly accessCreate: string;
  readonly accessAdmin: string;
  readonly accessPersistent: string;
  /** Options every new room starts with, over ejabberd's defaults. */
  readonly defaultRoomOptions: RoomOptions;
  /** The most occupants a room may have, whatever its max_users says. */
  readonly maxUsers: number;
  /** Messages of history a room keeps for joiners. */
  readonly historySize: number;
  /** Longest room name (node part), in bytes; Infinity for no limit. */
  readonly maxRoomId: number;
  readonly maxRoomName: number;
  readonly maxRoomDesc: number;
  /** How many live rooms without occupants the service keeps in memory. */
  readonly roomCacheSize: number;
}

/** The room options in the order of ejabberd's `config` record: get_room_options' order. */
export const ROOM_OPTION_NAMES: readonly RoomOptionName[] = [
  'title',
  'description',
  'allow_change_subj',
  'allow_query_users',
  'allow_private_messages',
  'allow_private_messages_from_visitors',
  'allow_visitor_status',
  'allow_visitor_nickchange',
  'public',
  'public_list',
  'persistent',
  'moderated',
  'captcha_protected',
  'members_by_default',
  'members_only',
  'allow_user_invites',
  'allow_subscription',
  'password_protected',
  'password',
  'anonymous',
  'presence_broadcast',
  'allow_voice_requests',
  'voice_request_min_interval',
  'max_users',
  'logging',
  'vcard',
  'vcard_xupdate',
  'captcha_whitelist',
  'mam',
  'pubsub',
  'enable_hats',
  'lang',
];

export const ROLES_BROADCAST: readonly Exclude<Role, 'none'>[] = ['moderator', 'participant', 'visitor'];
export const PRIVATE_MESSAGES_FROM: readonly PrivateMessagesFrom[] = ['anyone', 'moderators', 'nobody'];

/** ejabberd 23.01's defaults: the `config` record's (mod_muc_room.hrl), lang being the server's `en`. */
export const DEFAULT_ROOM_OPTIONS: RoomOptions = Object.freeze({
  title: '',
  description: '',
  allow_change_subj: true,
  allow_query_users: true,
  allow_private_messages: true,
  allow_private_messages_from_visitors: 'anyone',
  allow_visitor_status: true,
  allow_visitor_nickchange: true,
  public: true,
  public_list: true,
  persistent: false,
  moderated: true,
  captcha_protected: false,
  members_by_default: true,
  members_only: false,
  allow_user_invites: false,
  allow_subscription: false,
  password_protected: false,
  password: '',
  anonymous: true,
  presence_broadcast: ROLES_BROADCAST,
  allow_voice_requests: true,
  voice_request_min_interval: 1800,
  max_users: 200,
  logging: false,
  vcard: '',
  vcard_xupdate: 'undefined',
  captcha_whitelist: [],
  mam: false,
  pubsub: '',
  enable_hats: false,
  lang: 'en',
});

/** How an option's value is written as text, and read back. */
type OptionKind = 'text' | 'boolean' | 'from' | 'roles' | 'count' | 'positive' | 'jids';

const KIND: { readonly [K in RoomOptionName]: OptionKind } = {
  title: 'text',
  description: 'text',
  allow_change_subj: 'boolean',
  allow_query_users: 'boolean',
  allow_private_messages: 'boolean',
  allow_private_messages_from_visitors: 'from',
  allow_visitor_status: 'boolean',
  allow_visitor_nickchange: 'boolean',
  public: 'boolean',
  public_list: 'boolean',
  persistent: 'boolean',
  moderated: 'boolean',
  captcha_protected: 'boolean',
  members_by_default: 'boolean',
  members_only: 'boolean',
  allow_user_invites: 'boolean',
  allow_subscription: 'boolean',
  password_protected: 'boolean',
  password: 'text',
  anonymous: 'boolean',
  presence_broadcast: 'roles',
  allow_voice_requests: 'boolean',
  voice_request_min_interval: 'count',
  max_users: 'positive',
  logging: 'boolean',
  vcard: 'text',
  vcard_xupdate: 'text',
  captcha_whitelist: 'jids',
  mam: 'boolean',
  pubsub: 'text',
  enable_hats: 'boolean',
  lang: 'text',
};

export function isRoomOption(name: string): name is RoomOptionName {
  return Object.prototype.hasOwnProperty.call(KIND, name);
}

/** One option and its value, read from text. */
export interface ParsedOption<K extends RoomOptionName = RoomOptionName> {
  readonly name: K;
  readonly value: RoomOptions[K];
}

/** Integers beyond this are refused: they would not survive JSON or ejabberd's SQL export intact. */
const MAX_COUNT = 2 ** 31 - 1;

/**
 * An option's value from text, as change_room_option and default_room_options give it:
 * booleans `true`/`false`, counts in decimal, presence_broadcast and captcha_whitelist as a
 * list (`[moderator,participant]` or `moderator,participant`). Errors name the option and say
 * what it takes.
 */
export function parseOption(name: string, text: string): ParsedOption {
  if (!isRoomOption(name)) {
    throw new CommandError('bad_argument', `Unknown room option '${name}': the options are ${ROOM_OPTION_NAMES.join(', ')}`, { details: { arg: 'option' } });
  }
  const invalid = (use: string): never => {
    throw new CommandError('bad_argument', `Invalid value '${text}' for room option ${name}: ${use}`, { details: { arg: 'value' } });
  };
  const kind = KIND[name];
  switch (kind) {
    case 'text': {
      const bad = xmlCharacters().exec(text);
      if (bad) invalid(`U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} is a character XML cannot carry`);
      return { name, value: text };
    }
    case 'boolean':
      if (text !== 'true' && text !== 'false') invalid('use true or false');
      return { name, value: text === 'true' };
    case 'from':
      if (!(PRIVATE_MESSAGES_FROM as readonly string[]).includes(text)) invalid(`use ${orList(PRIVATE_MESSAGES_FROM)}`);
      return { name, value: text as PrivateMessagesFrom };
    case 'count':
    case 'positive': {
      const least = kind === 'count' ? 0 : 1;
      const n = /^[0-9]+$/.test(text) ? Number(text) : NaN;
      if (!Number.isSafeInteger(n) || n < least || n > MAX_COUNT) invalid(`use a whole number from ${least} to ${MAX_COUNT}`);
      return { name, value: n };
    }
    case 'roles': {
      const roles = listItems(text);
      if (roles === undefined || roles.some((r) => !(ROLES_BROADCAST as readonly string[]).includes(r))) {
        invalid(`use a list of ${ROLES_BROADCAST.join(', ')}, such as [moderator,participant]`);
      }
      const given = new Set(roles);
      return { name, value: ROLES_BROADCAST.filter((r) => given.has(r)) };
    }
    case 'jids': {
      const items = listItems(text);
      if (items === undefined) return invalid('use a list of bare JIDs, such as [alice@example.org,bob@example.org]');
      const jids = new Set<string>();
      for (const item of items) {
        let jid: Jid | undefined;
        try {
          jid = parseJid(item, name);
        } catch (err) {
          invalid((err as Error).message);
        }
        if (jid!.resource !== '') invalid(`'${item}' is not a bare JID`);
        jids.add(formatJid(jid!));
      }
      return { name, value: [...jids].sort() };
    }
  }
}

/** `a,b`, `[a,b]` or `[]`: the items, trimmed; undefined when one is empty. */
function listItems(text: string): string[] | undefined {
  const t = text.trim();
  const inner = t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1).trim() : t;
  if (inner === '') return [];
  const items = inner.split(',').map((s) => s.trim());
  return items.some((s) => s === '') ? undefined : items;
}

const orList = (values: readonly string[]) => `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;

// lib/xml loads the XML parsers, which a configuration without text options need not pay for.
const xmlCharacters = (): RegExp => (require('../lib/xml') as typeof import('../lib/xml')).NOT_XML_CHAR;

/**
 * An option's value as ejabberd's get_room_options prints it: atoms, integers and binaries as
 * they are, lists and tuples as Erlang's `~w` writes them (captcha_whitelist is a gb_sets set
 * of lower-cased JIDs, `{0,nil}` when empty).
 */
export function printOption<K extends RoomOptionName>(name: K, value: RoomOptions[K]): string {
  switch (KIND[name]) {
    case 'roles':
      return `[${(value as RoomOptions['presence_broadcast']).join(',')}]`;
    case 'jids':
      return ljidSet(value as RoomOptions['captcha_whitelist']);
    default:
      return String(value);
  }
}

/** Every option as get_room_options lists it, in record order: `[name, printed value]`. */
export function optionLines(options: RoomOptions): (readonly [RoomOptionName, string])[] {
  return ROOM_OPTION_NAMES.map((name) => [name, printOption(name, options[name])] as const);
}

/** Options over the defaults (or `base`), each read as `parseOption` reads it. */
export function withOptions(base: RoomOptions, texts: Readonly<Record<string, string>>): RoomOptions {
  const out: Record<string, unknown> = { ...base };
  for (const [name, text] of Object.entries(texts)) {
    const parsed = parseOption(name, text);
    out[parsed.name] = parsed.value;
  }
  return out as unknown as RoomOptions;
}

/** `user@host` → [user, host]; a server JID has an empty user. */
function splitJid(jid: string): [Buffer, Buffer] {
  const at = jid.indexOf('@');
  return at < 0 ? [Buffer.alloc(0), Buffer.from(jid)] : [Buffer.from(jid.slice(0, at)), Buffer.from(jid.slice(at + 1))];
}

/** A binary as `~w` writes it: each byte a number. */
const wBinary = (bytes: Buffer) => `<<${[...bytes].join(',')}>>`;

/**
 * A gb_sets set of ejabberd's `{User, Server, Resource}` JIDs as `~w` writes it: its size and the
 * balanced tree `gb_sets:from_list` builds of the items in Erlang's order (binaries byte by byte).
 */
function ljidSet(jids: readonly string[]): string {
  const sorted = [...new Set(jids)].map(splitJid).sort((a, b) => Buffer.compare(a[0], b[0]) || Buffer.compare(a[1], b[1]));
  const items = sorted.map(([user, host]) => `{${wBinary(user)},${wBinary(host)},<<>>}`);
  let next = 0;
  const tree = (size: number): string => {
    if (size === 0) return 'nil';
    const right = Math.floor((size - 1) / 2);
    const smaller = tree(size - 1 - right);
    const key = items[next++];
    return `{${key},${smaller},${tree(right)}}`;
  };
  return `{${items.length},${tree(items.length)}}`;
}

/** mod_muc with ejabberd's defaults (room_cache_size is ours). */
export function defaultMucConfig(): MucConfig {
  return {
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
  };
}

/** What the served hosts' MUC services need of the configuration. */
export interface MucHosts {
  readonly hosts: readonly string[];
  readonly muc: MucConfig | undefined;
}

/** The MUC service of a served host (`conference.example.org`), or undefined when there is none. */
export function mucServiceOf(config: MucHosts, host: string): string | undefined {
  if (config.muc === undefined || !config.hosts.includes(host)) return undefined;
  return config.muc.host.split('@HOST@').join(host);
}

/** The served host whose MUC service `service` is, or undefined when it is none of them. */
export function mucHostOf(config: MucHosts, service: string): string | undefined {
  return config.hosts.find((h) => mucServiceOf(config, h) === service);
}

/** A value of mod_muc that cannot be; `path` leads from the top of ctl.yml to it. */
export class MucConfigError extends Error {
  constructor(
    message: string,
    readonly path: readonly (string | number)[],
  ) {
    super(message);
  }
}

/** mod_muc's options that ejabberd has and this node accepts without applying them. */
const ACCEPTED = new Set([
  'access_mam',
  'access_register',
  'cleanup_affiliations_on_start',
  'db_type',
  'hibernation_timeout',
  'max_captcha_whitelist',
  'max_password',
  'max_rooms_discoitems',
  'max_user_conferences',
  'max_users_admin_threshold',
  'max_users_presence',
  'min_message_interval',
  'min_presence_interval',
  'preload_rooms',
  'queue_type',
  'ram_db_type',
  'regexp_room_id',
  'room_shaper',
  'user_message_shaper',
  'user_presence_shaper',
  'vcard',
]);

const ACCESS_KEYS = { access: 'access', access_create: 'accessCreate', access_admin: 'accessAdmin', access_persistent: 'accessPersistent' } as const;

/** mod_muc as ctl.yml configures it, and the rules its access options define inline. */
export interface MucModule {
  readonly muc: MucConfig;
  /** `access_create: [allow: admin]` and the like: rules named `mod_muc:KEY`, for `access_rules`' map. */
  readonly rules: ReadonlyMap<string, AccessRule>;
}

/** `modules: mod_muc:` (a mapping, or empty for the defaults); throws MucConfigError. */
export function parseMucModule(value: unknown): MucModule {
  const top = ['modules', 'mod_muc'];
  const muc: { -readonly [K in keyof MucConfig]: MucConfig[K] } = defaultMucConfig();
  const rules = new Map<string, AccessRule>();
  if (value === null || value === undefined) return { muc, rules };
  if (typeof value !== 'object' || Array.isArray(value)) throw new MucConfigError("'modules: mod_muc' must be a mapping of option: value", top);
  const fail = (key: string, why: string): never => {
    throw new MucConfigError(`'modules: mod_muc: ${key}' ${why}`, [...top, key]);
  };
  const count = (key: string, v: unknown, least: number, infinity = false): number => {
    if (infinity && v === 'infinity') return Infinity;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < least)
      fail(key, `must be a whole number of at least ${least}${infinity ? ', or infinity' : ''}`);
    return v as number;
  };
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    switch (key) {
      case 'host':
        if (typeof v !== 'string' || v === '') fail(key, 'must be a domain such as conference.@HOST@');
        muc.host = v as string;
        break;
      case 'hosts':
        if (!Array.isArray(v) || v.length !== 1 || typeof v[0] !== 'string') fail(key, "must name one domain such as conference.@HOST@ (or use 'host')");
        muc.host = (v as string[])[0];
        break;
      case 'name':
        if (typeof v !== 'string') fail(key, 'must be text');
        muc.name = v as string;
        break;
      case 'access':
      case 'access_create':
      case 'access_admin':
      case 'access_persistent': {
        const field = ACCESS_KEYS[key];
        if (typeof v === 'string' && v !== '' && v !== 'allow' && v !== 'deny') {
          muc[field] = v;
          break;
        }
        const name = `mod_muc:${key}`;
        try {
          const rule = parseAccessRules({ [name]: v }).get(name)!;
          rules.set(
            name,
            rule.map((item) => ({ ...item, at: [...top, key, ...item.at.slice(2)] })),
          );
        } catch (err) {
          if (!(err instanceof AccessError)) throw err;
          fail(key, `must name an access rule or define one (${err.message})`);
        }
        muc[field] = name;
        break;
      }
      case 'default_room_options':
        muc.defaultRoomOptions = roomOptionsOf(v, [...top, key]);
        break;
      case 'max_users':
        muc.maxUsers = count(key, v, 1);
        break;
      case 'history_size':
        muc.historySize = count(key, v, 0);
        break;
      case 'max_room_id':
        muc.maxRoomId = count(key, v, 1, true);
        break;
      case 'max_room_name':
        muc.maxRoomName = count(key, v, 0, true);
        break;
      case 'max_room_desc':
        muc.maxRoomDesc = count(key, v, 0, true);
        break;
      case 'room_cache_size':
        muc.roomCacheSize = count(key, v, 0);
        break;
      default:
        if (!ACCEPTED.has(key)) fail(key, 'is not an option of mod_muc');
    }
  }
  return { muc, rules };
}

/** default_room_options: each value read as change_room_option reads it, over ejabberd's defaults. */
function roomOptionsOf(value: unknown, path: readonly string[]): RoomOptions {
  if (value === null) return DEFAULT_ROOM_OPTIONS;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new MucConfigError("'modules: mod_muc: default_room_options' must be a mapping of room option: value", path);
  }
  const texts: Record<string, string> = {};
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    const text = Array.isArray(v) ? v.map(String).join(',') : v === null ? '' : typeof v === 'object' ? undefined : String(v);
    try {
      if (text === undefined) throw new CommandError('bad_argument', `room option ${name} takes a text, a number, true or false, or a list`);
      parseOption(name, text);
    } catch (err) {
      if (!(err instanceof CommandError)) throw err;
      throw new MucConfigError(`'modules: mod_muc: default_room_options: ${name}': ${err.message}`, [...path, name]);
    }
    texts[name] = text;
  }
  return withOptions(DEFAULT_ROOM_OPTIONS, texts);
}

/**
 * The services the served hosts get must be domains of their own: `host` without `@HOST@`
 * names one service, which only one served host can have. Resolves to what is wrong, if anything.
 */
export function checkMucHosts(config: MucHosts): string | undefined {
  const muc = config.muc;
  if (muc === undefined) return undefined;
  if (!muc.host.includes('@HOST@') && config.hosts.length > 1) {
    return `'modules: mod_muc: host' is ${muc.host} for each of ${config.hosts.length} hosts: write it with @HOST@, such as conference.@HOST@`;
  }
  for (const host of config.hosts) {
    const service = mucServiceOf(config, host)!;
    try {
      if (nameprep(service, 'host') !== service) return `'modules: mod_muc: host' gives ${service} for ${host}, which is not a domain in lower case`;
    } catch (err) {
      return `'modules: mod_muc: host' gives an invalid domain for ${host}: ${(err as Error).message}`;
    }
    if (config.hosts.includes(service)) return `'modules: mod_muc: host' gives ${service} for ${host}, which is a served host itself`;
  }
  return undefined;
}

import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { CommandError } from '../lib/errors';
import { nameprep } from '../lib/jid';
import { AccessError, checkAclNames, parseAccessRules, parseAcl, parseTrustedProxies, type AccessRule, type Matcher, type TrustedProxies } from './access';
import { implicitC2s, parseAdmins, parseCertfiles, parseListen, type C2sListener, type Listener } from './listen';
import { checkMucHosts, defaultMucConfig, MucConfigError, parseMucModule, type MucConfig } from './muc';
import { DEFAULT_AUTH_FAILURE_LIMIT, type AuthFailureLimit } from '../lib/auth-limiter';
import { parseSql, SQL_KEYS, type SqlConfig } from './sql';
import { parseRedis, REDIS_KEYS, type RedisConfig } from './redis';

export type PasswordFormat = 'scram' | 'plain';

/** The node's configuration, with ejabberd.yml's key names where ejabberd has one. */
export interface Config {
  readonly hosts: readonly string[];
  /** ejabberd's 0–5 scale: 0 none, 1 critical, 2 error, 3 warning, 4 info, 5 debug. */
  readonly loglevel: number;
  readonly authPasswordFormat: PasswordFormat;
  /** The node's name, `name@host`; old scripts pass it with --node. */
  readonly nodeName: string;
  /** A group whose members may use the control socket (mode 0660); otherwise only the owner. */
  readonly socketGroup?: string;
  /** Bare JIDs of the `admin` ACL: the accounts that may call every command over HTTP. */
  readonly admins: readonly string[];
  /** The `acl` option: each ACL's matchers (`all` and `none` are built in). */
  readonly acl: ReadonlyMap<string, readonly Matcher[]>;
  /** The `access_rules` option: who a rule allows is `allowed()` in ./access. */
  readonly accessRules: ReadonlyMap<string, AccessRule>;
  /** HTTP listeners (JSON API, XML-RPC, WebSocket); none unless configured. */
  readonly listeners: readonly Listener[];
  /** XMPP client listeners; 127.0.0.1:5222 when `listen` is absent. */
  readonly c2s: readonly C2sListener[];
  /** PEM files (or globs) holding the certificates and keys, absolute; none: a self-signed certificate the node makes. */
  readonly certfiles: readonly string[];
  /** The MUC service (`modules: mod_muc`); on with ejabberd's defaults when `modules` is absent, off when `modules` lists no mod_muc. */
  readonly muc: MucConfig | undefined;
  /** `auth_failure_limit`: when an address that keeps failing to log in is refused for a while; undefined: never. */
  readonly authFailureLimit: AuthFailureLimit | undefined;
  /** `trusted_proxies`: the proxies whose X-Forwarded-For names the client of an HTTP request; none by default. */
  readonly trustedProxies: TrustedProxies;
  /** `ext_modules`: where extension modules come from, and whether the HTTP API may manage them. */
  readonly extModules: ExtModulesConfig;
  /** `modules` as the file gives it: each module's options, by module name (extension modules read theirs). */
  readonly modules: Readonly<Record<string, unknown>>;
  /** `default_db: sql` and the `sql_*` options: the PostgreSQL database the data lives in; undefined: the home's LevelDB. */
  readonly sql?: SqlConfig;
  /** `redis_server` and the `redis_*` options: the cluster's Redis; undefined: the node serves alone. */
  readonly redis?: RedisConfig;
  /** The file the configuration came from, or would come from: named in error messages. */
  readonly file: string;
}

/** A source of extension modules: a directory of module folders, or a git repository of them. */
export type ModuleSource = { readonly kind: 'dir'; readonly path: string } | { readonly kind: 'git'; readonly url: string; readonly branch?: string };

export interface ExtModulesConfig {
  readonly sources: readonly ModuleSource[];
  /** Module management over HTTP and XML-RPC (it runs code in the node); off unless said. */
  readonly httpApi: boolean;
}

export const LOG_LEVELS = ['none', 'critical', 'error', 'warning', 'info', 'debug'] as const;
/** ejabberd's descriptions of the levels, as get_loglevel reports them. */
export const LOG_LEVEL_NAMES = ['No log', 'Critical', 'Error', 'Warning', 'Info', 'Debug'] as const;

export function defaultConfig(file: string): Config {
  return {
    hosts: ['localhost'],
    loglevel: 4,
    authPasswordFormat: 'scram',
    nodeName: 'ctl@localhost',
    admins: [],
    acl: new Map(),
    accessRules: new Map(),
    listeners: [],
    c2s: [implicitC2s()],
    certfiles: [],
    muc: defaultMucConfig(),
    authFailureLimit: DEFAULT_AUTH_FAILURE_LIMIT,
    trustedProxies: [],
    extModules: { sources: [], httpApi: false },
    modules: {},
    file,
  };
}

/** ejabberd.yml options we accept and will use in later versions; present, they are not errors. */
const RESERVED = new Set(['api_permissions', 'host_config', 'shaper', 'shaper_rules', 'ca_file', 'define_macro', 'language']);

/** Reads `file`; a missing file means the defaults, an invalid one an error naming key and line. */
export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return defaultConfig(file);
    const { fsReason } = require('../lib/files') as typeof import('../lib/files');
    throw new CommandError('failed', `Cannot read the configuration ${file}: ${fsReason(err)}`);
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, file: string): Config {
  // The YAML parser costs start-up time, so only a node with a configuration file pays for it.
  const YAML = require('yaml') as typeof import('yaml');
  const lines = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const bad = (message: string, node?: { range?: [number, number, number?] | null }) => {
    const line = node?.range ? ` (line ${lines.linePos(node.range[0]).line})` : '';
    return new CommandError('failed', `Invalid configuration ${file}${line}: ${message}`);
  };
  if (doc.errors.length > 0) throw syntaxError(text, file, doc.errors[0]);
  const config = { ...defaultConfig(file) } as { -readonly [K in keyof Config]: Config[K] };
  if (doc.contents === null) return config;
  if (!YAML.isMap(doc.contents)) throw bad('the top level must be a mapping of option: value', doc.contents);
  const at = (path: readonly (string | number)[]) => {
    for (let n = path.length; n > 0; n--) {
      const found = doc.getIn(path.slice(0, n), true);
      if (YAML.isNode(found)) return found;
    }
    return undefined;
  };
  const access = <T>(parse: () => T): T => {
    try {
      return parse();
    } catch (err) {
      if (err instanceof AccessError) throw bad(err.message, at(err.path));
      throw err;
    }
  };
  let listen: unknown;
  let mucRules: ReadonlyMap<string, AccessRule> = new Map();
  const sqlValues = new Map<string, unknown>();
  const redisValues = new Map<string, unknown>();
  const sqlNodes = new Map<string, { range?: [number, number, number?] | null } | undefined>();
  for (const pair of doc.contents.items) {
    const k = YAML.isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const node = pair.value as { range?: [number, number, number?] | null } | null;
    const value = YAML.isNode(pair.value) ? pair.value.toJSON() : pair.value;
    const where = (pair.key as typeof node) ?? undefined;
    switch (k) {
      case 'hosts':
        if (!Array.isArray(value) || value.length === 0 || !value.every((h) => typeof h === 'string')) {
          throw bad("'hosts' must be a non-empty list of host names", node ?? where);
        }
        try {
          config.hosts = [...new Set(value.map((h: string) => nameprep(h, 'hosts')))];
        } catch (err) {
          throw bad(`'hosts': ${(err as Error).message}`, node ?? where);
        }
        break;
      case 'loglevel': {
        const level = typeof value === 'number' ? value : LOG_LEVELS.indexOf(value);
        if (!Number.isInteger(level) || level < 0 || level > 5) {
          throw bad(`'loglevel' must be 0 to 5 or one of ${LOG_LEVELS.join(', ')}`, node ?? where);
        }
        config.loglevel = level;
        break;
      }
      case 'auth_password_format':
        if (value !== 'scram' && value !== 'plain') throw bad("'auth_password_format' must be scram or plain", node ?? where);
        config.authPasswordFormat = value;
        break;
      case 'ctl_socket_group':
        if (typeof value !== 'string' && typeof value !== 'number') throw bad("'ctl_socket_group' must be a group name or id", node ?? where);
        config.socketGroup = String(value);
        break;
      case 'listen': {
        const listeners = parseListen(value);
        if (typeof listeners === 'string') throw bad(listeners, node ?? where);
        listen = value;
        config.listeners = listeners.http;
        config.c2s = listeners.c2s;
        break;
      }
      case 'certfiles': {
        const files = parseCertfiles(value);
        if (typeof files === 'string') throw bad(files, node ?? where);
        config.certfiles = files.map((f) => resolve(dirname(file), f));
        break;
      }
      case 'acl': {
        config.acl = access(() => parseAcl(value));
        const admins = parseAdmins(value);
        if (typeof admins === 'string') throw bad(admins, node ?? where);
        config.admins = admins;
        break;
      }
      case 'access_rules':
        config.accessRules = access(() => parseAccessRules(value));
        break;
      case 'modules': {
        if (value !== null && (typeof value !== 'object' || Array.isArray(value))) throw bad("'modules' must map module names to their options", node ?? where);
        // Modules other than mod_muc are accepted as they are, so that an ejabberd.yml reads.
        const modules = (value ?? {}) as Record<string, unknown>;
        config.modules = modules;
        if (!Object.prototype.hasOwnProperty.call(modules, 'mod_muc')) {
          config.muc = undefined;
          break;
        }
        try {
          const { muc, rules } = parseMucModule(modules.mod_muc);
          config.muc = muc;
          mucRules = rules;
        } catch (err) {
          if (err instanceof MucConfigError) throw bad(err.message, at(err.path));
          throw err;
        }
        break;
      }
      case 'auth_failure_limit': {
        const limit = parseAuthFailureLimit(value);
        if (typeof limit === 'string') throw bad(limit, node ?? where);
        config.authFailureLimit = limit;
        break;
      }
      case 'trusted_proxies': {
        const trusted = parseTrustedProxies(value);
        if (trusted !== 'all' && 'error' in trusted) throw bad(trusted.error, node ?? where);
        config.trustedProxies = trusted;
        break;
      }
      case 'ext_modules': {
        const parsed = parseExtModules(value, dirname(file));
        if (typeof parsed === 'string') throw bad(parsed, node ?? where);
        config.extModules = parsed;
        break;
      }
      case 'node_name':
        if (typeof value !== 'string' || !/^[\w.-]+@[\w.-]+$/.test(value)) throw bad("'node_name' must look like name@host", node ?? where);
        config.nodeName = value;
        break;
      default:
        if (SQL_KEYS.has(k) || REDIS_KEYS.has(k)) {
          (SQL_KEYS.has(k) ? sqlValues : redisValues).set(k, value);
          sqlNodes.set(k, node ?? where);
        } else if (!RESERVED.has(k)) throw bad(`unknown option '${k}'`, where);
    }
  }
  const sql = parseSql(sqlValues, dirname(file));
  if ('error' in sql) throw bad(sql.error, sqlNodes.get(sql.key));
  if (sql.sql) config.sql = sql.sql;
  const redis = parseRedis(redisValues, dirname(file));
  if ('error' in redis) throw bad(redis.error, sqlNodes.get(redis.key));
  if (redis.redis) config.redis = redis.redis;
  if (mucRules.size > 0) config.accessRules = new Map([...config.accessRules, ...mucRules]);
  access(() => checkAclNames(config));
  access(() => checkListenerRules(listen, config.accessRules));
  access(() => checkMucRules(config));
  const mucHosts = checkMucHosts(config);
  if (mucHosts !== undefined) throw bad(mucHosts, at(['modules', 'mod_muc', 'host']) ?? at(['hosts']));
  return config;
}

const LIMIT_KEYS = { failures: 'a whole number of failed logins', window: 'a number of seconds', block: 'a number of seconds' } as const;

/**
 * `auth_failure_limit: {failures: 5, window: 60, block: 300}`, any key left out taking its
 * default; `false` turns it off, `true` is the defaults. The reason as a string when invalid.
 */
function parseAuthFailureLimit(value: unknown): AuthFailureLimit | undefined | string {
  if (value === false) return undefined;
  if (value === true) return DEFAULT_AUTH_FAILURE_LIMIT;
  const usage = "'auth_failure_limit' must be false or a mapping of failures, window and block (seconds), e.g. {failures: 5, window: 60, block: 300}";
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return usage;
  const limit: { -readonly [K in keyof AuthFailureLimit]: number } = { ...DEFAULT_AUTH_FAILURE_LIMIT };
  for (const [k, v] of Object.entries(value)) {
    if (!Object.prototype.hasOwnProperty.call(LIMIT_KEYS, k)) return `'auth_failure_limit': unknown key '${k}' (it takes failures, window and block)`;
    const whole = k === 'failures';
    // A year at most: a longer one is a slip of the keyboard, not a policy.
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || (whole && !Number.isInteger(v)) || v > 31_536_000) {
      return `'auth_failure_limit: ${k}' must be ${LIMIT_KEYS[k as keyof typeof LIMIT_KEYS]} above 0 (at most 31536000), got ${JSON.stringify(v)}`;
    }
    limit[k as keyof AuthFailureLimit] = v;
  }
  return limit;
}

/** The longest part of a line a syntax error repeats: enough to recognise it, never a screenful. */
const MAX_SHOWN = 120;

/**
 * A YAML syntax error: the parser's reason, then the line it is about, quoted as in the file.
 * The parser points past an unclosed quote or bracket, at the blank line or end of file after
 * it; the line shown is then the last one with text before that point, where the opening is.
 */
function syntaxError(text: string, file: string, e: import('yaml').YAMLError): CommandError {
  const lines = text.split(/\r?\n/);
  let n = Math.min(e.linePos?.[0]?.line ?? 1, lines.length);
  while (n > 1 && (lines[n - 1] ?? '').trim() === '') n--;
  const line = lines[n - 1] ?? '';
  const shown = line.length > MAX_SHOWN ? `${line.slice(0, MAX_SHOWN)}...` : line;
  const reason = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  return new CommandError('failed', `Invalid configuration ${file} (line ${n}): ${reason}\n  ${basename(file)} line ${n}: ${shown}`);
}

/** `ext_modules: {sources: [DIR | URL | {git: URL, branch: B} | {path: DIR}], http_api: BOOL}`; a string is the error. */
function parseExtModules(value: unknown, base: string): ExtModulesConfig | string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return "'ext_modules' must be a mapping with 'sources' and 'http_api'";
  const sources: ModuleSource[] = [];
  let httpApi = false;
  for (const [key, v] of Object.entries(value)) {
    if (key === 'http_api') {
      if (typeof v !== 'boolean') return "'ext_modules: http_api' must be true or false";
      httpApi = v;
    } else if (key === 'sources') {
      if (!Array.isArray(v)) return "'ext_modules: sources' must be a list of directories and git repositories";
      for (const [i, s] of v.entries()) {
        const source = parseSource(s, base);
        if (typeof source === 'string') return `'ext_modules: sources' item ${i + 1}: ${source}`;
        sources.push(source);
      }
    } else return `'ext_modules': unknown option '${key}' (it takes sources and http_api)`;
  }
  return { sources, httpApi };
}

/** A URL (or `user@host:path`) is a git repository; any other string a directory, relative to the file's. */
function parseSource(s: unknown, base: string): ModuleSource | string {
  const isUrl = (t: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(t) || /^[\w.-]+@[\w.-]+:/.test(t);
  if (typeof s === 'string' && s !== '') return isUrl(s) ? { kind: 'git', url: s } : { kind: 'dir', path: resolve(base, s) };
  if (s !== null && typeof s === 'object' && !Array.isArray(s)) {
    const o = s as Record<string, unknown>;
    const extra = Object.keys(o).filter((k) => !['git', 'branch', 'path'].includes(k));
    if (extra.length > 0) return `unknown option '${extra[0]}' (a source takes git and branch, or path)`;
    if (typeof o.git === 'string' && o.git !== '' && o.path === undefined) {
      if (o.branch !== undefined && (typeof o.branch !== 'string' || !/^[\w./-]+$/.test(o.branch))) return "'branch' must be a branch name";
      // A local repository is named by its path, relative to the configuration's directory too.
      const url = isUrl(o.git) ? o.git : resolve(base, o.git);
      return o.branch === undefined ? { kind: 'git', url } : { kind: 'git', url, branch: o.branch as string };
    }
    if (typeof o.path === 'string' && o.path !== '' && o.git === undefined && o.branch === undefined) return { kind: 'dir', path: resolve(base, o.path) };
  }
  return 'a source is a directory, a git URL, {git: URL, branch: NAME} or {path: DIR}';
}

/** mod_muc's access options name rules the configuration has (or built-in ones). */
function checkMucRules(config: Config): void {
  const muc = config.muc;
  if (muc === undefined) return;
  const keys = { access: muc.access, access_create: muc.accessCreate, access_admin: muc.accessAdmin, access_persistent: muc.accessPersistent };
  for (const [key, rule] of Object.entries(keys)) {
    if (rule === 'all' || rule === 'none' || config.accessRules.has(rule)) continue;
    throw new AccessError(`'modules: mod_muc: ${key}' names the rule '${rule}', which 'access_rules' does not define`, ['modules', 'mod_muc', key]);
  }
}

/** A client listener's `access` names a rule the configuration has (or a built-in one). */
function checkListenerRules(listen: unknown, rules: ReadonlyMap<string, AccessRule>): void {
  if (!Array.isArray(listen)) return;
  for (const [i, l] of listen.entries()) {
    const { module, access } = l as { module?: unknown; access?: unknown };
    if (module !== 'ejabberd_c2s' || typeof access !== 'string' || access === 'all' || access === 'none' || rules.has(access)) continue;
    throw new AccessError(`'listen' item ${i + 1}: 'access' names the rule '${access}', which 'access_rules' does not define`, ['listen', i, 'access']);
  }
}

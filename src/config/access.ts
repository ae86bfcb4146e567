/**
 * The `acl` and `access_rules` options of ctl.yml, in ejabberd.yml's shape and with ejabberd's
 * meaning:
 *
 *   acl:
 *     local:
 *       user_regexp: ""
 *     loopback:
 *       ip: [127.0.0.0/8, ::1/128]
 *   access_rules:
 *     c2s:
 *       deny: blocked
 *       allow: all
 *
 * An ACL matches when any of its matchers does. A rule is an ordered list of `allow: X` and
 * `deny: X`; the first whose X matches decides, and nothing matching means deny. X is an ACL
 * name, a list of them (all must match), or an inline definition (`allow: {user: [bob]}`, whose
 * matcher kinds must all match, any value of each).
 */
import { nameprep, nodeprep, type BareJid } from '../lib/jid';

// Loaded when a configuration uses them: every call reads the configuration, few have IP or glob ACLs.
const isIP = (address: string): number => (require('node:net') as typeof import('node:net')).isIP(address);
const strictGlobToRegExp = (source: string): RegExp => (require('../lib/glob') as typeof import('../lib/glob')).strictGlobToRegExp(source);

export type Matcher =
  /** `host` absent: the user on any served host. */
  | { readonly kind: 'user'; readonly user: string; readonly host?: string }
  | { readonly kind: 'server'; readonly host: string }
  | { readonly kind: 'user_re'; readonly re: RegExp; readonly host?: string }
  | { readonly kind: 'server_re'; readonly re: RegExp }
  | { readonly kind: 'node_re'; readonly user: RegExp; readonly server: RegExp }
  /** Addresses as 128-bit numbers, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d), so either form matches either. */
  | { readonly kind: 'ip'; readonly net: bigint; readonly bits: number };

/** Matches when any of its matchers matches; an ACL name is looked up when a rule is checked. */
export type Term = { readonly acl: string } | { readonly any: readonly Matcher[] };

export interface RuleItem {
  readonly action: 'allow' | 'deny';
  /** All must match. */
  readonly terms: readonly Term[];
  /** Where in ctl.yml the item is, for errors found once the whole file is read. */
  readonly at: readonly (string | number)[];
}

export type AccessRule = readonly RuleItem[];

/** What deciding a rule needs of the configuration. */
export interface AccessConfig {
  readonly hosts: readonly string[];
  readonly acl: ReadonlyMap<string, readonly Matcher[]>;
  readonly accessRules: ReadonlyMap<string, AccessRule>;
}

/** A value ctl.yml cannot have; `path` leads from the top of the file to the value at fault. */
export class AccessError extends Error {
  constructor(
    message: string,
    readonly path: readonly (string | number)[],
  ) {
    super(message);
  }
}

/** The names every configuration has; neither option may define them. */
const BUILT_IN = new Set(['all', 'none']);

type Path = (string | number)[];

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const listOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

/** The `acl` option: each name and its matchers. */
export function parseAcl(value: unknown): Map<string, Matcher[]> {
  if (!isMapping(value)) throw new AccessError('\'acl\' must map ACL names to their definitions, such as local: {user_regexp: ""}', ['acl']);
  const out = new Map<string, Matcher[]>();
  for (const [name, definition] of Object.entries(value)) {
    const path: Path = ['acl', name];
    if (BUILT_IN.has(name)) throw new AccessError(`'acl': '${name}' is built in and cannot be defined`, path);
    if (definition === null) throw new AccessError(`'acl: ${name}' must be a mapping such as user: [bob@example.org]`, path);
    const matchers: Matcher[] = [];
    // A list of mappings reads as their union, as in ejabberd.
    const parts = Array.isArray(definition) ? definition.map((d, i) => [d, [...path, i]] as const) : [[definition, path] as const];
    for (const [part, where] of parts) {
      if (!isMapping(part)) throw new AccessError(`'acl: ${name}' must be a mapping such as user: [bob@example.org]`, where);
      for (const [kind, v] of Object.entries(part)) matchers.push(...parseMatchers(kind, v, [...where, kind], `acl: ${name}`));
    }
    out.set(name, matchers);
  }
  return out;
}

/** The `access_rules` option: each name and its ordered allow/deny items. */
export function parseAccessRules(value: unknown): Map<string, AccessRule> {
  if (!isMapping(value)) throw new AccessError("'access_rules' must map rule names to allow: and deny: lists", ['access_rules']);
  const out = new Map<string, AccessRule>();
  for (const [name, definition] of Object.entries(value)) {
    const path: Path = ['access_rules', name];
    const what = `access rule '${name}'`;
    if (BUILT_IN.has(name)) throw new AccessError(`'access_rules': '${name}' is built in and cannot be defined`, path);
    const items: RuleItem[] = [];
    const parts = Array.isArray(definition) ? definition.map((d, i) => [d, [...path, i]] as const) : [[definition, path] as const];
    for (const [part, where] of parts) {
      // A bare `- allow` allows everyone.
      if (part === 'allow' || part === 'deny') {
        items.push({ action: part, terms: [{ acl: 'all' }], at: where });
        continue;
      }
      if (!isMapping(part)) throw new AccessError(`${what} must be a list of allow: ACL and deny: ACL`, where);
      for (const [action, spec] of Object.entries(part)) {
        if (action !== 'allow' && action !== 'deny') throw new AccessError(`${what}: '${action}' is neither allow nor deny`, [...where, action]);
        items.push({ action, terms: parseTerms(spec, [...where, action], `${what}: ${action}`), at: [...where, action] });
      }
    }
    if (items.length === 0) throw new AccessError(`${what} must be a list of allow: ACL and deny: ACL`, path);
    out.set(name, items);
  }
  return out;
}

/**
 * Checks the names the rules give: an `allow` of an ACL that is not defined could never allow
 * anyone, so it is a mistake; a `deny` of one denies no one, as in ejabberd, whose shipped
 * configuration denies a `blocked` ACL it leaves to the operator to define.
 */
export function checkAclNames(config: Pick<AccessConfig, 'acl' | 'accessRules'>): void {
  for (const [name, rule] of config.accessRules) {
    for (const item of rule) {
      if (item.action !== 'allow') continue;
      for (const term of item.terms) {
        if (!('acl' in term) || BUILT_IN.has(term.acl) || config.acl.has(term.acl)) continue;
        throw new AccessError(`access rule '${name}' allows the ACL '${term.acl}', which 'acl' does not define`, item.at);
      }
    }
  }
}

/** What `rule` says of a client logging in as `who.jid` from `who.ip`; an unknown rule denies. */
export function allowed(config: AccessConfig, rule: string, who: { jid: BareJid; ip: string }): boolean {
  if (rule === 'all') return true;
  if (rule === 'none') return false;
  const items = config.accessRules.get(rule);
  if (!items) return false;
  const ip = parseAddress(who.ip);
  const matches = (m: Matcher) => matcherMatches(config, m, who.jid, ip);
  const termMatches = (t: Term): boolean => ('any' in t ? t.any.some(matches) : aclMatches(config, t.acl, matches));
  for (const item of items) if (item.terms.every(termMatches)) return item.action === 'allow';
  return false;
}

function aclMatches(config: AccessConfig, name: string, matches: (m: Matcher) => boolean): boolean {
  if (name === 'all') return true;
  if (name === 'none') return false;
  return (config.acl.get(name) ?? []).some(matches);
}

function matcherMatches(config: AccessConfig, m: Matcher, jid: BareJid, ip: bigint | undefined): boolean {
  const onHost = (host: string | undefined) => (host === undefined ? config.hosts.includes(jid.host) : jid.host === host);
  switch (m.kind) {
    case 'user':
      return jid.user === m.user && onHost(m.host);
    case 'server':
      return jid.host === m.host;
    case 'user_re':
      return onHost(m.host) && m.re.test(jid.user);
    case 'server_re':
      return m.re.test(jid.host);
    case 'node_re':
      return m.user.test(jid.user) && m.server.test(jid.host);
    case 'ip':
      return ip !== undefined && inNetwork(m, ip);
  }
}

// Parsing the parts.

function parseTerms(spec: unknown, path: Path, what: string): Term[] {
  const terms: Term[] = [];
  const elements = Array.isArray(spec) ? spec.map((s, i) => [s, [...path, i]] as const) : [[spec, path] as const];
  for (const [el, where] of elements) {
    if (typeof el === 'string' && el !== '') terms.push({ acl: el });
    else if (isMapping(el)) {
      for (const [kind, v] of Object.entries(el)) {
        if (kind === 'acl') {
          for (const [i, name] of listOf(v).entries()) {
            if (typeof name !== 'string' || name === '')
              throw new AccessError(`'${what}: acl' must name ACLs`, Array.isArray(v) ? [...where, kind, i] : [...where, kind]);
            terms.push({ acl: name });
          }
        } else terms.push({ any: parseMatchers(kind, v, [...where, kind], what) });
      }
    } else throw new AccessError(`'${what}' must name an ACL, list ACL names, or define one inline such as {user: [bob]}`, where);
  }
  if (terms.length === 0) throw new AccessError(`'${what}' names no ACL`, path);
  return terms;
}

const UNSUPPORTED = new Set(['resource', 'resource_regexp', 'resource_glob', 'shared_group']);
const KINDS = ['user', 'server', 'user_regexp', 'server_regexp', 'node_regexp', 'user_glob', 'server_glob', 'node_glob', 'ip'];

function parseMatchers(kind: string, value: unknown, path: Path, what: string): Matcher[] {
  const where = `'${what}: ${kind}'`;
  if (UNSUPPORTED.has(kind)) throw new AccessError(`${where}: this node does not match on ${kind} yet (it matches ${KINDS.join(', ')})`, path);
  const values = Array.isArray(value) ? value.map((v, i) => [v, [...path, i]] as const) : [[value, path] as const];
  const out: Matcher[] = [];
  for (const [v, at] of values) {
    const fail = (why: string): never => {
      throw new AccessError(`${where}: ${why}`, at);
    };
    switch (kind) {
      case 'user':
      case 'user_regexp':
      case 'user_glob':
        for (const [user, host] of userPairs(v, fail)) {
          const h = host === undefined ? undefined : prep(nameprep, host, fail);
          if (kind === 'user') out.push({ kind, user: prep(nodeprep, user, fail), ...(h === undefined ? {} : { host: h }) });
          else out.push({ kind: 'user_re', re: pattern(kind, user, fail), ...(h === undefined ? {} : { host: h }) });
        }
        break;
      case 'server':
        out.push({ kind, host: prep(nameprep, text(v, fail), fail) });
        break;
      case 'server_regexp':
      case 'server_glob':
        out.push({ kind: 'server_re', re: pattern(kind, text(v, fail), fail) });
        break;
      case 'node_regexp':
      case 'node_glob':
        if (!isMapping(v)) fail('must map a user pattern to a server pattern, such as {"^bot": "example.org"}');
        for (const [user, server] of Object.entries(v as Record<string, unknown>)) {
          out.push({ kind: 'node_re', user: pattern(kind, user, fail), server: pattern(kind, text(server, fail), fail) });
        }
        break;
      case 'ip':
        out.push(parseNetwork(text(v, fail), fail));
        break;
      default:
        throw new AccessError(`'${what}': unknown ACL kind '${kind}' (this node matches ${KINDS.join(', ')})`, path);
    }
  }
  return out;
}

/** `bob`, `bob@example.org`, or the older {bob: example.org}. */
function userPairs(v: unknown, fail: (why: string) => never): [string, string | undefined][] {
  if (isMapping(v)) return Object.entries(v).map(([u, h]) => [u, text(h, fail)]);
  const s = text(v, fail);
  const parts = s.split('@');
  if (parts.length > 2) fail(`'${s}' has more than one @`);
  return [[parts[0], parts[1]]];
}

function text(v: unknown, fail: (why: string) => never): string {
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') fail(`expected a string, got ${v === null ? 'nothing' : Array.isArray(v) ? 'a list' : typeof v}`);
  return v as string;
}

function prep(f: (s: string) => string, s: string, fail: (why: string) => never): string {
  try {
    return f(s);
  } catch (err) {
    return fail((err as Error).message);
  }
}

/** ejabberd's regexps are PCRE, matched anywhere in the value; its globs match the whole value. */
function pattern(kind: string, source: string, fail: (why: string) => never): RegExp {
  try {
    return kind.endsWith('_glob') ? strictGlobToRegExp(source) : new RegExp(source, 'u');
  } catch (err) {
    return fail(`'${source}' is not a valid ${kind.endsWith('_glob') ? 'glob' : 'regular expression'}: ${(err as Error).message}`);
  }
}

/** `10.0.0.0/8`, `::1/128`, or one address. */
function parseNetwork(s: string, fail: (why: string) => never): Matcher {
  const [address, mask, extra] = s.split('/');
  const ip = parseAddress(address);
  if (ip === undefined || extra !== undefined) return fail(`'${s}' is not an address or a network such as 10.0.0.0/8`);
  const v4 = isIP(address) === 4;
  const max = v4 ? 32 : 128;
  const bits = mask === undefined ? max : /^\d{1,3}$/.test(mask) ? Number(mask) : NaN;
  if (!(bits >= 0 && bits <= max)) return fail(`'${s}': the prefix length must be 0 to ${max}`);
  return { kind: 'ip', net: ip, bits: v4 ? bits + 96 : bits };
}

type Network = Extract<Matcher, { kind: 'ip' }>;

/** ejabberd's `trusted_proxies`: `all`, or the proxies whose X-Forwarded-For header is believed. */
export type TrustedProxies = 'all' | readonly Network[];

/** `all`, or a list of addresses and networks; else what is wrong. */
export function parseTrustedProxies(value: unknown): TrustedProxies | { readonly error: string } {
  if (value === 'all') return 'all';
  if (!Array.isArray(value)) return { error: "'trusted_proxies' must be all or a list of addresses and networks (e.g. [127.0.0.1, 10.0.0.0/8])" };
  class Refused extends Error {}
  try {
    return value.map(
      (v) =>
        parseNetwork(String(v), (why) => {
          throw new Refused(`'trusted_proxies': ${why}`);
        }) as Network,
    );
  } catch (err) {
    if (err instanceof Refused) return { error: err.message };
    throw err;
  }
}

export function isTrustedProxy(trusted: TrustedProxies, address: string): boolean {
  if (trusted === 'all') return true;
  const ip = parseAddress(address);
  return ip !== undefined && trusted.some((m) => inNetwork(m, ip));
}

function inNetwork(m: Network, ip: bigint): boolean {
  return ip >> BigInt(128 - m.bits) === m.net >> BigInt(128 - m.bits);
}

const V4_MAPPED = 0xffffn << 32n;

/** An address as a 128-bit number, IPv4 mapped into IPv6; undefined when it is not one. */
export function parseAddress(address: string): bigint | undefined {
  const kind = isIP(address);
  if (kind === 4) return V4_MAPPED | v4Number(address);
  if (kind !== 6) return undefined;
  let s = address.replace(/%.*$/, '');
  // A dotted IPv4 tail (::ffff:1.2.3.4) is the last 32 bits.
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (tail) {
    const n = v4Number(tail[1]);
    s = `${s.slice(0, -tail[1].length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, rest] = s.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const all = rest === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

const V4_LOOPBACK = (V4_MAPPED | (127n << 24n)) >> 24n;

/** 127.0.0.0/8 or ::1, in any of their spellings (::ffff:127.0.0.1, 0:0:0:0:0:0:0:1). */
export function isLoopback(address: string): boolean {
  const ip = parseAddress(address);
  return ip === 1n || (ip !== undefined && ip >> 24n === V4_LOOPBACK);
}

function v4Number(address: string): bigint {
  return address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

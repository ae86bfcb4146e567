import { basename, resolve } from 'node:path';
import { CommandError } from '../lib/errors';
import { ErlangSyntaxError, formatTerm, parseErlangTerms, termText, type Term } from '../lib/erlang-terms';
import { writeFileAtomic } from '../lib/files';
import { readInputText } from './input-text';

/**
 * convert_to_yaml: an old ejabberd.cfg (Erlang terms, ejabberd ≤ 13.x) as ejabberd.yml.
 * Terms map the way ejabberd's own converter and today's ejabberd.yml spell them:
 * `{Key, Value}.` → `Key: Value`; proplists → mappings (a bare atom option → `true`);
 * `{acl, Name, Spec}` → `acl: Name: Type: [...]`; `{access, Name, Rules}` → `access_rules`
 * (allow/deny rules) or `shaper_rules` (any other values); `{shaper, Name, {maxrate, N}}` →
 * `shaper: Name: N`; host-specific options and `{host_config, Host, Opts}` → `host_config`,
 * with `{{add, Key}, Value}` → `append_host_config`.
 */

type Yaml = string | number | boolean | Yaml[] | YamlMap;
type YamlMap = Map<string | number, Yaml>;

/** Old configurations are small; a larger file is not one. */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/** Top-level atoms of old configurations that told ejabberd how to merge with Mnesia: no meaning in YAML. */
const DIRECTIVES = new Set(['override_global', 'override_local', 'override_acls']);

const ACL_TYPES = new Set([
  'user',
  'server',
  'resource',
  'user_regexp',
  'server_regexp',
  'resource_regexp',
  'node_regexp',
  'user_glob',
  'server_glob',
  'resource_glob',
  'node_glob',
  'shared_group',
  'ip',
]);

/** Renamed in ejabberd 16.03, when ODBC became SQL. */
const SQL_TYPES = new Set(['mysql', 'pgsql', 'sqlite', 'mssql', 'odbc']);

export async function convertToYaml(input: string, output: string): Promise<boolean> {
  const inPath = resolve(input);
  const outPath = resolve(output);
  // Erlang read old files as ISO-8859-1 unless told otherwise, so such bytes are taken that way.
  const text = await readInputText(inPath, 'the ejabberd configuration', MAX_CONFIG_BYTES, { latin1: true });
  let terms: Term[];
  try {
    terms = parseErlangTerms(text);
  } catch (err) {
    if (!(err instanceof ErlangSyntaxError)) throw err;
    throw new CommandError('failed', `Malformed ejabberd configuration ${inPath} (line ${err.line}, column ${err.column}): ${err.reason}`, {
      details: { arg: 'in' },
    });
  }
  const { root, dropped } = convertTerms(terms, inPath);
  const YAML = require('yaml') as typeof import('yaml');
  // YAML 1.1, as ejabberd's libyaml reads it: strings such as "yes" or "on" get quotes. Its
  // !!omap tag would claim every Map: mappings are plain mappings in ejabberd.yml.
  const doc = new YAML.Document(root, {
    version: '1.1',
    customTags: (tags) => tags.filter((t) => t !== 'omap' && (typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:omap')),
  });
  doc.commentBefore = [` Converted from ${basename(inPath)} by ctl convert_to_yaml.`, ...dropped.map((d) => ` Dropped: ${d}`)].join('\n');
  await writeFileAtomic(outPath, doc.toString({ lineWidth: 0 }));
  return true;
}

/** The YAML tree of a configuration's terms, and what had to be left out (for a comment). */
export function convertTerms(terms: readonly Term[], path: string): { root: YamlMap; dropped: string[] } {
  const fail = (t: Term, why: string): never => {
    throw new CommandError('failed', `Cannot convert ${path} (line ${t.line}): ${why}`, { details: { arg: 'in' } });
  };
  const root: YamlMap = new Map();
  const dropped: string[] = [];
  const hostConfig: YamlMap = new Map();
  const appendHostConfig: YamlMap = new Map();

  const child = (parent: YamlMap, k: string): YamlMap => {
    const existing = parent.get(k);
    if (existing instanceof Map) return existing;
    const m: YamlMap = new Map();
    parent.set(k, m);
    return m;
  };
  const atom = (t: Term, what: string): string => (t.type === 'atom' ? t.value : fail(t, `${what} must be an atom, found ${formatTerm(t)}`));
  const text = (t: Term, what: string): string => termText(t) ?? fail(t, `${what} must be text, found ${formatTerm(t)}`);

  /** `{Key, Value}` or `{Key, Host, Value}`: an option, converted by what its key needs. */
  function option(target: YamlMap, k: string, v: Term): void {
    switch (k) {
      case 'listen':
        target.set(k, listeners(v));
        return;
      case 'modules':
        target.set(k, modules(v));
        return;
      case 'auth_method':
      case 'default_db':
        target.set(k, renameOdbc(value(v)));
        return;
      case 'odbc_server':
      case 'sql_server':
        if (v.type === 'tuple') {
          for (const [sk, sv] of sqlServer(v)) target.set(sk, sv);
          return;
        }
        target.set('sql_server', value(v));
        return;
      default:
        target.set(k.startsWith('odbc_') ? `sql_${k.slice(5)}` : k, valueOf(k, v));
    }
  }

  /** `{acl, Name, Spec}` → `acl: Name: Type: [Value]`; several specs of a name add up. */
  function acl(target: YamlMap, name: string, spec: Term): void {
    const acls = child(target, 'acl');
    if (spec.type === 'atom' && (spec.value === 'all' || spec.value === 'none')) {
      acls.set(name, spec.value);
      return;
    }
    if (spec.type !== 'tuple' || spec.items.length < 2 || spec.items.length > 3)
      return void fail(spec, `an ACL is {Type, Value} or {Type, User, Server}, found ${formatTerm(spec)}`);
    const type = atom(spec.items[0], 'an ACL type');
    if (!ACL_TYPES.has(type)) fail(spec, `unknown ACL type '${type}': use ${[...ACL_TYPES].join(', ')}`);
    const parts = spec.items.slice(1).map((p) => text(p, `the value of the ${type} ACL`));
    const types = child(acls, name);
    const list = types.get(type);
    types.set(type, [...(Array.isArray(list) ? list : []), parts.join('@')]);
  }

  /** `{access, Name, [{Action, Acl}...]}`: allow/deny rules are access_rules, other values shaper_rules. */
  function access(target: YamlMap, name: string, rules: Term): void {
    if (rules.type !== 'list' || rules.tail)
      return void fail(rules, `the rules of access '${name}' must be a list of {Action, ACL}, found ${formatTerm(rules)}`);
    const out: YamlMap[] = [];
    let allowDeny = true;
    for (const r of rules.items) {
      if (r.type !== 'tuple' || r.items.length !== 2) return void fail(r, `a rule of access '${name}' is {Action, ACL}, found ${formatTerm(r)}`);
      const [a, who] = r.items;
      const action: string | number = a.type === 'integer' ? a.value : atom(a, `the action of a rule of access '${name}'`);
      if (action !== 'allow' && action !== 'deny') allowDeny = false;
      out.push(new Map([[action, text(who, `the ACL of a rule of access '${name}'`)]]));
    }
    (allowDeny ? child(target, 'access_rules') : child(target, 'shaper_rules')).set(name, out);
  }

  /** `{shaper, Name, {maxrate, N}}` → `shaper: Name: N`; `none` stays. */
  function shaper(target: YamlMap, name: string, spec: Term): void {
    if (spec.type === 'atom' && spec.value === 'none') return void child(target, 'shaper').set(name, 'none');
    if (
      spec.type === 'tuple' &&
      spec.items.length === 2 &&
      spec.items[0].type === 'atom' &&
      spec.items[0].value === 'maxrate' &&
      spec.items[1].type === 'integer'
    ) {
      child(target, 'shaper').set(name, spec.items[1].value);
      return;
    }
    fail(spec, `shaper '${name}' must be {maxrate, Bytes} or none, found ${formatTerm(spec)}`);
  }

  /** A term that may be an acl, access or shaper definition; false if it is none of them. */
  function definition(target: YamlMap, t: Term & { type: 'tuple' }): boolean {
    const [k, name, spec] = t.items;
    if (k.type !== 'atom' || !['acl', 'access', 'shaper'].includes(k.value)) return false;
    if (t.items.length !== 3) fail(t, `${k.value} is {${k.value}, Name, ${k.value === 'access' ? 'Rules' : 'Spec'}}, found ${formatTerm(t)}`);
    const n = atom(name, `the name of the ${k.value}`);
    if (k.value === 'acl') acl(target, n, spec);
    else if (k.value === 'access') access(target, n, spec);
    else shaper(target, n, spec);
    return true;
  }

  function hostTerm(host: string, t: Term): void {
    if (t.type !== 'tuple') return void fail(t, `an option of host_config "${host}" is {Key, Value}, found ${formatTerm(t)}`);
    if (definition(child(hostConfig, host), t)) return;
    if (t.items.length !== 2) return void fail(t, `an option of host_config "${host}" is {Key, Value}, found ${formatTerm(t)}`);
    const [k, v] = t.items;
    // {{add, modules}, [...]}: added to the global value instead of replacing it.
    if (k.type === 'tuple' && k.items.length === 2 && k.items[0].type === 'atom' && k.items[0].value === 'add') {
      option(child(appendHostConfig, host), atom(k.items[1], 'the option of {add, Option}'), v);
      return;
    }
    option(child(hostConfig, host), atom(k, `an option name of host_config "${host}"`), v);
  }

  for (const t of terms) {
    if (t.type === 'atom' && DIRECTIVES.has(t.value)) {
      dropped.push(`${t.value} (line ${t.line}), which told ejabberd how to merge the file with its database`);
      continue;
    }
    if (t.type !== 'tuple' || t.items.length < 2 || t.items[0].type !== 'atom') {
      fail(t, `an option is {Key, Value}, found ${formatTerm(t)}`);
      continue;
    }
    if (definition(root, t)) continue;
    const k = (t.items[0] as { value: string }).value;
    if (k === 'host_config') {
      if (t.items.length !== 3) fail(t, 'host_config is {host_config, Host, [Options]}');
      const host = text(t.items[1], 'the host of host_config');
      const opts = t.items[2];
      if (opts.type !== 'list' || opts.tail) fail(opts, `the options of host_config "${host}" must be a list`);
      for (const o of (opts as { items: readonly Term[] }).items) hostTerm(host, o);
      child(hostConfig, host);
    } else if (t.items.length === 2) {
      option(root, k, t.items[1]);
    } else if (t.items.length === 3 && termText(t.items[1]) !== undefined && t.items[1].type !== 'atom') {
      // {domain_certfile, "example.org", File}: an option of one host.
      option(child(hostConfig, termText(t.items[1])!), k, t.items[2]);
    } else {
      fail(t, `an option is {Key, Value} or {Key, Host, Value}, found ${formatTerm(t)}`);
    }
  }
  if (hostConfig.size > 0) root.set('host_config', hostConfig);
  if (appendHostConfig.size > 0) root.set('append_host_config', appendHostConfig);
  return { root, dropped };

  /** `[{Port, Module, Opts}]` → a list of `{port, ip?, transport?, module, ...opts}`. */
  function listeners(v: Term): Yaml[] {
    if (v.type !== 'list' || v.tail) return fail(v, `listen must be a list of {Port, Module, Options}, found ${formatTerm(v)}`);
    return v.items.map((l) => {
      if (l.type !== 'tuple' || l.items.length < 2 || l.items.length > 3) return fail(l, `a listener is {Port, Module, Options}, found ${formatTerm(l)}`);
      const [port, module, opts] = l.items;
      const out: YamlMap = new Map();
      let p: Term = port;
      if (port.type === 'tuple') {
        [p] = port.items;
        for (const x of port.items.slice(1)) {
          if (x.type === 'atom' && (x.value === 'tcp' || x.value === 'udp')) {
            if (x.value === 'udp') out.set('transport', 'udp');
          } else out.set('ip', ip(x));
        }
      }
      if (p.type !== 'integer' || p.value < 0 || p.value > 65535) return fail(p, `a listener's port must be a number from 0 to 65535, found ${formatTerm(p)}`);
      const result: YamlMap = new Map([['port', p.value]]);
      for (const [k, x] of out) result.set(k, x);
      result.set('module', atom(module, "a listener's module"));
      if (opts !== undefined) for (const [k, x] of proplist(opts, 'the options of a listener')) result.set(k, x);
      return result;
    });
  }

  /** `[{mod_x, Opts}]` → `mod_x: {opts}`. */
  function modules(v: Term): YamlMap {
    if (v.type !== 'list' || v.tail) return fail(v, `modules must be a list of {Module, Options}, found ${formatTerm(v)}`);
    const out: YamlMap = new Map();
    for (const m of v.items) {
      if (m.type !== 'tuple' || m.items.length !== 2) return fail(m, `a module is {Module, Options}, found ${formatTerm(m)}`);
      const name = atom(m.items[0], 'a module name');
      out.set(name, proplist(m.items[1], `the options of ${name}`));
    }
    return out;
  }

  /** `[{k, v}, flag]` → a mapping; a bare atom is an option set to true. */
  function proplist(v: Term, what: string): YamlMap {
    if (v.type !== 'list' || v.tail) return fail(v, `${what} must be a list, found ${formatTerm(v)}`);
    const out: YamlMap = new Map();
    for (const o of v.items) {
      if (o.type === 'atom') out.set(o.value, true);
      else if (o.type === 'tuple' && o.items.length === 2 && o.items[0].type === 'atom') out.set(o.items[0].value, valueOf(o.items[0].value, o.items[1]));
      else fail(o, `an item of ${what} is {Option, Value} or an atom, found ${formatTerm(o)}`);
    }
    return out;
  }

  /** The value of option `k`: a few options have a shape of their own in ejabberd.yml. */
  function valueOf(k: string, v: Term): Yaml {
    if (k === 'ip') return ip(v);
    if (k === 'welcome_message' && v.type === 'tuple' && v.items.length === 2) {
      return new Map([
        ['subject', text(v.items[0], 'the subject of welcome_message')],
        ['body', text(v.items[1], 'the body of welcome_message')],
      ]);
    }
    if (k === 'request_handlers' && v.type === 'list' && !v.tail) {
      const out: YamlMap = new Map();
      for (const h of v.items) {
        if (h.type !== 'tuple' || h.items.length !== 2) return fail(h, `a request handler is {Path, Module}, found ${formatTerm(h)}`);
        const [p, m] = h.items;
        const segments =
          p.type === 'list' && termText(p) === undefined
            ? p.items.map((s) => text(s, 'a segment of a request handler path'))
            : [text(p, 'a request handler path')];
        out.set(`/${segments.join('/').replace(/^\/+/, '')}`, atom(m, 'a request handler module'));
      }
      return out;
    }
    return value(v);
  }

  /** Any other term, the generic way. */
  function value(v: Term): Yaml {
    switch (v.type) {
      case 'atom':
        return v.value === 'true' ? true : v.value === 'false' ? false : v.value;
      case 'integer':
      case 'float':
        return v.value;
      case 'string':
      case 'binary':
        return v.value;
      case 'map':
        return new Map(v.entries.map(([mk, mv]): [string | number, Yaml] => [mk.type === 'integer' ? mk.value : text(mk, 'a map key'), value(mv)]));
      case 'tuple':
        if (v.items.length === 2 && v.items[0].type === 'atom') return new Map([[v.items[0].value, valueOf(v.items[0].value, v.items[1])]]);
        return v.items.map(value);
      case 'list': {
        if (v.tail) return fail(v, `an improper list cannot be written in YAML: ${formatTerm(v)}`);
        const isOption = (o: Term) => o.type === 'atom' || (o.type === 'tuple' && o.items.length === 2 && o.items[0].type === 'atom');
        if (v.items.length > 0 && v.items.every((o) => o.type === 'tuple') && v.items.every(isOption)) {
          const keys = v.items.map((o) => ((o as { items: readonly Term[] }).items[0] as { value: string }).value);
          // A list with a repeated key (ip_access: [{allow, A}, {deny, B}, {allow, C}]) keeps its order.
          if (new Set(keys).size === keys.length) return proplist(v, 'a list');
        }
        return v.items.map(value);
      }
    }
  }

  /** An address: a string, or an Erlang inet tuple of 4 bytes or 8 16-bit words. */
  function ip(v: Term): string {
    const t = termText(v);
    if (t !== undefined && v.type !== 'atom') return t;
    if (v.type === 'tuple' && v.items.every((x) => x.type === 'integer')) {
      const n = v.items.map((x) => (x as { value: number }).value);
      if (n.length === 4 && n.every((x) => x >= 0 && x <= 255)) return n.join('.');
      if (n.length === 8 && n.every((x) => x >= 0 && x <= 65535))
        return n
          .map((x) => x.toString(16))
          .join(':')
          .replace(/(^|:)0(:0)+(:|$)/, '::');
    }
    return fail(v, `an IP address is a string or a tuple such as {127,0,0,1}, found ${formatTerm(v)}`);
  }

  /** `{pgsql, Server, [Port,] Database, User, Password}` → sql_type, sql_server, ... */
  function sqlServer(v: Term & { type: 'tuple' }): [string, Yaml][] {
    const [type, ...rest] = v.items;
    const t = atom(type, 'the database type of odbc_server');
    if (!SQL_TYPES.has(t)) fail(type, `unknown database type '${t}' in odbc_server: use ${[...SQL_TYPES].join(', ')}`);
    const names =
      rest.length === 5
        ? ['sql_server', 'sql_port', 'sql_database', 'sql_username', 'sql_password']
        : ['sql_server', 'sql_database', 'sql_username', 'sql_password'];
    if (rest.length !== names.length && !(t === 'sqlite' && rest.length === 1))
      fail(v, `odbc_server is {Type, Server, [Port,] Database, User, Password}, found ${formatTerm(v)}`);
    const out: [string, Yaml][] = [['sql_type', t]];
    if (t === 'sqlite') return [...out, ['sql_database', text(rest[0], 'the sqlite database file')]];
    rest.forEach((x, i) => out.push([names[i], names[i] === 'sql_port' ? value(x) : text(x, names[i])]));
    return out;
  }
}

function renameOdbc(v: Yaml): Yaml {
  if (v === 'odbc') return 'sql';
  return Array.isArray(v) ? v.map(renameOdbc) : v;
}

/**
 * The `listen` and `acl` options of ctl.yml, in ejabberd.yml's shape:
 *
 *   acl:
 *     admin:
 *       user: ["admin@localhost"]
 *   listen:
 *     - port: 5222
 *       module: ejabberd_c2s
 *       starttls_required: true
 *       max_connections: 1000         # default: a quarter of the open-files limit
 *       max_connections_per_ip: 100   # the default
 *     - port: 5280
 *       ip: "127.0.0.1"
 *       module: ejabberd_http
 *       request_handlers:
 *         /api: mod_http_api
 *         /rpc: ejabberd_xmlrpc
 *         /ws: ejabberd_http_ws
 *       idle_timeout: 30              # seconds without a request; the default
 *     - port: 4560
 *       module: ejabberd_xmlrpc
 */
import { parseJid, formatJid } from '../lib/jid';

/** What a path of a listener serves: the JSON API, XML-RPC, or XMPP over WebSocket (RFC 7395). */
export type Handler = 'api' | 'xmlrpc' | 'ws';

export interface Listener {
  readonly port: number;
  /** Loopback unless configured otherwise. */
  readonly ip: string;
  /** Path prefix → handler; `/` for ejabberd_xmlrpc on a port of its own (any path). */
  readonly handlers: ReadonlyMap<string, Handler>;
  /** HTTPS (and WebSocket over TLS) with the node's certificate, as ejabberd_http's `tls: true`. */
  readonly tls: boolean;
  /** Connections held at once; absent: a share of the open-files limit. */
  readonly maxConnections?: number;
  /** Connections held at once from one address; absent: DEFAULT_MAX_CONNECTIONS_PER_IP. */
  readonly maxConnectionsPerIp?: number;
  /** Milliseconds a connection may stay open with no request under way; absent: DEFAULT_IDLE_TIMEOUT. */
  readonly idleTimeout?: number;
}

export const DEFAULT_IDLE_TIMEOUT = 30_000;

const HANDLERS: Record<string, Handler> = { mod_http_api: 'api', ejabberd_xmlrpc: 'xmlrpc', ejabberd_http_ws: 'ws' };

/** An `ejabberd_c2s` listener: where XMPP clients connect. */
export interface C2sListener {
  readonly port: number;
  readonly ip: string;
  /** Offer STARTTLS. */
  readonly starttls: boolean;
  /** Refuse to authenticate a client that has not done STARTTLS. */
  readonly starttlsRequired: boolean;
  /** Direct TLS (XEP-0368): the handshake comes first. */
  readonly tls: boolean;
  /** Bytes; a larger stanza closes the stream with policy-violation. */
  readonly maxStanzaSize: number;
  /** The access rule that decides who may log in here; absent: everyone. */
  readonly access?: string;
  /** Connections held at once, in all and from one address; absent: the defaults. */
  readonly maxConnections?: number;
  readonly maxConnectionsPerIp?: number;
  /** Not configured: the default 127.0.0.1:5222, which is skipped with a warning when the port is taken. */
  readonly implicit?: boolean;
}

export const DEFAULT_MAX_STANZA_SIZE = 262144;

/** Where clients connect when ctl.yml has no `listen`: the standard port, on loopback. */
export function implicitC2s(port = 5222): C2sListener {
  return { port, ip: '127.0.0.1', starttls: true, starttlsRequired: false, tls: false, maxStanzaSize: DEFAULT_MAX_STANZA_SIZE, implicit: true };
}

export interface Listeners {
  readonly http: Listener[];
  readonly c2s: C2sListener[];
}

type Item = Record<string, unknown>;

/** The listeners, or a sentence saying what is wrong. */
export function parseListen(value: unknown): Listeners | string {
  if (!Array.isArray(value)) return "'listen' must be a list of listeners";
  const out: Listeners = { http: [], c2s: [] };
  for (const [i, l] of value.entries()) {
    const where = `'listen' item ${i + 1}`;
    if (typeof l !== 'object' || l === null || Array.isArray(l)) return `${where} must be a mapping`;
    const item = l as Item;
    const { port, ip = '127.0.0.1', module } = item;
    if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535) return `${where}: 'port' must be a number from 0 to 65535`;
    if (typeof ip !== 'string' || ip === '') return `${where}: 'ip' must be an address`;
    // ejabberd options this node does not implement (shaper, zlib, protocol_options, ...) are
    // accepted, so a real ejabberd.yml reads.
    const parsed = module === 'ejabberd_c2s' ? c2sListener(item, port as number, ip) : httpListener(item, port as number, ip);
    if (typeof parsed === 'string') return `${where}: ${parsed}`;
    const limits = connectionLimits(item, 'handlers' in parsed);
    if (typeof limits === 'string') return `${where}: ${limits}`;
    if ('handlers' in parsed) out.http.push({ ...parsed, ...limits });
    else out.c2s.push({ ...parsed, ...limits });
  }
  return out;
}

/** The bounds that keep a flood of connections from taking the node's file descriptors; only those configured. */
function connectionLimits(item: Item, http: boolean): { maxConnections?: number; maxConnectionsPerIp?: number; idleTimeout?: number } | string {
  const out: { maxConnections?: number; maxConnectionsPerIp?: number; idleTimeout?: number } = {};
  for (const [key, field] of [
    ['max_connections', 'maxConnections'],
    ['max_connections_per_ip', 'maxConnectionsPerIp'],
  ] as const) {
    const v = item[key];
    if (v === undefined) continue;
    if (v !== 'infinity' && (!Number.isInteger(v) || (v as number) <= 0)) return `'${key}' must be a positive whole number of connections or infinity`;
    out[field] = v === 'infinity' ? Infinity : (v as number);
  }
  const idle = item.idle_timeout;
  // Only HTTP has one: an XMPP stream may stay quiet for hours, and its own timeouts bound the
  // time before authentication.
  if (http && idle !== undefined) {
    if (idle !== 'infinity' && (typeof idle !== 'number' || !Number.isFinite(idle) || idle <= 0 || idle > 86_400)) {
      return "'idle_timeout' must be a number of seconds (at most 86400) or infinity";
    }
    out.idleTimeout = idle === 'infinity' ? Infinity : Math.round(idle * 1000);
  }
  return out;
}

function httpListener(item: Item, port: number, ip: string): Listener | string {
  const { module, request_handlers: rh, tls = false } = item;
  if (typeof tls !== 'boolean') return "'tls' must be true or false";
  const handlers = new Map<string, Handler>();
  if (module === 'ejabberd_xmlrpc') {
    handlers.set('/', 'xmlrpc');
  } else if (module === 'ejabberd_http') {
    if (typeof rh !== 'object' || rh === null || Array.isArray(rh))
      return "'request_handlers' must map paths to mod_http_api, ejabberd_xmlrpc or ejabberd_http_ws";
    for (const [path, name] of Object.entries(rh)) {
      const handler = HANDLERS[String(name)];
      if (!handler) return `unknown request handler '${String(name)}' for ${path} (this node serves mod_http_api, ejabberd_xmlrpc and ejabberd_http_ws)`;
      if (!path.startsWith('/')) return `request handler path '${path}' must start with /`;
      handlers.set(path.replace(/\/+$/, '') || '/', handler);
    }
  } else {
    return `module '${String(module)}' is not served by this node yet (ejabberd_c2s, ejabberd_http and ejabberd_xmlrpc are)`;
  }
  return { port, ip, handlers, tls };
}

function c2sListener(item: Item, port: number, ip: string): C2sListener | string {
  const flags: Record<string, boolean> = {};
  for (const key of ['starttls', 'starttls_required', 'tls']) {
    const v = item[key];
    if (v !== undefined && typeof v !== 'boolean') return `'${key}' must be true or false`;
    flags[key] = v as boolean;
  }
  const size = item.max_stanza_size ?? DEFAULT_MAX_STANZA_SIZE;
  if (size !== 'infinity' && (!Number.isInteger(size) || (size as number) <= 0)) return "'max_stanza_size' must be a positive number of bytes or infinity";
  const { access } = item;
  if (access !== undefined && (typeof access !== 'string' || access === '')) return "'access' must name an access rule";
  const tls = flags.tls ?? false;
  const starttlsRequired = !tls && (flags.starttls_required ?? false);
  return {
    port,
    ip,
    // The node always has a certificate (its own, when certfiles names none), so STARTTLS is offered unless turned off.
    starttls: !tls && (starttlsRequired || (flags.starttls ?? true)),
    starttlsRequired,
    tls,
    maxStanzaSize: size === 'infinity' ? Infinity : (size as number),
    ...(access === undefined ? {} : { access: access as string }),
  };
}

/** The `certfiles` option: PEM files (shell globs allowed), relative to the configuration's directory. */
export function parseCertfiles(value: unknown): string[] | string {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || !list.every((p) => typeof p === 'string' && p !== '')) return "'certfiles' must be a list of PEM file paths";
  return list as string[];
}

/** The members of the `admin` ACL as bare JIDs, or a sentence saying what is wrong. */
export function parseAdmins(value: unknown): string[] | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return "'acl' must map ACL names to their members";
  const admin = (value as Record<string, unknown>).admin;
  if (admin === undefined) return [];
  if (typeof admin !== 'object' || admin === null || Array.isArray(admin)) return "'acl: admin' must be a mapping such as user: [admin@localhost]";
  const users = (admin as Record<string, unknown>).user;
  const list = users === undefined ? [] : Array.isArray(users) ? users : [users];
  const out: string[] = [];
  for (const u of list) {
    if (typeof u !== 'string') return "'acl: admin: user' must list JIDs such as admin@localhost";
    try {
      const jid = parseJid(u, 'acl');
      if (!jid.user) return `'acl: admin: user': '${u}' is not a user JID`;
      out.push(formatJid({ user: jid.user, host: jid.host }));
    } catch (err) {
      return `'acl: admin: user': ${(err as Error).message}`;
    }
  }
  return out;
}

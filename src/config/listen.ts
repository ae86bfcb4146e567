/**
 * The `listen` and `acl` options of ctl.yml, in ejabberd.yml's shape:
 *
 *   acl:
 *     admin:
 *       user: ["admin@localhost"]
 *   listen:
 *     - port: 5280
 *       ip: "127.0.0.1"
 *       module: ejabberd_http
 *       request_handlers:
 *         /api: mod_http_api
 *         /rpc: ejabberd_xmlrpc
 *     - port: 4560
 *       module: ejabberd_xmlrpc
 */
import { parseJid, formatJid } from '../lib/jid';

/** What a path of a listener serves. */
export type Handler = 'api' | 'xmlrpc';

export interface Listener {
  readonly port: number;
  /** Loopback unless configured otherwise. */
  readonly ip: string;
  /** Path prefix → handler; `/` for ejabberd_xmlrpc on a port of its own (any path). */
  readonly handlers: ReadonlyMap<string, Handler>;
}

const HANDLERS: Record<string, Handler> = { mod_http_api: 'api', ejabberd_xmlrpc: 'xmlrpc' };

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
  /** Not configured: the default 127.0.0.1:5222, which is skipped with a warning when the port is taken. */
  readonly implicit?: boolean;
}

export const DEFAULT_MAX_STANZA_SIZE = 262144;

/** The listeners, or a sentence saying what is wrong. */
export function parseListen(value: unknown): Listener[] | string {
  if (!Array.isArray(value)) return "'listen' must be a list of listeners";
  const out: Listener[] = [];
  for (const [i, l] of value.entries()) {
    const where = `'listen' item ${i + 1}`;
    if (typeof l !== 'object' || l === null || Array.isArray(l)) return `${where} must be a mapping`;
    const { port, ip = '127.0.0.1', module, request_handlers: rh, ...rest } = l as Record<string, unknown>;
    if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535) return `${where}: 'port' must be a number from 0 to 65535`;
    if (typeof ip !== 'string' || ip === '') return `${where}: 'ip' must be an address`;
    const handlers = new Map<string, Handler>();
    if (module === 'ejabberd_xmlrpc') {
      handlers.set('/', 'xmlrpc');
    } else if (module === 'ejabberd_http') {
      if (typeof rh !== 'object' || rh === null || Array.isArray(rh)) return `${where}: 'request_handlers' must map paths to mod_http_api or ejabberd_xmlrpc`;
      for (const [path, name] of Object.entries(rh)) {
        const handler = HANDLERS[String(name)];
        if (!handler) return `${where}: unknown request handler '${String(name)}' for ${path} (this node serves mod_http_api and ejabberd_xmlrpc)`;
        if (!path.startsWith('/')) return `${where}: request handler path '${path}' must start with /`;
        handlers.set(path.replace(/\/+$/, '') || '/', handler);
      }
    } else {
      return `${where}: module '${String(module)}' is not served by this node yet (ejabberd_http and ejabberd_xmlrpc are)`;
    }
    // ejabberd options this node does not implement yet are accepted, so a real ejabberd.yml reads.
    void rest;
    out.push({ port: port as number, ip, handlers });
  }
  return out;
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

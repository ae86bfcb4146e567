import { LOG_LEVELS, type Config } from '../config/config';
import type { C2sListener, Listener } from '../config/listen';
import type { MucConfig } from '../config/muc';
import { listenerKey } from './http';

/** What a change of the configuration touches: the listener kinds are opened apart and may fail apart. */
export type ChangePart = 'c2s' | 'http' | 'other';

export interface ConfigChange {
  readonly part: ChangePart;
  /** One line for the operator: `Applied: ...` or `Not applied: ...`. */
  readonly text: string;
}

/**
 * What reload_config changes in a running node, going from `old` to `next`: what it applies at
 * once, and what waits for the node to be stopped and started again (compared with what it
 * `started` with, since no reload changed those). Nothing that ctl.yml says
 * waits for a `ctl restart` alone: a restart re-reads everything but the control socket's group
 * and the node's name, which belong to the process.
 */
export function configChanges(old: Config, next: Config, started: Pick<Config, 'nodeName' | 'socketGroup'>): ConfigChange[] {
  const changes: ConfigChange[] = [];
  const applied = (text: string, part: ChangePart = 'other') => changes.push({ part, text: `Applied: ${text}` });

  const added = next.hosts.filter((h) => !old.hosts.includes(h));
  const removed = old.hosts.filter((h) => !next.hosts.includes(h));
  if (added.length + removed.length > 0) {
    const parts = [added.length ? `added ${added.join(', ')}` : '', removed.length ? `removed ${removed.join(', ')}` : ''].filter(Boolean);
    applied(`hosts: ${parts.join('; ')}`);
  }
  if (old.loglevel !== next.loglevel) applied(`loglevel: ${LOG_LEVELS[next.loglevel]} (was ${LOG_LEVELS[old.loglevel]})`);
  if (old.authPasswordFormat !== next.authPasswordFormat) {
    applied(`auth_password_format: ${next.authPasswordFormat}, for passwords set from now on (stored ones keep their format)`);
  }
  if (!same(old.authFailureLimit, next.authFailureLimit)) {
    const limit = next.authFailureLimit;
    applied(
      limit
        ? `auth_failure_limit: ${limit.failures} failed logins within ${limit.window} s block an address for ${limit.block} s, from now on`
        : 'auth_failure_limit: off: no address is refused for failed logins from now on',
    );
  }
  if (!same(old.trustedProxies, next.trustedProxies)) applied('trusted_proxies: for HTTP requests from now on');
  const rules = [same(old.acl, next.acl) ? '' : 'acl', same(old.accessRules, next.accessRules) ? '' : 'access_rules'].filter(Boolean);
  if (rules.length > 0) applied(`${rules.join(', ')}: for every check from now on`);
  // The XMPP server reads them, with its listeners: if it fails, so does this.
  if (!same(old.certfiles, next.certfiles)) applied('certfiles: the certificates are read again, for connections from now on', 'c2s');

  for (const text of listenerChanges(old.c2s, next.c2s, c2sKey, describeC2s)) applied(`listen: ${text}`, 'c2s');
  for (const text of listenerChanges(old.listeners, next.listeners, listenerKey, describeHttp)) applied(`listen: ${text}`, 'http');

  const muc = mucChange(old.muc, next.muc);
  if (muc !== undefined) applied(muc);

  // The database is opened again by a restart, which reads the file anew.
  if (!same(old.sql, next.sql)) changes.push({ part: 'other', text: 'Not applied: default_db, sql_*: the database changes with ctl restart' });
  if (!same(old.redis, next.redis))
    changes.push({
      part: 'other',
      text: "Not applied: redis_*, cluster_lease: the cluster's Redis changes when the node starts again (ctl stop, then ctl start)",
    });
  const later = [started.nodeName !== next.nodeName ? 'node_name' : '', started.socketGroup !== next.socketGroup ? 'ctl_socket_group' : ''].filter(Boolean);
  if (later.length > 0) {
    changes.push({
      part: 'other',
      text: `Not applied: ${later.join(', ')}: ${later.length > 1 ? 'they take' : 'it takes'} effect when the node is stopped and started again (ctl stop; ctl start), not with ctl restart`,
    });
  }
  return changes;
}

function listenerChanges<L>(old: readonly L[], next: readonly L[], key: (l: L) => string, describe: (l: L) => string): string[] {
  const before = new Set(old.map(key));
  const after = new Set(next.map(key));
  return [
    ...old.filter((l) => !after.has(key(l))).map((l) => `${describe(l)} closed`),
    ...next.filter((l) => !before.has(key(l))).map((l) => `${describe(l)} opened`),
  ];
}

const c2sKey = (l: C2sListener) => JSON.stringify([l.ip, l.port, l.tls, l.starttls, l.starttlsRequired, l.maxStanzaSize, l.access ?? null]);

function describeC2s(l: C2sListener): string {
  const tls = l.tls ? 'direct TLS' : l.starttlsRequired ? 'STARTTLS required' : l.starttls ? 'STARTTLS' : 'no TLS';
  // The default listener's port may be another than its configuration's (CTL_C2S_PORT).
  return l.implicit ? `the default XMPP client listener on ${l.ip}` : `XMPP client listener on ${l.ip} port ${l.port} (${tls})`;
}

function describeHttp(l: Listener): string {
  return `${l.tls ? 'HTTPS' : 'HTTP'} listener on ${l.ip} port ${l.port} (${[...l.handlers.keys()].join(', ')})`;
}

function mucChange(old: MucConfig | undefined, next: MucConfig | undefined): string | undefined {
  if (old === undefined && next === undefined) return undefined;
  if (old === undefined) return 'modules: mod_muc: the MUC service answers from now on';
  if (next === undefined) return 'modules: mod_muc removed: the MUC service no longer answers (its rooms stay stored)';
  const keys = (Object.keys(next) as (keyof MucConfig)[]).filter((k) => !same(old[k], next[k]));
  if (keys.length === 0) return undefined;
  const names = keys.map((k) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));
  const rooms = names.includes('default_room_options') ? '; default_room_options apply to rooms created from now on' : '';
  return `modules: mod_muc: ${names.join(', ')}${rooms}`;
}

/** Whether two parsed values are the same; maps, sets, regular expressions and bigints compared by content. */
function same(a: unknown, b: unknown): boolean {
  const text = (v: unknown) =>
    JSON.stringify(v, (_k, x: unknown) => {
      if (x instanceof Map) return { map: [...x] };
      if (x instanceof Set) return { set: [...x] };
      if (x instanceof RegExp) return { re: String(x) };
      if (typeof x === 'bigint') return { bigint: String(x) };
      return x;
    });
  return text(a) === text(b);
}

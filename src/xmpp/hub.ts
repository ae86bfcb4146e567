/**
 * The hub: binds resources, keeps each session's stanzas in order, stamps and routes them
 * (RFC 6120 §8, §10), answers server IQs through the modules' handlers, and offers the session
 * commands their view of the live sessions. Delivery rules for messages and presence live in
 * their modules (modules/message.ts, modules/presence.ts), which the hub calls after the
 * 'deliver' hooks.
 */
import { Element } from 'ltx';
import type { Config } from '../config/config';
import type { XmppControl, SessionInfo } from '../core/sessions';
import type { Features } from '../features';
import type { FeatureEvents } from '../features/events';
import type { EventBus, Listener } from '../lib/events';
import { bareText, tryParseJid, parseJid, type BareJid, type Jid } from '../lib/jid';
import type {
  ComponentHandler,
  DiscoItem,
  HubHooks,
  Hub,
  IqHandler,
  IqRoute,
  ModuleApi,
  Session,
  SessionTable,
  StreamError,
  StreamInfo,
  XmppLogger,
  XmppModule,
} from './api';
import { Sessions, type LiveSession, type QueuedTask } from './sessions';
import { StanzaError, errorReply, iqResult, mayReplyWithError } from './stanza';

export type HubLogger = XmppLogger;

export interface HubDeps {
  readonly features: () => Features;
  readonly config: () => Config;
  readonly clock: () => number;
  readonly nodeName: string;
  readonly events: EventBus<FeatureEvents>;
  /** The feature events of the cluster's other nodes, as the cluster relays them; none alone. */
  readonly elsewhere?: EventBus<FeatureEvents>;
  readonly logger: HubLogger;
  readonly modules: readonly XmppModule[];
}

/** Takes a message or presence for a local account once the 'deliver' hooks let it through. */
export type LocalHandler = (stanza: Element, to: Jid) => void | Promise<void>;

/**
 * What the hub gives its own delivery modules beyond `ModuleApi`: the local delivery points, the
 * moment a session closes (before 'session-closed', so its unavailable goes out first), the
 * feature events, and firing hooks.
 */
export interface HubApi extends ModuleApi {
  readonly sessions: Sessions;
  local(kind: 'message' | 'presence', handler: LocalHandler): void;
  closing(handler: (session: LiveSession) => void | Promise<void>): void;
  /**
   * Subscribes to a feature event for the life of the hub. `everywhere`: also when the change
   * was made on another node of the cluster. What the node keeps of the data (a cache) listens
   * so; what tells clients (a push) does not: the node that made the change tells every node's.
   */
  listen<K extends keyof FeatureEvents>(event: K, listener: Listener<FeatureEvents[K]>, everywhere?: boolean): void;
  fire<K extends keyof HubHooks>(name: K, ...args: Parameters<HubHooks[K]>): void | Promise<void>;
  /** Sends the error reply to `stanza` back to its sender, unless it is itself an error or a result. */
  bounce(stanza: Element, condition: string, text?: string): void | Promise<void>;
  /** Runs `task` in the session's queue, after the stanzas it already holds. */
  inTurn<T>(session: LiveSession, task: () => T | Promise<T>): Promise<T>;
}

/** The hub's own api, for the modules that deliver stanzas; a plain `ModuleApi` cannot serve them. */
export function hubApi(api: ModuleApi): HubApi {
  if (!('local' in api)) throw new Error('This module needs the hub of src/xmpp/hub.ts');
  return api as HubApi;
}

/** What the cluster's link hears of the local sessions, and the say it has in routing. */
export interface SessionWatcher {
  /** A local session was bound, or its client's last stanza may have changed what others know of it. */
  changed(s: LiveSession): void;
  closed(s: LiveSession): void;
  /** A stanza for a component's domain (a room): true when another node is handed it. */
  component(stanza: Element): boolean | Promise<boolean>;
  /** set_presence on another node's session. */
  setPresence(s: LiveSession, presence: Element): Promise<boolean>;
}

/** What the cluster's link may do to the hub: copies of other nodes' sessions, and what they hand this node. */
export interface HubRemote {
  watch(watcher: SessionWatcher): void;
  /** An id for a copy of another node's session, unique on this node. */
  newId(): number;
  /**
   * Puts a copy of another node's session in the table, replacing an older copy of it; false
   * when this node serves that resource itself (bound here since: the newer session wins, as on one node).
   */
  add(session: LiveSession): boolean;
  /** Takes a copy out of the table, quietly: its own node speaks for it. */
  drop(session: LiveSession): void;
  /** A session of a dead node, already out of the table: its contacts get its unavailable, as if it had closed here. */
  end(session: LiveSession): Promise<void>;
  /** Closes a local session; false when there is none. */
  kill(full: string, error: StreamError): boolean;
  /** Writes a stanza to a local session's stream (`available`: if the session is); false when there is no such session any more. */
  deliver(full: string, stanza: Element, available?: boolean): boolean;
  route(stanza: Element): Promise<void>;
  /** The local sessions, in bind order. */
  local(): LiveSession[];
  setPresence(full: string, presence: Element): Promise<boolean>;
}

export interface HubHandle {
  readonly hub: Hub;
  readonly remote: HubRemote;
  readonly control: XmppControl;
  readonly sessions: SessionTable;
  /** The features each module registered for the server's disco#info. */
  discoFeatures(): readonly string[];
  /**
   * Runs `module` against the hub while it serves (an extension module's handlers); resolves to
   * what takes every handler it registered away again. An IQ namespace another module answers
   * for the same addresses is refused, and nothing of the module stays registered.
   */
  extend(module: XmppModule): () => void;
  close(): void;
}

type AnyHook = (...args: never[]) => unknown;
type MaybePromise<T> = T | Promise<T>;

/** `then` without a promise when `value` is not one: the hot path stays synchronous. */
function after<T, R>(value: MaybePromise<T>, fn: (v: T) => MaybePromise<R>): MaybePromise<R> {
  return value instanceof Promise ? value.then(fn) : fn(value);
}

const SHOWS = new Set(['away', 'chat', 'dnd', 'xa']);

export function createHub(deps: HubDeps): HubHandle {
  const { logger } = deps;
  const sessions = new Sessions();
  const hooks: { [K in keyof HubHooks]: AnyHook[] } = {
    'client-stanza': [],
    deliver: [],
    'message-delivered': [],
    'session-bound': [],
    'session-available': [],
    'session-closed': [],
    'presence-broadcast': [],
  };
  const iqHandlers = new Map<string, { host?: IqHandler; self?: IqHandler; bare?: IqHandler }>();
  const local: { message?: LocalHandler; presence?: LocalHandler } = {};
  const closingHandlers: ((s: LiveSession) => void | Promise<void>)[] = [];
  const unsubscribe: (() => void)[] = [];
  const disco = new Set<string>();
  const items = new Map<string, DiscoItem[]>();
  const itemProviders: ((host: string) => readonly DiscoItem[])[] = [];
  const components: { owns: (domain: string) => boolean; handler: ComponentHandler }[] = [];
  let watcher: SessionWatcher | undefined;

  const failed = (what: string) => (err: unknown) => logger.error(`${what}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);

  /** Runs hooks in order; the first that returns true has taken the stanza. */
  function runHooks(list: AnyHook[], args: unknown[], from = 0): MaybePromise<boolean> {
    for (let i = from; i < list.length; i++) {
      let r: unknown;
      try {
        r = (list[i] as (...a: unknown[]) => unknown)(...args);
      } catch (err) {
        failed('hook')(err);
        continue;
      }
      if (r === true) return true;
      if (r instanceof Promise) {
        return r.then(
          (v) => v === true || runHooks(list, args, i + 1),
          (err: unknown) => {
            failed('hook')(err);
            return runHooks(list, args, i + 1);
          },
        );
      }
    }
    return false;
  }

  function fire<K extends keyof HubHooks>(name: K, ...args: Parameters<HubHooks[K]>): void | Promise<void> {
    // A session's presence is about to go out: the other nodes learn it first, or a contact who
    // answers at once could find the session unavailable there.
    if (name === 'presence-broadcast') changed(args[1] as LiveSession);
    const list = hooks[name];
    if (list.length === 0) return;
    const r = runHooks(list, args);
    if (r instanceof Promise) return r.then(() => undefined);
  }

  const serves = (domain: string) => deps.config().hosts.includes(domain);

  function bounce(stanza: Element, condition: string, text?: string): void | Promise<void> {
    if (!mayReplyWithError(stanza) || stanza.attrs.from === undefined) return;
    return route(errorReply(stanza, new StanzaError(condition, text)));
  }

  // ---- routing ----

  function route(stanza: Element, sender?: LiveSession): void | Promise<void> {
    const to = stanza.attrs.to as string | undefined;
    if (to === undefined) return routeNoTo(stanza, sender);
    const session = sessions.full.get(to);
    if (session) return toAccount(stanza, session.jid, session, sender);
    const user = sessions.bare.get(to);
    if (user) return toAccount(stanza, user.jid, undefined, sender);
    let jid: Jid;
    try {
      jid = parseJid(to);
    } catch {
      return bounce(stanza, 'jid-malformed');
    }
    if (!serves(jid.host)) return toComponent(stanza, jid.host, sender);
    if (jid.user === '') return toHost(stanza, sender);
    return toAccount(stanza, jid, jid.resource === '' ? undefined : sessions.get(jid), sender);
  }

  function toComponent(stanza: Element, domain: string, sender: LiveSession | undefined): void | Promise<void> {
    const component = components.find((c) => c.owns(domain));
    if (!component) return bounce(stanza, 'remote-server-not-found');
    if (watcher) {
      const w = watcher;
      return after(w.component(stanza), (taken) => (taken ? undefined : toComponentHere(stanza, domain, component.handler, sender)));
    }
    return toComponentHere(stanza, domain, component.handler, sender);
  }

  function toComponentHere(stanza: Element, domain: string, handler: ComponentHandler, sender: LiveSession | undefined): void | Promise<void> {
    const from = sender?.jid ?? fromOf(stanza);
    if (!from) return;
    try {
      const r = handler(stanza, from, sender);
      if (r instanceof Promise) return r.catch(failed(`stanza for ${domain}`));
    } catch (err) {
      failed(`stanza for ${domain}`)(err);
    }
  }

  function routeNoTo(stanza: Element, sender: LiveSession | undefined): void | Promise<void> {
    if (stanza.name === 'iq') return toServer(stanza, sender, true);
    if (stanza.name === 'message' && sender) {
      // RFC 6120 §10.3.1: as if addressed to the sender's bare JID.
      stanza.attrs.to = bareText(sender.bare);
      return route(stanza, sender);
    }
  }

  function toHost(stanza: Element, sender: LiveSession | undefined): void | Promise<void> {
    if (stanza.name === 'iq') return toServer(stanza, sender, false);
  }

  function toServer(iq: Element, sender: LiveSession | undefined, noTo: boolean): void | Promise<void> {
    const type = iq.attrs.type;
    if (type !== 'get' && type !== 'set') return;
    const entry = iqHandlers.get(payloadNs(iq));
    const handler = noTo ? (entry?.self ?? entry?.host) : entry?.host;
    if (!handler) return bounce(iq, 'service-unavailable');
    return answer(iq, handler, sender?.jid ?? fromOf(iq), sender);
  }

  function toAccount(stanza: Element, to: Jid, session: LiveSession | undefined, sender: LiveSession | undefined): void | Promise<void> {
    if (stanza.name === 'iq' && to.resource === '') return iqToBare(stanza, to, sender);
    const own = sender !== undefined && sender.jid.user === to.user && sender.jid.host === to.host;
    const taken = own || hooks.deliver.length === 0 ? false : runHooks(hooks.deliver, [stanza, to]);
    return after(taken, (t) => (t ? undefined : deliver(stanza, to, session)));
  }

  function deliver(stanza: Element, to: Jid, session: LiveSession | undefined): void | Promise<void> {
    if (stanza.name === 'iq') {
      if (session) return session.send(stanza);
      return bounce(stanza, 'service-unavailable');
    }
    const handler = stanza.name === 'message' ? local.message : stanza.name === 'presence' ? local.presence : undefined;
    if (handler) return handler(stanza, to);
  }

  function iqToBare(iq: Element, to: Jid, sender: LiveSession | undefined): void | Promise<void> {
    const type = iq.attrs.type;
    if (type !== 'get' && type !== 'set') return;
    const from = sender?.jid ?? fromOf(iq);
    const self = from !== undefined && from.user === to.user && from.host === to.host;
    const entry = iqHandlers.get(payloadNs(iq));
    const handler = self ? (entry?.self ?? entry?.bare) : entry?.bare;
    if (!handler) return bounce(iq, 'service-unavailable');
    if (self) return answer(iq, handler, from, sender);
    const taken = hooks.deliver.length === 0 ? false : runHooks(hooks.deliver, [iq, to]);
    return after(taken, (t) => (t ? undefined : answer(iq, handler, from, sender)));
  }

  /** `from`: the sender's JID, parsed once by the caller; none (a `from` that is not a JID) gets no answer. */
  function answer(iq: Element, handler: IqHandler, from: Jid | undefined, sender: LiveSession | undefined): void | Promise<void> {
    if (!from) return;
    const fail = (err: unknown) => {
      if (err instanceof StanzaError) return route(errorReply(iq, err));
      failed(`IQ ${payloadNs(iq)} from ${iq.attrs.from}`)(err);
      return route(errorReply(iq, new StanzaError('internal-server-error')));
    };
    let out: MaybePromise<Element | void>;
    try {
      out = handler(iq, from, sender);
    } catch (err) {
      return fail(err);
    }
    if (out instanceof Promise) return out.then((payload) => route(iqResult(iq, payload ?? undefined)), fail);
    return route(iqResult(iq, out ?? undefined));
  }

  const fromOf = (stanza: Element): Jid | undefined => tryParseJid(stanza.attrs.from);

  // ---- each session's queue ----

  function enqueue(s: LiveSession, item: Element | QueuedTask): void {
    if (s.busy) {
      (s.backlog ??= []).push(item);
      return;
    }
    const r = runItem(s, item);
    if (r instanceof Promise) {
      s.busy = true;
      void r.then(() => drain(s));
    }
  }

  async function drain(s: LiveSession): Promise<void> {
    for (;;) {
      const next = s.backlog?.shift();
      if (next === undefined) {
        s.busy = false;
        s.backlog = undefined;
        return;
      }
      const r = runItem(s, next);
      if (r) await r;
    }
  }

  function runItem(s: LiveSession, item: Element | QueuedTask): void | Promise<void> {
    try {
      const r = 'task' in item ? item.task() : fromClient(s, item);
      if (r instanceof Promise) return r.then(() => changed(s), failed(`stanza of ${s.full}`));
      changed(s);
    } catch (err) {
      failed(`stanza of ${s.full}`)(err);
    }
  }

  function changed(s: LiveSession): void {
    if (watcher && !s.closed && s.node === undefined) watcher.changed(s);
  }

  function fromClient(s: LiveSession, stanza: Element): void | Promise<void> {
    stanza.attrs.from = s.full;
    const taken = hooks['client-stanza'].length === 0 ? false : runHooks(hooks['client-stanza'], [stanza, s]);
    return after(taken, (t) => (t ? undefined : route(stanza, s)));
  }

  function inTurn<T>(s: LiveSession, task: () => T | Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      enqueue(s, {
        task: async () => {
          try {
            resolve(await task());
          } catch (err) {
            reject(err);
          }
        },
      });
    });
  }

  // ---- binding and closing ----

  function bind(stream: StreamInfo, resource: string): Session {
    const r = resource === '' ? sessions.freeResource(stream.bare) : resource;
    const old = sessions.get({ ...stream.bare, resource: r });
    if (old) kill(old, { condition: 'conflict', text: 'Replaced by new connection' });
    const session = sessions.add(stream, r, deps.clock());
    changed(session);
    const bound = fire('session-bound', session);
    if (bound instanceof Promise) bound.catch(failed('session-bound'));
    return session;
  }

  function unbind(session: Session, error: StreamError | undefined): void {
    const s = session as LiveSession;
    if (s.closed) return;
    s.closed = true;
    sessions.remove(s);
    // A copy leaves quietly: the node that serves the session tells its contacts.
    if (s.node !== undefined) return;
    watcher?.closed(s);
    enqueue(s, {
      task: async () => {
        for (const h of closingHandlers) await Promise.resolve(h(s)).catch(failed(`closing ${s.full}`));
        await fire('session-closed', s, error);
      },
    });
  }

  /** Leaves the table now (the commands see it gone at once), and closes the stream. */
  function kill(s: LiveSession, error: StreamError): void {
    unbind(s, error);
    try {
      s.close(error);
    } catch (err) {
      failed(`closing the stream of ${s.full}`)(err);
    }
  }

  const killUser = (jid: BareJid, error: StreamError) => {
    const list = [...sessions.ofUser(jid)];
    for (const s of list) kill(s, error);
    return list.length;
  };

  const api: HubApi = {
    features: deps.features,
    config: deps.config,
    clock: deps.clock,
    sessions,
    logger,
    route: async (stanza) => {
      await route(stanza);
    },
    iq(r: IqRoute, handler: IqHandler) {
      const entry = iqHandlers.get(r.xmlns) ?? {};
      for (const to of r.to) entry[to] = handler;
      iqHandlers.set(r.xmlns, entry);
    },
    hook(name, handler) {
      hooks[name].push(handler as AnyHook);
    },
    discoFeature(ns) {
      disco.add(ns);
    },
    discoFeatures: () => [...disco],
    discoItem(host, item) {
      items.set(host, [...(items.get(host) ?? []), item]);
    },
    discoItemsFrom(provider) {
      itemProviders.push(provider);
    },
    discoItems: (host) => [...(items.get(host) ?? []), ...itemProviders.flatMap((p) => p(host))],
    component(owns, handler) {
      components.push({ owns, handler });
    },
    local(kind, handler) {
      local[kind] = handler;
    },
    closing(handler) {
      closingHandlers.push(handler);
    },
    listen(event, listener, everywhere) {
      unsubscribe.push(deps.events.on(event, listener));
      if (everywhere && deps.elsewhere) unsubscribe.push(deps.elsewhere.on(event, listener));
    },
    fire,
    bounce,
    inTurn,
  };

  api.listen('account-removed', ({ jid }) => void killUser(jid, { condition: 'not-authorized', text: 'Account deleted' }));
  api.listen('account-banned', ({ jid, reason }) => void killUser(jid, { condition: 'conflict', text: reason }));
  for (const m of deps.modules) m(api);

  function extend(module: XmppModule): () => void {
    const undo: (() => void)[] = [];
    const remove = () => {
      for (const u of undo.splice(0).reverse()) u();
    };
    const without = <T>(list: T[], item: T) => {
      const i = list.indexOf(item);
      if (i >= 0) list.splice(i, 1);
    };
    const scoped: ModuleApi = {
      ...api,
      iq(r, handler) {
        const entry = iqHandlers.get(r.xmlns) ?? {};
        const taken = r.to.filter((to) => entry[to] !== undefined);
        if (taken.length > 0) throw new Error(`the IQ namespace ${r.xmlns} is answered already (for ${taken.join(', ')})`);
        for (const to of r.to) entry[to] = handler;
        iqHandlers.set(r.xmlns, entry);
        undo.push(() => {
          const now = iqHandlers.get(r.xmlns);
          for (const to of r.to) if (now?.[to] === handler) delete now[to];
          if (now && Object.keys(now).length === 0) iqHandlers.delete(r.xmlns);
        });
      },
      hook(name, handler) {
        hooks[name].push(handler as AnyHook);
        undo.push(() => without(hooks[name], handler as AnyHook));
      },
      discoFeature(ns) {
        if (disco.has(ns)) return;
        disco.add(ns);
        undo.push(() => disco.delete(ns));
      },
      discoItemsFrom(provider) {
        itemProviders.push(provider);
        undo.push(() => without(itemProviders, provider));
      },
      component(owns, handler) {
        const c = { owns, handler };
        components.push(c);
        undo.push(() => without(components, c));
      },
    };
    try {
      module(scoped);
    } catch (err) {
      remove();
      throw err;
    }
    return remove;
  }

  const hub: Hub = {
    serves,
    bind,
    receive(session, stanza) {
      const s = session as LiveSession;
      if (!s.closed) enqueue(s, stanza);
    },
    unbind,
  };

  const info = (s: LiveSession): SessionInfo => sessionInfo(s, deps.nodeName, deps.clock());

  const control: XmppControl = {
    sessions: (host) => sessions.all(host).map(info),
    userSessions: (jid) => sessions.ofUser(jid).map(info),
    kickUser: (jid, reason) => killUser(jid, { condition: 'policy-violation', text: reason ?? 'has been kicked' }),
    kickSession(jid, reason) {
      const s = sessions.get(jid) as LiveSession | undefined;
      if (!s) return false;
      kill(s, { condition: 'conflict', text: reason });
      return true;
    },
    async setPresence(jid, presence) {
      const s = sessions.get(jid) as LiveSession | undefined;
      if (!s) return false;
      if (s.node !== undefined) return watcher ? watcher.setPresence(s, presence) : false;
      await presenceFrom(s, presence);
      return true;
    },
    sendToSession(jid, stanza) {
      const s = sessions.get(jid);
      if (!s) return false;
      s.send(stanza);
      return true;
    },
    route: (stanza) => api.route(stanza),
    announce(text) {
      let n = 0;
      // stop_kindly stops this node: the users of other nodes stay.
      for (const s of localSessions()) {
        const m = new Element('message', { type: 'headline', from: s.jid.host, to: s.full });
        m.c('body').t(text);
        try {
          s.send(m);
          n++;
        } catch (err) {
          failed(`announcing to ${s.full}`)(err);
        }
      }
      return n;
    },
    shutdown() {
      for (const s of localSessions()) kill(s, { condition: 'system-shutdown' });
    },
    onlineSessions: (host) => sessions.count(host),
    localSessions: () => localSessions().length,
  };

  const localSessions = () => sessions.all().filter((s) => s.node === undefined);
  /** The session broadcasts `presence` in its turn, as if its client had sent it (set_presence). */
  const presenceFrom = (s: LiveSession, presence: Element) => inTurn(s, () => fromClient(s, presence));

  const remote: HubRemote = {
    watch(w) {
      watcher = w;
    },
    newId: () => sessions.newId(),
    add(session) {
      const old = sessions.full.get(session.full);
      if (old && old.node === undefined) return false;
      if (old) {
        old.closed = true;
        sessions.remove(old);
      }
      sessions.insert(session);
      return true;
    },
    drop(session) {
      if (sessions.full.get(session.full) !== session) return;
      session.closed = true;
      sessions.remove(session);
    },
    async end(session) {
      for (const h of closingHandlers) await Promise.resolve(h(session)).catch(failed(`closing ${session.full}`));
      await fire('session-closed', session, { condition: 'remote-connection-failed' });
    },
    kill(full, error) {
      const s = sessions.full.get(full);
      if (!s || s.node !== undefined) return false;
      kill(s, error);
      return true;
    },
    deliver(full, stanza, available) {
      const s = sessions.full.get(full);
      if (!s || s.node !== undefined) return false;
      if (!available || s.presence !== undefined) s.send(stanza);
      return true;
    },
    route: (stanza) => api.route(stanza),
    local: localSessions,
    async setPresence(full, presence) {
      const s = sessions.full.get(full);
      if (!s || s.node !== undefined) return false;
      await presenceFrom(s, presence);
      return true;
    },
  };

  return {
    hub,
    remote,
    control,
    sessions,
    discoFeatures: api.discoFeatures,
    extend,
    close() {
      for (const off of unsubscribe.splice(0)) off();
    },
  };
}

/** The namespace of an IQ's payload: its first element child. */
function payloadNs(iq: Element): string {
  for (const c of iq.children) if (typeof c !== 'string') return c.getNS() ?? '';
  return '';
}

/** What the session commands print of a session (ejabberd's user_session_info). */
export function sessionInfo(s: LiveSession, node: string, now: number): SessionInfo {
  const p = s.presence;
  const show = p?.getChildText('show')?.trim();
  const priority = p?.getChildText('priority');
  return {
    jid: s.jid,
    connection: s.connection,
    ip: s.ip,
    port: s.port,
    priority: priority === undefined || priority === null ? undefined : s.priority,
    node: s.node ?? node,
    uptimeSeconds: Math.max(0, Math.floor((now - s.startedAt) / 1000)),
    status: p === undefined || s.detached ? 'unavailable' : show && SHOWS.has(show) ? show : 'available',
    statusText: p?.getChildText('status') ?? '',
  };
}

/**
 * The XMPP server in a cluster. Every node keeps a copy of every other node's sessions in its
 * own table, so routing, presence, carbons and the session commands work as on one node: what
 * is sent to a copy goes over the bus to the node that serves it, which writes it to the
 * client's stream. Rooms are served by the node that holds each one; stanzas for a room held
 * elsewhere are handed to its holder. Whatever cannot be handed over (its node is gone) is
 * routed again here, without that node's sessions: a message then goes to the user's other
 * resources or to offline storage, never nowhere.
 */
import { parse as parseXml, type Element } from 'ltx';
import type { BusMessage, Broadcast, CallResult, Cluster, ClusterHandlers, Handed, SessionRecord } from '../cluster/cluster';
import { CommandError, isErrorCode, toCommandError } from '../lib/errors';
import type { FeatureEvents } from '../features/events';
import type { EventBus } from '../lib/events';
import { bareText, parseJid } from '../lib/jid';
import type { StreamInfo, XmppLogger } from './api';
import type { HubRemote } from './hub';
import { LiveSession } from './sessions';

const FEATURE_EVENTS: readonly (keyof FeatureEvents)[] = [
  'account-registered',
  'account-removed',
  'account-banned',
  'password-changed',
  'roster-item-changed',
  'vcard-changed',
  'offline-message-stored',
  'api-tokens-revoked',
];

/** How long a node gathers the numbers it took before it acknowledges them. */
const ACK_DELAY_MS = 50;

/** How long a call waits for the node it asked. */
const CALL_TIMEOUT_MS = 10_000;

/** What answers calls from other nodes: a method and its arguments, as they came over the bus. */
export type Answer = (method: string, args: unknown[]) => Promise<unknown>;

export interface ClusterLinkDeps {
  readonly remote: HubRemote;
  readonly cluster: Cluster;
  readonly events: EventBus<FeatureEvents>;
  /** Where the other nodes' feature events are told on this node. */
  readonly elsewhere: EventBus<FeatureEvents>;
  readonly logger: XmppLogger;
}

export interface ClusterLink {
  readonly handlers: ClusterHandlers;
  localSessions(): number;
  /** This node's clients go with system-shutdown, and it leaves its cluster; resolves to how many went. */
  leave(by: string): Promise<number>;
  /** Stops relaying this server's events (a restart brings a new server). */
  close(): void;
  readonly node: string;
  /** The other live members. */
  others(): Promise<string[]>;
  /** The node that holds the room; with `claim`, this node takes it when none does. */
  roomNode(room: string, claim: boolean): Promise<string | undefined>;
  /** Runs `method` on `node`, as that node's answer does; rejects as it failed there. */
  call(node: string, method: string, args: readonly unknown[]): Promise<unknown>;
  /** What this node answers other nodes' calls with. */
  answer(fn: Answer): void;
}

/** A call that never reached its node: the node is gone. */
export function unreached(err: unknown): boolean {
  return err instanceof CommandError && err.details?.unreached === true;
}

/** What other nodes last heard of a local session: published again only when it changes. */
interface Published {
  readonly presence: Element | undefined;
  readonly priority: number;
  readonly interested: boolean;
  readonly carbons: boolean;
  readonly detached: boolean;
  readonly directed: ReadonlySet<string>;
}

/** Checked after every stanza a client sends: compares fields, builds nothing. */
function unchanged(p: Published, s: LiveSession): boolean {
  if (
    p.presence !== s.presence ||
    p.priority !== s.priority ||
    p.interested !== s.interested ||
    p.carbons !== s.carbons ||
    p.detached !== s.detached ||
    p.directed.size !== s.directed.size
  )
    return false;
  for (const d of s.directed) if (!p.directed.has(d)) return false;
  return true;
}

export function linkCluster(deps: ClusterLinkDeps): ClusterLink {
  const { remote, cluster, logger } = deps;
  const me = cluster.node;
  /** The copies, by node. */
  const copies = new Map<string, Map<string, LiveSession>>();
  const rooms = new Map<string, string>();
  const published = new WeakMap<LiveSession, Published>();

  const parse = (xml: string): Element | undefined => {
    try {
      return parseXml(xml) as Element;
    } catch {
      logger.warning(`cluster: unreadable stanza on the bus: ${xml.slice(0, 200)}`);
      return undefined;
    }
  };

  /** The session's record, as it is now published. */
  function record(s: LiveSession): SessionRecord {
    const { presence, priority, interested, carbons, detached } = s;
    published.set(s, { presence, priority, interested, carbons, detached, directed: new Set(s.directed) });
    const xml = presence?.toString();
    return {
      full: s.full,
      connection: s.connection,
      ip: s.ip,
      port: s.port,
      startedAt: s.startedAt,
      priority: s.priority,
      ...(xml !== undefined && { presence: xml }),
      interested: s.interested,
      carbons: s.carbons,
      detached: s.detached,
      directed: [...s.directed],
    };
  }

  /** A node that did not take what it was handed: its copies go, and the cluster checks whether it died. */
  function unanswered(node: string): void {
    dropNode(node);
    void cluster.unanswered(node);
  }

  /** What was handed to each node and not acknowledged yet, in the order it was sent. */
  const pending = new Map<string, { n: number; fallback: () => void }[]>();
  let handed = 0;
  /** The last number taken from each node, acknowledged a moment later, all at once. */
  const taken = new Map<string, number>();
  let acking: NodeJS.Timeout | undefined;

  function handOver(node: string, m: Extract<BusMessage, { t: 'deliver' | 'route' }>, fallback: () => void): void {
    const n = ++handed;
    const list = pending.get(node) ?? [];
    pending.set(node, list);
    list.push({ n, fallback });
    void cluster.send(node, { ...m, from: me, n }).then((ok) => {
      if (!ok) unanswered(node);
    });
  }

  function took(m: Handed): void {
    if (m.from === undefined || m.n === undefined) return;
    taken.set(m.from, m.n);
    acking ??= setTimeout(() => {
      acking = undefined;
      for (const [from, n] of taken) void cluster.send(from, { t: 'ack', from: me, n });
      taken.clear();
    }, ACK_DELAY_MS);
  }

  function acknowledged(node: string, n: number): void {
    const list = pending.get(node);
    if (!list) return;
    let i = 0;
    while (i < list.length && list[i].n <= n) i++;
    list.splice(0, i);
  }

  /** A node is gone: what it never acknowledged is routed again, here, without its sessions. */
  function reroute(node: string): void {
    const list = pending.get(node);
    pending.delete(node);
    for (const p of list ?? []) p.fallback();
  }

  function streamTo(node: string, r: SessionRecord): StreamInfo {
    const jid = parseJid(r.full);
    return {
      bare: { user: jid.user, host: jid.host },
      connection: r.connection,
      ip: r.ip,
      port: r.port,
      send(stanza) {
        handOver(node, { t: 'deliver', to: r.full, xml: stanza.toString() }, () => void remote.route(stanza));
      },
      offer(stanza) {
        void cluster.send(node, { t: 'deliver', to: r.full, xml: stanza.toString(), available: true });
      },
      close(error) {
        void cluster.send(node, {
          t: 'kick',
          to: r.full,
          condition: error?.condition ?? 'policy-violation',
          ...(error?.text !== undefined && { text: error.text }),
        });
      },
    };
  }

  /** A session as its record says, outside any table. */
  function sessionOf(node: string, r: SessionRecord): LiveSession {
    const s = new LiveSession(streamTo(node, r), remote.newId(), parseJid(r.full), r.startedAt);
    s.node = node;
    update(s, r);
    return s;
  }

  function update(s: LiveSession, r: SessionRecord): void {
    s.priority = r.priority;
    s.presence = r.presence === undefined ? undefined : parse(r.presence);
    s.interested = r.interested;
    s.carbons = r.carbons;
    s.detached = r.detached;
    s.directed.clear();
    for (const d of r.directed) s.directed.add(d);
  }

  function addCopy(node: string, r: SessionRecord): void {
    const mine = copies.get(node) ?? new Map<string, LiveSession>();
    copies.set(node, mine);
    const known = mine.get(r.full);
    if (known && !known.closed) return update(known, r);
    const s = sessionOf(node, r);
    if (remote.add(s)) mine.set(r.full, s);
  }

  function dropCopy(node: string, full: string): void {
    const s = copies.get(node)?.get(full);
    if (!s) return;
    copies.get(node)?.delete(full);
    remote.drop(s);
  }

  function dropNode(node: string): void {
    for (const s of copies.get(node)?.values() ?? []) remote.drop(s);
    copies.delete(node);
    for (const [room, holder] of rooms) if (holder === node) rooms.delete(room);
    reroute(node);
  }

  const handlers: ClusterHandlers = {
    message(m) {
      switch (m.t) {
        case 'deliver': {
          took(m);
          const stanza = parse(m.xml);
          if (!stanza) return;
          if (m.available) return void remote.deliver(m.to, stanza, true);
          // The session closed meanwhile: routed again, as a stanza for a session that is gone.
          if (!remote.deliver(m.to, stanza)) void remote.route(stanza);
          return;
        }
        case 'route': {
          took(m);
          const stanza = parse(m.xml);
          if (stanza) void remote.route(stanza);
          return;
        }
        case 'ack':
          return acknowledged(m.from, m.n);
        case 'kick':
          remote.kill(m.to, { condition: m.condition, ...(m.text !== undefined && { text: m.text }) });
          return;
        case 'presence': {
          const stanza = parse(m.xml);
          if (stanza) void remote.setPresence(m.to, stanza);
          return;
        }
        case 'leave':
          leave(m.by).catch((err: Error) => logger.error(`cluster: leaving as ${m.by} asked failed: ${err.message}`));
          return;
        case 'call':
          return void answerCall(m.from, m.id, m.method, m.args);
        case 'reply':
          return replied(m.id, m);
      }
    },
    broadcast(b: Broadcast) {
      switch (b.t) {
        case 'up':
          return addCopy(b.node, b.s);
        case 'down':
          return dropCopy(b.node, b.full);
        case 'gone':
          return dropNode(b.node);
        case 'event':
          return deps.elsewhere.emit(b.name as keyof FeatureEvents, b.payload as never);
      }
    },
    async connected() {
      await cluster.publishAll(remote.local().map(record));
      const alive = new Set(await cluster.alive());
      for (const node of [...copies.keys()]) if (!alive.has(node)) dropNode(node);
      for (const node of alive) {
        if (node === me) continue;
        const records = await cluster.sessionsOf(node);
        const fresh = new Set(records.map((r) => r.full));
        for (const full of [...(copies.get(node)?.keys() ?? [])]) if (!fresh.has(full)) dropCopy(node, full);
        for (const r of records) addCopy(node, r);
      }
    },
    lost() {
      for (const node of new Set([...copies.keys(), ...pending.keys()])) dropNode(node);
      rooms.clear();
    },
    async purge(node, records) {
      dropNode(node);
      for (const r of records) await remote.end(sessionOf(node, r)).catch((err: Error) => logger.error(`cluster: ending ${r.full} of ${node}: ${err.message}`));
    },
  };

  /** Asked by another member: this node's clients go with system-shutdown, and it leaves. */
  async function leave(by: string): Promise<number> {
    const n = remote.local().length;
    for (const s of remote.local()) remote.kill(s.full, { condition: 'system-shutdown' });
    const from = cluster.name;
    await cluster.leave();
    logger.info(`cluster: left cluster ${from} as ${by} asked; ${n} session(s) closed; this node now serves alone`);
    return n;
  }

  remote.watch({
    changed(s) {
      const p = published.get(s);
      if (p && unchanged(p, s)) return;
      cluster.sessionUp(record(s));
    },
    closed(s) {
      cluster.sessionDown(s.full);
    },
    component(stanza) {
      if (!cluster.connected) return false;
      let to;
      try {
        to = parseJid(stanza.attrs.to as string);
      } catch {
        return false;
      }
      // The service itself (disco of the MUC domain, say) answers on every node.
      if (to.user === '') return false;
      const room = bareText(to);
      // A room already placed is handed over in this turn: this runs for every room stanza.
      const known = rooms.get(room);
      if (known !== undefined) return handTo(known, room, stanza);
      return roomNode(room, true).then(
        (holder) => handTo(holder ?? me, room, stanza),
        () => false,
      );
    },
    async setPresence(s, presence) {
      if (s.node === undefined) return false;
      return cluster.send(s.node, { t: 'presence', to: s.full, xml: presence.toString() });
    },
  });

  /** False: this node holds the room. A holder that does not answer loses the room to this node. */
  function handTo(holder: string, room: string, stanza: Element): boolean {
    if (holder === me) return false;
    handOver(holder, { t: 'route', xml: stanza.toString() }, () => {
      rooms.set(room, me);
      void remote.route(stanza);
    });
    return true;
  }

  let answer: Answer = () => Promise.reject(new CommandError('unavailable', `${me} is starting: try again`));
  const calls = new Map<number, { resolve(v: unknown): void; reject(err: unknown): void; timer: NodeJS.Timeout }>();
  let called = 0;

  function call(node: string, method: string, args: readonly unknown[]): Promise<unknown> {
    const id = ++called;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        calls.delete(id);
        reject(new CommandError('unavailable', `Node ${node} did not answer within ${CALL_TIMEOUT_MS / 1000} s`));
      }, CALL_TIMEOUT_MS);
      calls.set(id, { resolve, reject, timer });
      void cluster.send(node, { t: 'call', from: me, id, method, args }).then((ok) => {
        if (ok) return;
        replied(id, { ok: false, code: 'unavailable', message: `Node ${node} does not answer`, details: { unreached: true } });
        unanswered(node);
      });
    });
  }

  function replied(id: number, r: CallResult): void {
    const c = calls.get(id);
    if (!c) return;
    calls.delete(id);
    clearTimeout(c.timer);
    if (r.ok) c.resolve(r.value);
    else c.reject(new CommandError(isErrorCode(r.code) ? r.code : 'internal', r.message, r.details === undefined ? {} : { details: r.details }));
  }

  async function answerCall(from: string, id: number, method: string, args: readonly unknown[]): Promise<void> {
    let r: CallResult;
    try {
      // JSON has no undefined: an argument left out came as null.
      r = {
        ok: true,
        value: await answer(
          method,
          args.map((a) => a ?? undefined),
        ),
      };
    } catch (err) {
      const e = toCommandError(err);
      r = { ok: false, code: e.code, message: e.message, ...(e.details !== undefined && { details: e.details }) };
    }
    await cluster.send(from, { t: 'reply', id, ...r });
  }

  async function roomNode(room: string, claim: boolean): Promise<string | undefined> {
    const known = rooms.get(room);
    if (known !== undefined) return known;
    if (!cluster.connected) return undefined;
    const holder = claim ? await cluster.holder(room) : await cluster.heldBy(room);
    if (holder !== undefined) rooms.set(room, holder);
    return holder;
  }

  const off = FEATURE_EVENTS.map((name) => deps.events.on(name, (payload) => cluster.event(name, payload)));

  return {
    handlers,
    localSessions: () => remote.local().length,
    leave,
    node: me,
    others: async () => (await cluster.alive().catch(() => [me])).filter((n) => n !== me),
    roomNode,
    call,
    answer(fn) {
      answer = fn;
    },
    close() {
      if (acking) clearTimeout(acking);
      for (const id of [...calls.keys()]) replied(id, { ok: false, code: 'unavailable', message: `${me} is restarting its XMPP server` });
      for (const o of off.splice(0)) o();
    },
  };
}

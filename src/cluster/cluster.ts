/**
 * A node's place in its cluster, kept in Redis under `ctl:<cluster>:`: its lease (it is alive
 * while the key lives), the sessions it serves, the rooms it holds, and two channels: its own
 * bus, where other nodes hand it stanzas, and the cluster's, where every node says what changed.
 * This file knows Redis and the cluster's rules; what the messages mean to XMPP is the link's
 * (src/xmpp/cluster-link.ts).
 *
 * Every write and publish goes through one connection, so other nodes see them in the order
 * they were made: a session's presence before the message that follows it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis as RedisClient } from 'ioredis';
import type { RedisConfig } from '../config/redis';
import { CommandError } from '../lib/errors';
import { readPasswordFile } from '../lib/files';

/** One session as the cluster knows it: enough for another node to route to it, list it and end it. */
export interface SessionRecord {
  readonly full: string;
  readonly connection: 'c2s' | 'c2s_tls' | 'websocket';
  readonly ip: string;
  readonly port: number;
  readonly startedAt: number;
  readonly priority: number;
  /** The last available presence, as XML; absent before initial presence and after unavailable. */
  readonly presence?: string;
  readonly interested: boolean;
  readonly carbons: boolean;
  readonly detached: boolean;
  /** Where the session sent directed presence: they get its unavailable when it ends. */
  readonly directed: readonly string[];
}

/**
 * A stanza handed over, numbered by its sender (`from`, `n`): the receiver acknowledges what it
 * took, and what a node that died never acknowledged is routed again by its sender.
 */
export interface Handed {
  readonly from?: string;
  readonly n?: number;
}

/** What one node hands another on its bus. */
export type BusMessage =
  /** `available`: only if the session is available by then. */
  | ({ readonly t: 'deliver'; readonly to: string; readonly xml: string; readonly available?: true } & Handed)
  | ({ readonly t: 'route'; readonly xml: string } & Handed)
  /** Everything `from` handed over up to `n` was taken. */
  | { readonly t: 'ack'; readonly from: string; readonly n: number }
  | { readonly t: 'kick'; readonly to: string; readonly condition: string; readonly text?: string }
  | { readonly t: 'presence'; readonly to: string; readonly xml: string }
  | { readonly t: 'leave'; readonly by: string }
  /** A room command for the node that holds the room (or for every node, to list its rooms). */
  | { readonly t: 'call'; readonly from: string; readonly id: number; readonly method: string; readonly args: readonly unknown[] }
  | ({ readonly t: 'reply'; readonly id: number } & CallResult);

/** What a call resolved to, or the command error it failed with. */
export type CallResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly code: string; readonly message: string; readonly details?: Record<string, unknown> };

/** What a node tells the whole cluster. */
export type Broadcast =
  | { readonly t: 'up'; readonly node: string; readonly s: SessionRecord }
  | { readonly t: 'down'; readonly node: string; readonly full: string }
  /** The node's sessions and rooms are gone: it died and was purged, or it left. */
  | { readonly t: 'gone'; readonly node: string }
  | { readonly t: 'event'; readonly node: string; readonly name: string; readonly payload: unknown };

/** What the cluster asks of the XMPP server. */
export interface ClusterHandlers {
  message(m: BusMessage): void;
  broadcast(b: Broadcast): void;
  /** Redis is reachable again, or for the first time: publish the local sessions, read the others'. */
  connected(): Promise<void>;
  /** Redis is lost: forget the other nodes' sessions, serve the local ones. */
  lost(): void;
  /** The sessions a dead node left (or this node's previous incarnation): their contacts get their unavailable. */
  purge(node: string, sessions: readonly SessionRecord[]): Promise<void>;
}

export interface ClusterLogger {
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
}

export interface ClusterOptions {
  readonly redis: RedisConfig;
  readonly nodeName: string;
  /** Where the node keeps the name of the cluster it belongs to, across restarts. */
  readonly stateFile: string;
  /** What names the node's database: nodes of one cluster must share it. */
  readonly database: string;
  readonly logger: ClusterLogger;
}

interface Lease {
  readonly incarnation: string;
  readonly pid: number;
  readonly host: string;
  readonly database: string;
  readonly started: number;
}

/** The state of the node's link to Redis, as `status` tells it. */
export interface ClusterStatus {
  readonly cluster: string;
  readonly redis: string;
  readonly connected: boolean;
  /** Since when Redis has been unreachable (milliseconds since the epoch). */
  readonly lostSince?: number;
}

const CONNECT_WAIT = 2000;
const CLEANUP_LOCK_MS = 30_000;

export class Cluster {
  readonly incarnation = randomBytes(8).toString('hex');
  private cmd!: RedisClient;
  private sub!: RedisClient;
  private clusterName: string;
  private handlers: ClusterHandlers = IDLE;
  private timers: NodeJS.Timeout[] = [];
  private ready = false;
  private registered = false;
  private lostSince: number | undefined = Date.now();
  private cleaning = new Set<string>();
  private closed = false;
  private readonly started = Date.now();

  constructor(private readonly options: ClusterOptions) {
    this.clusterName = readClusterName(options.stateFile) ?? options.nodeName;
  }

  /** The XMPP server that speaks for this node (a restart brings a new one): it publishes its sessions and reads the others'. */
  attach(handlers: ClusterHandlers): Promise<void> {
    this.handlers = handlers;
    return this.ready ? handlers.connected() : Promise.resolve();
  }

  get name(): string {
    return this.clusterName;
  }

  get node(): string {
    return this.options.nodeName;
  }

  get connected(): boolean {
    return this.ready;
  }

  private key(...parts: string[]): string {
    return ['ctl', this.clusterName, ...parts].join(':');
  }

  /** Connects, and waits a moment for Redis: a node whose Redis is down still starts, and serves alone until it is back. */
  async start(): Promise<void> {
    const { default: Redis } = await import('ioredis');
    const { redis } = this.options;
    const password = redis.passwordFile === undefined ? redis.password : readPasswordFile('redis_password_file', redis.passwordFile);
    const common = {
      host: redis.server,
      port: redis.port,
      db: redis.db,
      password,
      // A command while Redis is away fails at once: the node serves its own users meanwhile.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 500,
      lazyConnect: true,
    };
    this.cmd = new Redis(common);
    this.sub = new Redis({ ...common, enableOfflineQueue: true, maxRetriesPerRequest: null });
    const quiet = () => undefined;
    this.cmd.on('error', quiet);
    this.sub.on('error', quiet);
    this.sub.on('message', (channel: string, message: string) => this.received(channel, message));
    this.cmd.on('ready', () => void this.onReady());
    this.cmd.on('close', () => this.onClose());
    const first = new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), CONNECT_WAIT);
      this.cmd.once('ready', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
    this.cmd.connect().catch(quiet);
    this.sub.connect().catch(quiet);
    if (!(await first)) this.options.logger.warning(`cluster: Redis at ${this.redisText()} does not answer; serving this node's users alone until it does`);
    const every = Math.max(200, Math.floor(redis.leaseMs / 3));
    this.timers.push(setInterval(() => void this.renew(), every).unref());
    this.timers.push(setInterval(() => void this.sweep(), every).unref());
  }

  private redisText(): string {
    return `${this.options.redis.server}:${this.options.redis.port}`;
  }

  private onReady(): void {
    void this.register().catch((err: Error) => this.options.logger.error(`cluster: cannot register with Redis: ${err.message}`));
  }

  /** Takes the lease, purges what an earlier incarnation of this node left, and listens. */
  private async register(): Promise<void> {
    if (this.closed) return;
    const me = this.options.nodeName;
    const held = await this.cmd.get(this.key('node', me));
    if (held) {
      const lease = JSON.parse(held) as Lease;
      if (lease.incarnation !== this.incarnation && lease.host === hostname() && lease.pid !== process.pid && processAlive(lease.pid)) {
        this.options.logger.error(`cluster: node ${me} is served by process ${lease.pid} already; this process stays out of the cluster`);
        return;
      }
    }
    // Only at start: after a loss of Redis, what the record holds are this incarnation's live sessions.
    if (!this.registered) await this.purge(me);
    this.registered = true;
    await this.renew(true);
    await this.cmd.sadd(this.key('members'), me);
    await this.sub.subscribe(this.key('bus', me), this.key('all'));
    const wasLost = this.lostSince;
    this.ready = true;
    this.lostSince = undefined;
    await this.handlers.connected();
    if (wasLost !== undefined && Date.now() - this.started > CONNECT_WAIT)
      this.options.logger.info(`cluster: Redis at ${this.redisText()} is back; ${me} serves in cluster ${this.clusterName} again`);
  }

  private onClose(): void {
    if (!this.ready) return;
    this.ready = false;
    this.lostSince = Date.now();
    if (this.closed) return;
    this.options.logger.error(`cluster: lost Redis at ${this.redisText()}; serving this node's users alone until it is back`);
    this.handlers.lost();
  }

  private lease(): string {
    const lease: Lease = { incarnation: this.incarnation, pid: process.pid, host: hostname(), database: this.options.database, started: this.started };
    return JSON.stringify(lease);
  }

  private async renew(force = false): Promise<void> {
    if (!this.ready && !force) return;
    try {
      await this.cmd.set(this.key('node', this.options.nodeName), this.lease(), 'PX', this.options.redis.leaseMs);
    } catch {
      // Redis is away: 'close' says so; the next renewal after 'ready' takes the lease again.
    }
  }

  private received(channel: string, text: string): void {
    let message: { node?: string };
    try {
      message = JSON.parse(text) as { node?: string };
    } catch {
      return;
    }
    if (channel === this.key('all')) {
      if (message.node !== this.options.nodeName) this.handlers.broadcast(message as Broadcast);
    } else if (channel === this.key('bus', this.options.nodeName)) this.handlers.message(message as unknown as BusMessage);
  }

  // ---- sessions ----

  /** The session is new or changed: the cluster's record of it, and every node's copy. */
  sessionUp(s: SessionRecord): void {
    if (!this.ready) return;
    const me = this.options.nodeName;
    this.cmd
      .multi()
      .hset(this.key('sm', me), s.full, JSON.stringify(s))
      .publish(this.key('all'), JSON.stringify({ t: 'up', node: me, s } satisfies Broadcast))
      .exec()
      .catch(() => undefined);
  }

  sessionDown(full: string): void {
    if (!this.ready) return;
    const me = this.options.nodeName;
    this.cmd
      .multi()
      .hdel(this.key('sm', me), full)
      .publish(this.key('all'), JSON.stringify({ t: 'down', node: me, full } satisfies Broadcast))
      .exec()
      .catch(() => undefined);
  }

  /** Republishes every local session (after Redis came back, or on joining). */
  async publishAll(sessions: readonly SessionRecord[]): Promise<void> {
    const me = this.options.nodeName;
    const m = this.cmd.multi().del(this.key('sm', me));
    for (const s of sessions) {
      m.hset(this.key('sm', me), s.full, JSON.stringify(s));
      m.publish(this.key('all'), JSON.stringify({ t: 'up', node: me, s } satisfies Broadcast));
    }
    await m.exec();
  }

  /** The sessions another node serves, as its record says. */
  async sessionsOf(node: string): Promise<SessionRecord[]> {
    const all = await this.cmd.hgetall(this.key('sm', node));
    return Object.values(all).map((v) => JSON.parse(v) as SessionRecord);
  }

  /** Tells every other node of a feature event, so that what they keep of it (rosters read for presence) is dropped. */
  event(name: string, payload: unknown): void {
    if (!this.ready) return;
    const b: Broadcast = { t: 'event', node: this.options.nodeName, name, payload };
    this.cmd.publish(this.key('all'), JSON.stringify(b)).catch(() => undefined);
  }

  /** Hands `m` to `node`; false when no node listens there (it is gone), or Redis is. */
  async send(node: string, m: BusMessage): Promise<boolean> {
    if (!this.ready) return false;
    try {
      return (await this.cmd.publish(this.key('bus', node), JSON.stringify(m))) > 0;
    } catch {
      return false;
    }
  }

  // ---- nodes ----

  /** The members whose lease is alive, this node among them, by name: every node lists the same. */
  async alive(): Promise<string[]> {
    const me = this.options.nodeName;
    if (!this.ready) return [me];
    const members = (await this.cmd.smembers(this.key('members'))).filter((m) => m !== me);
    const live = members.length === 0 ? [] : await this.cmd.mget(members.map((m) => this.key('node', m)));
    return [me, ...members.filter((_, i) => live[i] !== null)].sort();
  }

  private async isAlive(node: string): Promise<boolean> {
    return (await this.cmd.exists(this.key('node', node))) === 1;
  }

  /** Every few seconds: a member whose lease expired and who left sessions or rooms is purged, by one node. */
  private async sweep(): Promise<void> {
    if (!this.ready) return;
    try {
      const me = this.options.nodeName;
      for (const m of await this.cmd.smembers(this.key('members'))) {
        if (m === me || (await this.isAlive(m))) continue;
        if ((await this.cmd.exists(this.key('sm', m), this.key('rooms', m))) > 0) await this.cleanup(m);
      }
    } catch (err) {
      if (this.ready) this.options.logger.error(`cluster: sweep failed: ${(err as Error).message}`);
    }
  }

  /** A node that did not answer on its bus: it is purged now if its lease is gone too. */
  async unanswered(node: string): Promise<void> {
    if (this.ready && !(await this.isAlive(node).catch(() => true))) await this.cleanup(node).catch(() => undefined);
  }

  /** Purges a dead node once for the whole cluster (whoever takes the lock); resolves to how many sessions it had. */
  private async cleanup(node: string): Promise<number> {
    if (this.cleaning.has(node)) return 0;
    this.cleaning.add(node);
    try {
      const got = await this.cmd.set(this.key('cleanup', node), this.options.nodeName, 'PX', CLEANUP_LOCK_MS, 'NX');
      if (got !== 'OK') return 0;
      const n = await this.purge(node);
      this.options.logger.warning(`cluster: node ${node} stopped renewing its lease; its ${n} session(s) are purged`);
      await this.cmd.del(this.key('cleanup', node));
      return n;
    } finally {
      this.cleaning.delete(node);
    }
  }

  /** Drops a node's sessions and rooms everywhere, after its contacts were told. */
  private async purge(node: string): Promise<number> {
    const records = await this.sessionsOf(node);
    const gone: Broadcast = { t: 'gone', node };
    await this.cmd.publish(this.key('all'), JSON.stringify(gone));
    if (node !== this.options.nodeName) this.handlers.broadcast(gone);
    if (records.length > 0) await this.handlers.purge(node, records);
    const rooms = await this.cmd.smembers(this.key('rooms', node));
    const m = this.cmd.multi().del(this.key('sm', node), this.key('rooms', node));
    for (const r of rooms) m.eval(DEL_IF, 1, this.key('room', r), node);
    await m.exec();
    return records.length;
  }

  // ---- rooms ----

  /** The node that holds `room`: the first to claim it, while it lives; this node claims it when none does. */
  async holder(room: string): Promise<string> {
    const me = this.options.nodeName;
    if (!this.ready) return me;
    const key = this.key('room', room);
    const got = await this.cmd.set(key, me, 'NX');
    if (got === 'OK') {
      await this.cmd.sadd(this.key('rooms', me), room);
      return me;
    }
    const held = await this.cmd.get(key);
    if (held === null || held === me) return held === null ? this.holder(room) : me;
    if (await this.isAlive(held)) return held;
    await this.cmd.set(key, me);
    await this.cmd.sadd(this.key('rooms', me), room);
    return me;
  }

  /** The live node that holds `room`, without claiming it; none when no live node does. */
  async heldBy(room: string): Promise<string | undefined> {
    if (!this.ready) return undefined;
    const held = await this.cmd.get(this.key('room', room));
    if (held === null || held === this.options.nodeName) return held ?? undefined;
    return (await this.isAlive(held)) ? held : undefined;
  }

  // ---- membership ----

  /** Makes this node a member of `target`'s cluster; resolves to what was done, in words. */
  async join(target: string, localSessions: () => number): Promise<string> {
    const me = this.options.nodeName;
    if (target === me) throw new CommandError('bad_argument', `${target} is this node: name another node of the cluster to join`, { details: { arg: 'node' } });
    this.needRedis();
    const others = (await this.alive()).filter((n) => n !== me);
    if (others.includes(target)) throw new CommandError('conflict', `${me} is already in cluster ${this.clusterName}, with ${target}`);
    if (others.length > 0)
      throw new CommandError('conflict', `${me} is in cluster ${this.clusterName} with ${others.join(', ')}: leave it first (ctl leave_cluster ${me})`);
    const found = await this.findNode(target);
    if (!found)
      throw new CommandError('not_found', `No running node named ${target} in the Redis at ${this.redisText()}: start it, or check its node_name`, {
        details: { arg: 'node' },
      });
    if (found.lease.database !== this.options.database) {
      throw new CommandError(
        'failed',
        `${target} keeps its data in ${found.lease.database}, and this node in ${this.options.database}: the nodes of a cluster share one PostgreSQL database; give this node ${target}'s sql_* options (move its data first with 'ctl dump' and 'ctl load' if it has any)`,
      );
    }
    await this.moveTo(found.cluster);
    const members = await this.alive();
    return `${me} joined cluster ${found.cluster}, which ${target} serves in; its nodes: ${members.join(', ')}. The data was already the cluster's (${this.options.database}); ${localSessions()} session(s) of ${me} are now seen by every node`;
  }

  /** This node leaves its cluster (its sessions were closed): a cluster of its own from now on. */
  async leave(): Promise<void> {
    const me = this.options.nodeName;
    this.needRedis();
    await this.cmd.srem(this.key('members'), me);
    await this.purgeOwn();
    await this.moveTo(me);
  }

  private async purgeOwn(): Promise<void> {
    const me = this.options.nodeName;
    const gone: Broadcast = { t: 'gone', node: me };
    const rooms = await this.cmd.smembers(this.key('rooms', me));
    const m = this.cmd.multi().del(this.key('sm', me), this.key('rooms', me), this.key('node', me));
    for (const r of rooms) m.eval(DEL_IF, 1, this.key('room', r), me);
    m.publish(this.key('all'), JSON.stringify(gone));
    await m.exec();
  }

  /** From any member: drains `target`, which must be alive; resolves once its lease is gone. */
  async drain(target: string): Promise<void> {
    this.needRedis();
    if (!(await this.cmd.sismember(this.key('members'), target)) || !(await this.isAlive(target))) {
      throw new CommandError(
        'not_found',
        `${target} is not a running node of cluster ${this.clusterName}: 'ctl list_cluster' lists those; a node gone for good is forgotten with 'ctl remove_node ${target}'`,
        { details: { arg: 'node' } },
      );
    }
    if (!(await this.send(target, { t: 'leave', by: this.options.nodeName })))
      throw new CommandError('failed', `${target} does not answer on the cluster's bus`);
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      if (!(await this.cmd.sismember(this.key('members'), target))) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new CommandError('failed', `${target} was asked to leave cluster ${this.clusterName} but is still in it after 10 seconds: see its log`);
  }

  /** Forgets a member that is gone for good; resolves to how many sessions were purged. */
  async remove(target: string): Promise<number> {
    this.needRedis();
    if (target === this.options.nodeName || (await this.isAlive(target))) {
      throw new CommandError('conflict', `${target} is running: 'ctl leave_cluster ${target}' drains it`, { details: { arg: 'node' } });
    }
    const known = (await this.cmd.sismember(this.key('members'), target)) === 1 || (await this.cmd.exists(this.key('sm', target))) === 1;
    if (!known) throw new CommandError('not_found', `No node named ${target} in cluster ${this.clusterName}`, { details: { arg: 'node' } });
    const n = await this.purge(target);
    await this.cmd.srem(this.key('members'), target);
    return n;
  }

  private needRedis(): void {
    if (!this.ready)
      throw new CommandError('unavailable', `The cluster's Redis at ${this.redisText()} is unreachable: this node serves alone until it is back`);
  }

  private async findNode(target: string): Promise<{ cluster: string; lease: Lease } | undefined> {
    let cursor = '0';
    const suffix = `:node:${target}`;
    do {
      const [next, keys] = await this.cmd.scan(cursor, 'MATCH', `ctl:*${suffix}`, 'COUNT', 500);
      cursor = next;
      for (const k of keys) {
        if (!k.endsWith(suffix)) continue;
        const held = await this.cmd.get(k);
        if (held) return { cluster: k.slice('ctl:'.length, -suffix.length), lease: JSON.parse(held) as Lease };
      }
    } while (cursor !== '0');
    return undefined;
  }

  private async moveTo(cluster: string): Promise<void> {
    const me = this.options.nodeName;
    if (cluster !== this.clusterName) {
      await this.cmd.del(this.key('node', me), this.key('sm', me));
      await this.cmd.srem(this.key('members'), me);
      await this.sub.unsubscribe(this.key('bus', me), this.key('all'));
      this.handlers.lost();
      this.clusterName = cluster;
      writeFileSync(this.options.stateFile, `${JSON.stringify({ cluster })}\n`);
    }
    await this.renew(true);
    await this.cmd.sadd(this.key('members'), me);
    await this.sub.subscribe(this.key('bus', me), this.key('all'));
    await this.handlers.connected();
  }

  status(): ClusterStatus {
    return { cluster: this.clusterName, redis: this.redisText(), connected: this.ready, lostSince: this.lostSince };
  }

  /** Stops renewing and drops the lease and the sessions: the others see this node go at once. */
  async stop(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.splice(0)) clearInterval(t);
    if (this.ready) await this.purgeOwn().catch(() => undefined);
    this.ready = false;
    this.cmd?.disconnect();
    this.sub?.disconnect();
  }
}

const IDLE: ClusterHandlers = {
  message: () => undefined,
  broadcast: () => undefined,
  connected: async () => undefined,
  lost: () => undefined,
  purge: async () => undefined,
};

/** Deletes a room's claim only while the given node still holds it. */
const DEL_IF = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

function readClusterName(file: string): string | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { cluster?: unknown };
    return typeof parsed.cluster === 'string' ? parsed.cluster : undefined;
  } catch {
    return undefined;
  }
}

/** Alive, and not a zombie: a node killed a moment ago may wait for its parent to reap it. */
function processAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

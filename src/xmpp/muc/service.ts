/**
 * The MUC service (XEP-0045): a component owning each served host's service domain
 * (`conference.HOST`). It routes stanzas to live rooms, loads persistent rooms from the feature's
 * records on demand and keeps a bounded cache of the empty ones, creates rooms on a first join,
 * answers disco, nick registration and the owner's muc#owner requests itself, stores what a
 * room tells it changed, and gives the room commands their `MucControl`.
 */
import { Element } from 'ltx';
import { allowed } from '../../config/access';
import { mucServiceOf, type MucConfig } from '../../config/muc';
import type { MucControl, MucService } from '../../core/muc';
import type { Muc, RoomRecord } from '../../features/muc/types';
import { bareText, formatJid, parseJid, type BareJid, type Jid } from '../../lib/jid';
import type { ModuleApi, Session, XmppModule } from '../api';
import { NS, StanzaError, errorReply, iqResult, mayReplyWithError } from '../stanza';
import { createMucControl } from './service-control';
import { roomInfo, roomItems, serviceInfo, serviceItems, serviceVcard, uniqueName } from './service-disco';
import { ownerIq, roomVcard } from './service-owner';
import { NS_REGISTER, register } from './register';
import { createRoom } from './room';
import type { LiveRoom, RoomEnv, RoomFactory, RoomStart } from './types';

export const NS_MUC = 'http://jabber.org/protocol/muc';
export const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
export const NS_MUC_UNIQUE = 'http://jabber.org/protocol/muc#unique';

/** How long a room's last activity may wait before it is written: a busy room does not write per message. */
export const ACTIVITY_WRITE_DELAY = 60_000;

export interface MucServiceOptions {
  /** Builds live rooms; room.ts's `createRoom` unless told. */
  readonly factory?: RoomFactory;
  /** Milliseconds an activity-only change waits to be stored. */
  readonly activityDelay?: number;
}

export interface MucServer {
  readonly module: XmppModule;
  readonly control: MucControl;
  /** Writes what is pending (the rooms' last activity): the server calls it when it stops. */
  flush(): Promise<void>;
}

/** What the control and the request handlers share of the service's state. */
export interface Registry {
  readonly api: () => ModuleApi;
  /** mod_muc's configuration; fails when it is gone (a reload removed it). */
  config(): MucConfig;
  services(): MucService[];
  muc(): Muc;
  /** The live room, or the stored one loaded into a live room; none when it does not exist. */
  room(service: string, name: string): Promise<LiveRoom | undefined>;
  /** The live room, without loading. */
  live(service: string, name: string): LiveRoom | undefined;
  /** Every live room (of one service). */
  liveRooms(service?: string): LiveRoom[];
  start(start: RoomStart): LiveRoom;
  /** A room's state may have changed outside its own handling (configure, setAffiliation from the service). */
  changed(room: LiveRoom): void;
  /** Destroys the room, and removes it from storage. */
  destroy(room: LiveRoom, reason?: string, alternate?: string, password?: string): Promise<void>;
  /** The room was used without occupants: it enters the cache of empty rooms. */
  used(room: LiveRoom): void;
  isServiceAdmin(jid: BareJid): boolean;
  mayPersist(jid: BareJid): boolean;
}

const keyOf = (service: string, name: string) => `${name}@${service}`;
const bareOf = (jid: Jid): BareJid => ({ user: jid.user, host: jid.host });

/** The namespace of an IQ's payload: its first element child. */
function payloadNs(iq: Element): string {
  for (const c of iq.children) if (typeof c !== 'string') return c.getNS() ?? '';
  return '';
}

/** Did a change touch more than the last activity? Compared field by field: this runs for every message. */
function onlyActivity(prev: RoomRecord, next: RoomRecord): boolean {
  if (prev.subject !== next.subject || prev.subjectAuthor !== next.subjectAuthor || prev.createdAt !== next.createdAt) return false;
  const [a, b] = [prev.affiliations, next.affiliations];
  if (a !== b) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i].jid !== b[i].jid || a[i].affiliation !== b[i].affiliation || a[i].reason !== b[i].reason) return false;
  }
  return prev.options === next.options || JSON.stringify(prev.options) === JSON.stringify(next.options);
}

export function createMucService(options: MucServiceOptions = {}): MucServer {
  const factory = options.factory ?? createRoom;
  const activityDelay = options.activityDelay ?? ACTIVITY_WRITE_DELAY;
  let api: ModuleApi | undefined;
  /** Every live room, by `name@service`. */
  const rooms = new Map<string, LiveRoom>();
  const loading = new Map<string, Promise<LiveRoom | undefined>>();
  /** Persistent rooms without occupants, oldest use first: the cache config.muc.roomCacheSize bounds. */
  const idle = new Map<string, LiveRoom>();
  /** The record last written for each live room that is stored. */
  const saved = new Map<string, RoomRecord>();
  /** Stored rooms whose last activity moved on since it was written. */
  const dirty = new Map<string, LiveRoom>();
  let dirtyTimer: NodeJS.Timeout | undefined;
  /** Each room's writes, in order. */
  const writes = new Map<string, Promise<void>>();
  /** Full JID → the rooms it joined: a session that ends leaves them. */
  const joined = new Map<string, Set<string>>();
  const envs = new Map<string, RoomEnv>();

  const theApi = (): ModuleApi => {
    if (!api) throw new Error('The MUC service is not running');
    return api;
  };
  const mucConfig = (): MucConfig => {
    const mc = theApi().config().muc;
    if (!mc) throw new StanzaError('service-unavailable');
    return mc;
  };
  const muc = () => theApi().features().muc;
  const logError = (what: string) => (err: unknown) => theApi().logger.error(`${what}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);

  function services(): MucService[] {
    const config = theApi().config();
    return config.hosts.flatMap((host) => {
      const service = mucServiceOf(config, host);
      return service === undefined ? [] : [{ service, host }];
    });
  }
  const owns = (domain: string) => services().some((s) => s.service === domain);

  // ---- persistence ----

  function write(key: string, op: () => Promise<void>): void {
    const p = (writes.get(key) ?? Promise.resolve())
      .then(op)
      .catch(logError(`storing room ${key}`))
      .finally(() => {
        if (writes.get(key) === p) writes.delete(key);
      });
    writes.set(key, p);
  }

  function store(room: LiveRoom): void {
    const record = room.record();
    saved.set(room.jid, record);
    dirty.delete(room.jid);
    write(room.jid, () => muc().saveRoom(room.service, room.name, record));
  }

  function flushDirty(): void {
    if (dirtyTimer) clearTimeout(dirtyTimer);
    dirtyTimer = undefined;
    for (const room of [...dirty.values()]) store(room);
  }

  function changed(room: LiveRoom): void {
    const key = room.jid;
    if (room.destroyed || rooms.get(key) !== room) return;
    if (!room.options.persistent) {
      idle.delete(key);
      dirty.delete(key);
      if (saved.delete(key)) write(key, () => muc().removeRoom(room.service, room.name));
      return;
    }
    const prev = saved.get(key);
    if (prev === undefined || !onlyActivity(prev, room.record())) return store(room);
    if (prev.lastActivity === room.lastActivity) return;
    dirty.set(key, room);
    dirtyTimer ??= setTimeout(flushDirty, activityDelay).unref();
  }

  function forget(room: LiveRoom): void {
    const key = room.jid;
    if (rooms.get(key) !== room) return;
    rooms.delete(key);
    idle.delete(key);
    dirty.delete(key);
    saved.delete(key);
  }

  /** Keeps the cache of empty rooms within bounds, unloading the least recently used (stored first). */
  function evict(): void {
    const limit = Math.max(0, theApi().config().muc?.roomCacheSize ?? 0);
    for (const [key, room] of idle) {
      if (idle.size <= limit) break;
      idle.delete(key);
      if (room.occupantCount > 0 || rooms.get(key) !== room) continue;
      if (dirty.has(key)) store(room);
      forget(room);
    }
  }

  function used(room: LiveRoom): void {
    const key = room.jid;
    if (rooms.get(key) !== room) return;
    if (room.occupantCount > 0 || !room.options.persistent) {
      idle.delete(key);
      return;
    }
    idle.delete(key);
    idle.set(key, room);
    evict();
  }

  function emptied(room: LiveRoom): void {
    if (rooms.get(room.jid) !== room) return;
    if (!room.options.persistent) return forget(room);
    used(room);
  }

  async function destroy(room: LiveRoom, reason?: string, alternate?: string, password?: string): Promise<void> {
    const key = room.jid;
    if (!room.destroyed) room.destroy(reason, alternate, password);
    forget(room);
    write(key, () => muc().removeRoom(room.service, room.name));
    await writes.get(key);
  }

  // ---- rooms ----

  function envFor(service: string): RoomEnv {
    let env = envs.get(service);
    if (env) return env;
    env = {
      send: (stanza) =>
        void theApi()
          .route(stanza)
          .catch(logError(`stanza from ${String(stanza.attrs.from)}`)),
      clock: () => theApi().clock(),
      historySize: () => mucConfig().historySize,
      maxUsers: () => mucConfig().maxUsers,
      isServiceAdmin,
      registeredNick: (jid) => muc().nick(service, jid),
      nickOwner: (nick) => muc().nickOwner(service, nick),
      changed,
      emptied,
    };
    envs.set(service, env);
    return env;
  }

  function start(s: RoomStart): LiveRoom {
    const room = factory(s, envFor(s.service));
    rooms.set(room.jid, room);
    return room;
  }

  function room(service: string, name: string): Promise<LiveRoom | undefined> {
    const key = keyOf(service, name);
    const live = rooms.get(key);
    if (live) return Promise.resolve(live);
    let p = loading.get(key);
    if (!p) {
      p = (async () => {
        const record = await muc().room(service, name);
        const again = rooms.get(key);
        if (again || !record) return again;
        const loaded = start({ name, service, record, locked: false });
        saved.set(key, loaded.record());
        return loaded;
      })().finally(() => loading.delete(key));
      loading.set(key, p);
    }
    return p;
  }

  function isServiceAdmin(jid: BareJid): boolean {
    const config = theApi().config();
    const mc = config.muc;
    return mc !== undefined && allowed(config, mc.accessAdmin, { jid, ip: '' });
  }

  function mayPersist(jid: BareJid): boolean {
    const config = theApi().config();
    const mc = config.muc;
    return mc !== undefined && allowed(config, mc.accessPersistent, { jid, ip: '' });
  }

  const registry: Registry = {
    api: theApi,
    config: mucConfig,
    services,
    muc,
    room,
    live: (service, name) => rooms.get(keyOf(service, name)),
    liveRooms: (service) => [...rooms.values()].filter((r) => service === undefined || r.service === service),
    start,
    changed,
    destroy,
    used,
    isServiceAdmin,
    mayPersist,
  };

  // ---- stanzas ----

  function bounce(stanza: Element, condition: string, text?: string): Promise<void> | undefined {
    if (!mayReplyWithError(stanza) || stanza.attrs.from === undefined) return;
    return theApi().route(errorReply(stanza, new StanzaError(condition, text)));
  }

  async function answer(iq: Element, fn: () => Promise<Element | undefined> | Element | undefined): Promise<void> {
    let reply: Element;
    try {
      reply = iqResult(iq, (await fn()) ?? undefined);
    } catch (err) {
      if (!(err instanceof StanzaError)) logError(`IQ ${payloadNs(iq)} to ${String(iq.attrs.to)}`)(err);
      reply = errorReply(iq, err instanceof StanzaError ? err : new StanzaError('internal-server-error'));
    }
    await theApi().route(reply);
  }

  async function toService(stanza: Element, service: string, from: Jid): Promise<void> {
    // Messages and presence to the service itself are for nobody.
    if (stanza.name !== 'iq') return;
    const type = stanza.attrs.type;
    if (type !== 'get' && type !== 'set') return;
    const ns = payloadNs(stanza);
    const getOnly = (fn: () => Promise<Element | undefined> | Element) =>
      answer(stanza, () => {
        if (type !== 'get') throw new StanzaError('not-allowed', "Value 'set' of 'type' attribute is not allowed");
        return fn();
      });
    switch (ns) {
      case NS.discoInfo:
        return getOnly(() => serviceInfo(stanza, mucConfig()));
      case NS.discoItems:
        return getOnly(() => serviceItems(stanza, service, registry));
      case NS_REGISTER:
        return answer(stanza, () => register(stanza, service, bareOf(from), muc()));
      case NS.vcard:
        return getOnly(() => serviceVcard());
      case NS_MUC_UNIQUE:
        return getOnly(() => uniqueName());
      default:
        await bounce(stanza, 'service-unavailable');
    }
  }

  async function toRoom(stanza: Element, to: Jid, from: Jid, session: Session | undefined): Promise<void> {
    const service = to.host;
    const name = to.user;
    let live = await room(service, name);
    if (!live) {
      if (stanza.name === 'presence') {
        if (stanza.attrs.type !== undefined) return;
        live = create(stanza, to, from, session);
        if (!live) return;
      } else {
        await bounce(stanza, 'item-not-found', 'Conference room does not exist');
        return;
      }
    }
    const r = live;
    try {
      const answered = atRoom(stanza, to, r, from);
      await (answered ?? r.handle(stanza, from));
    } finally {
      after(r, stanza, from);
    }
  }

  /** The IQs at a room's bare JID that the service answers; undefined for the rest, which are the room's. */
  function atRoom(stanza: Element, to: Jid, r: LiveRoom, from: Jid): Promise<void> | undefined {
    const type = stanza.attrs.type;
    if (stanza.name !== 'iq' || to.resource !== '' || (type !== 'get' && type !== 'set')) return undefined;
    switch (payloadNs(stanza)) {
      case NS_MUC_OWNER:
        return answer(stanza, () => ownerIq(stanza, r, from, registry));
      case NS.discoInfo:
        return answer(stanza, () => roomInfo(stanza, r));
      case NS.discoItems:
        return answer(stanza, () => roomItems(stanza, r, from));
      case NS_REGISTER:
        return answer(stanza, () => register(stanza, r.service, bareOf(from), muc()));
      case NS.vcard:
        return answer(stanza, () => roomVcard(stanza, r, from, registry));
      default:
        return undefined;
    }
  }

  /** A first join creates the room, locked, with the joiner as its owner (XEP-0045 §10.1.1). */
  function create(presence: Element, to: Jid, from: Jid, session: Session | undefined): LiveRoom | undefined {
    const existing = rooms.get(keyOf(to.host, to.user));
    if (existing) return existing;
    if (to.resource === '') {
      void bounce(presence, 'jid-malformed', 'A nickname is required to enter a room');
      return undefined;
    }
    const config = theApi().config();
    const mc = mucConfig();
    const bare = bareOf(from);
    if (!allowed(config, mc.accessCreate, { jid: bare, ip: session?.ip ?? '' })) {
      void bounce(presence, 'forbidden', 'Room creation is denied by service policy');
      return undefined;
    }
    if (Buffer.byteLength(to.user) > mc.maxRoomId) {
      void bounce(presence, 'not-acceptable', `Room names on ${to.host} are at most ${mc.maxRoomId} bytes long`);
      return undefined;
    }
    const now = theApi().clock();
    const record: RoomRecord = {
      options: mc.defaultRoomOptions,
      affiliations: [{ jid: bareText(bare), affiliation: 'owner', reason: '' }],
      subject: '',
      subjectAuthor: '',
      createdAt: now,
      lastActivity: now,
    };
    const created = start({ name: to.user, service: to.host, record, locked: true });
    changed(created);
    return created;
  }

  /** What a handled stanza left: a destroyed room goes, an occupant's rooms are known for when its session ends. */
  function after(room: LiveRoom, stanza: Element, from: Jid): void {
    if (room.destroyed) {
      forget(room);
      return;
    }
    if (stanza.name === 'presence') {
      const full = formatJid(from);
      const inside = room.hasUser(bareOf(from)) && room.occupants().some((o) => formatJid(o.jid) === full);
      const set = joined.get(full);
      if (inside) {
        if (set) set.add(room.jid);
        else joined.set(full, new Set([room.jid]));
      } else if (set) {
        set.delete(room.jid);
        if (set.size === 0) joined.delete(full);
      }
    }
    used(room);
  }

  async function leaveAll(session: Session): Promise<void> {
    const full = formatJid(session.jid);
    const keys = joined.get(full);
    if (!keys) return;
    joined.delete(full);
    for (const key of keys) {
      const r = rooms.get(key);
      if (!r || !r.hasUser(session.bare)) continue;
      const occupant = r.occupants().find((o) => formatJid(o.jid) === full);
      if (!occupant) continue;
      await theApi().route(new Element('presence', { type: 'unavailable', from: full, to: `${key}/${occupant.nick}` }));
    }
  }

  const module: XmppModule = (moduleApi) => {
    api = moduleApi;
    moduleApi.component(owns, async (stanza, from, session) => {
      let to: Jid;
      try {
        to = parseJid(String(stanza.attrs.to));
      } catch {
        await bounce(stanza, 'jid-malformed', 'Invalid room name');
        return;
      }
      // Leaving is never refused: a user the rule now denies must still get out of the rooms.
      const leaving = stanza.name === 'presence' && stanza.attrs.type === 'unavailable';
      if (!leaving && !allowed(moduleApi.config(), mucConfig().access, { jid: bareOf(from), ip: session?.ip ?? '' })) {
        await bounce(stanza, 'forbidden', 'Access denied by service policy');
        return;
      }
      if (to.user === '') return toService(stanza, to.host, from);
      return toRoom(stanza, to, from, session);
    });
    moduleApi.discoItemsFrom((host) => {
      const config = moduleApi.config();
      const service = mucServiceOf(config, host);
      return service === undefined || !config.muc ? [] : [{ jid: service, name: config.muc.name }];
    });
    moduleApi.hook('session-closed', (session) => leaveAll(session));
  };

  return {
    module,
    control: createMucControl(registry),
    async flush() {
      flushDirty();
      while (writes.size > 0) await Promise.all([...writes.values()]);
    },
  };
}

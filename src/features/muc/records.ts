import { DEFAULT_ROOM_OPTIONS, isRoomOption, printOption, parseOption, type RoomOptions } from '../../config/muc';
import { fieldError } from '../../lib/errors';
import { invisibleCharacter, nameprep, nodeprep, type BareJid } from '../../lib/jid';
import { ownersRows } from '../../storage/owners';
import type { BatchOp, Key, Store } from '../../storage/types';
import type { RoomRecord, StoredAffiliation, StoredRoom } from './types';

/** `[service, room]` → RoomRecord: the persistent rooms. */
export const MUC_ROOM = 'muc_room';
/** `[user's host, user, service]` → RegisteredNick: the nick a user registered on a service. */
export const MUC_REGISTERED = 'muc_registered';
/** `[service, nickKey(nick)]` → NickOwner: who holds a nick, written with the registration. */
export const MUC_NICK = 'muc_registered_nick';

export interface RegisteredNick {
  readonly nick: string;
}

export interface NickOwner {
  readonly user: string;
  readonly host: string;
}

const AFFILIATIONS = ['owner', 'admin', 'member', 'outcast'] as const;

/** Nicks compare case-insensitively: two that differ only in case are one nick. */
export function nickKey(nick: string): string {
  return nick.normalize('NFKC').toLowerCase().normalize('NFKC');
}

/** The longest nick: a nick is an occupant JID's resource, which JIDs bound to 1023 bytes. */
const MAX_NICK_BYTES = 1023;

/** A nick a user may register: not empty, of text XML can carry, within a resource's length. */
export function checkNick(nick: string): void {
  const { NOT_XML_CHAR } = require('../../lib/xml') as typeof import('../../lib/xml');
  if (nick.trim() === '') throw fieldError('bad_argument', 'nick', (f) => `The nick (${f}) must not be empty`);
  if (Buffer.byteLength(nick) > MAX_NICK_BYTES) throw fieldError('bad_argument', 'nick', (f) => `The nick (${f}) is longer than ${MAX_NICK_BYTES} bytes`);
  if (NOT_XML_CHAR.test(nick)) throw fieldError('bad_argument', 'nick', (f) => `The nick (${f}) contains a character XML cannot carry`);
  // Spaces are a nick's own; what a reader cannot see (U+202E, U+200B) would let one nick pass for another.
  const invisible = invisibleCharacter(nick.replace(/ /g, ''));
  if (invisible !== undefined)
    throw fieldError('bad_argument', 'nick', (f) => `The nick (${f}) cannot contain ${invisible} (a control, format or invisible character)`);
}

/** A room's key, its service and name prepared as JID parts are (the errors name `service` and `name`). */
export function roomKey(service: string, name: string): Key {
  return [nameprep(service, 'service'), nodeprep(name, 'name')];
}

export function roomOps(service: string, name: string, record: RoomRecord): BatchOp[] {
  return [{ type: 'put', table: MUC_ROOM, key: roomKey(service, name), value: record }];
}

export function registrationKey(jid: BareJid, service: string): Key {
  return [jid.host, jid.user, service];
}

export function nickIndexKey(service: string, nick: string): Key {
  return [service, nickKey(nick)];
}

/** A registration and its index row. */
export function registrationOps(jid: BareJid, service: string, nick: string): BatchOp[] {
  const owner: NickOwner = { user: jid.user, host: jid.host };
  return [
    { type: 'put', table: MUC_REGISTERED, key: registrationKey(jid, service), value: { nick } satisfies RegisteredNick },
    { type: 'put', table: MUC_NICK, key: nickIndexKey(service, nick), value: owner },
  ];
}

export function registrationRemovalOps(jid: BareJid, service: string, nick: string): BatchOp[] {
  return [
    { type: 'del', table: MUC_REGISTERED, key: registrationKey(jid, service) },
    { type: 'del', table: MUC_NICK, key: nickIndexKey(service, nick) },
  ];
}

/**
 * A stored room as the feature returns it: options that an older record lacks get their
 * defaults, so a room stored before an option existed reads as a whole one.
 */
export function fullRecord(record: RoomRecord): RoomRecord {
  return ROOM_OPTION_KEYS.every((k) => k in record.options) ? record : { ...record, options: { ...DEFAULT_ROOM_OPTIONS, ...record.options } };
}

const ROOM_OPTION_KEYS = Object.keys(DEFAULT_ROOM_OPTIONS);

/** The rooms of one service (or every one) after `after`, at most `limit`, by service then name. */
export async function roomsPage(store: Store, service: string | undefined, after: Key | undefined, limit: number): Promise<StoredRoom[]> {
  const page: StoredRoom[] = [];
  const range = { ...(service === undefined ? {} : { prefix: [service] }), ...(after === undefined ? {} : { gt: after }), limit };
  for await (const [k, record] of store.entries<RoomRecord>(MUC_ROOM, range)) page.push({ service: k[0], name: k[1], record: fullRecord(record) });
  return page;
}

/** The rooms of every service whose domain is `host` or ends in `.host`, by service then name, read in pages. */
export async function* hostRooms(store: Store, host: string, pageSize = 500): AsyncIterable<StoredRoom> {
  let after: Key | undefined;
  for (;;) {
    const page = await roomsPage(store, undefined, after, pageSize);
    for (const room of page) if (onHost(room.service, host)) yield room;
    if (page.length < pageSize) return;
    const last = page[page.length - 1];
    after = [last.service, last.name];
  }
}

/** A service belongs to a host whose domain ends it, as ejabberd's export decides. */
const onHost = (service: string, host: string) => service === host || service.endsWith(`.${host}`);

/** Every registration on a service whose domain is `host` or ends in `.host`, by service then nick. */
export async function* hostRegistrations(
  store: Store,
  host: string,
): AsyncIterable<{ readonly service: string; readonly jid: BareJid; readonly nick: string }> {
  for await (const [k, owner] of store.entries<NickOwner>(MUC_NICK)) {
    const service = k[0];
    if (!onHost(service, host)) continue;
    const jid = { user: owner.user, host: owner.host };
    const reg = await store.get<RegisteredNick>(MUC_REGISTERED, registrationKey(jid, service));
    if (reg !== undefined) yield { service, jid, nick: reg.nick };
  }
}

/** The services that hold at least one registered nick, in byte order: one read each. */
export async function* nickServices(store: Store): AsyncIterable<string> {
  let from: Key | undefined;
  for (;;) {
    let service: string | undefined;
    for await (const k of store.keys(MUC_NICK, { ...(from === undefined ? {} : { gte: from }), limit: 1 })) service = k[0];
    if (service === undefined) return;
    yield service;
    // U+0001 sorts after the end of the service's own keys (no key part holds U+0000) and
    // before any other service, which a domain with a control character cannot be.
    from = [`${service}\u0001`];
  }
}

/** The users' registrations and the index rows that point at them. */
export async function usersRows(store: Store, jids: readonly BareJid[]): Promise<BatchOp[]> {
  const regs: [Key, RegisteredNick][] = [];
  for await (const [k, v] of ownersRows<RegisteredNick>(
    store,
    MUC_REGISTERED,
    jids.map((j) => [j.host, j.user]),
    true,
  ))
    regs.push([k, v as RegisteredNick]);
  const indexKeys = regs.map(([k, v]) => nickIndexKey(k[2], v.nick));
  const owners = await store.getMany<NickOwner>(MUC_NICK, indexKeys);
  const ops: BatchOp[] = [];
  regs.forEach(([k], i) => {
    ops.push({ type: 'del', table: MUC_REGISTERED, key: k });
    const owner = owners[i];
    if (owner !== undefined && owner.host === k[0] && owner.user === k[1]) ops.push({ type: 'del', table: MUC_NICK, key: indexKeys[i] });
  });
  return ops;
}

/** Checks a room record that comes from elsewhere (a dump line, an import); options missing from it get their defaults. */
export function decodeRoomRecord(value: unknown, where = 'room'): RoomRecord {
  const bad = (field: string, want: string): never => {
    throw new Error(`${where}: ${field} must be ${want}`);
  };
  if (!isObject(value)) return bad('the record', 'an object');
  for (const field of ['subject', 'subjectAuthor'] as const) if (typeof value[field] !== 'string') bad(field, 'text');
  for (const field of ['createdAt', 'lastActivity'] as const) {
    const ms = value[field];
    if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0) bad(field, 'milliseconds since 1970');
  }
  if (!isObject(value.options)) return bad('options', 'an object');
  const options: Record<string, unknown> = { ...DEFAULT_ROOM_OPTIONS };
  for (const [name, v] of Object.entries(value.options)) {
    if (!isRoomOption(name)) return bad(`options.${name}`, 'absent: it is not a room option');
    try {
      // An option's value is valid when printing it and reading it back gives it again.
      const printed = name === 'captcha_whitelist' ? listText(v) : printOption(name, v as never);
      const parsed = parseOption(name, printed).value;
      if (JSON.stringify(parsed) !== JSON.stringify(v)) throw new Error();
      options[name] = parsed;
    } catch {
      bad(`options.${name}`, `a valid value of the room option ${name}`);
    }
  }
  const affiliations = value.affiliations;
  if (!Array.isArray(affiliations)) return bad('affiliations', 'a list');
  const seen = new Set<string>();
  for (const [i, a] of affiliations.entries()) {
    const at = `affiliations[${i}]`;
    if (!isObject(a) || typeof a.jid !== 'string' || typeof a.reason !== 'string') return bad(at, 'an object with a jid and a reason');
    if (!(AFFILIATIONS as readonly unknown[]).includes(a.affiliation)) bad(`${at}.affiliation`, AFFILIATIONS.join(', '));
    if (seen.has(a.jid)) bad(at, 'the only affiliation of its JID');
    seen.add(a.jid);
  }
  return { ...(value as unknown as RoomRecord), options: options as unknown as RoomOptions, affiliations: affiliations as StoredAffiliation[] };
}

function listText(v: unknown): string {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error();
  return v.join(',');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

import type { Element } from 'ltx';
import { DEFAULT_ROOM_OPTIONS, type RoomOptions } from '../../../src/config/muc';
import type { RoomRecord, StoredAffiliation } from '../../../src/features/muc/types';
import { bareText, parseJid, type BareJid } from '../../../src/lib/jid';
import { parseXml } from '../../../src/lib/xml';
import { createRoom } from '../../../src/xmpp/muc/room';
import type { LiveRoom, RoomEnv } from '../../../src/xmpp/muc/types';

export const START = 1_700_000_000_000;
export const ROOM = 'lobby@conference.localhost';

/** ejabberd's default room options. */
export const DEFAULTS: RoomOptions = DEFAULT_ROOM_OPTIONS;

export interface FixtureOptions {
  readonly options?: Partial<RoomOptions>;
  readonly affiliations?: readonly StoredAffiliation[];
  readonly locked?: boolean;
  readonly subject?: string;
  readonly subjectAuthor?: string;
  readonly historySize?: number;
  readonly maxUsers?: number;
  /** Bare JIDs with access_admin rights. */
  readonly admins?: readonly string[];
  /** Registered nicks: nick → bare JID. */
  readonly registered?: Record<string, string>;
}

export interface Fixture {
  readonly room: LiveRoom;
  readonly sent: Element[];
  /** How often the room said its stored state changed, and that it emptied. */
  readonly calls: { changed: number; emptied: number };
  at(ms: number): void;
  /** `from` (a full JID) sends the stanza. */
  send(from: string, xml: string): Promise<void>;
  /** The stanzas sent to `to` (all when omitted) since the last call, as XML; they are taken. */
  take(to?: string): string[];
  /** Joins with `<x xmlns='…muc'>` and `inner`; returns what the joiner got. */
  join(from: string, nick: string, inner?: string): Promise<string[]>;
}

export function roomFixture(f: FixtureOptions = {}): Fixture {
  let now = START;
  let sent: Element[] = [];
  const calls = { changed: 0, emptied: 0 };
  const registered = new Map(Object.entries(f.registered ?? {}).map(([n, j]) => [n.toLowerCase(), j]));
  const bareOf = (text: string): BareJid => {
    const j = parseJid(text);
    return { user: j.user, host: j.host };
  };
  const env: RoomEnv = {
    send: (s) => sent.push(s),
    clock: () => now,
    historySize: () => f.historySize ?? 20,
    maxUsers: () => f.maxUsers ?? 200,
    isServiceAdmin: (jid) => (f.admins ?? []).includes(bareText(jid)),
    registeredNick: async (jid) => [...registered].find(([, j]) => j === bareText(jid))?.[0],
    nickOwner: async (nick) => {
      const j = registered.get(nick.toLowerCase());
      return j === undefined ? undefined : bareOf(j);
    },
    changed: () => {
      calls.changed += 1;
    },
    emptied: () => {
      calls.emptied += 1;
    },
  };
  const record: RoomRecord = {
    options: { ...DEFAULTS, ...f.options },
    affiliations: f.affiliations ?? [],
    subject: f.subject ?? '',
    subjectAuthor: f.subjectAuthor ?? '',
    createdAt: START - 1000,
    lastActivity: START - 1000,
  };
  const room = createRoom({ name: 'lobby', service: 'conference.localhost', record, locked: f.locked ?? false }, env);
  const fixture: Fixture = {
    room,
    get sent() {
      return sent;
    },
    calls,
    at(ms) {
      now = ms;
    },
    async send(from, xml) {
      const stanza = parseXml(xml, 'stanza');
      stanza.attrs.from = from;
      await room.handle(stanza, parseJid(from));
    },
    take(to) {
      const picked = sent.filter((s) => to === undefined || s.attrs.to === to);
      sent = sent.filter((s) => !picked.includes(s));
      return picked.map((s) => s.toString());
    },
    async join(from, nick, inner = '') {
      await fixture.send(from, `<presence to='${ROOM}/${nick}'><x xmlns='http://jabber.org/protocol/muc'>${inner}</x></presence>`);
      return fixture.take(from);
    },
  };
  return fixture;
}

/** A room with the owner alice (first to join), then bob and carol, participants; what they got is taken. */
export async function threeInRoom(f: FixtureOptions = {}): Promise<Fixture> {
  const fx = roomFixture({ ...f, affiliations: [{ jid: 'alice@localhost', affiliation: 'owner', reason: '' }, ...(f.affiliations ?? [])] });
  await fx.join('alice@localhost/a', 'Alice');
  await fx.join('bob@localhost/b', 'Bob');
  await fx.join('carol@localhost/c', 'Carol');
  fx.take();
  return fx;
}

export const A = 'alice@localhost/a';
export const B = 'bob@localhost/b';
export const C = 'carol@localhost/c';

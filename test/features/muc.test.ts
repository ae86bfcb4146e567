import { defaultConfig } from '../../src/config/config';
import { DEFAULT_ROOM_OPTIONS } from '../../src/config/muc';
import { createFeatures } from '../../src/features';
import { featureDeps } from '../../src/features/deps';
import { decodeRoomRecord, MUC_NICK, MUC_REGISTERED, MUC_ROOM } from '../../src/features/muc/records';
import type { RoomRecord, StoredRoom } from '../../src/features/muc/types';
import { CommandError } from '../../src/lib/errors';
import type { BareJid } from '../../src/lib/jid';
import { createMemoryStore } from '../../src/storage/memory';
import type { Key, Range, Store } from '../../src/storage/types';

const SERVICE = 'conference.localhost';
const alice: BareJid = { user: 'alice', host: 'localhost' };
const bob: BareJid = { user: 'bob', host: 'localhost' };
const remote: BareJid = { user: 'carol', host: 'example.net' };

function record(over: Partial<RoomRecord> = {}): RoomRecord {
  return {
    options: { ...DEFAULT_ROOM_OPTIONS, persistent: true },
    affiliations: [{ jid: 'alice@localhost', affiliation: 'owner', reason: '' }],
    subject: 'Tea',
    subjectAuthor: 'alice',
    createdAt: 1_700_000_000_000,
    lastActivity: 1_700_000_100_000,
    ...over,
  };
}

async function setup() {
  const store = createMemoryStore();
  const reads: Range[] = [];
  const spied: Store = Object.assign(Object.create(store) as Store, {
    entries: <T>(table: string, range?: Range) => {
      if (table === MUC_ROOM) reads.push(range ?? {});
      return store.entries<T>(table, range);
    },
  });
  const features = createFeatures(featureDeps({ store: spied, config: { ...defaultConfig('/x'), authPasswordFormat: 'plain' }, clock: () => 0 }));
  for (const j of [alice, bob]) await features.accounts.register(j, 'pw');
  return { store, reads, features, muc: features.muc };
}

async function rows(store: Store, table: string): Promise<[Key, unknown][]> {
  const out: [Key, unknown][] = [];
  for await (const row of store.entries(table)) out.push(row);
  return out;
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function rejection(p: Promise<unknown>): Promise<CommandError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CommandError);
    return err as CommandError;
  }
  throw new Error('it was not refused');
}

describe('rooms', () => {
  test('saved, read back, replaced and removed, under prepared names', async () => {
    const { muc, store } = await setup();
    expect(await muc.room(SERVICE, 'tea')).toBeUndefined();
    await muc.saveRoom(SERVICE, 'Tea', record());
    expect(await muc.room(SERVICE, 'tea')).toEqual(record());
    expect(await muc.room('Conference.Localhost', 'TEA')).toEqual(record());
    expect(await rows(store, MUC_ROOM)).toEqual([[[SERVICE, 'tea'], record()]]);
    await muc.saveRoom(SERVICE, 'tea', record({ subject: 'Cake' }));
    expect((await muc.room(SERVICE, 'tea'))?.subject).toBe('Cake');
    await muc.removeRoom(SERVICE, 'tea');
    expect(await muc.room(SERVICE, 'tea')).toBeUndefined();
    expect(await rows(store, MUC_ROOM)).toEqual([]);
  });

  test('a name no room can have: nothing is found or removed, saving it is refused naming the argument', async () => {
    const { muc } = await setup();
    expect(await muc.room(SERVICE, 'a b')).toBeUndefined();
    await muc.removeRoom(SERVICE, 'a/b');
    const err = await rejection(muc.saveRoom(SERVICE, 'a b', record()));
    expect([err.code, err.message]).toEqual([
      'bad_argument',
      `Invalid user name 'a b' (name): a user name cannot contain spaces, control characters or any of "&'/:<>@`,
    ]);
  });

  test('a record stored before an option existed reads with that option at its default', async () => {
    const { muc, store } = await setup();
    const { enable_hats: _h, lang: _l, ...older } = DEFAULT_ROOM_OPTIONS;
    await store.put(MUC_ROOM, [SERVICE, 'old'], { ...record(), options: { ...older, persistent: true } });
    expect((await muc.room(SERVICE, 'old'))?.options).toEqual({ ...DEFAULT_ROOM_OPTIONS, persistent: true });
    expect((await all(muc.rooms()))[0].record.options).toEqual({ ...DEFAULT_ROOM_OPTIONS, persistent: true });
  });

  test('listed by service then name, read in pages, and counted', async () => {
    const { muc, reads } = await setup();
    const made: StoredRoom[] = [];
    for (let i = 0; i < 1203; i++) made.push({ service: SERVICE, name: `r${String(i).padStart(4, '0')}`, record: record() });
    made.push({ service: 'conference.example.org', name: 'z', record: record() }, { service: 'chat.localhost', name: 'a', record: record() });
    await muc.createRooms(made);
    const listed = await all(muc.rooms(SERVICE));
    expect(listed.map((r) => r.name)).toEqual(made.slice(0, 1203).map((r) => r.name));
    expect(listed.every((r) => r.service === SERVICE)).toBe(true);
    // Each read asks for one page, never the whole service.
    expect(reads.length).toBe(3);
    expect(reads.every((r) => r.limit === 500)).toBe(true);
    const every = await all(muc.rooms());
    expect(every.map((r) => `${r.name}@${r.service}`).slice(0, 2)).toEqual(['a@chat.localhost', 'z@conference.example.org']);
    expect(every).toHaveLength(1205);
    expect(await muc.countRooms(SERVICE)).toBe(1203);
    expect(await muc.countRooms('conference.example.org')).toBe(1);
    expect(await muc.countRooms('conference.nowhere')).toBe(0);
    expect(await muc.countRooms()).toBe(1205);
    // The names alone, in the same order, for the listings.
    expect(await all(muc.roomNames(SERVICE))).toEqual(listed.map((r) => ({ service: r.service, name: r.name })));
    expect((await all(muc.roomNames())).map((r) => `${r.name}@${r.service}`)).toEqual(every.map((r) => `${r.name}@${r.service}`));
    expect(await all(muc.roomNames('conference.nowhere'))).toEqual([]);
  });

  test('createRooms stores all of them in one batch, or none when one exists, naming it', async () => {
    const { muc, store } = await setup();
    await muc.saveRoom(SERVICE, 'taken', record({ subject: 'mine' }));
    const err = await rejection(
      muc.createRooms([
        { service: SERVICE, name: 'new1', record: record() },
        { service: SERVICE, name: 'taken', record: record() },
        { service: SERVICE, name: 'new2', record: record() },
      ]),
    );
    expect([err.code, err.message]).toEqual(['conflict', `The room taken@${SERVICE} already exists`]);
    expect((await rows(store, MUC_ROOM)).map(([k]) => k[1])).toEqual(['taken']);
    expect((await muc.room(SERVICE, 'taken'))?.subject).toBe('mine');

    const twice = await rejection(
      muc.createRooms([
        { service: SERVICE, name: 'Same', record: record() },
        { service: SERVICE, name: 'same', record: record() },
      ]),
    );
    expect([twice.code, twice.message]).toEqual(['conflict', `The room same@${SERVICE} already exists`]);
    const badName = await rejection(
      muc.createRooms([
        { service: SERVICE, name: 'ok', record: record() },
        { service: SERVICE, name: 'no@way', record: record() },
      ]),
    );
    expect(badName.code).toBe('bad_argument');
    expect((await rows(store, MUC_ROOM)).map(([k]) => k[1])).toEqual(['taken']);

    await muc.createRooms([
      { service: SERVICE, name: 'new1', record: record() },
      { service: SERVICE, name: 'new2', record: record() },
    ]);
    expect((await rows(store, MUC_ROOM)).map(([k]) => k[1])).toEqual(['new1', 'new2', 'taken']);
    await muc.createRooms([]);
  });
});

describe('registered nicks', () => {
  test('registered, looked up both ways, changed, unregistered', async () => {
    const { muc, store } = await setup();
    expect(await muc.nick(SERVICE, alice)).toBeUndefined();
    await muc.registerNick(SERVICE, alice, 'Alice');
    expect(await muc.nick(SERVICE, alice)).toBe('Alice');
    expect(await muc.nickOwner(SERVICE, 'alice')).toEqual(alice);
    expect(await muc.nickOwner(SERVICE, 'ALICE')).toEqual(alice);
    expect(await muc.nickOwner('conference.example.org', 'Alice')).toBeUndefined();
    expect(await rows(store, MUC_REGISTERED)).toEqual([[['localhost', 'alice', SERVICE], { nick: 'Alice' }]]);
    expect(await rows(store, MUC_NICK)).toEqual([[[SERVICE, 'alice'], { user: 'alice', host: 'localhost' }]]);

    // The same nick in another case: the registration changes, the nick stays hers.
    await muc.registerNick(SERVICE, alice, 'ALICE');
    expect(await muc.nick(SERVICE, alice)).toBe('ALICE');
    await muc.registerNick(SERVICE, alice, 'Wonder');
    expect(await muc.nick(SERVICE, alice)).toBe('Wonder');
    expect(await muc.nickOwner(SERVICE, 'alice')).toBeUndefined();
    expect(await rows(store, MUC_NICK)).toEqual([[[SERVICE, 'wonder'], { user: 'alice', host: 'localhost' }]]);

    expect(await muc.unregisterNick(SERVICE, alice)).toBe(true);
    expect(await muc.unregisterNick(SERVICE, alice)).toBe(false);
    expect(await muc.nick(SERVICE, alice)).toBeUndefined();
    expect(await muc.nickOwner(SERVICE, 'wonder')).toBeUndefined();
    expect(await rows(store, MUC_REGISTERED)).toEqual([]);
    expect(await rows(store, MUC_NICK)).toEqual([]);
  });

  test("another user's nick is refused whatever its case; the same nick on another service is free", async () => {
    const { muc, store } = await setup();
    await muc.registerNick(SERVICE, alice, 'Alice');
    await muc.registerNick(SERVICE, bob, 'Bob');
    for (const nick of ['Alice', 'alice', 'ALICE']) {
      const err = await rejection(muc.registerNick(SERVICE, bob, nick));
      expect([err.code, err.message]).toEqual(['conflict', `The nick ${nick} is registered on ${SERVICE} by someone else`]);
    }
    // Bob keeps the nick he had; nothing of the refused registration is stored.
    expect(await muc.nick(SERVICE, bob)).toBe('Bob');
    expect(await muc.nickOwner(SERVICE, 'bob')).toEqual(bob);
    await muc.registerNick('conference.example.org', bob, 'alice');
    expect(await muc.nickOwner('conference.example.org', 'Alice')).toEqual(bob);
    expect((await rows(store, MUC_REGISTERED)).length).toBe(3);
  });

  test('two users taking one nick at once: one gets it', async () => {
    const { muc } = await setup();
    const results = await Promise.allSettled([muc.registerNick(SERVICE, alice, 'Tea'), muc.registerNick(SERVICE, bob, 'tea')]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const owner = await muc.nickOwner(SERVICE, 'TEA');
    expect([await muc.nick(SERVICE, alice), await muc.nick(SERVICE, bob)].filter((n) => n !== undefined)).toHaveLength(1);
    expect(await muc.nick(SERVICE, owner!)).toMatch(/^[Tt]ea$/);
  });

  test('a nick that cannot be one is refused', async () => {
    const { muc, store } = await setup();
    for (const [nick, why] of [
      ['', 'The nick (nick) must not be empty'],
      ['  ', 'The nick (nick) must not be empty'],
      ['a\u0000b', 'The nick (nick) contains a character XML cannot carry'],
      ['x'.repeat(1024), 'The nick (nick) is longer than 1023 bytes'],
    ]) {
      const err = await rejection(muc.registerNick(SERVICE, alice, nick));
      expect([err.code, err.message]).toEqual(['bad_argument', why]);
    }
    expect(await rows(store, MUC_REGISTERED)).toEqual([]);
  });

  test('unregisterNickEverywhere drops the nick, in any case, on every service, and says how many', async () => {
    const { muc, store } = await setup();
    await muc.registerNick(SERVICE, alice, 'Tea');
    await muc.registerNick('conference.example.org', bob, 'TEA');
    await muc.registerNick('muc.example.net', remote, 'tea');
    await muc.registerNick('a.example.net', remote, 'other');
    await muc.registerNick('z.example.net', alice, 'other');
    expect(await muc.unregisterNickEverywhere('tEA')).toBe(3);
    expect(await muc.unregisterNickEverywhere('tea')).toBe(0);
    expect(await rows(store, MUC_REGISTERED)).toEqual([
      [['example.net', 'carol', 'a.example.net'], { nick: 'other' }],
      [['localhost', 'alice', 'z.example.net'], { nick: 'other' }],
    ]);
    expect((await rows(store, MUC_NICK)).map(([k]) => k)).toEqual([
      ['a.example.net', 'other'],
      ['z.example.net', 'other'],
    ]);
  });

  test("removing an account drops its nicks and their index rows; others' stay", async () => {
    const { muc, store, features } = await setup();
    await muc.registerNick(SERVICE, alice, 'Alice');
    await muc.registerNick('conference.example.org', alice, 'Al');
    await muc.registerNick(SERVICE, bob, 'Bob');
    await muc.registerNick(SERVICE, remote, 'Carol');
    await features.accounts.remove(alice);
    expect((await rows(store, MUC_REGISTERED)).map(([k]) => k)).toEqual([
      ['example.net', 'carol', SERVICE],
      ['localhost', 'bob', SERVICE],
    ]);
    expect((await rows(store, MUC_NICK)).map(([k]) => k)).toEqual([
      [SERVICE, 'bob'],
      [SERVICE, 'carol'],
    ]);
    expect(await muc.nickOwner(SERVICE, 'alice')).toBeUndefined();
    await muc.registerNick(SERVICE, bob, 'alice');
    expect(await muc.nickOwner(SERVICE, 'Alice')).toEqual(bob);
  });
});

describe('room records from elsewhere', () => {
  test('a valid record is accepted, missing options getting their defaults', () => {
    expect(decodeRoomRecord(record())).toEqual(record());
    const { lang: _l, ...older } = record().options;
    expect(decodeRoomRecord({ ...record(), options: older })).toEqual(record());
  });

  const refused: [unknown, string][] = [
    [null, 'room: the record must be an object'],
    [{ ...record(), subject: 5 }, 'room: subject must be text'],
    [{ ...record(), createdAt: -1 }, 'room: createdAt must be milliseconds since 1970'],
    [{ ...record(), options: { ...record().options, persistent: 'yes' } }, 'room: options.persistent must be a valid value of the room option persistent'],
    [{ ...record(), options: { ...record().options, max_users: 0 } }, 'room: options.max_users must be a valid value of the room option max_users'],
    [{ ...record(), options: { ...record().options, colour: 'red' } }, 'room: options.colour must be absent: it is not a room option'],
    [
      { ...record(), options: { ...record().options, presence_broadcast: 'moderator' } },
      'room: options.presence_broadcast must be a valid value of the room option presence_broadcast',
    ],
    [
      { ...record(), affiliations: [{ jid: 'a@b', affiliation: 'none', reason: '' }] },
      'room: affiliations[0].affiliation must be owner, admin, member, outcast',
    ],
    [
      {
        ...record(),
        affiliations: [
          { jid: 'a@b', affiliation: 'member', reason: '' },
          { jid: 'a@b', affiliation: 'owner', reason: '' },
        ],
      },
      'room: affiliations[1] must be the only affiliation of its JID',
    ],
  ];
  test.each(refused.map(([value, why]) => [why, value] as const))('refused: %s', (why, value) => {
    expect(() => decodeRoomRecord(value)).toThrow(why);
  });
});

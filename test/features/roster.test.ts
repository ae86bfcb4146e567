import { createAccounts, type Accounts } from '../../src/features/accounts/accounts';
import type { FeatureDeps } from '../../src/features/deps';
import type { FeatureEvents } from '../../src/features/events';
import { decodeRosterItem, hostRosters, readRoster, rosterItemOps, usersRows, type RosterItem } from '../../src/features/roster/records';
import { createRoster, type Roster, type RosterFilter } from '../../src/features/roster/roster';
import { renameField } from '../../src/lib/errors';
import type { BareJid } from '../../src/lib/jid';
import { memoryDeps, rejection } from '../helpers/features';

const alice: BareJid = { user: 'alice', host: 'localhost' };
const bob: BareJid = { user: 'bob', host: 'localhost' };
const carol: BareJid = { user: 'carol', host: 'example.org' };

const item = (over: Partial<RosterItem> = {}): RosterItem => ({ name: '', subscription: 'none', ask: 'none', groups: [], ...over });

let deps: FeatureDeps;
let accounts: Accounts;
let roster: Roster;
let heard: FeatureEvents['roster-item-changed'][];

beforeEach(async () => {
  deps = memoryDeps(['localhost', 'example.org']);
  accounts = createAccounts(deps, () => [usersRows]);
  roster = createRoster(deps, accounts);
  for (const jid of [alice, bob, carol]) await accounts.register(jid, 'pw');
  heard = [];
  deps.events.on('roster-item-changed', (e) => void heard.push(e));
});

describe('set, get, items', () => {
  test('set stores the item with its groups sorted by bytes and without duplicates, and tells', async () => {
    const stored = await roster.set(alice, 'bob@localhost', item({ name: 'Bob', subscription: 'both', groups: ['work', 'Friends', 'work', 'zoé'] }));
    expect(stored).toEqual(item({ name: 'Bob', subscription: 'both', groups: ['Friends', 'work', 'zoé'] }));
    expect(await roster.get(alice, 'bob@localhost')).toEqual(stored);
    expect(await roster.get(bob, 'alice@localhost')).toBeUndefined();
    expect(heard).toEqual([{ owner: alice, contact: 'bob@localhost', item: stored }]);
  });

  test('items lists a roster by contact, in byte order', async () => {
    await roster.set(alice, 'zed@example.org', item());
    await roster.set(alice, 'bob@localhost', item({ ask: 'out' }));
    await roster.set(alice, 'example.org', item({ name: 'Server' }));
    expect((await roster.items(alice)).map((c) => c.contact)).toEqual(['bob@localhost', 'example.org', 'zed@example.org']);
    expect(await roster.items(bob)).toEqual([]);
  });

  test('the owner must exist', async () => {
    const dave = { user: 'dave', host: 'localhost' };
    expect((await rejection(roster.items(dave))).message).toBe('User dave@localhost does not exist');
    expect((await rejection(roster.set(dave, 'bob@localhost', item()))).code).toBe('not_found');
    expect(await readRoster(deps.store, dave)).toEqual([]);
    expect(heard).toEqual([]);
  });

  test('a name or group XML cannot carry is refused, naming the domain field', async () => {
    const bad = await rejection(roster.set(alice, 'bob@localhost', item({ name: 'B\u0001' })));
    expect([bad.code, bad.message, bad.details?.field]).toEqual(['bad_argument', 'The nick (name) contains U+0001, which XML cannot carry', 'name']);
    expect((renameField(bad, { name: 'nick' }) as Error).message).toBe('The nick (nick) contains U+0001, which XML cannot carry');
    const group = await rejection(roster.set(alice, 'bob@localhost', item({ groups: ['ok', 'g\u0007'] })));
    expect(group.message).toBe('The group (groups) contains U+0007, which XML cannot carry');
    expect(await roster.items(alice)).toEqual([]);
  });

  test('concurrent sets to one roster all land', async () => {
    await Promise.all(Array.from({ length: 50 }, (_, i) => roster.set(alice, `c${i}@example.org`, item({ name: `C${i}` }))));
    expect(await roster.items(alice)).toHaveLength(50);
  });
});

describe('remove', () => {
  test('removes the item and tells, with no item', async () => {
    await roster.set(alice, 'bob@localhost', item());
    heard = [];
    await roster.remove(alice, 'bob@localhost');
    expect(await roster.get(alice, 'bob@localhost')).toBeUndefined();
    expect(heard).toEqual([{ owner: alice, contact: 'bob@localhost', item: undefined }]);
  });

  test('an item that is not there is not found', async () => {
    const err = await rejection(roster.remove(alice, 'bob@localhost'));
    expect([err.code, err.message]).toEqual(['not_found', 'bob@localhost is not in the roster of alice@localhost']);
    expect(heard).toEqual([]);
  });
});

describe('pushTemplate', () => {
  const entries = [
    { contact: 'alice@localhost', name: 'Alice', groups: ['staff'] },
    { contact: 'bob@localhost', name: 'Bob', groups: ['staff'] },
    { contact: 'dave@localhost', name: 'Dave', groups: ['staff'] },
    { contact: 'icq.example.net', name: '', groups: [] },
  ];

  test('one owner: every other entry joins with subscription both; existing items keep name and groups', async () => {
    await roster.set(alice, 'bob@localhost', item({ name: 'Bobby', subscription: 'to', ask: 'out', groups: ['friends'] }));
    await roster.set(alice, 'icq.example.net', item({ name: 'ICQ' }));
    heard = [];
    await roster.pushTemplate(alice, entries);
    expect(await roster.items(alice)).toEqual([
      { contact: 'bob@localhost', item: item({ name: 'Bob', subscription: 'both', groups: ['friends', 'staff'] }) },
      { contact: 'dave@localhost', item: item({ name: 'Dave', subscription: 'both', groups: ['staff'] }) },
      { contact: 'icq.example.net', item: item({ name: 'ICQ', subscription: 'both' }) },
    ]);
    expect(heard.map((e) => e.contact)).toEqual(['bob@localhost', 'dave@localhost', 'icq.example.net']);
    expect(await roster.items(bob)).toEqual([]);
  });

  test('all: only the registered local accounts among the entries get rosters', async () => {
    await roster.pushTemplate('all', entries);
    expect((await roster.items(alice)).map((c) => c.contact)).toEqual(['bob@localhost', 'dave@localhost', 'icq.example.net']);
    expect((await roster.items(bob)).map((c) => c.contact)).toEqual(['alice@localhost', 'dave@localhost', 'icq.example.net']);
    expect(await readRoster(deps.store, { user: 'dave', host: 'localhost' })).toEqual([]);
    expect(await roster.items(carol)).toEqual([]);
  });

  test('an unknown owner is not found and gets nothing', async () => {
    const dave = { user: 'dave', host: 'localhost' };
    expect((await rejection(roster.pushTemplate(dave, entries))).message).toBe('User dave@localhost does not exist');
    expect(await readRoster(deps.store, dave)).toEqual([]);
  });

  test('pushes and sets to one roster at the same time lose nothing', async () => {
    await Promise.all([
      roster.pushTemplate(alice, entries),
      ...Array.from({ length: 20 }, (_, i) => roster.set(alice, `c${i}@example.org`, item())),
      roster.pushTemplate(alice, [{ contact: 'bob@localhost', name: '', groups: ['more'] }]),
    ]);
    const items = await roster.items(alice);
    expect(items).toHaveLength(23);
    expect(items.find((c) => c.contact === 'bob@localhost')?.item.groups).toEqual(['more', 'staff']);
  });
});

describe('process', () => {
  const all: RosterFilter = {
    subscriptions: new Set(['none', 'from', 'to', 'both']),
    asks: new Set(['none', 'in', 'out']),
    owners: () => true,
    contacts: () => true,
  };

  beforeEach(async () => {
    await roster.set(alice, 'bob@localhost', item({ subscription: 'both' }));
    await roster.set(alice, 'icq.example.org', item());
    await roster.set(carol, 'alice@localhost', item({ ask: 'out' }));
    heard = [];
  });

  test('lists the items of every configured host, in host then key order, and reports as it goes', async () => {
    const steps: number[][] = [];
    const totals: number[] = [];
    const found = await roster.process(all, 'list', { total: (n) => totals.push(n), visited: (...s) => steps.push(s) });
    expect(found.map((e) => `${e.owner.user}@${e.owner.host} ${e.contact}`)).toEqual([
      'alice@localhost bob@localhost',
      'alice@localhost icq.example.org',
      'carol@example.org alice@localhost',
    ]);
    expect(totals).toEqual([3]);
    expect(steps).toEqual([
      [1, 1, 3],
      [2, 2, 3],
      [3, 3, 3],
    ]);
    expect(heard).toEqual([]);
  });

  test('the filter selects by subscription, ask, owner and contact parts', async () => {
    const only = (f: Partial<RosterFilter>) => roster.process({ ...all, ...f }, 'list').then((es) => es.map((e) => e.contact));
    expect(await only({ subscriptions: new Set(['none']) })).toEqual(['icq.example.org', 'alice@localhost']);
    expect(await only({ asks: new Set(['out']) })).toEqual(['alice@localhost']);
    expect(await only({ owners: (_u, h) => h === 'example.org' })).toEqual(['alice@localhost']);
    expect(await only({ contacts: (u) => u === '' })).toEqual(['icq.example.org']);
  });

  test('delete removes what matches and tells of each removal', async () => {
    const gone = await roster.process({ ...all, subscriptions: new Set(['none']) }, 'delete');
    expect(gone).toHaveLength(2);
    expect((await roster.items(alice)).map((c) => c.contact)).toEqual(['bob@localhost']);
    expect(await roster.items(carol)).toEqual([]);
    expect(heard).toEqual([
      { owner: alice, contact: 'icq.example.org', item: undefined },
      { owner: carol, contact: 'alice@localhost', item: undefined },
    ]);
  });
});

describe('records', () => {
  test('hostRosters reads every roster of a host; usersRows deletes one roster only', async () => {
    await deps.store.batch([...rosterItemOps(alice, 'bob@localhost', item()), ...rosterItemOps(bob, 'alice@localhost', item())]);
    const owners: string[] = [];
    for await (const e of hostRosters(deps.store, 'localhost')) owners.push(`${e.owner.user} ${e.contact}`);
    expect(owners).toEqual(['alice bob@localhost', 'bob alice@localhost']);
    await deps.store.batch(await usersRows(deps.store, [alice]));
    expect(await readRoster(deps.store, alice)).toEqual([]);
    expect(await readRoster(deps.store, bob)).toHaveLength(1);
  });

  test('removing an account removes its roster', async () => {
    await roster.set(alice, 'bob@localhost', item());
    await roster.set(bob, 'alice@localhost', item());
    await accounts.remove(alice);
    expect(await readRoster(deps.store, alice)).toEqual([]);
    expect(await readRoster(deps.store, bob)).toHaveLength(1);
  });

  test('decodeRosterItem accepts a stored item and names the field of a bad one', () => {
    const good = item({ name: 'B', subscription: 'both', ask: 'in', groups: ['a', 'b'] });
    expect(decodeRosterItem(good)).toEqual(good);
    expect(() => decodeRosterItem({ ...good, subscription: 'mutual' })).toThrow("roster item: subscription must be 'none', 'from', 'to', 'both'");
    expect(() => decodeRosterItem({ ...good, groups: ['b', 'a'] }, 'line 3')).toThrow('line 3: groups must be sorted by their bytes, without duplicates');
    expect(() => decodeRosterItem([])).toThrow('roster item: the record must be an object');
  });
});

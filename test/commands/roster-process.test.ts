import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempHome } from '../helpers/cli';
import { openLevelStore } from '../../src/storage/level';
import { hostRosters, rosterItemOps, type RosterItem } from '../../src/features/roster/records';

let home: ReturnType<typeof tempHome>;
beforeEach(() => {
  home = tempHome();
  writeFileSync(join(home.dir, 'ctl.yml'), 'auth_password_format: plain\nhosts: [localhost, example.org]\n');
});
afterEach(() => home.cleanup());

const USAGE = 'Usage: ctl process_rosteritems action subs asks users contacts\n';

/** owner, contact, subscription, ask */
const ITEMS: [string, string, RosterItem['subscription'], RosterItem['ask']][] = [
  ['alice@localhost', 'bob@localhost', 'both', 'none'],
  ['alice@localhost', 'carol@example.org', 'from', 'in'],
  ['alice@localhost', 'icq.example.org', 'none', 'none'],
  ['alice@localhost', 'joe@icq.example.org', 'to', 'out'],
  ['bob@localhost', 'carol@example.org', 'to', 'none'],
  ['carol@example.org', 'alice@localhost', 'none', 'out'],
  ['carol@example.org', 'msn.gw.net', 'both', 'none'],
];

async function fill(): Promise<void> {
  const store = await openLevelStore(join(home.dir, 'db'));
  try {
    await store.batch(
      ITEMS.flatMap(([owner, contact, subscription, ask]) => {
        const [user, host] = owner.split('@');
        return rosterItemOps({ host, user }, contact, { name: '', subscription, ask, groups: [] });
      }),
    );
  } finally {
    await store.close();
  }
}

async function remaining(): Promise<string[]> {
  const store = await openLevelStore(join(home.dir, 'db'));
  try {
    const out: string[] = [];
    // The hosts in byte order, as the table keeps them.
    for (const h of ['example.org', 'localhost']) {
      for await (const { owner, contact } of hostRosters(store, h)) out.push(`${owner.user}@${owner.host} ${contact}`);
    }
    return out;
  } finally {
    await store.close();
  }
}

/** The pairs a filter lists, as `user contact` strings. */
async function list(subs: string, asks: string, users: string, contacts: string): Promise<string[]> {
  const r = await home.ctl(['process_rosteritems', 'list', subs, asks, users, contacts]);
  expect(r.status).toBe(0);
  return r.stdout === ''
    ? []
    : r.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.replace('\t', ' '));
}

describe('process_rosteritems list', () => {
  beforeEach(fill);

  test('any everywhere lists every item of every host, with progress on stderr only', async () => {
    expect(await home.ctl(['process_rosteritems', 'list', 'any', 'any', 'any', 'any'])).toEqual({
      status: 0,
      stdout:
        'alice@localhost\tbob@localhost\nalice@localhost\tcarol@example.org\nalice@localhost\ticq.example.org\n' +
        'alice@localhost\tjoe@icq.example.org\nbob@localhost\tcarol@example.org\n' +
        'carol@example.org\talice@localhost\ncarol@example.org\tmsn.gw.net\n',
      stderr:
        'There are 7 roster items in total.\n' +
        'Progress 14% - visited 1 - matched 1\nProgress 28% - visited 2 - matched 2\nProgress 42% - visited 3 - matched 3\n' +
        'Progress 57% - visited 4 - matched 4\nProgress 71% - visited 5 - matched 5\nProgress 85% - visited 6 - matched 6\n' +
        'Progress 100% - visited 7 - matched 7\n',
    });
    expect(await remaining()).toHaveLength(7);
  });

  test("the spec's example: some subscriptions, any ask, users of a host, server JIDs or *icq* servers", async () => {
    expect(await list('none:from:to', 'any', '*@localhost', '*:*@*icq*')).toEqual(['alice@localhost icq.example.org', 'alice@localhost joe@icq.example.org']);
  });

  test('subscriptions and asks select items; several are joined by ":"', async () => {
    expect(await list('both', 'any', 'any', 'any')).toEqual(['alice@localhost bob@localhost', 'carol@example.org msn.gw.net']);
    expect(await list('any', 'out', 'any', 'any')).toEqual(['alice@localhost joe@icq.example.org', 'carol@example.org alice@localhost']);
    expect(await list('from:to', 'in:none', 'any', 'any')).toEqual(['alice@localhost carol@example.org', 'bob@localhost carol@example.org']);
    expect(await list('NONE', 'Any', 'any', 'any')).toHaveLength(2);
  });

  test('a pattern without "@" matches only server JIDs, one with "@" only JIDs with a user part', async () => {
    expect(await list('any', 'any', 'any', '*')).toEqual(['alice@localhost icq.example.org', 'carol@example.org msn.gw.net']);
    expect(await list('any', 'any', 'any', '*@*')).toHaveLength(5);
    expect(await list('any', 'any', '*', 'any')).toEqual([]);
    expect(await list('any', 'any', 'any', 'icq.example.org')).toEqual(['alice@localhost icq.example.org']);
  });

  test('"!" negates the part it starts', async () => {
    expect(await list('any', 'any', '*@!localhost', 'any')).toEqual(['carol@example.org alice@localhost', 'carol@example.org msn.gw.net']);
    expect(await list('any', 'any', '!alice@*', 'any')).toEqual([
      'bob@localhost carol@example.org',
      'carol@example.org alice@localhost',
      'carol@example.org msn.gw.net',
    ]);
    expect(await list('any', 'any', 'any', '!icq.example.org')).toEqual(['carol@example.org msn.gw.net']);
    expect(await list('any', 'any', 'alice@localhost', '*@!*icq*')).toEqual(['alice@localhost bob@localhost', 'alice@localhost carol@example.org']);
  });

  test('globs: ?, classes, negated classes; patterns are case-folded like JIDs', async () => {
    expect(await list('any', 'any', '[ab]*@localhost', '?o?@*')).toEqual(['alice@localhost bob@localhost', 'alice@localhost joe@icq.example.org']);
    expect(await list('any', 'any', '[!a]*@*', 'any')).toEqual([
      'bob@localhost carol@example.org',
      'carol@example.org alice@localhost',
      'carol@example.org msn.gw.net',
    ]);
    expect(await list('any', 'any', 'ALICE@LocalHost', 'Bob@*')).toEqual(['alice@localhost bob@localhost']);
    expect(await list('any', 'any', 'any', '*@example.???')).toEqual(['alice@localhost carol@example.org', 'bob@localhost carol@example.org']);
  });

  test('several patterns match when any of them does', async () => {
    expect(await list('any', 'any', 'any', 'bob@localhost:msn.gw.net:nobody@nowhere')).toEqual([
      'alice@localhost bob@localhost',
      'carol@example.org msn.gw.net',
    ]);
  });
});

describe('process_rosteritems delete', () => {
  beforeEach(fill);

  test('deletes what matches, returns it, and reports deletions', async () => {
    expect(await home.ctl(['process_rosteritems', 'delete', 'none', 'any', 'any', 'any'])).toEqual({
      status: 0,
      stdout: 'alice@localhost\ticq.example.org\ncarol@example.org\talice@localhost\n',
      stderr:
        'There are 7 roster items in total.\n' +
        'Progress 14% - visited 1 - deleted 0\nProgress 28% - visited 2 - deleted 0\nProgress 42% - visited 3 - deleted 1\n' +
        'Progress 57% - visited 4 - deleted 1\nProgress 71% - visited 5 - deleted 1\nProgress 85% - visited 6 - deleted 2\n' +
        'Progress 100% - visited 7 - deleted 2\n',
    });
    // The table in key order: example.org sorts before localhost.
    expect(await remaining()).toEqual([
      'carol@example.org msn.gw.net',
      'alice@localhost bob@localhost',
      'alice@localhost carol@example.org',
      'alice@localhost joe@icq.example.org',
      'bob@localhost carol@example.org',
    ]);
    expect(await list('none', 'any', 'any', 'any')).toEqual([]);
  });

  test('nothing matched: nothing deleted, nothing printed on stdout', async () => {
    const r = await home.ctl(['process_rosteritems', 'delete', 'any', 'any', 'nobody@localhost', 'any']);
    expect([r.status, r.stdout]).toEqual([0, '']);
    expect(await remaining()).toHaveLength(7);
  });
});

describe('process_rosteritems: empty database and bad filters', () => {
  test('an empty database says so and lists nothing', async () => {
    expect(await home.ctl(['process_rosteritems', 'list', 'any', 'any', 'any', 'any'])).toEqual({
      status: 0,
      stdout: '',
      stderr: 'There are 0 roster items in total.\n',
    });
  });

  test.each([
    [['purge', 'any', 'any', 'any', 'any'], "Unknown action 'purge' (action): use list or delete"],
    [['list', 'mutual', 'any', 'any', 'any'], "Unknown subscription 'mutual' (subs): use none, from, to, both or any, several joined by ':'"],
    [['list', 'none::to', 'any', 'any', 'any'], "Empty subscription in 'none::to' (subs): use none, from, to, both or any, several joined by ':'"],
    [['list', '', 'any', 'any', 'any'], "Empty subscription in '' (subs): use none, from, to, both or any, several joined by ':'"],
    [['list', 'any', 'both', 'any', 'any'], "Unknown ask 'both' (asks): use none, in, out or any, several joined by ':'"],
    [['list', 'any', 'any', '*@[abc', 'any'], "Invalid JID pattern '*@[abc' (users): in the server part, '[' at position 1 has no closing ']'"],
    [['list', 'any', 'any', 'a[!]@x', 'any'], "Invalid JID pattern 'a[!]@x' (users): in the user part, '[' at position 2 has no closing ']'"],
    [
      ['list', 'any', 'any', '[z-a]@x', 'any'],
      "Invalid JID pattern '[z-a]@x' (users): in the user part, '[z-a]' has a character class with a range in the wrong order",
    ],
    [['list', 'any', 'any', 'any', 'a@b@c'], "Invalid JID pattern 'a@b@c' (contacts): it has more than one '@'"],
    [['list', 'any', 'any', 'any', 'a@b/res'], "Invalid JID pattern 'a@b/res' (contacts): roster items hold bare JIDs, without a resource"],
    [['list', 'any', 'any', 'any', '@example.org'], "Invalid JID pattern '@example.org' (contacts): the user part is empty"],
    [['list', 'any', 'any', 'any', 'bob@'], "Invalid JID pattern 'bob@' (contacts): the server part is empty"],
    [['list', 'any', 'any', 'any', '!'], "Invalid JID pattern '!' (contacts): the server part is empty"],
    [['list', 'any', 'any', '', 'any'], "Invalid JID pattern '' (users): it is empty; separate patterns with a single ':'"],
  ])('%j is a usage error naming the argument', async (args, message) => {
    await fill();
    expect(await home.ctl(['process_rosteritems', ...args])).toEqual({ status: 2, stdout: '', stderr: `Error: ${message}\n${USAGE}` });
    expect(await remaining()).toHaveLength(7);
  });
});

describe('process_rosteritems at scale', () => {
  test('deletions are written in atomic batches of at most 10 000 items, and all of them go', async () => {
    const { createMemoryStore } = await import('../../src/storage/memory');
    const { createAccounts } = await import('../../src/features/accounts/accounts');
    const { createRoster } = await import('../../src/features/roster/roster');
    const { featureDeps } = await import('../../src/features/deps');
    const { processRosterItems } = await import('../../commands/support/roster');
    const { defaultConfig } = await import('../../src/config/config');
    const store = createMemoryStore();
    const batches: number[] = [];
    const counting = { ...store, batch: (ops: Parameters<typeof store.batch>[0]) => (batches.push(ops.length), store.batch(ops)) };
    const ops = Array.from({ length: 25_003 }, (_, i) =>
      rosterItemOps({ host: 'localhost', user: `u${i % 7}` }, `c${i}@example.org`, {
        name: '',
        subscription: i % 2 ? 'both' : 'none',
        ask: 'none',
        groups: [],
      }),
    ).flat();
    await store.batch(ops);
    const deps = featureDeps({ store: counting, config: defaultConfig('/dev/null'), clock: Date.now });
    const roster = createRoster(deps, createAccounts(deps));
    const lines: string[] = [];
    const args = { action: 'delete', subs: 'any', asks: 'any', users: 'any', contacts: 'any' };
    const deleted = await processRosterItems({ roster }, args, (l) => lines.push(l));
    expect(deleted).toHaveLength(25_003);
    expect(batches).toEqual([10_000, 10_000, 5_003]);
    let left = 0;
    for await (const _ of hostRosters(store, 'localhost')) left++;
    expect(left).toBe(0);
    expect(lines[0]).toBe('There are 25003 roster items in total.');
    expect(lines).toHaveLength(101);
    expect(lines[100]).toBe('Progress 100% - visited 25003 - deleted 25003');
  });
});

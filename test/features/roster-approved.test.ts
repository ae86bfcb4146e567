import { createAccounts, type Accounts } from '../../src/features/accounts/accounts';
import type { FeatureDeps } from '../../src/features/deps';
import { decodeRosterItem, readRoster, usersRows, type RosterItem } from '../../src/features/roster/records';
import { createRoster, type Roster } from '../../src/features/roster/roster';
import type { BareJid } from '../../src/lib/jid';
import { memoryDeps } from '../helpers/features';

const alice: BareJid = { user: 'alice', host: 'localhost' };
const item = (over: Partial<RosterItem> = {}): RosterItem => ({ name: '', subscription: 'none', ask: 'none', groups: [], ...over });

let deps: FeatureDeps;
let accounts: Accounts;
let roster: Roster;

beforeEach(async () => {
  deps = memoryDeps(['localhost']);
  accounts = createAccounts(deps, () => [usersRows]);
  roster = createRoster(deps, accounts);
  await accounts.register(alice, 'pw');
});

describe('pre-approved roster items', () => {
  test('an item without a pre-approval is stored with no approved field at all', async () => {
    await roster.set(alice, 'bob@localhost', item({ subscription: 'to' }));
    const [stored] = await readRoster(deps.store, alice);
    expect(JSON.stringify(stored.item)).toBe('{"name":"","subscription":"to","ask":"none","groups":[]}');
  });

  test('a pre-approval is kept on none and to, and dropped once the contact has a subscription from the user', async () => {
    expect(await roster.set(alice, 'bob@localhost', item({ subscription: 'to', approved: true }))).toEqual(item({ subscription: 'to', approved: true }));
    expect(await roster.get(alice, 'bob@localhost')).toEqual(item({ subscription: 'to', approved: true }));
    expect(await roster.set(alice, 'bob@localhost', item({ subscription: 'both', approved: true }))).toEqual(item({ subscription: 'both' }));
    expect(await roster.get(alice, 'bob@localhost')).toEqual(item({ subscription: 'both' }));
  });

  test('a roster template spends a pre-approval', async () => {
    await roster.set(alice, 'bob@localhost', item({ name: 'Bob', approved: true }));
    await roster.pushTemplate(alice, [{ contact: 'bob@localhost', name: '', groups: ['G'] }]);
    expect(await roster.get(alice, 'bob@localhost')).toEqual(item({ name: 'Bob', subscription: 'both', groups: ['G'] }));
  });

  test('decodeRosterItem accepts approved true on none and to, and refuses it elsewhere', () => {
    expect(decodeRosterItem(item({ approved: true }))).toEqual(item({ approved: true }));
    expect(decodeRosterItem(item({ subscription: 'to', approved: true }))).toEqual(item({ subscription: 'to', approved: true }));
    expect(() => decodeRosterItem({ ...item(), approved: false }, 'line 2')).toThrow('line 2: approved must be true, or absent');
    expect(() => decodeRosterItem(item({ subscription: 'from', approved: true }))).toThrow(
      "roster item: approved must be absent when the subscription is 'from' or 'both'",
    );
  });
});

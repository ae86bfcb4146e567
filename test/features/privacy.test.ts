import { createAccounts, type Accounts } from '../../src/features/accounts/accounts';
import type { FeatureDeps } from '../../src/features/deps';
import { createPrivacy, parsePrivacyQuery, type Privacy } from '../../src/features/privacy/privacy';
import {
  decodePrivacyDefault,
  decodePrivacyList,
  hostPrivacy,
  NS_PRIVACY,
  privacyDefaultOps,
  privacyListOps,
  readPrivacyDefault,
  readPrivacyLists,
  usersRows,
  type PrivacyItem,
} from '../../src/features/privacy/records';
import { CommandError, renameField } from '../../src/lib/errors';
import type { BareJid } from '../../src/lib/jid';
import { parseXml } from '../../src/lib/xml';
import type { Range } from '../../src/storage/types';
import { memoryDeps, rejection } from '../helpers/features';

const alice: BareJid = { user: 'alice', host: 'localhost' };
const bob: BareJid = { user: 'bob', host: 'localhost' };
const nobody: BareJid = { user: 'nobody', host: 'localhost' };

const deny = (order: number, over: Partial<PrivacyItem> = {}): PrivacyItem => ({ action: 'deny', order, stanzas: [], ...over });
const query = (inner: string) => parsePrivacyQuery(parseXml(`<query xmlns='${NS_PRIVACY}'>${inner}</query>`, 'query'));

let deps: FeatureDeps;
let accounts: Accounts;
let privacy: Privacy;

beforeEach(async () => {
  deps = memoryDeps();
  accounts = createAccounts(deps, () => [usersRows]);
  privacy = createPrivacy(deps, accounts);
  for (const jid of [alice, bob]) await accounts.register(jid, 'pw');
});

function thrown(fn: () => unknown): CommandError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CommandError);
    return err as CommandError;
  }
  throw new Error('nothing thrown');
}

describe('parsePrivacyQuery', () => {
  test('reads lists with their items sorted by order, JIDs prepared, and the default', () => {
    const q = query(
      "<list name='work'><item type='jid' value='Boss@Example.ORG' action='deny' order='20'><message/><message/></item><item action='allow' order='1'/></list><default name='work'/><active/>",
    );
    expect([...q.lists]).toEqual([
      [
        'work',
        [
          { action: 'allow', order: 1, stanzas: [] },
          { type: 'jid', value: 'boss@example.org', action: 'deny', order: 20, stanzas: ['message'] },
        ],
      ],
    ]);
    expect(q.default).toBe('work');
    expect(q.active).toBe('');
  });

  test('errors name the field query, which an adapter renames', () => {
    const err = thrown(() => query("<list name='x'><item action='block' order='1'/></list>"));
    expect(err.message).toBe("Invalid privacy query (query): list 'x': an item's action must be allow or deny, not 'block'");
    expect((renameField(err, { query: 'xmlquery' }) as Error).message).toBe(
      "Invalid privacy query (xmlquery): list 'x': an item's action must be allow or deny, not 'block'",
    );
    const jid = thrown(() => query("<list name='x'><item type='jid' value='a@@b' action='deny' order='1'/></list>"));
    expect(jid.message).toBe("Invalid host name '@b' (query)");
    expect((renameField(jid, { query: 'stanza' }) as Error).message).toBe("Invalid host name '@b' (stanza)");
  });
});

describe('lists, setList, setDefault, apply', () => {
  test('setList stores the items sorted; lists and list read them back', async () => {
    await privacy.setList(alice, 'b', [deny(9), deny(2)]);
    await privacy.setList(alice, 'a', [deny(1)]);
    expect(await privacy.lists(alice)).toEqual({
      lists: [
        { name: 'a', items: [deny(1)] },
        { name: 'b', items: [deny(2), deny(9)] },
      ],
    });
    expect(await privacy.list(alice, 'b')).toEqual({ name: 'b', items: [deny(2), deny(9)] });
    expect(await privacy.list(alice, 'c')).toBeUndefined();
    expect(await privacy.lists(bob)).toEqual({ lists: [] });
  });

  test('setList refuses two items of one order, naming items', async () => {
    const err = await rejection(privacy.setList(alice, 'a', [deny(1), deny(1)]));
    expect(err.message).toBe("The items (items) of privacy list 'a' have two of order 1");
    expect(await readPrivacyLists(deps.store, alice)).toEqual([]);
  });

  test('setDefault needs an existing list; the default list cannot be removed until cleared', async () => {
    expect((await rejection(privacy.setDefault(alice, 'a'))).message).toBe("Privacy list 'a' of alice@localhost does not exist");
    await privacy.setList(alice, 'a', [deny(1)]);
    await privacy.setDefault(alice, 'a');
    expect((await privacy.lists(alice)).default).toBe('a');
    const err = await rejection(privacy.setList(alice, 'a', []));
    expect(err.code).toBe('conflict');
    await privacy.setDefault(alice, null);
    await privacy.setList(alice, 'a', []);
    expect(await privacy.lists(alice)).toEqual({ lists: [] });
    expect((await rejection(privacy.setList(alice, 'a', []))).code).toBe('not_found');
  });

  test('apply changes lists and the default in one step', async () => {
    await privacy.apply(alice, query("<list name='a'><item action='deny' order='1'/></list><default name='a'/>"));
    expect(await readPrivacyDefault(deps.store, alice)).toBe('a');
    await privacy.apply(alice, query("<list name='b'><item action='allow' order='1'/></list><list name='a'/><default name='b'/>"));
    expect(await privacy.lists(alice)).toEqual({ lists: [{ name: 'b', items: [{ action: 'allow', order: 1, stanzas: [] }] }], default: 'b' });
  });

  test('an unknown user is not found', async () => {
    expect((await rejection(privacy.lists(nobody))).message).toBe('User nobody@localhost does not exist');
    expect((await rejection(privacy.setList(nobody, 'a', [deny(1)]))).code).toBe('not_found');
    expect(await readPrivacyLists(deps.store, nobody)).toEqual([]);
  });

  test("concurrent changes of one user's lists are all kept", async () => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => privacy.setList(alice, `l${i}`, [deny(i)])));
    expect((await privacy.lists(alice)).lists.length).toBe(10);
  });
});

describe('records', () => {
  test("hostPrivacy reads by user, the default before the lists; usersRows removes one user's rows", async () => {
    await deps.store.batch([
      ...privacyListOps(bob, { name: 'x', items: [deny(1)] }),
      ...privacyListOps(alice, { name: 'y', items: [deny(1)] }),
      ...privacyDefaultOps(alice, 'y'),
    ]);
    const all: string[] = [];
    for await (const e of hostPrivacy(deps.store, 'localhost')) all.push(`${e.jid.user} ${e.kind} ${e.kind === 'default' ? e.name : e.list.name}`);
    expect(all).toEqual(['alice default y', 'alice list y', 'bob list x']);
    await deps.store.batch(await usersRows(deps.store, [alice]));
    const left: string[] = [];
    for await (const e of hostPrivacy(deps.store, 'localhost')) left.push(e.jid.user);
    expect(left).toEqual(['bob']);
  });

  test('account removal takes the lists and the default with it', async () => {
    await privacy.apply(alice, query("<list name='a'><item action='deny' order='1'/></list><default name='a'/>"));
    await accounts.remove(alice);
    expect(await readPrivacyLists(deps.store, alice)).toEqual([]);
    expect(await readPrivacyDefault(deps.store, alice)).toBeUndefined();
  });

  test('decodePrivacyList and decodePrivacyDefault check records from elsewhere', () => {
    const list = { name: 'a', items: [{ type: 'subscription', value: 'both', action: 'allow', order: 0, stanzas: ['iq'] }] };
    expect(decodePrivacyList(list)).toEqual(list);
    expect(() => decodePrivacyList({ name: 'a', items: [{ action: 'drop', order: 0, stanzas: [] }] }, 'line 4')).toThrow(
      "line 4: items[0].action must be 'allow' or 'deny'",
    );
    expect(() => decodePrivacyList({ name: 'a', items: [deny(1), deny(1)] })).toThrow('privacy list: items[1].order must be unique in the list');
    expect(() => decodePrivacyList({ name: 'a', items: [{ type: 'jid', action: 'deny', order: 1, stanzas: [] }] })).toThrow(
      'items[0].value must be non-empty text',
    );
    expect(() => decodePrivacyList({ name: 'a', items: [deny(1, { stanzas: ['presence' as never] })] })).toThrow('items[0].stanzas must be a list of');
    expect(decodePrivacyDefault({ name: 'a' })).toEqual({ name: 'a' });
    expect(() => decodePrivacyDefault({ name: '' })).toThrow('default privacy list: name must be non-empty text');
  });
});

describe('reads under way', () => {
  test('the lists and the blocklist asked at once are read once, and what each caller gets is its own', async () => {
    await privacy.block(alice, ['eve@example.org']);
    const entries = jest.spyOn(deps.store, 'entries');
    const [settings, blocked] = await Promise.all([privacy.lists(alice), privacy.blocklist(alice)]);
    expect(entries).toHaveBeenCalledTimes(1);
    expect(blocked).toEqual(['eve@example.org']);
    expect(settings.default).toBe('Blocked contacts');
    settings.lists.length = 0;
    await expect(privacy.lists(alice)).resolves.toMatchObject({ lists: [{ name: 'Blocked contacts' }] });
  });

  test('an ask after a change sees the change, though a read begun before it is still under way', async () => {
    const entries = deps.store.entries.bind(deps.store);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let begun!: () => void;
    const reading = new Promise<void>((resolve) => (begun = resolve));
    jest.spyOn(deps.store, 'entries').mockImplementationOnce(async function* <T>(table: string, range?: Range) {
      begun();
      await held;
      yield* entries<T>(table, range);
    });
    const before = privacy.blocklist(alice);
    await reading;
    await privacy.block(alice, ['eve@example.org']);
    const after = privacy.blocklist(alice);
    release();
    await expect(after).resolves.toEqual(['eve@example.org']);
    await expect(before).resolves.toEqual([]);
  });
});

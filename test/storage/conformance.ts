/**
 * The contract every storage driver keeps (DESIGN.md §6): services are written against the
 * in-memory driver in unit tests and run against LevelDB in production, so any difference
 * between the two is a bug a user would meet only in production. A driver's test file calls
 * `runStoreConformance` with a factory for a fresh, empty store.
 */
import { key, prefix } from '../../src/storage/keys';
import type { Range, Store, StoreSnapshot } from '../../src/storage/types';

/** Closes `previous` and opens the same data again; only drivers that persist pass one. */
export type Reopen = (previous: Store) => Promise<Store>;

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

export function runStoreConformance(name: string, open: () => Promise<Store>, reopen?: Reopen): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    const keysOf = (table: string, range?: Range) => collect(store.keys(table, range));
    const putAll = async (table: string, ks: readonly string[]) => {
      for (const k of ks) await store.put(table, k, { k });
    };

    describe('single records', () => {
      test('get of a missing key resolves to undefined', async () => {
        await expect(store.get('t', 'nobody')).resolves.toBeUndefined();
        await store.put('t', 'somebody', 1);
        await expect(store.get('t', 'nobody')).resolves.toBeUndefined();
      });

      test.each([
        ['an object', { name: 'alice', scram: { iterations: 4096, salt: 'c2FsdA==' }, tags: [], empty: {} }],
        ['an array', [1, 'two', { three: 3 }, [4], true, false]],
        ['a unicode string', 'Ünïcødé ✓ 😀 中文 \u0000 \t\n\\ "quoted" \ud800'],
        ['an empty string', ''],
        ['an integer', 42],
        ['zero', 0],
        ['a negative fraction', -1.5],
        ['a large number', Number.MAX_SAFE_INTEGER],
        ['a tiny number', 5e-324],
        ['a boolean', false],
      ])('put/get round-trips %s', async (_what, value) => {
        await store.put('t', 'k', value);
        await expect(store.get('t', 'k')).resolves.toEqual(value);
      });

      test('put overwrites the previous value', async () => {
        await store.put('t', 'k', { v: 1 });
        await store.put('t', 'k', { v: 2 });
        await expect(store.get('t', 'k')).resolves.toEqual({ v: 2 });
        await expect(keysOf('t')).resolves.toEqual(['k']);
      });

      test('del removes the record, and deleting a missing key is not an error', async () => {
        await store.put('t', 'k', 'v');
        await store.put('t', 'other', 'w');
        await store.del('t', 'k');
        await expect(store.get('t', 'k')).resolves.toBeUndefined();
        await expect(keysOf('t')).resolves.toEqual(['other']);
        await expect(store.del('t', 'never-there')).resolves.toBeUndefined();
      });

      test('sync keeps every record as it was and adds none to any table', async () => {
        await store.put('t', 'k', 'v', { sync: false });
        await store.sync();
        await store.sync();
        await expect(store.get('t', 'k')).resolves.toBe('v');
        await expect(keysOf('t')).resolves.toEqual(['k']);
        await expect(keysOf('sync-marker')).resolves.toEqual([]);
      });

      test.each([
        ['a BigInt', 10n],
        ['undefined', undefined],
        ['null (LevelDB refuses it)', null],
      ])('put of %s rejects and stores nothing', async (_what, value) => {
        await expect(store.put('t', 'bad', value)).rejects.toThrow();
        await expect(store.get('t', 'bad')).resolves.toBeUndefined();
        await expect(keysOf('t')).resolves.toEqual([]);
        await expect(collect(store.entries('t'))).resolves.toEqual([]);
      });

      test('getMany returns values in the order asked, undefined for missing keys', async () => {
        await store.put('t', 'a', 'A');
        await store.put('t', 'c', { c: true });
        await expect(store.getMany('t', ['c', 'missing', 'a', 'a'])).resolves.toEqual([{ c: true }, undefined, 'A', 'A']);
        await expect(store.getMany('t', [])).resolves.toEqual([]);
      });
    });

    describe('copies', () => {
      test('mutating a value after put does not change the store', async () => {
        const value = { roster: ['bob'], n: 1 };
        await store.put('t', 'k', value);
        value.roster.push('mallory');
        value.n = 2;
        await expect(store.get('t', 'k')).resolves.toEqual({ roster: ['bob'], n: 1 });
      });

      test('mutating a value returned by get, getMany or entries does not change the store', async () => {
        await store.put('t', 'k', { roster: ['bob'] });
        const got = (await store.get<{ roster: string[] }>('t', 'k'))!;
        got.roster.push('from-get');
        const [many] = await store.getMany<{ roster: string[] }>('t', ['k']);
        many!.roster.push('from-getMany');
        const [[, entry]] = await collect(store.entries<{ roster: string[] }>('t'));
        entry.roster.push('from-entries');
        await expect(store.get('t', 'k')).resolves.toEqual({ roster: ['bob'] });
      });
    });

    describe('batch', () => {
      test('applies puts and dels across tables together', async () => {
        await store.put('passwd', key('h', 'alice'), { pw: 'x' });
        await store.put('last', key('h', 'alice'), { ts: 1 });
        await store.batch([
          { type: 'del', table: 'passwd', key: key('h', 'alice') },
          { type: 'del', table: 'last', key: key('h', 'alice') },
          { type: 'put', table: 'passwd', key: key('h', 'bob'), value: { pw: 'y' } },
          { type: 'put', table: 'roster', key: key('h', 'bob', 'carol'), value: { sub: 'both' } },
        ]);
        await expect(store.get('passwd', key('h', 'alice'))).resolves.toBeUndefined();
        await expect(store.get('last', key('h', 'alice'))).resolves.toBeUndefined();
        await expect(store.get('passwd', key('h', 'bob'))).resolves.toEqual({ pw: 'y' });
        await expect(store.get('roster', key('h', 'bob', 'carol'))).resolves.toEqual({ sub: 'both' });
      });

      test('later operations on the same key win', async () => {
        await store.batch([
          { type: 'put', table: 't', key: 'k', value: 1 },
          { type: 'put', table: 't', key: 'k', value: 2 },
          { type: 'put', table: 't', key: 'gone', value: 3 },
          { type: 'del', table: 't', key: 'gone' },
        ]);
        await expect(collect(store.entries('t'))).resolves.toEqual([['k', 2]]);
      });

      test('an empty batch is a no-op', async () => {
        await store.put('t', 'k', 1);
        await store.batch([]);
        await expect(collect(store.entries('t'))).resolves.toEqual([['k', 1]]);
      });

      test.each([
        ['first', 0],
        ['middle', 2],
        ['last', 4],
      ])('a value JSON cannot encode (%s op) fails the whole batch, in every table', async (_where, at) => {
        await store.put('passwd', key('h', 'alice'), { pw: 'old' });
        await store.put('last', key('h', 'alice'), { ts: 1 });
        const ops: Parameters<Store['batch']>[0][number][] = [
          { type: 'put', table: 'passwd', key: key('h', 'alice'), value: { pw: 'new' } },
          { type: 'del', table: 'last', key: key('h', 'alice') },
          { type: 'put', table: 'roster', key: key('h', 'alice', 'bob'), value: { sub: 'to' } },
          { type: 'put', table: 'passwd', key: key('h', 'zed'), value: { pw: 'z' } },
        ];
        ops.splice(at, 0, { type: 'put', table: 'vcard', key: key('h', 'alice'), value: { big: 10n } });
        await expect(store.batch(ops)).rejects.toThrow();
        await expect(collect(store.entries('passwd'))).resolves.toEqual([[key('h', 'alice'), { pw: 'old' }]]);
        await expect(collect(store.entries('last'))).resolves.toEqual([[key('h', 'alice'), { ts: 1 }]]);
        await expect(keysOf('roster')).resolves.toEqual([]);
        await expect(keysOf('vcard')).resolves.toEqual([]);
      });
    });

    describe('tables', () => {
      test('the same key in two tables holds two values', async () => {
        await store.put('passwd', 'k', 'in passwd');
        await store.put('last', 'k', 'in last');
        await expect(store.get('passwd', 'k')).resolves.toBe('in passwd');
        await expect(store.get('last', 'k')).resolves.toBe('in last');
        await store.del('passwd', 'k');
        await expect(store.get('passwd', 'k')).resolves.toBeUndefined();
        await expect(store.get('last', 'k')).resolves.toBe('in last');
      });

      test('scanning a table never shows another table, even one whose name extends it', async () => {
        await putAll('tab', ['m']);
        await putAll('tab2', ['a', 'n', '\u{10ffff}']);
        await putAll('ta', ['z']);
        await expect(keysOf('tab')).resolves.toEqual(['m']);
        await expect(keysOf('tab', { reverse: true })).resolves.toEqual(['m']);
        await expect(keysOf('tab2')).resolves.toEqual(['a', 'n', '\u{10ffff}']);
        await expect(keysOf('empty')).resolves.toEqual([]);
      });
    });

    describe('ordering and ranges', () => {
      // UTF-16 order would put the emoji (a surrogate pair, 0xD83D…) before U+E000 and U+FF5A;
      // UTF-8 byte order (LevelDB's) puts it after them.
      const unicodeKeys = ['', 'A', 'Z', 'a', 'z', '~', 'é', '\u07ff', '\u0800', '\ue000', 'ｚ', '\uffff', '😀', '😀a', '\u{10ffff}'];

      test('keys come back in UTF-8 byte order, including characters above U+FFFF', async () => {
        const shuffled = [...unicodeKeys].reverse();
        shuffled.push(shuffled.splice(3, 1)[0]);
        await putAll('t', shuffled);
        await expect(keysOf('t')).resolves.toEqual(unicodeKeys);
        await expect(keysOf('t', { reverse: true })).resolves.toEqual([...unicodeKeys].reverse());
        await expect(keysOf('t', { gt: 'ｚ', lt: '\u{10ffff}' })).resolves.toEqual(['\uffff', '😀', '😀a']);
      });

      // One host, users 'a', 'ab', 'a!b', 'a b'; each with a record and sub-records.
      const composite = [
        key('h', 'a'),
        key('h', 'a', 'bob'),
        key('h', 'a', 'carol'),
        key('h', 'a b'),
        key('h', 'a!b'),
        key('h', 'a!b', 'x'),
        key('h', 'ab'),
        key('h', 'ab', 'bob'),
        key('h2', 'a'),
        key('h2', 'a', 'bob'),
        key('hh', 'a'),
      ];

      test('NUL-separated keys sort a user and its sub-records before any longer user name', async () => {
        await putAll('t', [...composite].reverse());
        await expect(keysOf('t')).resolves.toEqual(composite);
      });

      test.each([
        [prefix('h', 'a'), [key('h', 'a', 'bob'), key('h', 'a', 'carol')]],
        [prefix('h', 'ab'), [key('h', 'ab', 'bob')]],
        [prefix('h', 'a!b'), [key('h', 'a!b', 'x')]],
        [prefix('h2'), [key('h2', 'a'), key('h2', 'a', 'bob')]],
        [prefix('h'), composite.filter((k) => k.startsWith(`h\u0000`))],
        [prefix('h', 'nobody'), []],
      ])('prefix %j selects exactly its own keys, forwards and backwards', async (p, expected) => {
        await putAll('t', composite);
        await expect(keysOf('t', { prefix: p })).resolves.toEqual(expected);
        await expect(keysOf('t', { prefix: p, reverse: true })).resolves.toEqual([...expected].reverse());
      });

      const letters = ['a', 'b', 'c', 'd', 'e'];
      test.each<[Range, string[]]>([
        [{}, letters],
        [{ gte: 'b' }, ['b', 'c', 'd', 'e']],
        [{ gt: 'b' }, ['c', 'd', 'e']],
        [{ gt: 'bb' }, ['c', 'd', 'e']],
        [{ lte: 'd' }, ['a', 'b', 'c', 'd']],
        [{ lt: 'd' }, ['a', 'b', 'c']],
        [{ gte: 'b', lt: 'd' }, ['b', 'c']],
        [{ gt: 'b', lte: 'd' }, ['c', 'd']],
        [{ gt: 'd', lt: 'b' }, []],
        [{ limit: 2 }, ['a', 'b']],
        [{ limit: 0 }, []],
        [{ limit: 10 }, letters],
        [{ reverse: true }, ['e', 'd', 'c', 'b', 'a']],
        [{ reverse: true, limit: 2 }, ['e', 'd']],
        [{ gte: 'b', lt: 'e', reverse: true, limit: 2 }, ['d', 'c']],
        [{ gt: 'a', gte: 'c' }, ['c', 'd', 'e']],
        [{ gt: 'c', gte: 'a' }, ['d', 'e']],
        [{ lt: 'c', lte: 'd' }, ['a', 'b']],
        [{ lt: 'e', lte: 'b' }, ['a', 'b']],
      ])('range %j', async (range, expected) => {
        await putAll('t', [...letters].reverse());
        await expect(keysOf('t', range)).resolves.toEqual(expected);
      });

      // A prefix plus bounds is the intersection of both: paging through one user's records
      // ("after bob") must neither repeat the cursor nor leave the user.
      const paged = [key('h', 'a'), key('h', 'a', 'bob'), key('h', 'a', 'carol'), key('h', 'a', 'dave'), key('h', 'ab', 'bob')];
      test.each<[string, Range, string[]]>([
        ['gt (next page)', { gt: key('h', 'a', 'bob') }, [key('h', 'a', 'carol'), key('h', 'a', 'dave')]],
        ['gte', { gte: key('h', 'a', 'carol') }, [key('h', 'a', 'carol'), key('h', 'a', 'dave')]],
        ['lt (previous page)', { lt: key('h', 'a', 'dave'), reverse: true }, [key('h', 'a', 'carol'), key('h', 'a', 'bob')]],
        ['lte', { lte: key('h', 'a', 'carol') }, [key('h', 'a', 'bob'), key('h', 'a', 'carol')]],
        ['gt + limit', { gt: key('h', 'a', 'bob'), limit: 1 }, [key('h', 'a', 'carol')]],
        ['gte below the prefix', { gte: key('h', '') }, [key('h', 'a', 'bob'), key('h', 'a', 'carol'), key('h', 'a', 'dave')]],
        ['lt above the prefix', { lt: key('h', 'zzz') }, [key('h', 'a', 'bob'), key('h', 'a', 'carol'), key('h', 'a', 'dave')]],
        ['lte above the prefix', { lte: key('h', 'ab', 'bob') }, [key('h', 'a', 'bob'), key('h', 'a', 'carol'), key('h', 'a', 'dave')]],
      ])('prefix with %s stays inside the prefix', async (_what, bounds, expected) => {
        await putAll('t', paged);
        await expect(keysOf('t', { prefix: prefix('h', 'a'), ...bounds })).resolves.toEqual(expected);
      });

      test('entries and keys agree for every range', async () => {
        await putAll('t', [...composite, ...unicodeKeys]);
        const ranges: Range[] = [{}, { prefix: prefix('h', 'a') }, { gt: 'a', lte: '😀', reverse: true }, { prefix: prefix('h'), limit: 3 }];
        for (const range of ranges) {
          const entries = await collect(store.entries<{ k: string }>('t', range));
          expect(entries.map(([k]) => k)).toEqual(await keysOf('t', range));
          for (const [k, v] of entries) expect(v).toEqual({ k });
        }
      });
    });

    describe('whole database', () => {
      const json = async (table: string, range?: Range, from: Pick<StoreSnapshot, 'entriesJson'> | undefined = undefined) => {
        const snap = from ?? (await store.snapshot());
        try {
          return await collect(snap.entriesJson(table, range));
        } finally {
          if (!from) await (snap as StoreSnapshot).close();
        }
      };

      test('a snapshot lists the tables holding records, in byte order, and never an empty one', async () => {
        await store.put('roster', 'k', 1);
        await store.put('mam_by_time', 'k', 1);
        await store.put('mam', 'k', 1);
        await store.put('emptied', 'k', 1);
        await store.del('emptied', 'k');
        await store.get('never-written', 'k');
        await store.sync();
        const snap = await store.snapshot();
        await expect(snap.tables()).resolves.toEqual(['mam', 'mam_by_time', 'roster']);
        await snap.close();
      });

      test('a snapshot of an empty store has no tables', async () => {
        const snap = await store.snapshot();
        await expect(snap.tables()).resolves.toEqual([]);
        await expect(collect(snap.entriesJson('t'))).resolves.toEqual([]);
        await snap.close();
        await snap.close();
      });

      test('a snapshot sees the database as it was when taken, whatever is written after', async () => {
        await store.batch([
          { type: 'put', table: 'passwd', key: key('h', 'alice'), value: { pw: 'a' } },
          { type: 'put', table: 'passwd', key: key('h', 'bob'), value: { pw: 'b' } },
          { type: 'put', table: 'last', key: key('h', 'alice'), value: 1 },
        ]);
        const snap = await store.snapshot();
        await store.batch([
          { type: 'del', table: 'passwd', key: key('h', 'alice') },
          { type: 'put', table: 'passwd', key: key('h', 'bob'), value: { pw: 'changed' } },
          { type: 'put', table: 'passwd', key: key('h', 'carol'), value: { pw: 'c' } },
          { type: 'del', table: 'last', key: key('h', 'alice') },
          { type: 'put', table: 'roster', key: key('h', 'bob', 'x'), value: 2 },
        ]);
        await expect(snap.tables()).resolves.toEqual(['last', 'passwd']);
        await expect(json('passwd', undefined, snap)).resolves.toEqual([
          [key('h', 'alice'), '{"pw":"a"}'],
          [key('h', 'bob'), '{"pw":"b"}'],
        ]);
        await expect(json('last', undefined, snap)).resolves.toEqual([[key('h', 'alice'), '1']]);
        await expect(json('roster', undefined, snap)).resolves.toEqual([]);
        await snap.close();
        await expect(collect(store.keys('passwd'))).resolves.toEqual([key('h', 'bob'), key('h', 'carol')]);
      });

      test('snapshot entries are JSON texts in key order, over ranges as entries are', async () => {
        const values: unknown[] = [{ a: [1, 'two'] }, 'Ünïcødé 😀 \u0000 "q"', 0, false, -1.5];
        const ks = ['e', 'd', 'c', 'b', 'a'];
        for (const [i, k] of ks.entries()) await store.put('t', k, values[i]);
        const all = await json('t');
        expect(all.map(([k]) => k)).toEqual(['a', 'b', 'c', 'd', 'e']);
        expect(all.map(([k, v]) => [k, JSON.parse(v)])).toEqual(await collect(store.entries('t')));
        await expect(json('t', { gt: 'b', limit: 2 })).resolves.toEqual([['c', '0'], ['d', '"Ünïcødé 😀 \\u0000 \\"q\\""']]);
        await expect(json('t', { reverse: true, limit: 1 })).resolves.toEqual([['e', '{"a":[1,"two"]}']]);
      });

      test('a replacement changes nothing until committed, then holds exactly the new records', async () => {
        await store.put('passwd', key('h', 'old'), { pw: 'o' });
        await store.put('passwd', key('h', 'both'), { pw: 'before' });
        await store.put('vcard', key('h', 'old'), { xml: '<vCard/>' });
        const r = await store.replaceAll();
        r.put('passwd', key('h', 'both'), '{"pw":"after"}');
        r.put('roster', key('h', 'new', 'c'), '["both",{"n":"Ünïcødé"}]');
        r.put('roster', key('h', 'new', 'c'), '["none"]');
        r.put('last', key('h', 'new'), '7');
        await expect(store.get('passwd', key('h', 'both'))).resolves.toEqual({ pw: 'before' });
        await expect(collect(store.keys('roster'))).resolves.toEqual([]);
        await r.commit();
        await expect(collect(store.entries('passwd'))).resolves.toEqual([[key('h', 'both'), { pw: 'after' }]]);
        await expect(collect(store.entries('roster'))).resolves.toEqual([[key('h', 'new', 'c'), ['none']]]);
        await expect(store.get('last', key('h', 'new'))).resolves.toBe(7);
        await expect(collect(store.keys('vcard'))).resolves.toEqual([]);
        const snap = await store.snapshot();
        await expect(snap.tables()).resolves.toEqual(['last', 'passwd', 'roster']);
        await snap.close();
      });

      test('an aborted replacement leaves every record as it was', async () => {
        await store.put('passwd', key('h', 'a'), { pw: 'a' });
        const r = await store.replaceAll();
        r.put('passwd', key('h', 'a'), '{"pw":"new"}');
        r.put('last', key('h', 'a'), '1');
        await r.abort();
        await expect(collect(store.entries('passwd'))).resolves.toEqual([[key('h', 'a'), { pw: 'a' }]]);
        await expect(collect(store.keys('last'))).resolves.toEqual([]);
      });

      test('an empty replacement empties the database; records written after it began are kept', async () => {
        await store.put('passwd', key('h', 'a'), 1);
        await store.put('roster', key('h', 'a', 'b'), 1);
        const r = await store.replaceAll();
        await store.put('roster', key('h', 'late', 'b'), 2);
        await r.commit();
        await expect(collect(store.keys('passwd'))).resolves.toEqual([]);
        await expect(collect(store.entries('roster'))).resolves.toEqual([[key('h', 'late', 'b'), 2]]);
      });
    });

    if (reopen) {
      describe('persistence', () => {
        test('records written by put and batch are there after reopening; deleted ones are not', async () => {
          await store.put('passwd', key('h', 'alice'), { pw: 'a' });
          await store.put('passwd', key('h', 'gone'), { pw: 'g' });
          await store.put('last', key('h', '😀'), { ts: 1, note: 'Ünïcødé' });
          await store.batch([
            { type: 'put', table: 'roster', key: key('h', 'alice', 'bob'), value: ['both'] },
            { type: 'del', table: 'passwd', key: key('h', 'gone') },
          ]);
          await store.put('passwd', 'unsynced', 1, { sync: false });
          store = await reopen(store);
          await expect(collect(store.entries('passwd'))).resolves.toEqual([
            [key('h', 'alice'), { pw: 'a' }],
            ['unsynced', 1],
          ]);
          await expect(store.get('last', key('h', '😀'))).resolves.toEqual({ ts: 1, note: 'Ünïcødé' });
          await expect(store.getMany('roster', [key('h', 'alice', 'bob'), key('h', 'x')])).resolves.toEqual([['both'], undefined]);
        });

        test('a committed replacement is what reopening finds', async () => {
          await store.put('passwd', key('h', 'old'), 1);
          const r = await store.replaceAll();
          r.put('passwd', key('h', 'new'), '{"pw":"n"}');
          r.put('srg', key('h', 'g'), '{"name":"G"}');
          await r.commit();
          store = await reopen(store);
          await expect(collect(store.entries('passwd'))).resolves.toEqual([[key('h', 'new'), { pw: 'n' }]]);
          await expect(collect(store.entries('srg'))).resolves.toEqual([[key('h', 'g'), { name: 'G' }]]);
        });

        test('a failed batch leaves nothing behind after reopening', async () => {
          await store.put('t', 'kept', 1);
          await expect(store.batch([
            { type: 'put', table: 't', key: 'half', value: 1 },
            { type: 'del', table: 't', key: 'kept' },
            { type: 'put', table: 'u', key: 'bad', value: 1n },
          ])).rejects.toThrow();
          store = await reopen(store);
          await expect(collect(store.entries('t'))).resolves.toEqual([['kept', 1]]);
          await expect(keysOf('u')).resolves.toEqual([]);
        });
      });
    }
  });
}

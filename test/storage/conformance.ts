/**
 * The contract every storage driver keeps (DESIGN.md §6): features are written against the
 * in-memory driver in unit tests and run against LevelDB in production, so any difference
 * between the two is a bug a user would meet only in production. A driver's test file calls
 * `runStoreConformance` with a factory for a fresh, empty store. Only the contract is used
 * here, never how a driver lays its records out.
 */
import { JsonText } from '../../src/storage/json';
import type { ArchiveItem, BatchOp, Key, Range, Store, StoreSnapshot } from '../../src/storage/types';

/** Closes `previous` and opens the same data again; only drivers that persist pass one. */
export type Reopen = (previous: Store) => Promise<Store>;

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Resolves to 'waited' if `p` has not settled within `ms`: a test of not waiting fails instead of hanging. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | 'waited'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'waited'>((resolve) => (timer = setTimeout(() => resolve('waited'), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

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
    const putAll = async (table: string, ks: readonly Key[]) => {
      for (const k of ks) await store.put(table, k, { k });
    };
    // Replacements larger than what drivers write at once (a few MB), so that some of it is
    // written before the end.
    const big = (i: number) => JSON.stringify({ i, pad: 'x'.repeat(20_000) });
    const BIG = 600;

    describe('single records', () => {
      test('get of a missing key resolves to undefined', async () => {
        await expect(store.get('t', ['nobody'])).resolves.toBeUndefined();
        await store.put('t', ['somebody'], 1);
        await expect(store.get('t', ['nobody'])).resolves.toBeUndefined();
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
        await store.put('t', ['k'], value);
        await expect(store.get('t', ['k'])).resolves.toEqual(value);
      });

      test('put overwrites the previous value', async () => {
        await store.put('t', ['k'], { v: 1 });
        await store.put('t', ['k'], { v: 2 });
        await expect(store.get('t', ['k'])).resolves.toEqual({ v: 2 });
        await expect(keysOf('t')).resolves.toEqual([['k']]);
      });

      test('del removes the record, and deleting a missing key is not an error', async () => {
        await store.put('t', ['k'], 'v');
        await store.put('t', ['other'], 'w');
        await store.del('t', ['k']);
        await expect(store.get('t', ['k'])).resolves.toBeUndefined();
        await expect(keysOf('t')).resolves.toEqual([['other']]);
        await expect(store.del('t', ['never-there'])).resolves.toBeUndefined();
      });

      test('sync keeps every record as it was and adds none to any table', async () => {
        await store.put('t', ['k'], 'v', { sync: false });
        await store.sync();
        await store.sync();
        await expect(store.get('t', ['k'])).resolves.toBe('v');
        await expect(keysOf('t')).resolves.toEqual([['k']]);
        await expect(keysOf('sync-marker')).resolves.toEqual([]);
      });

      test.each([
        ['a BigInt', 10n],
        ['undefined', undefined],
        ['null (LevelDB refuses it)', null],
      ])('put of %s rejects and stores nothing', async (_what, value) => {
        await expect(store.put('t', ['bad'], value)).rejects.toThrow();
        await expect(store.get('t', ['bad'])).resolves.toBeUndefined();
        await expect(keysOf('t')).resolves.toEqual([]);
        await expect(collect(store.entries('t'))).resolves.toEqual([]);
      });

      test('getMany returns values in the order asked, undefined for missing keys', async () => {
        await store.put('t', ['a'], 'A');
        await store.put('t', ['c'], { c: true });
        await expect(store.getMany('t', [['c'], ['missing'], ['a'], ['a']])).resolves.toEqual([{ c: true }, undefined, 'A', 'A']);
        await expect(store.getMany('t', [])).resolves.toEqual([]);
      });
    });

    describe('copies', () => {
      test('mutating a value after put does not change the store', async () => {
        const value = { roster: ['bob'], n: 1 };
        await store.put('t', ['k'], value);
        value.roster.push('mallory');
        value.n = 2;
        await expect(store.get('t', ['k'])).resolves.toEqual({ roster: ['bob'], n: 1 });
      });

      test('mutating a value returned by get, getMany or entries does not change the store', async () => {
        await store.put('t', ['k'], { roster: ['bob'] });
        const got = (await store.get<{ roster: string[] }>('t', ['k']))!;
        got.roster.push('from-get');
        const [many] = await store.getMany<{ roster: string[] }>('t', [['k']]);
        many!.roster.push('from-getMany');
        const [[, entry]] = await collect(store.entries<{ roster: string[] }>('t'));
        entry.roster.push('from-entries');
        await expect(store.get('t', ['k'])).resolves.toEqual({ roster: ['bob'] });
      });

      test('mutating a key after put, or a key returned by keys or entries, does not change the store', async () => {
        const k = ['h', 'alice'];
        await store.put('t', k, 1);
        k[1] = 'mallory';
        const [listed] = await keysOf('t');
        (listed as string[])[1] = 'eve';
        const [[entryKey]] = await collect(store.entries('t'));
        (entryKey as string[])[0] = 'x';
        await expect(collect(store.entries('t'))).resolves.toEqual([[['h', 'alice'], 1]]);
      });
    });

    describe('batch', () => {
      test('applies puts and dels across tables together', async () => {
        await store.put('passwd', ['h', 'alice'], { pw: 'x' });
        await store.put('last', ['h', 'alice'], { ts: 1 });
        await store.batch([
          { type: 'del', table: 'passwd', key: ['h', 'alice'] },
          { type: 'del', table: 'last', key: ['h', 'alice'] },
          { type: 'put', table: 'passwd', key: ['h', 'bob'], value: { pw: 'y' } },
          { type: 'put', table: 'roster', key: ['h', 'bob', 'carol'], value: { sub: 'both' } },
        ]);
        await expect(store.get('passwd', ['h', 'alice'])).resolves.toBeUndefined();
        await expect(store.get('last', ['h', 'alice'])).resolves.toBeUndefined();
        await expect(store.get('passwd', ['h', 'bob'])).resolves.toEqual({ pw: 'y' });
        await expect(store.get('roster', ['h', 'bob', 'carol'])).resolves.toEqual({ sub: 'both' });
      });

      test('stores a value given as its JSON text as that text, in a batch and alone', async () => {
        await store.batch([{ type: 'put', table: 'vcard', key: ['h', 'bob'], value: new JsonText('{"xml":"<vCard/>","n":[1,"\\u0000"]}') }]);
        await store.put('vcard', ['h', 'carol'], new JsonText('"text"'));
        await expect(store.get('vcard', ['h', 'bob'])).resolves.toEqual({ xml: '<vCard/>', n: [1, '\u0000'] });
        await expect(store.get('vcard', ['h', 'carol'])).resolves.toBe('text');
        const snap = await store.snapshot();
        try {
          expect(await collect(snap.entriesJson('vcard'))).toEqual([
            [['h', 'bob'], '{"xml":"<vCard/>","n":[1,"\\u0000"]}'],
            [['h', 'carol'], '"text"'],
          ]);
        } finally {
          await snap.close();
        }
      });

      test('later operations on the same key win', async () => {
        await store.batch([
          { type: 'put', table: 't', key: ['k'], value: 1 },
          { type: 'put', table: 't', key: ['k'], value: 2 },
          { type: 'put', table: 't', key: ['gone'], value: 3 },
          { type: 'del', table: 't', key: ['gone'] },
          { type: 'del', table: 't', key: ['back'] },
          { type: 'put', table: 't', key: ['back'], value: 4 },
        ]);
        await expect(collect(store.entries('t'))).resolves.toEqual([
          [['back'], 4],
          [['k'], 2],
        ]);
      });

      test('an empty batch is a no-op', async () => {
        await store.put('t', ['k'], 1);
        await store.batch([]);
        await expect(collect(store.entries('t'))).resolves.toEqual([[['k'], 1]]);
      });

      test('a large batch in no particular order keeps every key, in order', async () => {
        const ks = Array.from({ length: 500 }, (_, i) => [`u${(i * 7919) % 500}`, String(i % 3)]);
        await store.batch(ks.map((key) => ({ type: 'put', table: 't', key, value: 1 })));
        await store.batch(ks.filter((_, i) => i % 2 === 0).map((key) => ({ type: 'del', table: 't', key })));
        const expected = ks.filter((_, i) => i % 2 === 1).sort(compareKeys);
        await expect(keysOf('t')).resolves.toEqual(expected);
        await expect(keysOf('t', { prefix: ['u1'] })).resolves.toEqual(expected.filter((k) => k[0] === 'u1'));
      });

      test.each([
        ['first', 0],
        ['middle', 2],
        ['last', 4],
      ])('a value JSON cannot encode (%s op) fails the whole batch, in every table', async (_where, at) => {
        await store.put('passwd', ['h', 'alice'], { pw: 'old' });
        await store.put('last', ['h', 'alice'], { ts: 1 });
        const ops: BatchOp[] = [
          { type: 'put', table: 'passwd', key: ['h', 'alice'], value: { pw: 'new' } },
          { type: 'del', table: 'last', key: ['h', 'alice'] },
          { type: 'put', table: 'roster', key: ['h', 'alice', 'bob'], value: { sub: 'to' } },
          { type: 'put', table: 'passwd', key: ['h', 'zed'], value: { pw: 'z' } },
        ];
        ops.splice(at, 0, { type: 'put', table: 'vcard', key: ['h', 'alice'], value: { big: 10n } });
        await expect(store.batch(ops)).rejects.toThrow();
        await expect(collect(store.entries('passwd'))).resolves.toEqual([[['h', 'alice'], { pw: 'old' }]]);
        await expect(collect(store.entries('last'))).resolves.toEqual([[['h', 'alice'], { ts: 1 }]]);
        await expect(keysOf('roster')).resolves.toEqual([]);
        await expect(keysOf('vcard')).resolves.toEqual([]);
      });
    });

    describe('tables', () => {
      test('the same key in two tables holds two values', async () => {
        await store.put('passwd', ['k'], 'in passwd');
        await store.put('last', ['k'], 'in last');
        await expect(store.get('passwd', ['k'])).resolves.toBe('in passwd');
        await expect(store.get('last', ['k'])).resolves.toBe('in last');
        await store.del('passwd', ['k']);
        await expect(store.get('passwd', ['k'])).resolves.toBeUndefined();
        await expect(store.get('last', ['k'])).resolves.toBe('in last');
      });

      test('scanning a table never shows another table, even one whose name extends it', async () => {
        await putAll('tab', [['m']]);
        await putAll('tab2', [['a'], ['n'], ['\u{10ffff}']]);
        await putAll('ta', [['z']]);
        await expect(keysOf('tab')).resolves.toEqual([['m']]);
        await expect(keysOf('tab', { reverse: true })).resolves.toEqual([['m']]);
        await expect(keysOf('tab2')).resolves.toEqual([['a'], ['n'], ['\u{10ffff}']]);
        await expect(keysOf('empty')).resolves.toEqual([]);
      });
    });

    describe('tuple keys', () => {
      const ordered: Key[] = [
        ['a'],
        ['a', ''],
        ['a', '', 'x'],
        ['a', '\u0001'],
        ['a', 'b'],
        ['a', 'b', 'c'],
        ['a', '\uffff'],
        ['a', '😀'],
        ['a\u0001'],
        ['ab'],
        ['ab', 'a'],
        ['b'],
      ];

      test('keys order part by part, each by UTF-8 bytes, a tuple before its extensions', async () => {
        await putAll('t', [...ordered].reverse());
        await expect(keysOf('t')).resolves.toEqual(ordered);
        await expect(keysOf('t', { reverse: true })).resolves.toEqual([...ordered].reverse());
        await expect(keysOf('t', { gt: ['a'], lt: ['a', 'b'] })).resolves.toEqual([
          ['a', ''],
          ['a', '', 'x'],
          ['a', '\u0001'],
        ]);
        await expect(keysOf('t', { gt: ['a', '😀'], lte: ['ab'] })).resolves.toEqual([['a\u0001'], ['ab']]);
      });

      test.each<[Key, Key[]]>([
        [['a'], ordered.filter((k) => k[0] === 'a')],
        [
          ['a', ''],
          [
            ['a', ''],
            ['a', '', 'x'],
          ],
        ],
        [
          ['a', 'b'],
          [
            ['a', 'b'],
            ['a', 'b', 'c'],
          ],
        ],
        [['ab'], [['ab'], ['ab', 'a']]],
        [['a', 'b', 'c', 'd'], []],
        [['c'], []],
        [[], ordered],
      ])('prefix %j selects the key equal to it and its extensions, never a longer part', async (p, expected) => {
        await putAll('t', ordered);
        await expect(keysOf('t', { prefix: p })).resolves.toEqual(expected);
        await expect(keysOf('t', { prefix: p, reverse: true })).resolves.toEqual([...expected].reverse());
        await expect(keysOf('t', { prefix: p, limit: 1 })).resolves.toEqual(expected.slice(0, 1));
      });

      test('the empty tuple as a bound is below every key', async () => {
        await putAll('t', ordered);
        await expect(keysOf('t', { gt: [] })).resolves.toEqual(ordered);
        await expect(keysOf('t', { gte: [], lt: ['a', 'b'] })).resolves.toEqual(ordered.slice(0, 4));
        await expect(keysOf('t', { lt: [] })).resolves.toEqual([]);
        await expect(keysOf('t', { lte: [] })).resolves.toEqual([]);
      });

      const withNul: Key[] = [['a\u0000b'], ['h', '\u0000'], ['h', 'alice\u0000', 'bob']];

      /** Rejects with a TypeError that says what is wrong with the key. */
      const refusesNul = async (p: Promise<unknown>) => {
        const err = await p.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(TypeError);
        expect((err as Error).message).toMatch(/NUL/);
      };

      test.each(withNul.map((k) => [k]))('a key part holding NUL is refused, naming the problem, before anything is written (%j)', async (bad) => {
        await store.put('t', ['kept'], 1);
        await refusesNul(store.put('t', bad, 1));
        await refusesNul(
          store.batch([
            { type: 'put', table: 't', key: ['new'], value: 1 },
            { type: 'put', table: 't', key: bad, value: 1 },
          ]),
        );
        await refusesNul(
          store.batch([
            { type: 'del', table: 't', key: ['kept'] },
            { type: 'del', table: 't', key: bad },
          ]),
        );
        await refusesNul(store.del('t', bad));
        await refusesNul(store.get('t', bad));
        await refusesNul(store.getMany('t', [['kept'], bad]));
        await refusesNul(keysOf('t', { prefix: bad }));
        await refusesNul(keysOf('t', { gt: bad }));
        const fn = jest.fn(() => 2);
        await refusesNul(store.update('t', bad, fn));
        expect(fn).not.toHaveBeenCalled();
        await refusesNul(store.archive('arch').append(bad, { atMs: 1, value: 1 }));
        await refusesNul(store.archive('arch').append(['h'], { atMs: 1, value: 1, kind: 'a\u0000b' }));
        const r = await store.replaceAll();
        expect(() => r.put('t', bad, '1')).toThrow(TypeError);
        await r.abort();
        await expect(collect(store.entries('t'))).resolves.toEqual([[['kept'], 1]]);
        await expect(store.archive('arch').count(['h'])).resolves.toBe(0);
      });

      test('a key without parts, or with a part that is not well-formed text, is refused', async () => {
        await expect(store.put('t', [], 1)).rejects.toThrow(TypeError);
        await expect(store.put('t', ['h', 'a\ud800'], 1)).rejects.toThrow(TypeError);
        await expect(
          store.batch([
            { type: 'put', table: 't', key: ['fine'], value: 1 },
            { type: 'put', table: 't', key: [], value: 1 },
          ]),
        ).rejects.toThrow(TypeError);
        await expect(store.put('t', ['h', 7 as unknown as string], 1)).rejects.toThrow(TypeError);
        await expect(keysOf('t')).resolves.toEqual([]);
      });
    });

    describe('ordering and ranges', () => {
      // UTF-16 order would put the emoji (a surrogate pair, 0xD83D…) before U+E000 and U+FF5A;
      // UTF-8 byte order (LevelDB's) puts it after them.
      const unicodeKeys = ['', 'A', 'Z', 'a', 'z', '~', 'é', '\u07ff', '\u0800', '\ue000', 'ｚ', '\uffff', '😀', '😀a', '\u{10ffff}'].map((k) => [k]);

      test('keys come back in UTF-8 byte order, including characters above U+FFFF', async () => {
        const shuffled = [...unicodeKeys].reverse();
        shuffled.push(shuffled.splice(3, 1)[0]);
        await putAll('t', shuffled);
        await expect(keysOf('t')).resolves.toEqual(unicodeKeys);
        await expect(keysOf('t', { reverse: true })).resolves.toEqual([...unicodeKeys].reverse());
        await expect(keysOf('t', { gt: ['ｚ'], lt: ['\u{10ffff}'] })).resolves.toEqual([['\uffff'], ['😀'], ['😀a']]);
      });

      // One host, users 'a', 'ab', 'a!b', 'a b'; each with a record and sub-records.
      const composite: Key[] = [
        ['h', 'a'],
        ['h', 'a', 'bob'],
        ['h', 'a', 'carol'],
        ['h', 'a b'],
        ['h', 'a!b'],
        ['h', 'a!b', 'x'],
        ['h', 'ab'],
        ['h', 'ab', 'bob'],
        ['h2', 'a'],
        ['h2', 'a', 'bob'],
        ['hh', 'a'],
      ];

      test('tuple keys sort a user and its sub-records before any longer user name', async () => {
        await putAll('t', [...composite].reverse());
        await expect(keysOf('t')).resolves.toEqual(composite);
      });

      test.each<[Key, Key[]]>([
        [
          ['h', 'a'],
          [
            ['h', 'a'],
            ['h', 'a', 'bob'],
            ['h', 'a', 'carol'],
          ],
        ],
        [
          ['h', 'ab'],
          [
            ['h', 'ab'],
            ['h', 'ab', 'bob'],
          ],
        ],
        [
          ['h', 'a!b'],
          [
            ['h', 'a!b'],
            ['h', 'a!b', 'x'],
          ],
        ],
        [
          ['h2'],
          [
            ['h2', 'a'],
            ['h2', 'a', 'bob'],
          ],
        ],
        [['h'], composite.filter((k) => k[0] === 'h')],
        [['h', 'nobody'], []],
      ])('prefix %j selects exactly its own keys, forwards and backwards', async (p, expected) => {
        await putAll('t', composite);
        await expect(keysOf('t', { prefix: p })).resolves.toEqual(expected);
        await expect(keysOf('t', { prefix: p, reverse: true })).resolves.toEqual([...expected].reverse());
      });

      const letters = ['a', 'b', 'c', 'd', 'e'];
      test.each<[Range, string[]]>([
        [{}, letters],
        [{ gte: ['b'] }, ['b', 'c', 'd', 'e']],
        [{ gt: ['b'] }, ['c', 'd', 'e']],
        [{ gt: ['bb'] }, ['c', 'd', 'e']],
        [{ lte: ['d'] }, ['a', 'b', 'c', 'd']],
        [{ lt: ['d'] }, ['a', 'b', 'c']],
        [{ gte: ['b'], lt: ['d'] }, ['b', 'c']],
        [{ gt: ['b'], lte: ['d'] }, ['c', 'd']],
        [{ gt: ['d'], lt: ['b'] }, []],
        [{ gte: ['c'], lte: ['c'] }, ['c']],
        [{ gt: ['c'], lte: ['c'] }, []],
        [{ limit: 2 }, ['a', 'b']],
        [{ limit: 0 }, []],
        [{ limit: 10 }, letters],
        [{ reverse: true }, ['e', 'd', 'c', 'b', 'a']],
        [{ reverse: true, limit: 2 }, ['e', 'd']],
        [{ gte: ['b'], lt: ['e'], reverse: true, limit: 2 }, ['d', 'c']],
        [{ gt: ['a'], gte: ['c'] }, ['c', 'd', 'e']],
        [{ gt: ['c'], gte: ['a'] }, ['d', 'e']],
        [{ lt: ['c'], lte: ['d'] }, ['a', 'b']],
        [{ lt: ['e'], lte: ['b'] }, ['a', 'b']],
        [{ gt: ['b', 'x'] }, ['c', 'd', 'e']],
        [{ lt: ['b', 'x'] }, ['a', 'b']],
      ])('range %j', async (range, expected) => {
        await putAll(
          't',
          [...letters].reverse().map((l) => [l]),
        );
        await expect(keysOf('t', range)).resolves.toEqual(expected.map((l) => [l]));
      });

      // A prefix plus bounds is the intersection of both: paging through one user's records
      // ("after bob") must neither repeat the cursor nor leave the user.
      const paged: Key[] = [
        ['h', 'a'],
        ['h', 'a', 'bob'],
        ['h', 'a', 'carol'],
        ['h', 'a', 'dave'],
        ['h', 'ab', 'bob'],
      ];
      test.each<[string, Range, Key[]]>([
        [
          'gt (next page)',
          { gt: ['h', 'a', 'bob'] },
          [
            ['h', 'a', 'carol'],
            ['h', 'a', 'dave'],
          ],
        ],
        [
          'gte',
          { gte: ['h', 'a', 'carol'] },
          [
            ['h', 'a', 'carol'],
            ['h', 'a', 'dave'],
          ],
        ],
        [
          'lt (previous page)',
          { lt: ['h', 'a', 'dave'], reverse: true },
          [
            ['h', 'a', 'carol'],
            ['h', 'a', 'bob'],
            ['h', 'a'],
          ],
        ],
        [
          'lte',
          { lte: ['h', 'a', 'carol'] },
          [
            ['h', 'a'],
            ['h', 'a', 'bob'],
            ['h', 'a', 'carol'],
          ],
        ],
        ['gt + limit', { gt: ['h', 'a', 'bob'], limit: 1 }, [['h', 'a', 'carol']]],
        [
          'gt the prefix itself',
          { gt: ['h', 'a'] },
          [
            ['h', 'a', 'bob'],
            ['h', 'a', 'carol'],
            ['h', 'a', 'dave'],
          ],
        ],
        [
          'gte below the prefix',
          { gte: ['h', ''] },
          [
            ['h', 'a'],
            ['h', 'a', 'bob'],
            ['h', 'a', 'carol'],
            ['h', 'a', 'dave'],
          ],
        ],
        [
          'lt above the prefix',
          { lt: ['h', 'zzz'] },
          [
            ['h', 'a'],
            ['h', 'a', 'bob'],
            ['h', 'a', 'carol'],
            ['h', 'a', 'dave'],
          ],
        ],
        [
          'lte above the prefix',
          { lte: ['h', 'ab', 'bob'] },
          [
            ['h', 'a'],
            ['h', 'a', 'bob'],
            ['h', 'a', 'carol'],
            ['h', 'a', 'dave'],
          ],
        ],
        ['lt below the prefix', { lt: ['h', ''] }, []],
      ])('prefix with %s stays inside the prefix', async (_what, bounds, expected) => {
        await putAll('t', paged);
        await expect(keysOf('t', { prefix: ['h', 'a'], ...bounds })).resolves.toEqual(expected);
      });

      test('entries and keys agree for every range', async () => {
        await putAll('t', [...composite, ...unicodeKeys]);
        const ranges: Range[] = [{}, { prefix: ['h', 'a'] }, { gt: ['a'], lte: ['😀'], reverse: true }, { prefix: ['h'], limit: 3 }];
        for (const range of ranges) {
          const entries = await collect(store.entries<{ k: Key }>('t', range));
          expect(entries.map(([k]) => k)).toEqual(await keysOf('t', range));
          for (const [k, v] of entries) expect(v).toEqual({ k });
        }
      });
    });

    describe('update', () => {
      test('writes what fn returns from the current value, and resolves to it', async () => {
        await store.put('t', ['k'], { n: 1 });
        await expect(store.update<{ n: number }>('t', ['k'], (c) => ({ n: c!.n + 1 }))).resolves.toEqual({ n: 2 });
        await expect(store.get('t', ['k'])).resolves.toEqual({ n: 2 });
        const seen: unknown[] = [];
        await expect(
          store.update<{ n: number }>('t', ['new'], (c) => {
            seen.push(c);
            return { n: 0 };
          }),
        ).resolves.toEqual({ n: 0 });
        expect(seen).toEqual([undefined]);
        await expect(store.get('t', ['new'])).resolves.toEqual({ n: 0 });
      });

      test('50 concurrent increments of one key give 50, each seeing the one before', async () => {
        const results = await Promise.all(
          Array.from({ length: 50 }, () =>
            store.update<number>('t', ['counter'], async (c) => {
              await tick();
              return (c ?? 0) + 1;
            }),
          ),
        );
        await expect(store.get('t', ['counter'])).resolves.toBe(50);
        expect([...results].sort((a, b) => a! - b!)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      });

      test('null deletes the record and resolves to undefined', async () => {
        await store.put('t', ['k'], 'v');
        await store.put('t', ['other'], 'w');
        await expect(store.update('t', ['k'], () => null)).resolves.toBeUndefined();
        await expect(keysOf('t')).resolves.toEqual([['other']]);
        await expect(store.update('t', ['never-there'], () => null)).resolves.toBeUndefined();
      });

      test('undefined writes nothing and resolves to the value as it is', async () => {
        const also = jest.fn((): BatchOp[] => [{ type: 'put', table: 'idx', key: ['x'], value: 1 }]);
        await store.put('t', ['k'], { v: 1 });
        await expect(store.update('t', ['k'], () => undefined, { also })).resolves.toEqual({ v: 1 });
        await expect(store.update('t', ['missing'], async () => undefined, { also })).resolves.toBeUndefined();
        expect(also).not.toHaveBeenCalled();
        await expect(collect(store.entries('t'))).resolves.toEqual([[['k'], { v: 1 }]]);
        await expect(keysOf('idx')).resolves.toEqual([]);
      });

      test('also adds operations to the same atomic step; it gets the new value, null for a deletion', async () => {
        const seen: unknown[] = [];
        const also = (value: unknown): BatchOp[] => {
          seen.push(value);
          return value === null
            ? [{ type: 'del', table: 'idx', key: ['by-n', 'k'] }]
            : [
                { type: 'put', table: 'idx', key: ['by-n', 'k'], value: 1 },
                { type: 'del', table: 'other', key: ['k'] },
              ];
        };
        await store.put('other', ['k'], 'old');
        await store.update('t', ['k'], () => ({ n: 1 }), { also });
        await expect(store.get('t', ['k'])).resolves.toEqual({ n: 1 });
        await expect(keysOf('idx')).resolves.toEqual([['by-n', 'k']]);
        await expect(keysOf('other')).resolves.toEqual([]);
        await store.update('t', ['k'], () => null, { also });
        await expect(keysOf('t')).resolves.toEqual([]);
        await expect(keysOf('idx')).resolves.toEqual([]);
        expect(seen).toEqual([{ n: 1 }, null]);
      });

      test('when the new value or an also operation cannot be stored, nothing is written', async () => {
        await store.put('t', ['k'], 1);
        const bad = (): BatchOp[] => [{ type: 'put', table: 'idx', key: ['x'], value: 10n }];
        await expect(store.update('t', ['k'], () => 2, { also: bad })).rejects.toThrow();
        await expect(store.update('t', ['k'], () => 10n as unknown as number)).rejects.toThrow();
        await expect(store.update('t', ['k'], () => 3, { also: () => [{ type: 'put', table: 'idx', key: [], value: 1 }] })).rejects.toThrow(TypeError);
        await expect(store.get('t', ['k'])).resolves.toBe(1);
        await expect(keysOf('idx')).resolves.toEqual([]);
      });

      test('a throwing fn writes nothing and rejects with its error; the key is free after', async () => {
        await store.put('t', ['k'], 1);
        const err = new Error('refused');
        const also = jest.fn((): BatchOp[] => []);
        await expect(
          store.update(
            't',
            ['k'],
            () => {
              throw err;
            },
            { also },
          ),
        ).rejects.toBe(err);
        await expect(
          store.update(
            't',
            ['k'],
            async () => {
              await tick();
              throw err;
            },
            { also },
          ),
        ).rejects.toBe(err);
        expect(also).not.toHaveBeenCalled();
        await expect(store.get('t', ['k'])).resolves.toBe(1);
        await expect(
          within(
            store.update<number>('t', ['k'], (c) => c! + 1),
            2000,
          ),
        ).resolves.toBe(2);
      });

      test('updates of different keys, or of one key in two tables, do not wait for each other', async () => {
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        const slow = store.update('t', ['a'], async () => {
          await gate;
          return 'slow';
        });
        await expect(
          within(
            store.update('t', ['b'], () => 'b'),
            2000,
          ),
        ).resolves.toBe('b');
        await expect(
          within(
            store.update('t', ['a', 'x'], () => 'ax'),
            2000,
          ),
        ).resolves.toBe('ax');
        await expect(
          within(
            store.update('u', ['a'], () => 'ua'),
            2000,
          ),
        ).resolves.toBe('ua');
        const queued = store.update<string>('t', ['a'], (c) => `${c} then queued`);
        await tick();
        await expect(store.get('t', ['a'])).resolves.toBeUndefined();
        release();
        await expect(slow).resolves.toBe('slow');
        await expect(queued).resolves.toBe('slow then queued');
      });
    });

    describe('archives', () => {
      interface Msg {
        readonly text: string;
        readonly expires?: number;
      }
      const alice = ['h', 'alice'];
      const bob = ['h', 'bob'];
      const carol = ['h2', 'carol'];
      const archive = () => store.archive<Msg>('arch', { expiresOf: (m) => m.expires });
      const find = (owner: Key, query?: Parameters<ReturnType<typeof archive>['find']>[1]) => collect(archive().find(owner, query));
      const texts = async (owner: Key, query?: Parameters<ReturnType<typeof archive>['find']>[1]) => (await find(owner, query)).map((i) => i.value.text);
      const add = (owner: Key, atMs: number, text: string, more: { kind?: string; expires?: number } = {}) =>
        archive().append(owner, {
          atMs,
          value: more.expires === undefined ? { text } : { text, expires: more.expires },
          ...(more.kind !== undefined && { kind: more.kind }),
          ...(more.expires !== undefined && { expiresMs: more.expires }),
        });
      const everything = () => archive().purge({});

      test('an empty archive has nothing to find, count, delete or purge', async () => {
        await expect(find(alice)).resolves.toEqual([]);
        await expect(archive().count(alice)).resolves.toBe(0);
        await expect(archive().delete(alice)).resolves.toBe(0);
        await expect(archive().delete(alice, ['00000000000001-000000'])).resolves.toBe(0);
        await expect(archive().deleteOps(alice)).resolves.toEqual([]);
        await expect(archive().purge({ beforeMs: 1e12 })).resolves.toBe(0);
        await expect(archive().purge({ expiredAtMs: 1e12 })).resolves.toBe(0);
      });

      test("find yields the owner's items oldest first, with their ids and times", async () => {
        const c = await add(alice, 3000, 'c');
        const a = await add(alice, 1000, 'a');
        const b = await add(alice, 2000, 'b');
        await add(bob, 1500, 'x');
        const items = await find(alice);
        expect(items).toEqual<ArchiveItem<Msg>[]>([
          { id: a, atMs: 1000, value: { text: 'a' } },
          { id: b, atMs: 2000, value: { text: 'b' } },
          { id: c, atMs: 3000, value: { text: 'c' } },
        ]);
        expect([a, b, c]).toEqual([a, b, c].sort());
        await expect(texts(alice, { reverse: true })).resolves.toEqual(['c', 'b', 'a']);
        await expect(texts(alice, { limit: 2 })).resolves.toEqual(['a', 'b']);
        await expect(texts(alice, { reverse: true, limit: 1 })).resolves.toEqual(['c']);
        await expect(texts(bob)).resolves.toEqual(['x']);
        await expect(texts(['h', 'nobody'])).resolves.toEqual([]);
        await expect(texts(['h'])).resolves.toEqual([]);
      });

      test('appendOps gives ids and writes that append only once batched, with the rest of the batch', async () => {
        const first = await add(alice, 1000, 'first');
        const { ids, ops } = await archive().appendOps(alice, [
          { atMs: 1000, value: { text: 'same ms' } },
          { atMs: 5000, value: { text: 'expiring', expires: 9000 }, expiresMs: 9000 },
        ]);
        expect(ids).toHaveLength(2);
        expect(new Set([first, ...ids]).size).toBe(3);
        await expect(texts(alice)).resolves.toEqual(['first']);
        await store.batch([...ops, { type: 'put', table: 't', key: ['beside'], value: 1 }]);
        await expect(find(alice)).resolves.toEqual([
          { id: first, atMs: 1000, value: { text: 'first' } },
          { id: ids[0], atMs: 1000, value: { text: 'same ms' } },
          { id: ids[1], atMs: 5000, value: { text: 'expiring', expires: 9000 } },
        ]);
        await expect(store.get('t', ['beside'])).resolves.toBe(1);
        await expect(archive().purge({ expiredAtMs: 9000 })).resolves.toBe(1);
        await expect(texts(alice)).resolves.toEqual(['first', 'same ms']);
      });

      test('after a replacement brings items this store never numbered, appends are numbered after them', async () => {
        // What a restore from another node's backup does: the items come from elsewhere.
        const other = await open();
        const elsewhere = () => other.archive<Msg>('arch', { expiresOf: (m) => m.expires });
        for (const text of ['one', 'two', 'three']) await elsewhere().append(alice, { atMs: 7000, value: { text } });
        const snap = await other.snapshot();
        const saved: [string, Key, string][] = [];
        for (const table of await snap.tables()) for await (const [k, json] of snap.entriesJson(table)) saved.push([table, k, json]);
        await snap.close();
        await other.close();
        await add(alice, 7000, 'before');
        const back = await store.replaceAll();
        for (const [table, k, json] of saved) await back.put(table, k, json);
        await back.commit();
        await add(alice, 7000, 'after');
        await expect(texts(alice)).resolves.toEqual(['one', 'two', 'three', 'after']);
      });

      test("appendOps numbers a batch in its order, after what the owner has in each ms, even an ms older than the owner's newest", async () => {
        const first = await add(alice, 7000, 'stored 7000');
        const newest = await add(alice, 7002, 'stored 7002');
        await add(bob, 7002, 'bob');
        const { ids, ops } = await archive().appendOps(
          alice,
          [7002, 7002, 7000, 7001, 7002].map((atMs, i) => ({ atMs, value: { text: `batch ${i}` } })),
        );
        expect(new Set([first, newest, ...ids]).size).toBe(7);
        expect([first, ids[2]].sort()).toEqual([first, ids[2]]);
        expect([newest, ids[0], ids[1], ids[4]].sort()).toEqual([newest, ids[0], ids[1], ids[4]]);
        await store.batch(ops);
        await expect(texts(alice)).resolves.toEqual(['stored 7000', 'batch 2', 'batch 3', 'stored 7002', 'batch 0', 'batch 1', 'batch 4']);
        await expect(archive().count(bob)).resolves.toBe(1);
      });

      test("replaceOps replaces the owner's items, counting ids anew in each ms, and later appends go on from there", async () => {
        await add(alice, 1000, 'old', { expires: 2000 });
        await add(bob, 1000, 'bob keeps');
        const { ids, ops } = await archive().replaceOps(alice, [
          { atMs: 1000, value: { text: 'a' } },
          { atMs: 1000, value: { text: 'b' } },
          { atMs: 3000, value: { text: 'c' } },
        ]);
        // Each ms starts from the store's first number: 0 where it is the database's only writer.
        expect(ids[0] < ids[1]).toBe(true);
        expect(ids[2].slice(-7)).toBe(ids[0].slice(-7));
        await expect(texts(alice)).resolves.toEqual(['old']);
        await store.batch(ops);
        await expect(texts(alice)).resolves.toEqual(['a', 'b', 'c']);
        await expect(texts(bob)).resolves.toEqual(['bob keeps']);
        await expect(archive().purge({ expiredAtMs: 5000 })).resolves.toBe(0);
        const later = await add(alice, 1000, 'later');
        expect(ids).not.toContain(later);
        await expect(texts(alice)).resolves.toEqual(['a', 'b', 'later', 'c']);
      });

      test('items yields the items of every owner under a prefix, by owner, then by id', async () => {
        await add(bob, 2000, 'b2');
        await add(alice, 3000, 'a3');
        await add(carol, 1000, 'c1');
        await add(alice, 1000, 'a1');
        const seen: string[] = [];
        for await (const { owner, item } of archive().items(['h'])) seen.push(`${owner.join('/')} ${item.value.text} ${item.atMs}`);
        expect(seen).toEqual(['h/alice a1 1000', 'h/alice a3 3000', 'h/bob b2 2000']);
        const everyone: string[] = [];
        for await (const { item } of archive().items([])) everyone.push(item.value.text);
        expect(everyone).toEqual(['a1', 'a3', 'b2', 'c1']);
      });

      test('find selects by time: startMs at or after, endMs before', async () => {
        for (const [ms, t] of [
          [1000, 'a'],
          [2000, 'b'],
          [3000, 'c'],
        ] as const)
          await add(alice, ms, t);
        await expect(texts(alice, { startMs: 2000 })).resolves.toEqual(['b', 'c']);
        await expect(texts(alice, { endMs: 2000 })).resolves.toEqual(['a']);
        await expect(texts(alice, { startMs: 1500, endMs: 3000 })).resolves.toEqual(['b']);
        await expect(texts(alice, { startMs: 1000, endMs: 3001, reverse: true, limit: 2 })).resolves.toEqual(['c', 'b']);
        await expect(texts(alice, { startMs: 3001 })).resolves.toEqual([]);
        await expect(texts(alice, { endMs: 1000 })).resolves.toEqual([]);
      });

      test('find pages by id: after the last id seen, before the first', async () => {
        const ids: string[] = [];
        for (const [i, t] of ['a', 'b', 'c', 'd', 'e'].entries()) ids.push(await add(alice, 1000 * (i + 1), t));
        await add(bob, 2500, 'x');
        await expect(texts(alice, { limit: 2 })).resolves.toEqual(['a', 'b']);
        await expect(texts(alice, { after: ids[1], limit: 2 })).resolves.toEqual(['c', 'd']);
        await expect(texts(alice, { after: ids[3], limit: 2 })).resolves.toEqual(['e']);
        await expect(texts(alice, { after: ids[4] })).resolves.toEqual([]);
        await expect(texts(alice, { before: ids[2], reverse: true, limit: 2 })).resolves.toEqual(['b', 'a']);
        await expect(texts(alice, { after: ids[0], before: ids[3] })).resolves.toEqual(['b', 'c']);
        await expect(texts(alice, { after: ids[0], startMs: 3000 })).resolves.toEqual(['c', 'd', 'e']);
        await expect(texts(alice, { after: ids[3], startMs: 2000 })).resolves.toEqual(['e']);
        await expect(texts(alice, { before: ids[4], endMs: 3000 })).resolves.toEqual(['a', 'b']);
        await expect(texts(alice, { before: ids[1], endMs: 5000 })).resolves.toEqual(['a']);
      });

      test('ids increase within one ms, in the order of appends, and across owners', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 10; i++) {
          ids.push(await add(alice, 7000, `a${i}`));
          await add(bob, 7000, `b${i}`);
        }
        expect(new Set(ids).size).toBe(10);
        expect([...ids].sort()).toEqual(ids);
        const items = await find(alice);
        expect(items.map((i) => i.id)).toEqual(ids);
        expect(items.map((i) => i.value.text)).toEqual(Array.from({ length: 10 }, (_, i) => `a${i}`));
        expect(items.every((i) => i.atMs === 7000)).toBe(true);
        const earlier = await add(alice, 6999, 'earlier');
        expect(earlier < ids[0]).toBe(true);
        await expect(texts(alice, { limit: 1 })).resolves.toEqual(['earlier']);
        await expect(archive().count(bob)).resolves.toBe(10);
      });

      test('concurrent appends get distinct ids, and every item is kept', async () => {
        const appends = [...Array.from({ length: 50 }, (_, i) => add(alice, 8000, `a${i}`)), ...Array.from({ length: 10 }, (_, i) => add(bob, 8000, `b${i}`))];
        const ids = await Promise.all(appends);
        expect(new Set(ids.slice(0, 50)).size).toBe(50);
        expect(new Set(ids.slice(50)).size).toBe(10);
        await expect(archive().count(alice)).resolves.toBe(50);
        const items = await find(alice);
        expect(new Set(items.map((i) => i.value.text)).size).toBe(50);
        expect(items.map((i) => i.id)).toEqual([...ids.slice(0, 50)].sort());
      });

      test('two handles on one archive never hand out one id twice', async () => {
        const one = store.archive<string>('arch');
        const two = store.archive<string>('arch');
        const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).append(alice, { atMs: 9000, value: `v${i}` })));
        expect(new Set(ids).size).toBe(20);
        await expect(one.count(alice)).resolves.toBe(20);
      });

      test('archives of different names, and owners of one archive, are apart', async () => {
        await add(alice, 1000, 'mine');
        await store.archive<Msg>('other').append(alice, { atMs: 1000, value: { text: 'other' } });
        await add(['h', 'alic'], 1000, 'shorter name');
        await add(['h', 'alice2'], 1000, 'longer name');
        await expect(texts(alice)).resolves.toEqual(['mine']);
        await expect(archive().count(alice)).resolves.toBe(1);
        await expect(collect(store.archive<Msg>('other').find(alice))).resolves.toMatchObject([{ value: { text: 'other' } }]);
        await expect(archive().delete(alice)).resolves.toBe(1);
        await expect(store.archive('other').count(alice)).resolves.toBe(1);
        await expect(archive().count(['h', 'alice2'])).resolves.toBe(1);
      });

      test("count counts the owner's items only", async () => {
        for (let i = 0; i < 7; i++) await add(alice, 1000 + i, `a${i}`);
        await add(bob, 1000, 'b');
        await expect(archive().count(alice)).resolves.toBe(7);
        await expect(archive().count(bob)).resolves.toBe(1);
        await expect(archive().count(carol)).resolves.toBe(0);
      });

      test('delete of some ids removes those, with what indexes them, counting the ones that were there', async () => {
        const ids: string[] = [];
        for (const [i, t] of ['a', 'b', 'c', 'd'].entries()) ids.push(await add(alice, 1000 + i, t, { expires: 5000 }));
        await add(bob, 1000, 'x', { expires: 5000 });
        await expect(archive().delete(alice, [ids[1], ids[3], 'no-such-id', ids[1]])).resolves.toBe(2);
        await expect(texts(alice)).resolves.toEqual(['a', 'c']);
        await expect(archive().count(alice)).resolves.toBe(2);
        await expect(archive().delete(alice, [])).resolves.toBe(0);
        await expect(archive().delete(bob, [ids[2]])).resolves.toBe(0);
        await expect(texts(bob)).resolves.toEqual(['x']);
        // The purges see only what is left: the deleted items took their index rows along.
        await expect(archive().purge({ expiredAtMs: 5000 })).resolves.toBe(3);
        await expect(everything()).resolves.toBe(0);
      });

      test("delete of an owner removes all of their items and nobody else's", async () => {
        await add(alice, 1000, 'a');
        await add(alice, 2000, 'b', { expires: 3000, kind: 'chat' });
        await add(alice, 2000, 'c');
        await add(bob, 1500, 'x');
        await expect(archive().delete(alice)).resolves.toBe(3);
        await expect(find(alice)).resolves.toEqual([]);
        await expect(texts(bob)).resolves.toEqual(['x']);
        await expect(archive().purge({ expiredAtMs: 1e12 })).resolves.toBe(0);
        await expect(everything()).resolves.toBe(1);
      });

      test("deleteOps writes nothing itself; joined to a larger batch it removes the owner's items", async () => {
        await add(alice, 1000, 'a');
        await add(alice, 2000, 'b', { expires: 3000 });
        await add(bob, 1500, 'x', { expires: 3000 });
        const ops = await archive().deleteOps(alice);
        await expect(archive().count(alice)).resolves.toBe(2);
        await store.batch([...ops, { type: 'del', table: 'passwd', key: alice }, { type: 'put', table: 'log', key: ['removed'], value: 1 }]);
        await expect(archive().count(alice)).resolves.toBe(0);
        await expect(store.get('log', ['removed'])).resolves.toBe(1);
        await expect(texts(bob)).resolves.toEqual(['x']);
        await expect(archive().purge({ expiredAtMs: 3000 })).resolves.toBe(1);
        await expect(everything()).resolves.toBe(0);
      });

      test('purge by time removes, over every owner, the items archived before the time', async () => {
        await add(alice, 1000, 'a');
        await add(alice, 2000, 'b');
        await add(alice, 3000, 'c');
        await add(bob, 1500, 'x', { expires: 9000 });
        await add(carol, 3500, 'y');
        await expect(archive().purge({ beforeMs: 2000 })).resolves.toBe(2);
        await expect(texts(alice)).resolves.toEqual(['b', 'c']);
        await expect(texts(bob)).resolves.toEqual([]);
        await expect(texts(carol)).resolves.toEqual(['y']);
        await expect(archive().purge({ beforeMs: 2000 })).resolves.toBe(0);
        await expect(archive().purge({ expiredAtMs: 9000 })).resolves.toBe(0);
        await expect(everything()).resolves.toBe(3);
        await expect(archive().count(alice)).resolves.toBe(0);
      });

      test('purge by expiry removes the items whose expiry is at or before the time, and only those', async () => {
        await add(alice, 1000, 'a', { expires: 5000 });
        await add(alice, 2000, 'b');
        await add(alice, 3000, 'c', { expires: 6000 });
        await add(bob, 1500, 'x', { expires: 5000 });
        await add(bob, 1600, 'past', { expires: 10 });
        await expect(archive().purge({ expiredAtMs: 4999 })).resolves.toBe(1);
        await expect(texts(bob)).resolves.toEqual(['x']);
        await expect(archive().purge({ expiredAtMs: 5000 })).resolves.toBe(2);
        await expect(texts(alice)).resolves.toEqual(['b', 'c']);
        await expect(texts(bob)).resolves.toEqual([]);
        await expect(archive().purge({ expiredAtMs: 1e12 })).resolves.toBe(1);
        await expect(texts(alice)).resolves.toEqual(['b']);
        // What expired took its place in the time order along.
        await expect(everything()).resolves.toBe(1);
      });

      test('purge by expiry and time removes the items that meet both', async () => {
        await add(alice, 1000, 'a', { expires: 5000 });
        await add(alice, 3000, 'b', { expires: 5000 });
        await add(alice, 1000, 'c');
        await expect(archive().purge({ expiredAtMs: 5000, beforeMs: 2000 })).resolves.toBe(1);
        await expect(texts(alice)).resolves.toEqual(['c', 'b']);
      });

      test('purge by kind removes only the items of that kind', async () => {
        await add(alice, 1000, 'chat', { kind: 'chat' });
        await add(alice, 1100, 'groupchat', { kind: 'groupchat' });
        await add(alice, 1200, 'no kind');
        await add(bob, 1300, 'chat', { kind: 'chat' });
        await add(alice, 3000, 'late chat', { kind: 'chat' });
        await add(alice, 3100, 'expiring groupchat', { kind: 'groupchat', expires: 5000 });
        await add(alice, 3200, 'expiring chat', { kind: 'chat', expires: 5000 });
        await expect(archive().purge({ beforeMs: 2000, kind: 'chat' })).resolves.toBe(2);
        await expect(texts(alice)).resolves.toEqual(['groupchat', 'no kind', 'late chat', 'expiring groupchat', 'expiring chat']);
        await expect(archive().purge({ expiredAtMs: 5000, kind: 'groupchat' })).resolves.toBe(1);
        await expect(archive().purge({ kind: 'groupchat' })).resolves.toBe(1);
        await expect(archive().purge({ kind: 'headline' })).resolves.toBe(0);
        await expect(texts(alice)).resolves.toEqual(['no kind', 'late chat', 'expiring chat']);
        await expect(archive().purge({ kind: 'chat' })).resolves.toBe(2);
        await expect(texts(alice)).resolves.toEqual(['no kind']);
      });

      test('purge works in atomic steps of at most pageSize items, telling of each', async () => {
        const owners = [alice, bob, carol];
        for (let i = 0; i < 25; i++) await add(owners[i % 3], 1000 + i, `m${i}`, { kind: i % 2 ? 'chat' : 'groupchat' });
        const pages: number[] = [];
        await expect(archive().purge({ kind: 'chat' }, { pageSize: 4, onPage: (n) => pages.push(n) })).resolves.toBe(12);
        expect(pages.every((n) => n >= 1 && n <= 4)).toBe(true);
        expect(pages.reduce((a, b) => a + b, 0)).toBe(12);
        pages.length = 0;
        await expect(archive().purge({ beforeMs: 1e6 }, { pageSize: 5, onPage: (n) => pages.push(n) })).resolves.toBe(13);
        expect(pages.every((n) => n >= 1 && n <= 5)).toBe(true);
        expect(pages.length).toBeGreaterThanOrEqual(3);
        expect(pages.reduce((a, b) => a + b, 0)).toBe(13);
        for (const o of owners) await expect(archive().count(o)).resolves.toBe(0);
      });

      test('purge in pages over many items of one owner removes every one', async () => {
        for (let i = 0; i < 30; i++) await add(alice, 1000 + (i % 4), `m${i}`, { expires: 2000 });
        await expect(archive().purge({ expiredAtMs: 2000 }, { pageSize: 7 })).resolves.toBe(30);
        await expect(archive().count(alice)).resolves.toBe(0);
      });

      test('an entry that expires needs an archive that reads its expiry back, and the same one', async () => {
        await expect(store.archive<Msg>('plain').append(alice, { atMs: 1, expiresMs: 5, value: { text: 'a', expires: 5 } })).rejects.toThrow(TypeError);
        await expect(archive().append(alice, { atMs: 1, expiresMs: 5, value: { text: 'a', expires: 6 } })).rejects.toThrow(TypeError);
        await expect(archive().append(alice, { atMs: 1, value: { text: 'a', expires: 6 } })).rejects.toThrow(TypeError);
        await expect(store.archive('plain').count(alice)).resolves.toBe(0);
        await expect(archive().count(alice)).resolves.toBe(0);
      });

      test('an item the store cannot hold is refused and leaves nothing behind', async () => {
        await expect(store.archive<unknown>('arch').append(alice, { atMs: 1, value: 10n })).rejects.toThrow();
        await expect(store.archive<unknown>('arch').append(alice, { atMs: 1, value: null })).rejects.toThrow();
        await expect(store.archive<unknown>('arch').append(alice, { atMs: Number.NaN, value: 1 })).rejects.toThrow(TypeError);
        await expect(archive().count(alice)).resolves.toBe(0);
        await expect(everything()).resolves.toBe(0);
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
        await store.put('roster', ['k'], 1);
        await store.put('mam_by_time', ['k'], 1);
        await store.put('mam', ['k'], 1);
        await store.put('emptied', ['k'], 1);
        await store.del('emptied', ['k']);
        await store.get('never-written', ['k']);
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
          { type: 'put', table: 'passwd', key: ['h', 'alice'], value: { pw: 'a' } },
          { type: 'put', table: 'passwd', key: ['h', 'bob'], value: { pw: 'b' } },
          { type: 'put', table: 'last', key: ['h', 'alice'], value: 1 },
        ]);
        const snap = await store.snapshot();
        await store.batch([
          { type: 'del', table: 'passwd', key: ['h', 'alice'] },
          { type: 'put', table: 'passwd', key: ['h', 'bob'], value: { pw: 'changed' } },
          { type: 'put', table: 'passwd', key: ['h', 'carol'], value: { pw: 'c' } },
          { type: 'del', table: 'last', key: ['h', 'alice'] },
          { type: 'put', table: 'roster', key: ['h', 'bob', 'x'], value: 2 },
        ]);
        await expect(snap.tables()).resolves.toEqual(['last', 'passwd']);
        await expect(json('passwd', undefined, snap)).resolves.toEqual([
          [['h', 'alice'], '{"pw":"a"}'],
          [['h', 'bob'], '{"pw":"b"}'],
        ]);
        await expect(json('last', undefined, snap)).resolves.toEqual([[['h', 'alice'], '1']]);
        await expect(json('roster', undefined, snap)).resolves.toEqual([]);
        await snap.close();
        await expect(collect(store.keys('passwd'))).resolves.toEqual([
          ['h', 'bob'],
          ['h', 'carol'],
        ]);
      });

      test('snapshot entries are JSON texts in key order, over ranges as entries are', async () => {
        const values: unknown[] = [{ a: [1, 'two'] }, 'Ünïcødé 😀 \u0000 "q"', 0, false, -1.5];
        const ks = ['e', 'd', 'c', 'b', 'a'];
        for (const [i, k] of ks.entries()) await store.put('t', [k], values[i]);
        await store.put('t', ['a', 'sub'], 'a sub-record');
        const all = await json('t');
        expect(all.map(([k]) => k)).toEqual([['a'], ['a', 'sub'], ['b'], ['c'], ['d'], ['e']]);
        expect(all.map(([k, v]) => [k, JSON.parse(v)])).toEqual(await collect(store.entries('t')));
        await expect(json('t', { gt: ['b'], limit: 2 })).resolves.toEqual([
          [['c'], '0'],
          [['d'], '"Ünïcødé 😀 \\u0000 \\"q\\""'],
        ]);
        await expect(json('t', { reverse: true, limit: 1 })).resolves.toEqual([[['e'], '{"a":[1,"two"]}']]);
        await expect(json('t', { prefix: ['a'] })).resolves.toEqual([
          [['a'], '-1.5'],
          [['a', 'sub'], '"a sub-record"'],
        ]);
      });

      test('a replacement changes nothing until committed, then holds exactly the new records', async () => {
        await store.put('passwd', ['h', 'old'], { pw: 'o' });
        await store.put('passwd', ['h', 'both'], { pw: 'before' });
        await store.put('vcard', ['h', 'old'], { xml: '<vCard/>' });
        const r = await store.replaceAll();
        await r.put('passwd', ['h', 'both'], '{"pw":"after"}');
        await r.put('roster', ['h', 'new', 'c'], '["both",{"n":"Ünïcødé"}]');
        await r.put('roster', ['h', 'new', 'c'], '["none"]');
        await r.put('last', ['h', 'new'], '7');
        await expect(store.get('passwd', ['h', 'both'])).resolves.toEqual({ pw: 'before' });
        await expect(collect(store.keys('roster'))).resolves.toEqual([]);
        await r.commit();
        await expect(collect(store.entries('passwd'))).resolves.toEqual([[['h', 'both'], { pw: 'after' }]]);
        await expect(collect(store.entries('roster'))).resolves.toEqual([[['h', 'new', 'c'], ['none']]]);
        await expect(store.get('last', ['h', 'new'])).resolves.toBe(7);
        await expect(collect(store.keys('vcard'))).resolves.toEqual([]);
        const snap = await store.snapshot();
        await expect(snap.tables()).resolves.toEqual(['last', 'passwd', 'roster']);
        await snap.close();
      });

      test('a large replacement keeps every record, in key order', async () => {
        for (let i = 0; i < 100; i++) await store.put('t', ['old', String(i)], i);
        const r = await store.replaceAll();
        const ks = Array.from({ length: 300 }, (_, i) => ['new', String((i * 101) % 300)]);
        for (const k of ks) await r.put('t', k, '1');
        await r.commit();
        await expect(keysOf('t')).resolves.toEqual([...ks].sort(compareKeys));
      });

      test('an aborted replacement leaves every record as it was', async () => {
        await store.put('passwd', ['h', 'a'], { pw: 'a' });
        const r = await store.replaceAll();
        await r.put('passwd', ['h', 'a'], '{"pw":"new"}');
        await r.put('last', ['h', 'a'], '1');
        await r.abort();
        await expect(collect(store.entries('passwd'))).resolves.toEqual([[['h', 'a'], { pw: 'a' }]]);
        await expect(collect(store.keys('last'))).resolves.toEqual([]);
      });

      test('an empty replacement empties the database; records written after it began are kept', async () => {
        await store.put('passwd', ['h', 'a'], 1);
        await store.put('roster', ['h', 'a', 'b'], 1);
        const r = await store.replaceAll();
        await store.put('roster', ['h', 'late', 'b'], 2);
        await r.commit();
        await expect(collect(store.keys('passwd'))).resolves.toEqual([]);
        await expect(collect(store.entries('roster'))).resolves.toEqual([[['h', 'late', 'b'], 2]]);
      });

      test('while a large replacement is prepared, readers see the old records only; once committed, the new ones only', async () => {
        await store.put('passwd', ['h', 'old'], { pw: 'o' });
        await store.put('vcard', ['h', 'old'], { xml: '<vCard/>' });
        const r = await store.replaceAll();
        for (let i = 0; i < BIG; i++) await r.put('passwd', ['h', `new${String(i).padStart(4, '0')}`], big(i));
        await expect(collect(store.entries('passwd'))).resolves.toEqual([[['h', 'old'], { pw: 'o' }]]);
        await expect(store.get('passwd', ['h', 'new0000'])).resolves.toBeUndefined();
        const snap = await store.snapshot();
        await expect(snap.tables()).resolves.toEqual(['passwd', 'vcard']);
        await expect(collect(snap.entriesJson('passwd'))).resolves.toEqual([[['h', 'old'], '{"pw":"o"}']]);
        await snap.close();
        await r.commit();
        const ks = await keysOf('passwd');
        expect(ks).toHaveLength(BIG);
        expect(ks[0]).toEqual(['h', 'new0000']);
        await expect(store.get<{ i: number }>('passwd', ['h', 'new0599'])).resolves.toMatchObject({ i: 599 });
        await expect(keysOf('vcard')).resolves.toEqual([]);
      });

      test('an aborted large replacement leaves every record as it was, and the next one starts afresh', async () => {
        await store.put('passwd', ['h', 'old'], { pw: 'o' });
        const r = await store.replaceAll();
        for (let i = 0; i < BIG; i++) await r.put('passwd', ['h', `new${i}`], big(i));
        await r.abort();
        await expect(collect(store.entries('passwd'))).resolves.toEqual([[['h', 'old'], { pw: 'o' }]]);
        const again = await store.replaceAll();
        await again.put('last', ['h', 'x'], '1');
        await again.commit();
        await expect(keysOf('passwd')).resolves.toEqual([]);
        await expect(collect(store.entries('last'))).resolves.toEqual([[['h', 'x'], 1]]);
      });

      test('a record added twice far apart in a large replacement keeps the later value', async () => {
        const r = await store.replaceAll();
        await r.put('t', ['k'], '"first"');
        for (let i = 0; i < BIG; i++) await r.put('t', ['p', String(i)], big(i));
        await r.put('t', ['k'], '"second"');
        await r.commit();
        await expect(store.get('t', ['k'])).resolves.toBe('second');
      });
    });

    if (reopen) {
      describe('persistence', () => {
        test('records written by put and batch are there after reopening; deleted ones are not', async () => {
          await store.put('passwd', ['h', 'alice'], { pw: 'a' });
          await store.put('passwd', ['h', 'gone'], { pw: 'g' });
          await store.put('last', ['h', '😀'], { ts: 1, note: 'Ünïcødé' });
          await store.batch([
            { type: 'put', table: 'roster', key: ['h', 'alice', 'bob'], value: ['both'] },
            { type: 'del', table: 'passwd', key: ['h', 'gone'] },
          ]);
          await store.put('passwd', ['unsynced'], 1, { sync: false });
          await store.update('passwd', ['updated'], () => 2, { sync: false });
          store = await reopen(store);
          await expect(collect(store.entries('passwd'))).resolves.toEqual([
            [['h', 'alice'], { pw: 'a' }],
            [['unsynced'], 1],
            [['updated'], 2],
          ]);
          await expect(store.get('last', ['h', '😀'])).resolves.toEqual({ ts: 1, note: 'Ünïcødé' });
          await expect(
            store.getMany('roster', [
              ['h', 'alice', 'bob'],
              ['h', 'x'],
            ]),
          ).resolves.toEqual([['both'], undefined]);
        });

        test('a large replacement left unfinished by closing the store is gone after reopening', async () => {
          await store.put('passwd', ['h', 'old'], 1);
          const r = await store.replaceAll();
          for (let i = 0; i < BIG; i++) await r.put('passwd', ['h', `new${i}`], big(i));
          store = await reopen(store);
          await expect(collect(store.entries('passwd'))).resolves.toEqual([[['h', 'old'], 1]]);
          const snap = await store.snapshot();
          await expect(snap.tables()).resolves.toEqual(['passwd']);
          await snap.close();
          await r.abort().catch(() => undefined);
          await expect(collect(store.entries('passwd'))).resolves.toEqual([[['h', 'old'], 1]]);
        });

        test('a committed replacement is what reopening finds', async () => {
          await store.put('passwd', ['h', 'old'], 1);
          const r = await store.replaceAll();
          await r.put('passwd', ['h', 'new'], '{"pw":"n"}');
          await r.put('srg', ['h', 'g'], '{"name":"G"}');
          await r.commit();
          store = await reopen(store);
          await expect(collect(store.entries('passwd'))).resolves.toEqual([[['h', 'new'], { pw: 'n' }]]);
          await expect(collect(store.entries('srg'))).resolves.toEqual([[['h', 'g'], { name: 'G' }]]);
        });

        test('a failed batch leaves nothing behind after reopening', async () => {
          await store.put('t', ['kept'], 1);
          await expect(
            store.batch([
              { type: 'put', table: 't', key: ['half'], value: 1 },
              { type: 'del', table: 't', key: ['kept'] },
              { type: 'put', table: 'u', key: ['bad'], value: 1n },
            ]),
          ).rejects.toThrow();
          store = await reopen(store);
          await expect(collect(store.entries('t'))).resolves.toEqual([[['kept'], 1]]);
          await expect(keysOf('u')).resolves.toEqual([]);
        });

        test("after reopening, an owner's items are numbered after what is stored, in the newest ms and in older ones", async () => {
          const owner = ['h', 'alice'];
          const arch = () => store.archive<string>('arch');
          const before = [await arch().append(owner, { atMs: 9000, value: 'a' }), await arch().append(owner, { atMs: 9000, value: 'b' })];
          before.push(await arch().append(owner, { atMs: 9500, value: 'c' }));
          store = await reopen(store);
          const { ids, ops } = await arch().appendOps(owner, [
            { atMs: 9500, value: 'd' },
            { atMs: 9000, value: 'e' },
          ]);
          expect(ids.every((id) => !before.includes(id))).toBe(true);
          await store.batch(ops);
          await expect(collect(arch().find(owner))).resolves.toMatchObject(['a', 'b', 'e', 'c', 'd'].map((value) => ({ value })));
        });

        test('archive ids keep increasing after reopening, even within one ms', async () => {
          const owner = ['h', 'alice'];
          const before: string[] = [];
          for (let i = 0; i < 3; i++) before.push(await store.archive<number>('arch').append(owner, { atMs: 9000, value: i }));
          store = await reopen(store);
          const after = await store.archive<number>('arch').append(owner, { atMs: 9000, value: 3 });
          expect(before.every((id) => id < after)).toBe(true);
          const items = await collect(store.archive<number>('arch').find(owner));
          expect(items.map((i) => i.value)).toEqual([0, 1, 2, 3]);
          expect(items.map((i) => i.id)).toEqual([...before, after]);
          await expect(store.archive('arch').purge({ beforeMs: 9001 })).resolves.toBe(4);
        });
      });
    }
  });
}

/** The contract's key order, for expected lists: part by part, a tuple before its extensions. */
function compareKeys(a: Key, b: Key): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return Buffer.compare(Buffer.from(a[i]), Buffer.from(b[i]));
  }
  return a.length - b.length;
}

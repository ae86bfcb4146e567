import { defaultConfig } from '../../src/config/config';
import { createAccounts } from '../../src/features/accounts/accounts';
import { featureDeps } from '../../src/features/deps';
import { createMam, type ChatToArchive } from '../../src/features/mam/mam';
import type { BareJid } from '../../src/lib/jid';
import { createMemoryStore } from '../../src/storage/memory';
import type { Store } from '../../src/storage/types';
import { usersRows } from '../../src/features/mam/records';

const NOW = 1_700_000_000_000;
const alice: BareJid = { user: 'alice', host: 'localhost' };
const bob: BareJid = { user: 'bob', host: 'localhost' };
const carol: BareJid = { user: 'carol', host: 'localhost' };

async function setup(store: Store = createMemoryStore()) {
  const deps = featureDeps({ store, config: defaultConfig('/nonexistent/ctl.yml'), clock: () => NOW });
  const accounts = createAccounts(deps, () => [usersRows]);
  for (const jid of [alice, bob]) await accounts.register(jid, 'pw');
  return { deps, accounts, mam: createMam(deps, accounts) };
}

const chat = (owner: BareJid, withJid: string, body: string, timestamp = NOW): ChatToArchive => ({
  owner,
  withJid,
  xml: `<message><body>${body}</body></message>`,
  timestamp,
});
const bodies = (rows: readonly { xml: string }[]) => rows.map((r) => /<body>(.*)<\/body>/.exec(r.xml)?.[1]);

describe('archiveChats', () => {
  test("writes each owner's messages in the order given, with the ids the archive lists", async () => {
    const { mam } = await setup();
    const ids = await mam.archiveChats([chat(alice, 'bob@localhost', 'a1'), chat(bob, 'alice@localhost', 'b1'), chat(alice, 'bob@localhost', 'a2', NOW + 5)]);
    const a = await mam.messages(alice);
    expect(bodies(a)).toEqual(['a1', 'a2']);
    expect(a.map((m) => m.timestamp)).toEqual([NOW, NOW + 5]);
    expect(a.map((m) => m.with)).toEqual(['bob@localhost', 'bob@localhost']);
    expect(bodies(await mam.messages(bob))).toEqual(['b1']);
    expect(ids).toEqual([a[0].id, (await mam.messages(bob))[0].id, a[1].id]);
  });

  test('a later batch comes after an earlier one in the same millisecond', async () => {
    const { mam } = await setup();
    await mam.archiveChats([chat(alice, 'bob@localhost', '1')]);
    await mam.archive(alice, 'chat', 'bob@localhost', '<message><body>2</body></message>');
    await mam.archiveChats([chat(alice, 'bob@localhost', '3')]);
    const all = await mam.messages(alice);
    expect(bodies(all)).toEqual(['1', '2', '3']);
    expect([...all.map((m) => m.id)].sort()).toEqual(all.map((m) => m.id));
  });

  test('skips owners without an account and writes the others', async () => {
    const { mam } = await setup();
    const ids = await mam.archiveChats([chat(carol, 'bob@localhost', 'lost'), chat(bob, 'carol@localhost', 'kept')]);
    expect(ids[0]).toBeUndefined();
    expect(typeof ids[1]).toBe('string');
    expect(await mam.messages(carol)).toEqual([]);
    expect(bodies(await mam.messages(bob))).toEqual(['kept']);
  });

  test('an account removed while the batch is written keeps nothing of it', async () => {
    // The batch's write waits until the removal, which it does not lock out, is done.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const memory = createMemoryStore();
    const store: Store = Object.create(memory) as Store;
    let held = false;
    store.batch = async (ops, o) => {
      if (!held && ops.some((op) => op.table === 'mam')) {
        held = true;
        await gate;
      }
      return memory.batch(ops, o);
    };
    const { accounts, mam } = await setup(store);
    const batch = mam.archiveChats([chat(alice, 'bob@localhost', 'a'), chat(bob, 'alice@localhost', 'b')]);
    while (!held) await new Promise((r) => setImmediate(r));
    await accounts.remove(alice);
    release();
    expect((await batch).every((id) => typeof id === 'string')).toBe(true);
    expect(await accounts.exists(alice)).toBe(false);
    expect(await mam.messages(alice)).toEqual([]);
    expect(bodies(await mam.messages(bob))).toEqual(['b']);
  });

  test('a removal after the batch takes what it wrote', async () => {
    const { accounts, mam } = await setup();
    await mam.archiveChats([chat(alice, 'bob@localhost', 'a')]);
    await accounts.remove(alice);
    expect(await mam.messages(alice)).toEqual([]);
  });
});

describe('removals', () => {
  test('counts removals begun and ended', async () => {
    const { accounts } = await setup();
    expect(accounts.removals()).toEqual({ started: 0, finished: 0 });
    await accounts.remove(alice);
    expect(accounts.removals()).toEqual({ started: 1, finished: 1 });
  });

  test('existing answers for each account in order', async () => {
    const { accounts } = await setup();
    expect(await accounts.existing([bob, carol, alice])).toEqual([true, false, true]);
  });
});

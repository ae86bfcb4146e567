import { defaultConfig } from '../../src/config/config';
import { createAccounts } from '../../src/features/accounts/accounts';
import { featureDeps } from '../../src/features/deps';
import { createMam } from '../../src/features/mam/mam';
import { decodeArchivedMessage, readArchive, usersRows, writeArchive } from '../../src/features/mam/records';
import type { BareJid } from '../../src/lib/jid';
import { parseXml } from '../../src/lib/xml';
import { createMemoryStore } from '../../src/storage/memory';

const DAY = 86_400_000;
const NOW = 1_700_000_000_000;
const alice: BareJid = { user: 'alice', host: 'localhost' };
const bob: BareJid = { user: 'bob', host: 'localhost' };
const lobby: BareJid = { user: 'lobby', host: 'conference.localhost' };

async function setup() {
  let now = NOW;
  const deps = featureDeps({ store: createMemoryStore(), config: defaultConfig('/nonexistent/ctl.yml'), clock: () => now });
  const accounts = createAccounts(deps);
  for (const jid of [alice, bob]) await accounts.register(jid, 'pw');
  return { deps, mam: createMam(deps, accounts), at: (ms: number) => (now = ms) };
}

const bodies = (rows: readonly { xml: string }[]) => rows.map((r) => /<body>(.*)<\/body>/.exec(r.xml)?.[1]);

describe('archive', () => {
  test('keeps the text as given, serialises an element, and resolves to the id', async () => {
    const { mam } = await setup();
    const id = await mam.archive(alice, 'chat', 'bob@localhost', "<message type='chat'><body>hi</body></message>");
    const id2 = await mam.archive(alice, 'chat', 'bob@localhost', parseXml("<message type='chat'><body>again</body></message>", 'm'));
    expect(await mam.messages(alice)).toEqual([
      { type: 'chat', with: 'bob@localhost', xml: "<message type='chat'><body>hi</body></message>", timestamp: NOW, id },
      { type: 'chat', with: 'bob@localhost', xml: '<message type="chat"><body>again</body></message>', timestamp: NOW, id: id2 },
    ]);
    expect(id < id2).toBe(true);
  });

  test('a chat archive needs an existing user; a room archive needs no account', async () => {
    const { mam } = await setup();
    await expect(mam.archive({ user: 'carol', host: 'localhost' }, 'chat', 'bob@localhost', '<message/>')).rejects.toThrow(
      'User carol@localhost does not exist',
    );
    await mam.archive(lobby, 'groupchat', 'lobby@conference.localhost', '<message/>');
    expect(await mam.messages(lobby)).toHaveLength(1);
    expect(await mam.messages({ user: 'carol', host: 'localhost' })).toEqual([]);
  });
});

describe('deleteOld', () => {
  async function filled() {
    const s = await setup();
    for (const age of [10, 3, 1]) {
      s.at(NOW - age * DAY);
      await s.mam.archive(alice, 'chat', 'bob@localhost', `<message><body>chat ${age}</body></message>`);
      await s.mam.archive(lobby, 'groupchat', 'lobby@conference.localhost', `<message><body>room ${age}</body></message>`);
    }
    s.at(NOW);
    return s;
  }

  test('removes old messages of one type and counts them', async () => {
    const { mam } = await filled();
    expect(await mam.deleteOld('chat', 2)).toBe(2);
    expect(bodies(await mam.messages(alice))).toEqual(['chat 1']);
    expect(bodies(await mam.messages(lobby))).toEqual(['room 10', 'room 3', 'room 1']);
    expect(await mam.deleteOld('groupchat', 5)).toBe(1);
    expect(bodies(await mam.messages(lobby))).toEqual(['room 3', 'room 1']);
  });

  test('all removes both types; 0 days removes everything archived before now', async () => {
    const { mam } = await filled();
    expect(await mam.deleteOld('all', 2)).toBe(4);
    expect(await mam.deleteOld('all', 0)).toBe(2);
    expect([...(await mam.messages(alice)), ...(await mam.messages(lobby))]).toEqual([]);
  });
});

describe('records', () => {
  test('writeArchive and readArchive; usersRows removes one archive', async () => {
    const { deps, mam } = await setup();
    const ids = await writeArchive(deps.store, alice, [
      { type: 'chat', with: 'bob@localhost', xml: '<message><body>a</body></message>', timestamp: NOW },
      { type: 'chat', with: 'bob@localhost', xml: '<message><body>b</body></message>', timestamp: NOW },
    ]);
    await mam.archive(bob, 'chat', 'alice@localhost', '<message><body>c</body></message>');
    expect((await readArchive(deps.store, alice)).map((m) => m.id)).toEqual(ids);
    await deps.store.batch(await usersRows(deps.store, [alice]));
    expect(await readArchive(deps.store, alice)).toEqual([]);
    expect(bodies(await readArchive(deps.store, bob))).toEqual(['c']);
  });

  test('decodeArchivedMessage checks a record from elsewhere, naming the field', () => {
    const m = { type: 'chat', with: 'bob@localhost', xml: '<message/>', timestamp: NOW, id: '001700000000000-000000' };
    expect(decodeArchivedMessage(m)).toBe(m);
    expect(() => decodeArchivedMessage(null, 'line 2')).toThrow('line 2: the record must be an object');
    expect(() => decodeArchivedMessage({ ...m, type: 'normal' })).toThrow("archived message: type must be 'chat' or 'groupchat'");
    expect(() => decodeArchivedMessage({ ...m, xml: 1 })).toThrow('archived message: xml must be text');
    expect(() => decodeArchivedMessage({ ...m, timestamp: 1.5 })).toThrow('archived message: timestamp must be ms since 1970');
  });
});

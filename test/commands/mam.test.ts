import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { tempHome } from '../helpers/cli';
import { openLevelStore } from '../../src/storage/level';
import { createMemoryStore } from '../../src/storage/memory';
import { splitKey } from '../../src/storage/keys';
import type { BatchOp, Store } from '../../src/storage/types';
import { createServices, type Services } from '../../src/services';
import { defaultConfig } from '../../src/config/config';
import { archiveRows, type ArchiveType } from '../../src/services/mam';
import { stampOf } from '../../src/services/offline';
import { withServices as withServicesAt } from '../helpers/services';

let home: ReturnType<typeof tempHome>;
beforeEach(() => (home = tempHome()));
afterEach(() => home.cleanup());

const DAY = 86_400_000;
const NOW = 1_700_000_000_000;
const ctl = (argv: string[]) => home.ctl(argv, { clock: () => NOW });
const ok = { status: 0, stdout: '', stderr: '' };
const USAGE = 'Usage: ctl delete_old_mam_messages type days\n';

beforeEach(async () => {
  writeFileSync(join(home.dir, 'ctl.yml'), 'auth_password_format: plain\n');
  for (const user of ['alice', 'bob']) expect((await ctl(['register', user, 'localhost', 'pw'])).status).toBe(0);
});

/** Runs `fn` with the services over the home's database, at a time `fn` may move. */
const withServices = <T>(fn: (s: Services, at: (ms: number) => void) => Promise<T>) => withServicesAt(home.dir, NOW, fn);

/** Archives, for alice and the room lobby@conference.localhost, a chat and a groupchat message 10, 3 and 1 days old. */
async function fill(): Promise<void> {
  await withServices(async (s, at) => {
    for (const age of [10, 3, 1]) {
      at(NOW - age * DAY);
      await s.mam.archive('alice', 'localhost', 'chat', 'bob@localhost', `<message type='chat'><body>chat ${age}</body></message>`);
      await s.mam.archive('lobby', 'conference.localhost', 'groupchat', 'lobby@conference.localhost', `<message type='groupchat'><body>room ${age}</body></message>`);
    }
  });
}

/** What is left: `type age` per archived message, from the archive bodies, and the index rows. */
async function left(): Promise<{ mam: string[]; index: string[] }> {
  const store = await openLevelStore(join(home.dir, 'db'));
  try {
    const mam: string[] = [];
    for await (const [k, v] of store.entries<{ type: ArchiveType; xml: string }>('mam')) {
      mam.push(`${splitKey(k).slice(0, 2).join('@')} ${v.type} ${/<body>(.*)<\/body>/.exec(v.xml)?.[1]}`);
    }
    const index: string[] = [];
    for await (const [k, v] of store.entries<{ type: string }>('mam_by_time')) index.push(`${splitKey(k).join('|')} ${v.type}`);
    return { mam, index };
  } finally {
    await store.close();
  }
}

describe('delete_old_mam_messages', () => {
  test('chat: removes old chat messages and their index rows, and keeps room messages', async () => {
    await fill();
    expect(await ctl(['delete_old_mam_messages', 'chat', '2'])).toEqual(ok);
    expect(await left()).toEqual({
      mam: ['conference.localhost@lobby groupchat room 10', 'conference.localhost@lobby groupchat room 3', 'conference.localhost@lobby groupchat room 1', 'localhost@alice chat chat 1'],
      index: [
        '001699136000000-000001|conference.localhost|lobby groupchat',
        '001699740800000-000001|conference.localhost|lobby groupchat',
        '001699913600000-000000|localhost|alice chat',
        '001699913600000-000001|conference.localhost|lobby groupchat',
      ],
    });
  });

  test('groupchat: removes old room messages only', async () => {
    await fill();
    expect(await ctl(['delete_old_mam_messages', 'groupchat', '5'])).toEqual(ok);
    expect((await left()).mam).toEqual([
      'conference.localhost@lobby groupchat room 3',
      'conference.localhost@lobby groupchat room 1',
      'localhost@alice chat chat 10',
      'localhost@alice chat chat 3',
      'localhost@alice chat chat 1',
    ]);
  });

  test('all: removes both kinds; 0 days removes everything archived before now', async () => {
    await fill();
    expect(await ctl(['delete_old_mam_messages', 'all', '2'])).toEqual(ok);
    expect((await left()).mam).toEqual(['conference.localhost@lobby groupchat room 1', 'localhost@alice chat chat 1']);
    expect(await ctl(['delete_old_mam_messages', 'all', '0'])).toEqual(ok);
    expect(await left()).toEqual({ mam: [], index: [] });
  });

  test.each(['normal', 'Chat', 'both', ''])('refuses the type %j as a usage error naming type', async (type) => {
    await fill();
    expect(await ctl(['delete_old_mam_messages', type, '1'])).toEqual({
      status: 2,
      stdout: '',
      stderr: `Error: Unknown message type '${type}' (type): use chat, groupchat or all\n${USAGE}`,
    });
    expect((await left()).mam).toHaveLength(6);
  });

  test('refuses negative or non-integer days as usage errors', async () => {
    expect(await ctl(['delete_old_mam_messages', 'all', '-3'])).toEqual({
      status: 2,
      stdout: '',
      stderr: `Error: The number of days (days) must not be negative, got -3\n${USAGE}`,
    });
    expect(await ctl(['delete_old_mam_messages', 'all', '3d'])).toEqual({
      status: 2,
      stdout: '',
      stderr: `Error: Bad value for argument 'days': expected a whole number, got '3d'\n${USAGE}`,
    });
    expect((await ctl(['delete_old_mam_messages', 'all'])).stderr).toBe(`Error: missing argument 'days'\n${USAGE}`);
  });

  test('deletes in atomic batches of at most 1000 messages, each with its index row', async () => {
    const store = createMemoryStore();
    const batches: BatchOp[][] = [];
    const s = createServices({ store: { ...store, batch: (ops, o) => (batches.push([...ops]), store.batch(ops, o)) } as Store, config: defaultConfig('/x/ctl.yml'), clock: () => NOW });
    const rows = Array.from({ length: 1500 }, (_, i) =>
      archiveRows('localhost', 'alice', { type: i % 3 === 0 ? 'groupchat' : 'chat', with: 'bob@localhost', xml: '<message/>', timestamp: NOW - 3 * DAY, id: stampOf(NOW - 3 * DAY, i) }),
    );
    await store.batch(rows.flat());
    expect(await s.mam.deleteOld('chat', 1)).toBe(true);
    expect(batches.map((b) => b.filter((op) => op.table === 'mam').length)).toEqual([666, 334]);
    for (const b of batches) {
      const ids = b.filter((op) => op.table === 'mam').map((op) => splitKey(op.key)[2]);
      expect(b.filter((op) => op.table === 'mam_by_time').map((op) => splitKey(op.key)[0])).toEqual(ids);
    }
    expect(await s.mam.messages('alice', 'localhost')).toHaveLength(500);
  });
});

describe('the archive', () => {
  test('archive stores the documented record and returns its id', async () => {
    const rows = await withServices(async (s) => {
      const id = await s.mam.archive('Alice', 'localhost', 'chat', 'bob@localhost', "<message type='chat'><body>hi</body></message>");
      expect(id).toBe('001700000000000-000000');
      return s.mam.messages('alice', 'localhost');
    });
    expect(rows).toEqual([{ type: 'chat', with: 'bob@localhost', xml: "<message type='chat'><body>hi</body></message>", timestamp: NOW, id: '001700000000000-000000' }]);
  });

  test('a chat archive needs an existing user', async () => {
    await withServices(async (s) => {
      await expect(s.mam.archive('carol', 'localhost', 'chat', 'bob@localhost', '<message/>')).rejects.toThrow('User carol@localhost does not exist');
    });
  });

  test('unregister removes the user\'s archive and its index rows, and nothing else', async () => {
    await fill();
    await withServices((s) => s.mam.archive('bob', 'localhost', 'chat', 'alice@localhost', '<message/>'));
    expect((await ctl(['unregister', 'alice', 'localhost'])).status).toBe(0);
    const { mam, index } = await left();
    expect(mam.filter((m) => m.startsWith('localhost@'))).toEqual(['localhost@bob chat undefined']);
    expect(index.filter((r) => r.includes('|localhost|'))).toEqual(['001700000000000-000000|localhost|bob chat']);
    expect(index).toHaveLength(4);
  });
});

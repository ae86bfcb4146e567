import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { allCommands } from '../../commands';
import { createRegistry } from '../../src/core/registry';
import { startNode } from '../../src/node/daemon';
import { resolveHome } from '../../src/config/home';
import { tempHome } from '../helpers/cli';

let home: ReturnType<typeof tempHome>;
beforeEach(() => (home = tempHome()));
afterEach(() => home.cleanup());

test('vCard and private storage answer the same locally and through the node', async () => {
  const table: string[][] = [
    ['register', 'alice', 'localhost', 'pw'],
    ['get_vcard', 'alice', 'localhost', 'FN'],
    ['set_vcard', 'alice', 'localhost', 'fn', 'A & B <x> 🦊'],
    ['get_vcard', 'alice', 'localhost', 'FN'],
    ['set_nickname', 'alice', 'localhost', 'Ally'],
    ['set_vcard2', 'alice', 'localhost', 'TEL', 'HOME', '+44 1'],
    ['get_vcard2', 'alice', 'localhost', 'TEL', 'HOME'],
    ['set_vcard2_multi', 'alice', 'localhost', 'ORG', 'ORGUNIT', '["a, b", "c\\td"]'],
    ['get_vcard2_multi', 'alice', 'localhost', 'ORG', 'ORGUNIT'],
    ['get_vcard2', 'alice', 'localhost', 'N', 'FAMILY'],
    ['set_vcard', 'alice', 'localhost', 'F N', 'x'],
    ['set_vcard', 'bob', 'localhost', 'FN', 'x'],
    ['private_set', 'alice', 'localhost', "<storage xmlns='storage:bookmarks'><url name='&lt;x&gt;'/></storage>"],
    ['private_get', 'alice', 'localhost', 'storage', 'storage:bookmarks'],
    ['private_get', 'alice', 'localhost', 'roster', 'roster:delimiter'],
    ['private_set', 'alice', 'localhost', '<storage xmlns="s"><a></storage>'],
    ['private_set', 'alice', 'localhost', '<query xmlns="jabber:iq:private"/>'],
  ];
  const run = async () => {
    const out = [];
    for (const argv of table) out.push(await home.ctl(argv));
    return out;
  };
  const local = await run();
  rmSync(join(home.dir, 'db'), { recursive: true });
  const node = await startNode({ home: resolveHome({ home: home.dir }), registry: createRegistry(allCommands), version: '9.9.9', lockTimeout: 5000 });
  try {
    const forwarded = await run();
    for (const [i, argv] of table.entries()) expect([argv, forwarded[i]]).toEqual([argv, local[i]]);
  } finally {
    await node.control.stop();
    await node.stopped;
  }
  expect(local.map((r) => r.status)).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 1, 0, 0, 0, 2, 2]);
  expect(local[3].stdout).toBe('A & B <x> 🦊\n');
  expect(local[8].stdout).toBe('a, b\nc\\td\n');
  expect(local[13].stdout).toBe('<storage xmlns="storage:bookmarks"><url name="&lt;x&gt;"/></storage>\n');
});

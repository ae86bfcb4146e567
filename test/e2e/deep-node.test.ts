/**
 * Through a node, a deeply nested file is refused at once and other callers are answered
 * meanwhile: the parser stops at the depth limit instead of holding the node's only thread.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allCommands } from '../../commands';
import { createRegistry } from '../../src/core/registry';
import { startNode, type RunningNode } from '../../src/node/daemon';
import { resolveHome } from '../../src/config/home';
import { fails, ok, tempHome } from '../helpers/cli';

jest.setTimeout(20_000);

const DEPTH = 100_000;

let home: ReturnType<typeof tempHome>;
beforeEach(() => {
  home = tempHome();
  writeFileSync(join(home.dir, 'ctl.yml'), 'hosts: [localhost]\n');
});
afterEach(() => home.cleanup());

async function withNode<T>(fn: (node: RunningNode) => Promise<T>): Promise<T> {
  const node = await startNode({ home: resolveHome({ home: home.dir }), registry: createRegistry(allCommands), version: '9.9.9', lockTimeout: 5000 });
  try {
    return await fn(node);
  } finally {
    await node.control.stop();
    await node.stopped;
  }
}

test('a node refuses 100 000 nested XML elements and JSON arrays while it answers others', async () => {
  expect(await home.ctl(['register', 'alice', 'localhost', 'pw'])).toMatchObject({ status: 0 });
  const xml = join(home.dir, 'deep.xml');
  writeFileSync(
    xml,
    `<server-data xmlns='urn:xmpp:pie:0'>\n<host jid='localhost'>\n<user name='a'>${'<x>'.repeat(DEPTH)}${'</x>'.repeat(DEPTH)}</user></host></server-data>\n`,
  );
  const dump = join(home.dir, 'deep.dump');
  const header = '{"format":"ctl-dump","version":1,"node":"ctl@localhost","created":"2025-01-01T00:00:00.000Z","tables":["last"]}\n';
  writeFileSync(dump, `${header}{"table":"last","key":["localhost","a"],"value":${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}}\n`);
  await withNode(async () => {
    const importing = home.ctl(['import_piefxis', xml]);
    const loading = home.ctl(['load', dump]);
    const others = await Promise.all(Array.from({ length: 5 }, () => home.ctl(['registered_users', 'localhost'])));
    for (const r of others) expect(r).toEqual(ok('alice\n'));
    expect(await importing).toEqual(fails(1, `Error: Invalid XEP-0227 file ${xml} (line 3): elements are nested deeper than 64 levels\n`));
    expect(await loading).toEqual(fails(1, `Error: Invalid dump ${dump} (line 2): nested deeper than 64 levels\n`));
    expect(await home.ctl(['registered_users', 'localhost'])).toEqual(ok('alice\n'));
  });
});

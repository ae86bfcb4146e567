/**
 * A command handed a FIFO (or a device) to read, through a running node: reading it would wait
 * for a writer for ever, holding the database and the node's file threads. It is refused at
 * once, and the node keeps answering everyone else meanwhile.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { allCommands } from '../../commands';
import { createRegistry } from '../../src/core/registry';
import { startNode, type RunningNode } from '../../src/node/daemon';
import { resolveHome } from '../../src/config/home';
import { fails, tempHome, type CliResult } from '../helpers/cli';

jest.setTimeout(120_000);

let home: ReturnType<typeof tempHome>;
let node: RunningNode;
const fifos: string[] = [];

beforeAll(async () => {
  home = tempHome('ctl-fifo-node-');
  expect((await home.ctl(['register', 'alice', 'localhost', 'pw'])).status).toBe(0);
  node = await startNode({ home: resolveHome({ home: home.dir }), registry: createRegistry(allCommands), version: '9.9.9', lockTimeout: 5000 });
});

afterAll(async () => {
  // Before a fix, readers wait on the FIFOs: a writer that comes and goes lets them go.
  for (const f of fifos) closeSync(openSync(f, constants.O_RDWR));
  await node.control.stop();
  await node.stopped;
  home.cleanup();
});

/** A FIFO at `name` under the home, its directories made. */
function fifo(name: string): string {
  const path = join(home.dir, name);
  mkdirSync(dirname(path), { recursive: true });
  execFileSync('mkfifo', [path]);
  fifos.push(path);
  return path;
}

/** `promise`, or a result saying it did not end within a generous bound. */
function bounded(promise: Promise<CliResult>, what: string): Promise<CliResult | string> {
  return Promise.race([promise, new Promise<string>((done) => setTimeout(() => done(`${what} did not answer within 20 s`), 20_000).unref())]);
}

/** The command, its arguments, how it names the file, and where the FIFO is under the home. */
const cases: [string, (path: string) => string[], string, string][] = [
  ['restore', (p) => ['restore', p], 'the backup', 'restore.fifo'],
  ['install_fallback', (p) => ['install_fallback', p], 'the backup', 'install_fallback.fifo'],
  [
    'mnesia_change_nodename',
    (p) => ['mnesia_change_nodename', 'ctl@localhost', 'new@localhost', p, join(home.dir, 'renamed.backup')],
    'the backup',
    'mnesia_change_nodename.fifo',
  ],
  ['load', (p) => ['load', p], 'the dump', 'load.fifo'],
  ['import_piefxis', (p) => ['import_piefxis', p], 'the XEP-0227 file', 'import_piefxis.fifo'],
  // A spool file is USER.xml in a directory named after the host.
  ['import_file', (p) => ['import_file', p], 'the jabberd14 spool file', 'import_file/localhost/bob.xml'],
  ['push_roster', (p) => ['push_roster', p, 'alice', 'localhost'], 'the roster file', 'push_roster.fifo'],
  ['push_roster_all', (p) => ['push_roster_all', p], 'the roster file', 'push_roster_all.fifo'],
  ['create_rooms_file', (p) => ['create_rooms_file', p], 'the rooms file', 'create_rooms_file.fifo'],
  ['convert_to_yaml', (p) => ['convert_to_yaml', p, join(home.dir, 'out.yml')], 'the ejabberd configuration', 'convert_to_yaml.fifo'],
];

test.each(cases)('%s of a FIFO fails at once, and another command is answered meanwhile', async (name, args, what, at) => {
  const path = fifo(at);
  const reading = home.ctl(args(path));
  expect(await bounded(home.ctl(['registered_users', 'localhost']), 'registered_users')).toEqual({ status: 0, stdout: 'alice\n', stderr: '' });
  expect(await bounded(reading, name)).toEqual(fails(1, `Error: Cannot read ${what} ${path}: it is not a regular file (a FIFO)\n`));
});

test('import_dir skips nothing silently: a FIFO among the spool files is refused, the node answers meanwhile', async () => {
  const path = fifo('import_dir/localhost/bob.xml');
  const dir = dirname(path);
  const reading = home.ctl(['import_dir', dir]);
  expect(await bounded(home.ctl(['registered_users', 'localhost']), 'registered_users')).toEqual({ status: 0, stdout: 'alice\n', stderr: '' });
  expect(await bounded(reading, 'import_dir')).toEqual(
    fails(1, `Error: Imported 0 users from ${dir}; 1 of 1 files failed:\nCannot read the jabberd14 spool file ${path}: it is not a regular file (a FIFO)\n`),
  );
});

test('restore of a character device is refused without reading it', async () => {
  expect(await bounded(home.ctl(['restore', '/dev/zero']), 'restore')).toEqual(
    fails(1, 'Error: Cannot read the backup /dev/zero: it is not a regular file (a character device)\n'),
  );
  expect(await home.ctl(['registered_users', 'localhost'])).toEqual({ status: 0, stdout: 'alice\n', stderr: '' });
});

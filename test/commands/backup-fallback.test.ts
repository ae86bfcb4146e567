/**
 * install_fallback (applied by the node's next start), mnesia_change_nodename, set_master.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allCommands } from '../../commands';
import { createRegistry } from '../../src/core/registry';
import { startNode, type RunningNode } from '../../src/node/daemon';
import { resolveHome } from '../../src/config/home';
import { readBackup } from '../../src/migrate/backup-file';
import { ok, summary, tempHome } from '../helpers/cli';
import { ctlOk, everything, fillEveryTable } from './backup-helpers';

let home: ReturnType<typeof tempHome>;
beforeEach(() => (home = tempHome()));
afterEach(() => home.cleanup());

const failed = (status: number, stderr: string) => ({ status, stdout: '', stderr });

async function start(): Promise<RunningNode> {
  return startNode({ home: resolveHome({ home: home.dir }), registry: createRegistry(allCommands), version: '9.9.9', lockTimeout: 5000 });
}

async function stop(node: RunningNode) {
  await node.control.stop();
  await node.stopped;
}

describe('install_fallback', () => {
  let backup: string;
  let saved: Awaited<ReturnType<typeof everything>>;
  beforeEach(async () => {
    await fillEveryTable(home.dir, home.ctl);
    saved = await everything(home.dir);
    backup = join(home.dir, 'saved.backup');
    await ctlOk(home.ctl, 'backup', backup);
    await ctlOk(home.ctl, 'unregister', 'alice', 'localhost');
    await ctlOk(home.ctl, 'register', 'mallory', 'localhost', 'pw');
  });
  const staged = () => join(home.dir, 'fallback.backup');

  test('stages a copy of the backup; nothing changes until the node starts', async () => {
    const records = Object.values(saved).reduce((n, rows) => n + rows.length, 0);
    expect(await home.ctl(['install_fallback', backup, '--verbose'])).toEqual(
      summary(`Installed ${backup} (${records} records) as ${staged()}: the node restores it at its next start\n`),
    );
    expect(readFileSync(staged())).toEqual(readFileSync(backup));
    expect((await home.ctl(['registered_users', 'localhost'])).stdout).toBe('bob\nmallory\n');
  });

  test('the next start restores it before serving, removes it, and logs it', async () => {
    await ctlOk(home.ctl, 'install_fallback', backup);
    const node = await start();
    try {
      expect(existsSync(staged())).toBe(false);
      expect(await home.ctl(['registered_users', 'localhost'])).toEqual(ok('alice\nbob\n'));
    } finally {
      await stop(node);
    }
    expect(await everything(home.dir)).toEqual(saved);
    const log = readFileSync(resolveHome({ home: home.dir }).logFile, 'utf8');
    expect(log).toMatch(
      new RegExp(
        `\\[info\\] installed the fallback ${staged()}: restored \\d+ records \\(backup of node ctl@localhost made \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\)\\n`,
      ),
    );
    // Only once: the start after that keeps what the node has.
    await ctlOk(home.ctl, 'register', 'later', 'localhost', 'pw');
    await stop(await start());
    expect((await home.ctl(['registered_users', 'localhost'])).stdout).toBe('alice\nbob\nlater\n');
  });

  test("installed while a node runs, it waits for the node's next start", async () => {
    let node = await start();
    try {
      await ctlOk(home.ctl, 'install_fallback', backup);
      expect(existsSync(staged())).toBe(true);
      expect((await home.ctl(['registered_users', 'localhost'])).stdout).toBe('bob\nmallory\n');
      await stop(node);
      node = await start();
      expect((await home.ctl(['registered_users', 'localhost'])).stdout).toBe('alice\nbob\n');
    } finally {
      await stop(node);
    }
  });

  test('a restart applies it, as in ejabberd; a damaged one is logged and the node serves on', async () => {
    const node = await start();
    try {
      await ctlOk(home.ctl, 'install_fallback', backup);
      await node.control.restart();
      expect(existsSync(staged())).toBe(false);
      expect((await home.ctl(['registered_users', 'localhost'])).stdout).toBe('alice\nbob\n');

      await ctlOk(home.ctl, 'install_fallback', backup);
      writeFileSync(staged(), readFileSync(staged()).subarray(0, 100));
      await ctlOk(home.ctl, 'register', 'kept', 'localhost', 'pw');
      await node.control.restart();
      expect((await home.ctl(['registered_users', 'localhost'])).stdout).toBe('alice\nbob\nkept\n');
      expect(existsSync(staged())).toBe(true);
      const log = readFileSync(resolveHome({ home: home.dir }).logFile, 'utf8');
      expect(log).toContain(`[error] Cannot install the fallback staged by install_fallback: Invalid backup ${staged()} (line 2)`);
    } finally {
      await stop(node);
    }
  });

  test('a staged file damaged since stops the start, names it, and changes nothing', async () => {
    await ctlOk(home.ctl, 'install_fallback', backup);
    writeFileSync(staged(), readFileSync(staged()).subarray(0, 100));
    const before = await everything(home.dir);
    await expect(start()).rejects.toMatchObject({
      code: 'failed',
      message: `Cannot install the fallback staged by install_fallback: Invalid backup ${staged()} (line 2): the file is truncated (its last line is incomplete). Remove ${staged()}, or stage another backup with 'ctl install_fallback FILE'`,
    });
    expect(await everything(home.dir)).toEqual(before);
    await ctlOk(home.ctl, 'install_fallback', backup);
    await stop(await start());
    expect(await everything(home.dir)).toEqual(saved);
  });

  test('a missing file is an error and stages nothing', async () => {
    const missing = join(home.dir, 'nope');
    expect(await home.ctl(['install_fallback', missing])).toEqual(failed(1, `Error: Cannot read the backup ${missing}: it does not exist\n`));
    expect(existsSync(staged())).toBe(false);
  });
});

describe('mnesia_change_nodename', () => {
  let old: string;
  beforeEach(async () => {
    await fillEveryTable(home.dir, home.ctl);
    old = join(home.dir, 'old.backup');
    await ctlOk(home.ctl, 'backup', old);
  });
  const renamed = () => join(home.dir, 'new.backup');

  test('writes a copy with the new node name and a fresh checksum; the records are the same bytes', async () => {
    const summary = await readBackup(old);
    expect(await home.ctl(['mnesia_change_nodename', 'ctl@localhost', 'ejabberd@new.example', old, renamed(), '--verbose'])).toEqual({
      status: 0,
      stdout: '',
      stderr: `Wrote ${renamed()}: the backup ${old} (${summary.records} records) with node name ejabberd@new.example instead of ctl@localhost\n`,
    });
    const [oldLines, newLines] = [old, renamed()].map((f) => readFileSync(f, 'utf8').split('\n'));
    expect(JSON.parse(newLines[0])).toEqual({ ...JSON.parse(oldLines[0]), node: 'ejabberd@new.example' });
    expect(newLines.slice(1, -2)).toEqual(oldLines.slice(1, -2));
    expect(await readBackup(renamed())).toEqual({ ...summary, header: { ...summary.header, node: 'ejabberd@new.example' } });
    const fresh = tempHome();
    try {
      expect(await fresh.ctl(['restore', renamed()])).toEqual({
        status: 0,
        stdout: '',
        stderr: 'Note: the backup was made by node ejabberd@new.example, this node is ctl@localhost\n',
      });
      expect(await everything(fresh.dir)).toEqual(await everything(home.dir));
    } finally {
      fresh.cleanup();
    }
  });

  test('may write over the backup it reads', async () => {
    await ctlOk(home.ctl, 'mnesia_change_nodename', 'ctl@localhost', 'a@b', old, old);
    expect((await readBackup(old)).header.node).toBe('a@b');
  });

  test("an old name that is not the backup's node is an error, and writes nothing", async () => {
    expect(await home.ctl(['mnesia_change_nodename', 'other@host', 'a@b', old, renamed()])).toEqual(
      failed(1, `Error: The backup ${old} is of node ctl@localhost, not other@host\n`),
    );
    expect(existsSync(renamed())).toBe(false);
  });

  test('a new name that is not name@host is a usage error', async () => {
    expect(await home.ctl(['mnesia_change_nodename', 'ctl@localhost', 'no spaces', old, renamed()])).toEqual(
      failed(
        2,
        "Error: Invalid node name 'no spaces' (newnodename): a node name looks like name@host\nUsage: ctl mnesia_change_nodename oldnodename newnodename oldbackup newbackup\n",
      ),
    );
    expect(existsSync(renamed())).toBe(false);
  });

  test('a damaged or missing old backup is an error, and writes nothing', async () => {
    const text = readFileSync(old);
    writeFileSync(old, text.subarray(0, text.indexOf('\n') + 10));
    expect(await home.ctl(['mnesia_change_nodename', 'ctl@localhost', 'a@b', old, renamed()])).toEqual(
      failed(1, `Error: Invalid backup ${old} (line 2): the file is truncated (its last line is incomplete)\n`),
    );
    const missing = join(home.dir, 'missing');
    expect(await home.ctl(['mnesia_change_nodename', 'ctl@localhost', 'a@b', missing, renamed()])).toEqual(
      failed(1, `Error: Cannot read the backup ${missing}: it does not exist\n`),
    );
    expect(existsSync(renamed())).toBe(false);
  });
});

describe('set_master', () => {
  test("self and this node's own name succeed, printing nothing", async () => {
    expect(await home.ctl(['set_master', 'self'])).toEqual(ok(''));
    expect(await home.ctl(['set_master', 'ctl@localhost'])).toEqual(ok(''));
    writeFileSync(join(home.dir, 'ctl.yml'), 'node_name: ejabberd@example\n');
    expect(await home.ctl(['set_master', 'ejabberd@example'])).toEqual(ok(''));
  });

  test('another node is an error: this node shares its database with none', async () => {
    expect(await home.ctl(['set_master', 'other@host'])).toEqual(
      failed(1, 'Error: Cannot make other@host the master node: this node (ctl@localhost) shares its database with no other node; use self or ctl@localhost\n'),
    );
  });
});

/**
 * Every command that writes a file: on a full disk it fails naming the file and leaves
 * nothing; a FIFO or a device in the way is refused and left as it was; files that hold
 * passwords or SCRAM secrets are readable by their owner alone.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fails, tempHome } from '../helpers/cli';
import { fullDisk } from '../helpers/full-disk';

const home = tempHome('ctl-file-safety-');
afterAll(home.cleanup);
const backupFile = join(home.dir, 'in.backup');
const cfgFile = join(home.dir, 'ejabberd.cfg');

beforeAll(async () => {
  for (const user of ['alice', 'bob']) expect((await home.ctl(['register', user, 'localhost', `${user}-secret`])).status).toBe(0);
  expect((await home.ctl(['backup', backupFile])).status).toBe(0);
  writeFileSync(cfgFile, '{hosts, ["localhost"]}.\n{odbc_server, {pgsql, "db.example.org", "ejabberd", "ejabberd", "sql-secret"}}.\n');
});

afterEach(() => jest.restoreAllMocks());

let n = 0;
/** A fresh, empty directory for one case. */
function freshDir(): string {
  const dir = join(home.dir, `case-${++n}`);
  mkdirSync(dir);
  return dir;
}

/** The commands that write one file, given where; `secret` when the file holds passwords or secrets. */
const writers: { name: string; args: (out: string) => string[]; secret: boolean }[] = [
  { name: 'backup', args: (out) => ['backup', out], secret: true },
  { name: 'dump', args: (out) => ['dump', out], secret: true },
  { name: 'dump_table', args: (out) => ['dump_table', out, 'passwd'], secret: true },
  { name: 'export_odbc', args: (out) => ['export_odbc', 'localhost', out], secret: true },
  { name: 'export2odbc', args: (out) => ['export2odbc', 'localhost', out], secret: true },
  { name: 'mnesia_change_nodename', args: (out) => ['mnesia_change_nodename', 'ctl@localhost', 'new@localhost', backupFile, out], secret: true },
  { name: 'convert_to_yaml', args: (out) => ['convert_to_yaml', cfgFile, out], secret: true },
  { name: 'gen_markdown_doc_for_commands', args: (out) => ['gen_markdown_doc_for_commands', out, '', 'json'], secret: false },
  { name: 'gen_html_doc_for_commands', args: (out) => ['gen_html_doc_for_commands', out, '', 'json'], secret: false },
];
const byName = writers.map((w) => [w.name, w] as const);

describe('a full disk', () => {
  test.each(byName)('%s fails with exit 1, names the file, and leaves nothing', async (_name, w) => {
    const dir = freshDir();
    const out = join(dir, 'out');
    fullDisk(64);
    const result = await home.ctl(w.args(out));
    jest.restoreAllMocks();
    expect(result).toEqual(fails(1, `Error: Cannot write ${out}: no space left on device\n`));
    expect(readdirSync(dir)).toEqual([]);
  });

  test.each([
    ['export_piefxis', (dir: string) => ['export_piefxis', dir]],
    ['export_piefxis_host', (dir: string) => ['export_piefxis_host', dir, 'localhost']],
  ])('%s fails with exit 1, names the file, and leaves nothing', async (_name, args) => {
    const parent = freshDir();
    const dir = join(parent, 'export');
    fullDisk(64);
    const result = await home.ctl(args(dir));
    jest.restoreAllMocks();
    expect(result).toMatchObject({ status: 1, stdout: '', stderr: expect.stringMatching(/^Error: Cannot write \S+\.xml: no space left on device\n$/) });
    expect(result.stderr).toContain(dir);
    expect(readdirSync(parent)).toEqual([]);
  });
});

describe('a FIFO in the way', () => {
  test.each(byName)('%s refuses it and leaves it a FIFO', async (_name, w) => {
    const dir = freshDir();
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(await home.ctl(w.args(fifo))).toEqual(fails(1, `Error: Cannot write ${fifo}: it is not a regular file (a FIFO)\n`));
    expect(statSync(fifo).isFIFO()).toBe(true);
    expect(readdirSync(dir)).toEqual(['fifo']);
  });
});

describe('a device in the way', () => {
  test.each([
    ['backup', ['backup', '/dev/full']],
    ['dump', ['dump', '/dev/null']],
    ['export_odbc', ['export_odbc', 'localhost', '/dev/null']],
    ['gen_markdown_doc_for_commands', ['gen_markdown_doc_for_commands', '/dev/full', '', 'json']],
  ])('%s refuses it, and the device stays a device', async (_name, args) => {
    const dev = args.find((a) => a.startsWith('/dev/')) as string;
    expect(await home.ctl(args)).toEqual(fails(1, `Error: Cannot write ${dev}: it is not a regular file (a character device)\n`));
    expect(statSync(dev).isCharacterDevice()).toBe(true);
    expect(readdirSync('/dev').filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('file modes', () => {
  test.each(byName)('%s writes its file with the mode its contents call for, also over an existing 0644 file', async (_name, w) => {
    const dir = freshDir();
    const out = join(dir, 'out');
    writeFileSync(out, 'old', { mode: 0o644 });
    expect((await home.ctl(w.args(out))).status).toBe(0);
    expect((statSync(out).mode & 0o777).toString(8)).toBe(w.secret ? '600' : '644');
  });

  test('export_piefxis makes its directory 0700 and its files 0600', async () => {
    const dir = join(freshDir(), 'export');
    expect((await home.ctl(['export_piefxis', dir])).status).toBe(0);
    expect((statSync(dir).mode & 0o777).toString(8)).toBe('700');
    const files = readdirSync(dir);
    expect(files.length).toBe(2);
    for (const f of files) expect([f, (statSync(join(dir, f)).mode & 0o777).toString(8)]).toEqual([f, '600']);
  });

  test('install_fallback stages its copy 0600', async () => {
    expect((await home.ctl(['install_fallback', backupFile])).status).toBe(0);
    expect((statSync(join(home.dir, 'fallback.backup')).mode & 0o777).toString(8)).toBe('600');
  });
});

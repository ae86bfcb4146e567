/**
 * The file writer on a full disk and on paths that are not regular files, and the reader's
 * refusal of FIFOs and devices: nothing is half-written, nothing but a regular file is touched.
 */
import { execFileSync } from 'node:child_process';
import { promises as fsp, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRegularFile, writeFileAtomic, writeFileAtomicStream } from '../../src/lib/files';
import { fullDisk } from '../helpers/full-disk';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ctl-files-safety-'))));
afterEach(() => {
  jest.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

test('a disk that fills up mid-write (a short write, then ENOSPC) is an error naming the file, and no file is left', async () => {
  const file = join(dir, 'out.txt');
  fullDisk(1000);
  await expect(writeFileAtomic(file, 'x'.repeat(1500))).rejects.toMatchObject({
    code: 'failed',
    message: `Cannot write ${file}: no space left on device`,
  });
  expect(readdirSync(dir)).toEqual([]);
});

test('a short write that is the last one is not taken for the whole write', async () => {
  const file = join(dir, 'out.txt');
  writeFileSync(file, 'old');
  fullDisk(1000);
  await expect(writeFileAtomicStream(file, async (write) => write(Buffer.alloc(1001, 'y')))).rejects.toMatchObject({
    message: `Cannot write ${file}: no space left on device`,
  });
  expect(readFileSync(file, 'utf8')).toBe('old');
  expect(readdirSync(dir)).toEqual(['out.txt']);
});

test('short writes that succeed in the end make the whole file', async () => {
  const file = join(dir, 'out.txt');
  fullDisk(Infinity, 7);
  const text = Array.from({ length: 300 }, (_, i) => `line ${i}\n`).join('');
  await writeFileAtomic(file, text);
  expect(readFileSync(file, 'utf8')).toBe(text);
});

test('a file fails to be synced: an error, and nothing left', async () => {
  const file = join(dir, 'out.txt');
  const open = fsp.open.bind(fsp);
  jest.spyOn(fsp, 'open').mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
    const h = await open(...args);
    h.sync = () => Promise.reject(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
    return h;
  });
  await expect(writeFileAtomic(file, 'data')).rejects.toMatchObject({ message: `Cannot write ${file}: an input/output error` });
  jest.restoreAllMocks();
  expect(readdirSync(dir)).toEqual([]);
});

test('a FIFO, a device and a socket are refused and stay what they were', async () => {
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  await expect(writeFileAtomic(fifo, 'x')).rejects.toMatchObject({ code: 'failed', message: `Cannot write ${fifo}: it is not a regular file (a FIFO)` });
  expect(statSync(fifo).isFIFO()).toBe(true);
  for (const dev of ['/dev/null', '/dev/full']) {
    await expect(writeFileAtomic(dev, 'x')).rejects.toMatchObject({ message: `Cannot write ${dev}: it is not a regular file (a character device)` });
    expect(statSync(dev).isCharacterDevice()).toBe(true);
  }
  const sock = join(dir, 'sock');
  const server = createServer().listen(sock);
  await once(server, 'listening');
  try {
    await expect(writeFileAtomic(sock, 'x')).rejects.toMatchObject({ message: `Cannot write ${sock}: it is not a regular file (a socket)` });
    expect(statSync(sock).isSocket()).toBe(true);
  } finally {
    server.close();
  }
  expect(readdirSync('/dev').filter((n) => n.endsWith('.tmp'))).toEqual([]);
  // Closing the server removed its socket.
  expect(readdirSync(dir)).toEqual(['fifo']);
});

test('a symbolic link to a device is refused too', async () => {
  const link = join(dir, 'null');
  await fsp.symlink('/dev/null', link);
  await expect(writeFileAtomic(link, 'x')).rejects.toMatchObject({ message: `Cannot write ${link}: it is not a regular file (a character device)` });
  expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  expect((await fsp.lstat(link)).isSymbolicLink()).toBe(true);
});

test('files are created 0600 unless a mode is asked for', async () => {
  await writeFileAtomic(join(dir, 'secret'), 'x');
  await writeFileAtomic(join(dir, 'public'), 'x', 0o644);
  expect(statSync(join(dir, 'secret')).mode & 0o777).toBe(0o600);
  expect(statSync(join(dir, 'public')).mode & 0o777).toBe(0o644);
});

describe('openRegularFile', () => {
  test('a FIFO is refused at once, without waiting for a writer', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    await expect(openRegularFile(fifo, 'the backup')).rejects.toMatchObject({
      code: 'failed',
      message: `Cannot read the backup ${fifo}: it is not a regular file (a FIFO)`,
    });
  });

  test('a device, a directory and a missing file are refused with words', async () => {
    await expect(openRegularFile('/dev/zero', 'the dump')).rejects.toMatchObject({
      message: 'Cannot read the dump /dev/zero: it is not a regular file (a character device)',
    });
    await expect(openRegularFile(dir, 'the dump')).rejects.toMatchObject({ message: `Cannot read the dump ${dir}: it is a directory` });
    await expect(openRegularFile(join(dir, 'none'), 'the dump')).rejects.toMatchObject({
      code: 'not_found',
      message: `Cannot read the dump ${join(dir, 'none')}: it does not exist`,
    });
  });

  test('a regular file opens and reads', async () => {
    writeFileSync(join(dir, 'f'), 'hello');
    const h = await openRegularFile(join(dir, 'f'), 'the file');
    try {
      expect((await h.readFile('utf8')) as string).toBe('hello');
    } finally {
      await h.close();
    }
  });
});

import { randomBytes } from 'node:crypto';
import { constants, promises as fs, readFileSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CommandError } from './errors';

/** The mode of files that may hold passwords or secrets: only their owner reads them. */
export const PRIVATE_FILE = 0o600;
/** The mode of files meant to be read by anyone, such as generated documentation. */
export const PUBLIC_FILE = 0o644;

/**
 * Writes a file under a temporary name and renames it into place, so a crash never leaves a
 * truncated file that looks complete.
 */
export async function writeFileAtomic(file: string, content: string | Buffer, mode = PRIVATE_FILE): Promise<void> {
  await writeFileAtomicStream(file, (write) => write(content), mode);
}

/**
 * The same for a large file written piece by piece: `produce` calls `write` as often as it
 * likes; the file appears under its name, complete and on disk, only once `produce` is done.
 * An error of `produce` removes the partial file and is passed on unchanged.
 *
 * Only a regular file (or nothing) may stand at `file`: renaming over a FIFO, a socket or a
 * device such as /dev/null would replace the node itself, which, as root, breaks the system.
 */
export async function writeFileAtomicStream(
  file: string,
  produce: (write: (chunk: string | Buffer) => Promise<void>) => Promise<void>,
  mode = PRIVATE_FILE,
): Promise<void> {
  const target = resolve(file);
  const cannot = (err: unknown) => new CommandError('failed', `Cannot write ${target}: ${reason(err)}`, { cause: err });
  const refuse = (why: string) => new CommandError('failed', `Cannot write ${target}: ${why}`);
  const existing = await fs.stat(target).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(cannot(err))));
  if (existing?.isDirectory()) throw refuse('it is a directory');
  if (existing && !existing.isFile()) throw refuse(`it is not a regular file (${fileKind(existing)})`);
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: fs.FileHandle | undefined;
  try {
    const h: fs.FileHandle = await fs.open(temp, 'wx', mode).catch((err) => Promise.reject(cannot(err)));
    handle = h;
    await produce((chunk) => writeAll(h, typeof chunk === 'string' ? Buffer.from(chunk) : chunk).catch((err) => Promise.reject(cannot(err))));
    await h.sync().catch((err) => Promise.reject(cannot(err)));
    handle = undefined;
    // Some file systems report a failed write only when the file is closed.
    await h.close().catch((err) => Promise.reject(cannot(err)));
    await fs.rename(temp, target).catch((err) => Promise.reject(cannot(err)));
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fs.rm(temp, { force: true });
    throw err;
  }
  await syncDirectory(dirname(target)).catch((err) => Promise.reject(cannot(err)));
}

/**
 * Writes all of `data`: a write may be short (a disk that fills up takes what fits and says
 * so), and only the next one reports why the rest cannot be written.
 */
async function writeAll(h: fs.FileHandle, data: Buffer): Promise<void> {
  for (let done = 0; done < data.length;) {
    const { bytesWritten } = await h.write(data, done, data.length - done);
    if (bytesWritten <= 0) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    done += bytesWritten;
  }
}

/** Makes a rename in `dir` durable; file systems that cannot sync a directory are left be. */
async function syncDirectory(dir: string): Promise<void> {
  const h = await fs.open(dir, 'r');
  try {
    await h.sync().catch((err: NodeJS.ErrnoException) => (err.code === 'EINVAL' || err.code === 'ENOTSUP' ? undefined : Promise.reject(err)));
  } finally {
    await h.close();
  }
}

/** What a file that is not a regular file is, in words. */
export function fileKind(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'a special file';
}

/**
 * Opens a file to read, refusing anything but a regular file: reading a FIFO waits for a
 * writer, for ever if none comes, and a device such as /dev/zero never ends. The file is
 * looked at before it is opened (opening some devices does something; stat never waits), and
 * opened without blocking (in case it was swapped for a FIFO meanwhile), then looked at again.
 * Errors read `Cannot read WHAT SHOWN: why`; `shown` is the path unless the caller says more.
 */
export async function openRegularFile(path: string, what: string, shown = path): Promise<fs.FileHandle> {
  const refuse = (why: string) => new CommandError('failed', `Cannot read ${what} ${shown}: ${why}`);
  const check = (st: Stats) => {
    if (st.isDirectory()) throw refuse('it is a directory');
    if (!st.isFile()) throw refuse(`it is not a regular file (${fileKind(st)})`);
  };
  let handle: fs.FileHandle;
  try {
    check(await fs.stat(path));
    handle = await fs.open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw cannotRead(what, shown, err);
  }
  try {
    check(await handle.stat());
  } catch (err) {
    await handle.close().catch(() => undefined);
    if (err instanceof CommandError) throw err;
    throw cannotRead(what, shown, err);
  }
  return handle;
}

/** Why a write failed: a missing parent directory is the usual cause of ENOENT. */
function reason(err: unknown): string {
  return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the directory does not exist' : fsReason(err);
}

/** Why a directory could not be made: ENOENT there means a missing parent or a dangling symbolic link. */
export function mkdirReason(err: unknown): string {
  return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'a part of the path does not exist, or is a dangling symbolic link' : fsReason(err);
}

/** The reason of a failed file operation, in words. */
export function fsReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return 'it does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'EEXIST':
      return 'a file of that name exists';
    case 'ELOOP':
      return 'too many symbolic links';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EDQUOT':
      return 'the disk quota is exceeded';
    case 'EROFS':
      return 'the file system is read-only';
    case 'EFBIG':
      return 'the file is too large for the file system';
    case 'EIO':
      return 'an input/output error';
    case 'ENXIO':
      return 'it is not a regular file';
    default:
      return e.message;
  }
}

/** A password kept in a file (`option`, e.g. sql_password_file): its text without the line break an editor or `echo` leaves at its end. */
export function readPasswordFile(option: string, file: string): string {
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new CommandError('failed', `Cannot read ${option} ${file}: ${fsReason(err)}`, { cause: err });
  }
}

/** A file that could not be read, named with what it is: not_found when it is not there. */
export function cannotRead(what: string, path: string, err: unknown): CommandError {
  const code = (err as NodeJS.ErrnoException).code;
  return new CommandError(code === 'ENOENT' || code === 'ENOTDIR' ? 'not_found' : 'failed', `Cannot read ${what} ${path}: ${fsReason(err)}`, { cause: err });
}

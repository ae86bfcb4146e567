import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CommandError } from './errors';

/**
 * Writes a file under a temporary name and renames it into place, so a crash never leaves a
 * truncated file that looks complete.
 */
export async function writeFileAtomic(file: string, content: string | Buffer): Promise<void> {
  await writeFileAtomicStream(file, (write) => write(content));
}

/**
 * The same for a large file written piece by piece: `produce` calls `write` as often as it
 * likes; the file appears under its name, complete and on disk, only once `produce` is done.
 * An error of `produce` removes the partial file and is passed on unchanged.
 */
export async function writeFileAtomicStream(
  file: string,
  produce: (write: (chunk: string | Buffer) => Promise<void>) => Promise<void>,
  mode = 0o644,
): Promise<void> {
  const target = resolve(file);
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const cannot = (err: unknown) => new CommandError('failed', `Cannot write ${target}: ${reason(err)}`, { cause: err });
  let handle: fs.FileHandle | undefined;
  try {
    const h: fs.FileHandle = await fs.open(temp, 'wx', mode).catch((err) => Promise.reject(cannot(err)));
    handle = h;
    await produce((chunk) =>
      h.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk).then(
        () => undefined,
        (err) => Promise.reject(cannot(err)),
      ),
    );
    await h.sync().catch((err) => Promise.reject(cannot(err)));
    await h.close();
    handle = undefined;
    await fs.rename(temp, target).catch((err) => Promise.reject(cannot(err)));
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fs.rm(temp, { force: true });
    throw err;
  }
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
    default:
      return e.message;
  }
}

/** A file that could not be read, named with what it is: not_found when it is not there. */
export function cannotRead(what: string, path: string, err: unknown): CommandError {
  const code = (err as NodeJS.ErrnoException).code;
  return new CommandError(code === 'ENOENT' || code === 'ENOTDIR' ? 'not_found' : 'failed', `Cannot read ${what} ${path}: ${fsReason(err)}`, { cause: err });
}

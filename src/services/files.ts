import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CommandError } from '../core/errors';

/**
 * Writes a file under a temporary name and renames it into place, so a crash never leaves a
 * truncated file that looks complete.
 */
export async function writeFileAtomic(file: string, content: string | Buffer): Promise<void> {
  const target = resolve(file);
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await fs.writeFile(temp, content, { flag: 'wx', mode: 0o644 });
    await fs.rename(temp, target);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw new CommandError('failed', `Cannot write ${target}: ${reason(err)}`, { cause: err });
  }
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return 'the directory does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    default:
      return e.message;
  }
}

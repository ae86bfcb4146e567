import { randomInt } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

/**
 * The node's secret (ejabberd's Erlang cookie): twenty capital letters, created on the first
 * start and kept in a file only its owner can read.
 */
export function readOrCreateCookie(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const cookie = Array.from({ length: 20 }, () => String.fromCharCode(65 + randomInt(26))).join('');
  try {
    writeFileSync(file, `${cookie}\n`, { mode: 0o600, flag: 'wx' });
    return cookie;
  } catch (err) {
    // Another start won the race: its cookie is the one.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw err;
  }
}

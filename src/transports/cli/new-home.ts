import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Home } from '../../config/home';
import type { Io } from './output';

/**
 * Whether the home's database has never held a record: no database at all, or LevelDB's files
 * as a first open leaves them (no table file, an empty log), which any write would change.
 */
export function holdsNoData(home: Home): boolean {
  let names: string[];
  try {
    names = readdirSync(home.dbDir);
  } catch {
    return true;
  }
  return names.every((n) => !/\.(ldb|sst)$/.test(n) && (!n.endsWith('.log') || statSync(join(home.dbDir, n)).size === 0));
}

/**
 * Says on stderr that the home holds no data when the commands just run in this process opened
 * its database and left it as empty as they found it (call it before the runner closes: a
 * batch's closing sync writes a marker): an empty `registered_users` or a false `check_account` then
 * reads as a new home rather than lost accounts (the usual cause is a mistyped `--home`, or a
 * cron job without `CTL_HOME`). A command that wrote (`register`, `load`) began the home and
 * is not noted. Stdout and the exit status stay what they are.
 */
export function newHomeNote(io: Io, home: Home): () => void {
  if (!holdsNoData(home)) return () => undefined;
  return () => {
    if (existsSync(join(home.dbDir, 'CURRENT')) && holdsNoData(home)) io.stderr.write(`Note: ${home.dir} holds no data yet (a new home)\n`);
  };
}

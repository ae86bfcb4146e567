import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CommandError } from '../lib/errors';

/** Where everything a node owns lives; one place decides every path. */
export interface Home {
  readonly dir: string;
  readonly configFile: string;
  /** What named a configuration file other than the home's own `ctl.yml`, which must then exist. */
  readonly configFrom?: '--config' | 'CTL_CONFIG';
  readonly dbDir: string;
  readonly socket: string;
  readonly pidFile: string;
  readonly logFile: string;
  readonly cookieFile: string;
}

export interface HomeOptions {
  readonly home?: string;
  readonly config?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** `--home`, else `CTL_HOME`, else `$XDG_DATA_HOME/ctl`, else `~/.local/share/ctl`. */
export function resolveHome(options: HomeOptions = {}): Home {
  const env = options.env ?? process.env;
  // node:os is loaded only when nothing names the home: most calls give --home or CTL_HOME.
  const userHome = () => env.HOME || (require('node:os') as typeof import('node:os')).homedir();
  const dir = resolve(options.home || env.CTL_HOME || join(env.XDG_DATA_HOME || join(userHome(), '.local', 'share'), 'ctl'));
  const configFile = resolve(options.config || env.CTL_CONFIG || join(dir, 'ctl.yml'));
  const configFrom = configFile === join(dir, 'ctl.yml') ? undefined : options.config ? '--config' : 'CTL_CONFIG';
  return {
    dir,
    configFile,
    configFrom,
    dbDir: join(dir, 'db'),
    socket: join(dir, 'run', 'ctl.sock'),
    pidFile: join(dir, 'run', 'ctl.pid'),
    logFile: join(dir, 'log', 'ctl.log'),
    cookieFile: join(dir, 'cookie'),
  };
}

/**
 * Only the home's own ctl.yml may be missing (the defaults then apply): a file named with
 * --config or CTL_CONFIG that is not there is a typo, and its defaults would serve the wrong hosts.
 */
export function checkConfigFile(home: Home): void {
  if (home.configFrom === undefined || existsSync(home.configFile)) return;
  throw new CommandError(
    'bad_argument',
    `${home.configFrom} ${home.configFile}: no such file (only the default, ${join(home.dir, 'ctl.yml')}, may be missing)`,
  );
}

/** Whether the home holds a database yet: LevelDB writes CURRENT when it creates one. */
export function hasDatabase(home: Home): boolean {
  return existsSync(join(home.dbDir, 'CURRENT'));
}

import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Where everything a node owns lives; one place decides every path. */
export interface Home {
  readonly dir: string;
  readonly configFile: string;
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
  const dir = resolve(options.home || env.CTL_HOME || join(env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share'), 'ctl'));
  return {
    dir,
    configFile: resolve(options.config || env.CTL_CONFIG || join(dir, 'ctl.yml')),
    dbDir: join(dir, 'db'),
    socket: join(dir, 'run', 'ctl.sock'),
    pidFile: join(dir, 'run', 'ctl.pid'),
    logFile: join(dir, 'log', 'ctl.log'),
    cookieFile: join(dir, 'cookie'),
  };
}

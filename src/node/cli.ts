import { join } from 'node:path';
import { allCommands } from '../../commands';
import { createRegistry } from '../core/registry';
import type { CliApp } from '../transports/cli/main';
import { createLocalRunner, type LocalOptions } from './local';

export type CliAppOptions = Pick<LocalOptions, 'clock' | 'openStore'>;

/** The command line's view of the node: the registry and the ways to run its commands. */
export function cliApp(options: CliAppOptions = {}): CliApp {
  const registry = createRegistry(allCommands);
  return {
    registry,
    localRunner: (o) => createLocalRunner({ ...o, ...options }),
    foreground: (home, echo) => {
      const { runNodeProcess } = require('./process') as typeof import('./process');
      return runNodeProcess({ home, registry, echo });
    },
    nodeScript: join(__dirname, 'main.js'),
  };
}

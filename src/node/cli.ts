import { join } from 'node:path';
import { createRegistry, type Registry } from '../core/registry';
import type { CliApp } from '../transports/cli/main';
import type { LocalOptions } from './local';
import { commandRegistry } from './manifest';

export type CliAppOptions = Pick<LocalOptions, 'clock' | 'openStore'>;

/** The command line's view of the node: the registry and the ways to run its commands. */
export function cliApp(options: CliAppOptions = {}): CliApp {
  const registry = commandRegistry();
  return {
    registry,
    // Loaded when no node answers: a call forwarded to the node never reads the configuration.
    localRunner: (o) => (require('./local') as typeof import('./local')).createLocalRunner({ ...o, ...options }),
    foreground: (home, echo) => {
      const { runNodeProcess } = require('./process') as typeof import('./process');
      return runNodeProcess({ home, registry, echo });
    },
    nodeScript: join(__dirname, 'main.js'),
    withModules: (homeDir) => withModules(registry, homeDir),
  };
}

/**
 * The commands of ctl, and those the home's installed extension modules declared: read from
 * their files on the first lookup ctl's own commands do not answer, or for a list.
 */
function withModules(base: Registry, homeDir: () => string | undefined): Registry {
  let merged: Registry | undefined;
  const all = (): Registry => {
    if (merged) return merged;
    const dir = homeDir();
    const { declaredCommands } = require('./extensions/declared') as typeof import('./extensions/declared');
    const seen = new Set<string>();
    const extra = (dir === undefined ? [] : declaredCommands(dir)).filter((c) => !base.get(c.name) && !seen.has(c.name) && seen.add(c.name));
    return (merged = extra.length === 0 ? base : createRegistry([...base.list(), ...extra]));
  };
  return {
    get: (name) => base.get(name) ?? all().get(name),
    list: () => all().list(),
    tags: () => all().tags(),
    suggest: (name) => all().suggest(name),
  };
}

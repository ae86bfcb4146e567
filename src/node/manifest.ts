import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '../core/command';
import { createRegistry, type Registry } from '../core/registry';
import { commandFiles } from '../../commands/files';

/** Written by `npm run build` beside the built commands/ (src/node/write-manifest.ts). */
export const MANIFEST_FILE = 'manifest.json';

export interface Manifest {
  /** The file of commands/ (without extension) that declares each command. */
  readonly commands: Readonly<Record<string, string>>;
}

/**
 * The registry of ctl's commands, loading only what a call asks for: a lookup by name loads the
 * one file the manifest names, a list or a misspelt name loads all of them. Without a manifest
 * (the sources run by ts-jest, a build by tsc alone), or when it names a file that does not
 * declare the command, every declaration is loaded: the manifest only ever saves time.
 */
export function commandRegistry({ manifest: file = join(__dirname, '../../commands', MANIFEST_FILE) }: { readonly manifest?: string } = {}): Registry {
  let all: Registry | undefined;
  const full = (): Registry => (all ??= createRegistry((require('../../commands') as typeof import('../../commands')).allCommands));
  const manifest = readManifest(file);
  if (!manifest) return full();
  const get = (name: string): Command | undefined => {
    if (all) return all.get(name);
    const file = Object.hasOwn(manifest.commands, name) ? manifest.commands[name] : undefined;
    const load = file !== undefined && Object.hasOwn(commandFiles, file) ? commandFiles[file] : undefined;
    if (load === undefined) return full().get(name);
    return load().find((c) => c.name === name) ?? full().get(name);
  };
  return {
    get,
    list: () => full().list(),
    tags: () => full().tags(),
    suggest: (name) => full().suggest(name),
  };
}

function readManifest(file: string): Manifest | undefined {
  try {
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    return typeof manifest.commands === 'object' && manifest.commands !== null ? manifest : undefined;
  } catch {
    return undefined;
  }
}

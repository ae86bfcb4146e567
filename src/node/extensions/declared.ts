/**
 * What the installed modules declare, kept beside each one (`HOME/modules/NAME/.ctl-module.json`)
 * whenever it is checked or loaded: the command line reads it to show the modules' commands in
 * help and to parse their arguments, without running any module's code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '../../core/command';
import { CommandError } from '../../lib/errors';

export const STATE_FILE = '.ctl-module.json';

export interface ModuleState {
  readonly version: string;
  readonly hash: string;
  /** The commands without their handlers (or any other function). */
  readonly commands: readonly Record<string, unknown>[];
}

/** A command as data: what JSON keeps of it. */
export function declaration(c: Command): Record<string, unknown> {
  return JSON.parse(JSON.stringify({ ...c, handler: undefined, argValues: undefined })) as Record<string, unknown>;
}

export function readState(moduleDir: string): ModuleState | undefined {
  try {
    const s = JSON.parse(readFileSync(join(moduleDir, STATE_FILE), 'utf8')) as ModuleState;
    return Array.isArray(s.commands) ? s : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The installed modules' commands, as the command line knows them: run on the node, they are
 * sent to it by name; without a node they say that they need one.
 */
export function declaredCommands(homeDir: string): Command[] {
  const dir = join(homeDir, 'modules');
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => !n.startsWith('.'));
  } catch {
    return [];
  }
  const out: Command[] = [];
  for (const name of names.sort()) {
    for (const c of readState(join(dir, name))?.commands ?? []) {
      if (typeof c.name !== 'string' || !Array.isArray(c.args) || typeof c.result !== 'object') continue;
      const command = c as unknown as Command;
      out.push({
        ...command,
        needs: 'node',
        handler: () => {
          throw new CommandError(
            'unavailable',
            `${command.name} is a command of the extension module ${command.extension ?? name}, which runs in the node, and none is running: start it with 'ctl start'`,
          );
        },
      });
    }
  }
  return out;
}

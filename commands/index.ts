import { isAdminApi, type Command } from '../src/core/command';
import { commandFiles } from './files';

/** Every command; the registry is built from this list alone. */
export const allCommands: readonly Command[] = Object.values(commandFiles).flatMap((load) => load());

/** The ejabberd Administration API: every command but ctl's own additions. */
export const adminApiCommands: readonly Command[] = allCommands.filter(isAdminApi);

/**
 * The arguments of a command as a caller passes them.
 *
 * A `policy: 'user'` command acts on one account. Its declaration lists only the arguments
 * that follow the account, as ejabberd declares them. An administrator calling it names the
 * account first, so the account's `user` and `server` come before the declared arguments.
 * This is how ejabberd's HTML reference and ejabberdctl present such commands.
 */

import type { Command } from './command';
import { binary, f, type Field } from '../schema/types';

const ACCOUNT_ARGS: readonly Field[] = [f('user', binary), f('server', binary)];

/** The arguments in the order a caller gives them: `user, server, ...` for user-policy commands. */
export function callerArgs(command: Pick<Command, 'args' | 'policy'>): readonly Field[] {
  return command.policy === 'user' ? [...ACCOUNT_ARGS, ...command.args] : command.args;
}

import type { Command } from './command';
import { CommandError } from '../lib/errors';

/**
 * Who calls, when it is not the node's own operator (the command line and the control socket
 * act with full rights): an account, authenticated by an HTTP or XML-RPC transport.
 */
export interface Caller {
  /** The bare JID, `user@host`. */
  readonly jid: string;
  /** A member of the `admin` ACL: may call every command. */
  readonly admin: boolean;
}

/**
 * What a caller may do: an admin anything; any other account only the `policy: user` commands,
 * on its own data. Such a caller may leave out `user` and `server`: they are its own.
 */
export function authorize(command: Command, args: Record<string, unknown>, caller: Caller | undefined, codeOverApi = false): Record<string, unknown> {
  if (caller && command.managesCode && !codeOverApi) {
    throw new CommandError(
      'not_allowed',
      `${command.name} installs or reloads code that runs in the node: over HTTP and XML-RPC it is refused unless ctl.yml says 'ext_modules: http_api: true'`,
    );
  }
  if (!caller || caller.admin) return args;
  if (command.policy !== 'user') {
    throw new CommandError('not_allowed', `${caller.jid} may not run ${command.name}: only administrators may`);
  }
  const at = caller.jid.lastIndexOf('@');
  const own = { user: caller.jid.slice(0, at), server: caller.jid.slice(at + 1) };
  const user = args.user ?? own.user;
  const server = args.server ?? own.server;
  if (typeof user !== 'string' || typeof server !== 'string' || `${user}@${server}`.toLowerCase() !== caller.jid) {
    throw new CommandError('not_allowed', `${caller.jid} may run ${command.name} on its own account only`);
  }
  return { ...args, user, server };
}

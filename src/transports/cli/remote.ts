/**
 * The command line's side of `--url`: where the server is and who the caller is. Secrets come
 * from files, the environment or a prompt, never from the command line, where `ps` shows them.
 */
import { readFileSync } from 'node:fs';
import { CommandError } from '../../lib/errors';
import type { GlobalOptions } from './argv';
import type { Io } from './output';

/** The server to run commands on: `--url`, else `CTL_URL`; undefined runs them on this home's node. */
export function remoteUrl(globals: GlobalOptions, env: NodeJS.ProcessEnv): string | undefined {
  const url = globals.url ?? (env.CTL_URL === '' ? undefined : env.CTL_URL);
  if (url === undefined) {
    for (const [flag, value] of [
      ['--token-file', globals.tokenFile],
      ['--user', globals.user],
      ['--password-file', globals.passwordFile],
    ] as const) {
      if (value !== undefined) throw new CommandError('bad_argument', `${flag} is for a server's API: give its address with --url (or CTL_URL)`);
    }
  }
  return url;
}

export interface CredentialOptions {
  /** Standard input is the commands' (`ctl batch`) or an argument's (`--stdin`): no password from it. */
  readonly stdinTaken: boolean;
}

/** The Authorization header: a bearer token (`--token-file`, else `CTL_TOKEN`) or basic auth as `--user`. */
export async function authorization(globals: GlobalOptions, io: Io, options: CredentialOptions): Promise<string | undefined> {
  if (globals.user !== undefined) {
    if (globals.tokenFile !== undefined) throw new CommandError('bad_argument', '--user and --token-file: authenticate with one of them');
    if (!/^[^@/\s]+@[^@/\s]+$/.test(globals.user)) {
      throw new CommandError('bad_argument', `--user must be an account as user@host, got '${globals.user}'`);
    }
    const password = globals.passwordFile !== undefined ? firstLine(globals.passwordFile, '--password-file') : await prompt(globals.user, io, options);
    return `Basic ${Buffer.from(`${globals.user}:${password}`, 'utf8').toString('base64')}`;
  }
  if (globals.passwordFile !== undefined) throw new CommandError('bad_argument', '--password-file needs --user, the account it is the password of');
  const token = globals.tokenFile !== undefined ? firstLine(globals.tokenFile, '--token-file') : io.env.CTL_TOKEN;
  return token === undefined || token === '' ? undefined : `Bearer ${token}`;
}

async function prompt(user: string, io: Io, options: CredentialOptions): Promise<string> {
  const tty = (io.stdin as { isTTY?: boolean }).isTTY === true;
  if (!tty && options.stdinTaken) {
    throw new CommandError('bad_argument', `--user ${user}: standard input is taken by the commands, so give the password with --password-file FILE`);
  }
  return (require('./stdin') as typeof import('./stdin')).readSecret(io, `Password for ${user}`, `the password of --user ${user}`);
}

/** The first line of a secret's file, without its line end; an empty secret is refused. */
function firstLine(file: string, flag: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new CommandError('bad_argument', `${flag} ${file}: cannot read it: ${why}`);
  }
  const line = text.split('\n')[0].replace(/\r$/, '');
  if (line === '') throw new CommandError('bad_argument', `${flag} ${file}: the first line is empty`);
  return line;
}

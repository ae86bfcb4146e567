import type { Field, FieldsValue, Value } from '../schema/types';
import type { Context } from './context';
import type { PasswordFormat } from '../config/config';

/** Who may call a command, as in ejabberd: `user` commands act on the caller's own account. */
export type Policy = 'admin' | 'user' | 'open' | 'restricted';

/**
 * What a command needs in order to run: nothing but its arguments, the database (opened
 * locally when no node runs), or a running node (which has the database open too).
 */
export type Needs = 'none' | 'store' | 'node';

/** A `user` command acts on one account, named by the caller before the declared arguments. */
export type AccountArgs = { readonly user: string; readonly server: string };

/** What a handler receives: the declared arguments, plus the account for `policy: 'user'`. */
export type HandlerArgs<A extends readonly Field[], P extends Policy> = FieldsValue<A> & (P extends 'user' ? AccountArgs : unknown);

export interface CommandSpec<A extends readonly Field[] = readonly Field[], R extends Field = Field, P extends Policy = Policy, S = unknown> {
  /** snake_case, exactly as ejabberd spells it: the name is the wire API. */
  readonly name: string;
  readonly tags: readonly string[];
  readonly desc: string;
  /** Shown in help and docs; may contain newlines. Empty means "same as desc". */
  readonly longdesc?: string;
  /** Arguments in positional order; their names are the JSON keys and XML-RPC members. */
  readonly args: A;
  readonly result: R;
  readonly policy: P;
  readonly needs: Needs;
  /**
   * Runs alone on a node: it replaces the database, so nothing may read or write beside it.
   * Every other command runs side by side with the others.
   */
  readonly exclusive?: boolean;
  /**
   * Stops or restarts the node, closing the database to everyone itself: it must not wait
   * beside the others for it. Every other command that needs a node reads its database too.
   */
  readonly lifecycle?: boolean;
  /**
   * Changes nothing (no record, no session, no file, no setting): the HTTP API runs it for a
   * GET as well as a POST. Unmarked commands are POST only, so that a link or a cross-site
   * request cannot register, delete or stop anything.
   */
  readonly readOnly?: boolean;
  /** Arguments that name files: a caller in another directory sends them as absolute paths. */
  readonly paths?: readonly string[];
  /** Set for ctl's own additions, which are not part of the ejabberd Administration API. */
  readonly origin?: 'ctl';
  /** The extension module that declared the command; absent for the commands of ctl. */
  readonly extension?: string;
  /**
   * Installs, builds or reloads code that then runs in the node: over HTTP and XML-RPC even an
   * administrator may call it only when the configuration says so (`ext_modules: http_api: true`).
   */
  readonly managesCode?: boolean;
  /** What this node does differently, or why: shown by help and the man page, not the API reference. */
  readonly note?: string;
  /**
   * The description help and the man page show instead of `desc`, where ejabberd's words (kept
   * for the API reference, which must stay ejabberd's byte for byte) are empty or name ejabberd
   * where they mean this node.
   */
  readonly helpDesc?: string;
  /** The same for `longdesc`: its examples written for ctl. */
  readonly helpLongdesc?: string;
  /**
   * The values an enumerated argument takes, by argument name: help lists them, and the handler
   * checks against the same list, so the two cannot disagree. A function is called only by help,
   * for a list that lives in a module every call should not load.
   */
  readonly argValues?: Readonly<Record<string, readonly string[] | (() => readonly string[])>>;
  /** The ejabberd module that defines the command: the doc generators' regexp matches it too. */
  readonly module: string;
  readonly argsDesc?: readonly string[];
  readonly argsExample?: readonly unknown[];
  readonly resultDesc?: string;
  readonly resultExample?: unknown;
  /**
   * Starts, before the command's turn, work its handler will ask for and that depends on its
   * arguments alone (hashing a password): a runner that queues commands calls it a few commands
   * ahead of this one's turn, with the arguments as given (not checked yet), and calls what it
   * returns once the command is done. It changes nothing and never fails: a handler that finds nothing ready
   * does the work itself.
   */
  readonly prepare?: (args: Readonly<Record<string, unknown>>, config: { readonly authPasswordFormat: PasswordFormat }) => (() => void) | undefined;
  /**
   * The one thing the command reads and writes, when its arguments name one (an account): a
   * runner that keeps a caller's commands in order (`ctl batch`) may run commands of different
   * scopes side by side, and runs a command without a scope after everything before it. Called
   * with the arguments as given (not checked yet); undefined when they name nothing it can tell.
   */
  readonly scope?: (args: Readonly<Record<string, unknown>>) => string | undefined;
  /** Absent while the command is declared but not implemented yet. */
  readonly handler?: (args: HandlerArgs<A, P>, ctx: Context<S>) => Promise<Value<R['type']>> | Value<R['type']>;
}

/** A command as the registry keeps it, with its argument and result types erased. */
export type Command = CommandSpec<readonly Field[], Field> & {
  readonly handler?: (args: Record<string, unknown>, ctx: Context) => unknown;
};

/** Declares a command; the const type parameters give the handler typed arguments. */
export function defineCommand<const A extends readonly Field[], const R extends Field, const P extends Policy, S = unknown>(
  spec: CommandSpec<A, R, P, S>,
): Command {
  return spec as unknown as Command;
}

/** The command's scope; none (it runs after everything before it) when its declaration fails on these arguments. */
export function scopeOf(command: Command, args: Readonly<Record<string, unknown>>): string | undefined {
  try {
    return command.scope?.(args);
  } catch {
    return undefined;
  }
}

/** A command of ejabberd's Administration API, as opposed to ctl's own additions. */
export function isAdminApi(command: Pick<Command, 'origin' | 'extension'>): boolean {
  return command.origin === undefined && command.extension === undefined;
}

/**
 * Stops or restarts the node, or deletes, overwrites or cuts off what cannot be brought back:
 * never offered as the nearest name to a misspelt command, where one keystroke would run it.
 */
export function isDestructive(name: string): boolean {
  return DESTRUCTIVE.has(name) || /^(delete|destroy|kick|remove|leave)_|_(destroy|delete|del|revoke|uninstall)$/.test(name);
}

const DESTRUCTIVE = new Set([
  'stop',
  'stop_kindly',
  'restart',
  'unregister',
  'ban_account',
  'restore',
  'install_fallback',
  'load',
  'join_cluster',
  'set_master',
  'change_password',
  'convert_to_scram',
  'process_rosteritems',
  'muc_unregister_nick',
  'import_dir',
  'import_file',
  'import_piefxis',
  'update',
  'compile',
]);

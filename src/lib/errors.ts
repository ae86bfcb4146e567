/**
 * The one error model. Handlers and services throw `CommandError` on purpose; anything else
 * that reaches the executor is a crash and becomes `internal`.
 */

export type ErrorCode =
  'bad_argument' | 'unknown_command' | 'not_found' | 'conflict' | 'not_allowed' | 'not_supported' | 'not_implemented' | 'unavailable' | 'failed' | 'internal';

export class CommandError extends Error {
  readonly code: ErrorCode;
  /** Extra facts for a transport (e.g. the argument at fault, a suggestion). */
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CommandError';
    this.code = code;
    this.details = options.details;
  }
}

/**
 * An error about one field of a domain value (a user name, a password, an element). Its text
 * names the field as the caller knows it: `describe(name)` with the domain's field name, until
 * an admin adapter renames it to its argument (`renameField`), so an XMPP client never reads
 * an admin argument's name.
 */
export function fieldError(code: ErrorCode, field: string, describe: (name: string) => string): CommandError {
  const err = new CommandError(code, describe(field), { details: { arg: field, field } });
  DESCRIBE.set(err, describe);
  return err;
}

const DESCRIBE = new WeakMap<CommandError, (name: string) => string>();

/**
 * The same error with its fields named as in `names` (domain field → argument name); errors
 * about other fields, and other errors, are returned as they are.
 */
export function renameField(err: unknown, names: Readonly<Record<string, string>>): unknown {
  if (!(err instanceof CommandError)) return err;
  const field = err.details?.field;
  const describe = DESCRIBE.get(err);
  if (typeof field !== 'string' || !describe || names[field] === undefined) return err;
  return fieldError(err.code, names[field], describe);
}

/**
 * Runs `check(field)`, a check whose errors name what it checks as told (`parseJid(text, name)`),
 * and makes its error a `fieldError` about `field`, so that an adapter can rename it.
 */
export function checkField<T>(field: string, check: (name: string) => T): T {
  try {
    return check(field);
  } catch (err) {
    if (!(err instanceof CommandError)) throw err;
    throw fieldError(err.code, field, (name) => {
      try {
        check(name);
      } catch (again) {
        if (again instanceof Error) return again.message;
      }
      return err.message;
    });
  }
}

/** Runs `fn`, naming the fields of its errors as in `names` (see `renameField`). */
export async function naming<T>(names: Readonly<Record<string, string>>, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw renameField(err, names);
  }
}

/** Exit statuses of the command line (ejabberdctl's: 1 failed, 2 usage, 3 node unreachable). */
export const EXIT_STATUS = {
  bad_argument: 2,
  unknown_command: 1,
  not_found: 1,
  conflict: 1,
  not_allowed: 1,
  not_supported: 1,
  not_implemented: 1,
  unavailable: 3,
  failed: 1,
  internal: 1,
} as const satisfies Record<ErrorCode, number>;

const CODES = new Set<string>(Object.keys(EXIT_STATUS));

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && CODES.has(code);
}

/**
 * For a `.catch` where what is missing is what was wanted: ejabberdctl's deletions (unregister,
 * delete_rosteritem, srg_delete, srg_user_del) succeed when there is nothing to delete.
 */
export function unlessNotFound(err: unknown): void {
  if (!(err instanceof CommandError && err.code === 'not_found')) throw err;
}

/** Wraps anything thrown into a CommandError, keeping the original as the cause. */
export function toCommandError(err: unknown, command?: string): CommandError {
  if (err instanceof CommandError) return err;
  const what = command ? `${command} crashed` : 'internal error';
  // `crash` survives the trip over the control socket, where the cause does not.
  return new CommandError('internal', `${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err, details: { crash: true } });
}

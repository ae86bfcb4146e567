/**
 * The one error model. Handlers and services throw `CommandError` on purpose; anything else
 * that reaches the executor is a crash and becomes `internal`.
 */

export type ErrorCode =
  | 'bad_argument'
  | 'unknown_command'
  | 'not_found'
  | 'conflict'
  | 'not_allowed'
  | 'not_supported'
  | 'not_implemented'
  | 'unavailable'
  | 'failed'
  | 'internal';

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

/** Wraps anything thrown into a CommandError, keeping the original as the cause. */
export function toCommandError(err: unknown, command?: string): CommandError {
  if (err instanceof CommandError) return err;
  const what = command ? `${command} crashed` : 'internal error';
  // `crash` survives the trip over the control socket, where the cause does not.
  return new CommandError('internal', `${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err, details: { crash: true } });
}

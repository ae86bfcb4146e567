import { CommandError, fieldError } from '../../lib/errors';
import type { Command } from '../../core/command';
import { callerArgs } from '../../core/args';
import { decodeWord } from '../../schema/cli';
import { REPLACEMENT_CHARACTER } from '../../lib/utf8';

/** The argument-count error, worded the same for the command line and for `ctl batch`. */
export function checkArity(command: Command, count: number): void {
  const args = callerArgs(command);
  if (count < args.length) {
    throw new CommandError('bad_argument', `missing argument '${args[count].name}'`, { details: { arg: args[count].name } });
  }
  if (count > args.length) {
    throw new CommandError('bad_argument', `too many arguments for ${command.name}: it takes ${args.length}, got ${count}`);
  }
}

/** Positional shell words to named, typed arguments. */
export function wordsToArgs(command: Command, words: readonly string[]): Record<string, unknown> {
  checkArity(command, words.length);
  const args: Record<string, unknown> = {};
  callerArgs(command).forEach((field, i) => {
    // Node reads bytes that are not UTF-8 as U+FFFD: passwords that differ would be the same.
    if (words[i].includes(REPLACEMENT_CHARACTER)) {
      throw fieldError(
        'bad_argument',
        field.name,
        (name) => `The ${name} (${name}) is not valid UTF-8 (U+FFFD, what bytes that are not UTF-8 are read as, is refused)`,
      );
    }
    args[field.name] = decodeWord(field, words[i]);
  });
  return args;
}

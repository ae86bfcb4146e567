import type { ZodIssue } from 'zod';
import type { Command } from './command';
import { callerArgs } from './args';
import { fieldsToZod, toZod } from '../schema/zod';
import { conforms, fieldsConform } from '../schema/conforms';
import { authorize } from './access';
import type { Context } from './context';
import { CommandError, toCommandError } from '../lib/errors';
import type { Registry } from './registry';

/** Finds a command or fails with `unknown_command` and the nearest name. */
export function lookup(registry: Registry, name: string): Command {
  const command = registry.get(name);
  if (command) return command;
  const near = registry.suggest(name);
  throw new CommandError('unknown_command', `Unknown command '${name}'${near ? `. Did you mean '${near}'?` : ''}`, {
    details: near ? { suggestion: near } : undefined,
  });
}

/**
 * The one call path of every transport: check the arguments, run the handler, check what it
 * returned. Every failure leaves as a CommandError; a crash becomes `internal`.
 */
export async function execute(command: Command, args: Record<string, unknown>, ctx: Context): Promise<unknown> {
  if (!command.handler) throw new CommandError('not_implemented', `${command.name} is not implemented yet`);
  const given = authorize(command, args, ctx.caller, ctx.config.extModules.httpApi);
  // Zod is asked only about what the quick check refuses: it is loaded then, and says what is wrong.
  let data: Record<string, unknown>;
  if (fieldsConform(callerArgs(command), given)) data = { ...given };
  else {
    const checked = schemasOf(command).args.safeParse(given);
    if (!checked.success) throw argumentError(command, args, checked.error.issues[0]);
    data = checked.data as Record<string, unknown>;
  }
  let value: unknown;
  try {
    value = await command.handler(data, ctx);
  } catch (err) {
    throw toCommandError(err, command.name);
  }
  if (!conforms(command.result.type, value) && !schemasOf(command).result.safeParse(value).success) {
    throw new CommandError('internal', `${command.name} returned a value that is not of its result type (${command.result.type.kind})`);
  }
  return value;
}

type Schemas = { readonly args: ReturnType<typeof fieldsToZod>; readonly result: ReturnType<typeof toZod> };

/** Built on a command's first call, then kept: a batch of 10 000 lines builds them once. */
const SCHEMAS = new WeakMap<Command, Schemas>();

function schemasOf(command: Command): Schemas {
  let s = SCHEMAS.get(command);
  if (!s) SCHEMAS.set(command, (s = { args: fieldsToZod(callerArgs(command)), result: toZod(command.result.type) }));
  return s;
}

/**
 * The first problem zod found, as a sentence naming the argument; `problem` says which kind
 * (XML-RPC reports each with its own fault code).
 */
function argumentError(command: Command, args: Record<string, unknown>, issue: ZodIssue): CommandError {
  const arg = issue.path.length > 0 ? String(issue.path[0]) : undefined;
  const unknown = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => `'${k}'`).join(', ') : '';
  const [problem, message] =
    unknown && arg
      ? ['type', `Bad value for argument '${issue.path.join('.')}': unknown field ${unknown}`]
      : unknown
        ? ['unknown', `Unknown argument ${unknown} for ${command.name}`]
        : arg && args[arg] === undefined
          ? ['missing', `Missing argument '${arg}' for ${command.name}`]
          : ['type', `Bad value for argument '${issue.path.join('.')}': ${issue.message}`];
  return new CommandError('bad_argument', message, { details: { arg, problem } });
}

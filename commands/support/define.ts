import { defineCommand as define, type Command, type CommandSpec, type Policy } from '../../src/core/command';
import type { Field } from '../../src/schema/types';
import type { Services } from '../../src/node/services';

/** Declares an admin command whose handler gets the node's services, typed. */
export function defineCommand<const A extends readonly Field[], const R extends Field, const P extends Policy>(spec: CommandSpec<A, R, P, Services>): Command {
  return define(spec);
}

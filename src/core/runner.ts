import type { Command } from './command';
import type { Field } from '../schema/types';

/** Runs commands somewhere: in this process over the database, on the node, or on a server's API. */
export interface CommandRunner {
  /** Commands run in the order of the calls, even when a caller does not wait for each. */
  run(command: Command, args: Record<string, unknown>): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * A result in a shape of its own: a remote server whose command answers otherwise than the
 * command's declaration (another ejabberd version) is shown as it answered, not forced into ours.
 */
export class Reshaped {
  constructor(
    readonly field: Field,
    readonly value: unknown,
  ) {}
}

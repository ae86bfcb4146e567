import type { Command } from './command';

/** Runs commands somewhere: in this process over the database, or on the node. */
export interface CommandRunner {
  /** Commands run in the order of the calls, even when a caller does not wait for each. */
  run(command: Command, args: Record<string, unknown>): Promise<unknown>;
  close(): Promise<void>;
}

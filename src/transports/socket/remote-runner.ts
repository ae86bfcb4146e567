import { resolve } from 'node:path';
import type { CommandRunner } from '../../core/runner';
import type { ControlClient } from './client';

export interface RemoteOptions {
  /** Many commands in a row: the node writes without waiting for the disk, then syncs once at close. */
  readonly bulk?: boolean;
  /** Ask for stack traces of internal errors. */
  readonly debug?: boolean;
  /** Imports fail on what they would skip with a warning (`--strict`). */
  readonly strict?: boolean;
  /** The ejabberd SQL layout export_odbc writes (`--sql-schema`). */
  readonly sqlSchema?: string;
  readonly progress?: (text: string) => void;
  readonly working?: (text: string) => void;
  readonly summary?: (text: string) => void;
  /** The caller's working directory: relative paths name files there, not in the node's. */
  readonly cwd?: string;
}

/** A runner on a running node: every command is sent over the control socket. */
export function createRemoteRunner(client: ControlClient, options: RemoteOptions = {}): CommandRunner {
  const cwd = options.cwd ?? process.cwd();
  // Once a command has failed because the node went away, the caller knows; a final sync
  // cannot happen, and its error would only repeat that (and turn a batch's status 1 into 3).
  let lossReported = false;
  return {
    run(command, args) {
      const sent = { ...args };
      for (const name of command.paths ?? []) if (typeof sent[name] === 'string') sent[name] = resolve(cwd, sent[name] as string);
      return client
        .call(
          {
            command: command.name,
            args: sent,
            bulk: options.bulk,
            debug: options.debug,
            ...(options.strict && { strict: true }),
            ...(options.sqlSchema !== undefined && { sqlSchema: options.sqlSchema }),
          },
          (text, kind) => (kind === 'working' ? options.working : kind === 'summary' ? options.summary : options.progress)?.(text),
        )
        .catch((err: unknown) => {
          if (!client.connected()) lossReported = true;
          throw err;
        });
    },
    async close() {
      try {
        if (options.bulk && !lossReported) await client.call({ op: 'sync' });
      } finally {
        client.close();
      }
    },
  };
}

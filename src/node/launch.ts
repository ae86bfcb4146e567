import { main } from '../transports/cli/main';
import { processIo } from '../transports/cli/output';
import { cliApp } from './cli';

/**
 * The command line as bin/ctl runs it, from the modules or from the bundle: the exit status is
 * set once output has been flushed, and the process then ends by itself.
 */
export function launch(argv: readonly string[]): Promise<void> {
  const io = processIo();
  return main(argv, io, cliApp()).then(
    (status) => {
      process.exitCode = io.writeFailed() && status === 0 ? 1 : status;
    },
    (err: unknown) => {
      process.stderr.write(`Error: ${err instanceof Error && err.stack ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

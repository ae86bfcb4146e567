import { wantsColour, type Io } from './output';

export interface Spinner {
  /** What a long command is doing now: shown on a terminal, dropped on a pipe. */
  working(text: string): void;
  /** A line to keep, written above the spinner. */
  line(text: string): void;
  /** What a long command did: a line to keep, on a terminal or with --verbose only. */
  summary(text: string): void;
  stop(): void;
}

/**
 * Progress for people: an ora spinner on a terminal. On a pipe (scripts, cron) there is no
 * spinner at all, only the lines to keep, and summaries only when asked for (`verbose`).
 */
export function createSpinner(io: Io, options: { verbose?: boolean } = {}): Spinner {
  const stream = io.stderr as Partial<NodeJS.WriteStream> & Io['stderr'];
  // ora draws with cursor movements, which only a real terminal stream offers.
  const enabled = stream.isTTY === true && typeof stream.clearLine === 'function';
  let spinner: import('ora').Ora | undefined;
  function line(text: string): void {
    spinner?.clear();
    io.stderr.write(`${text}\n`);
    spinner?.render();
  }
  return {
    working(text) {
      if (!enabled) return;
      if (spinner) {
        spinner.text = text;
        return;
      }
      const ora = require('ora') as typeof import('ora');
      spinner = ora({ text, stream: stream as NodeJS.WriteStream, color: wantsColour(io, io.stderr) ? 'cyan' : undefined, isEnabled: true }).start();
    },
    line,
    summary(text) {
      if (stream.isTTY === true || options.verbose === true) line(text);
    },
    stop() {
      spinner?.stop();
      spinner = undefined;
    },
  };
}

import type { Command } from '../../schema/command';
import { columns, escape, renderText, rows } from '../../schema/text';
import { toJson } from '../../schema/json';
import { CommandError, EXIT_STATUS, toCommandError } from '../../core/errors';
import { usageLine } from '../../docs/cli-text';
import type { Format } from './argv';

export interface Out {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface Io {
  readonly stdout: Out;
  readonly stderr: Out;
  readonly stdin: NodeJS.ReadableStream;
  readonly env: NodeJS.ProcessEnv;
}

/** The format when none is asked for: what scripts expect on a pipe, a table for people. */
export function defaultFormat(io: Io): Format {
  return io.stdout.isTTY ? 'table' : 'text';
}

/** Writes a command's result to stdout and returns the exit status it stands for. */
export function writeResult(io: Io, command: Command, value: unknown, format: Format): number {
  const result = command.result;
  const status = result.type.kind === 'rescode' && value !== true ? 1 : 0;
  let text: string;
  if (format === 'json') text = JSON.stringify(toJson(result, value));
  else if (format === 'text' || result.type.kind === 'rescode' || result.type.kind === 'restuple') text = renderText(result, value);
  else if (format === 'tsv') text = [columns(result), ...rows(result, value)].map((r) => r.map(escape).join('\t')).join('\n');
  else text = isStructured(command) ? table(io, columns(result), rows(result, value)) : renderText(result, value);
  if (text !== '') io.stdout.write(`${text}\n`);
  return status;
}

function isStructured(command: Command): boolean {
  const t = command.result.type;
  return t.kind === 'tuple' || (t.kind === 'list' && t.elem.type.kind === 'tuple');
}

function table(io: Io, head: string[], body: string[][]): string {
  if (body.length === 0) return '';
  const Table = require('cli-table3') as typeof import('cli-table3');
  const t = new Table({ head, style: { head: colour(io, io.stdout) ? ['cyan'] : [], border: [] } });
  t.push(...body);
  return t.toString();
}

export function colour(io: Io, out: Out): boolean {
  return out.isTTY === true && io.env.NO_COLOR === undefined;
}

/** Reports a failure on stderr and returns its exit status. */
export function writeError(io: Io, err: unknown, options: { debug?: boolean; command?: Command; prefix?: string } = {}): number {
  const e = toCommandError(err);
  const lines = [`${options.prefix ?? ''}Error: ${e.message}`];
  if (e.code === 'bad_argument' && options.command) lines.push(`Usage: ${usageLine(options.command)}`);
  if (e.code === 'internal') {
    if (options.debug) lines.push(String((e.cause as Error)?.stack ?? e.stack));
    else lines.push('(run with --debug for the stack trace)');
  }
  let text = lines.join('\n');
  if (colour(io, io.stderr)) {
    const chalk = require('chalk') as typeof import('chalk');
    text = text.replace(/Error:/, chalk.red.bold('Error:'));
  }
  io.stderr.write(`${text}\n`);
  return EXIT_STATUS[e.code];
}

export { CommandError };

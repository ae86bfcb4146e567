import type { Command } from '../../core/command';
import { columns, escape, renderText, rows } from '../../schema/text';
import { toJson } from '../../schema/json';
import { EXIT_STATUS, toCommandError } from '../../lib/errors';
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
  else if (format === 'tsv') text = [columns(result).map(escape), ...rows(result, value)].map((r) => r.join('\t')).join('\n');
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
  const paint = painter(io, io.stdout);
  // Colour is applied here, not by cli-table3, which would ask the real process.stdout instead.
  const t = new Table({ head: head.map((h) => (paint ? paint.cyan(h) : h)), style: { head: [], border: [] } });
  t.push(...body);
  return t.toString();
}

/** A chalk instance when `out` is a terminal and NO_COLOR is unset; undefined otherwise. */
function painter(io: Io, out: Out): import('chalk').Chalk | undefined {
  if (out.isTTY !== true || io.env.NO_COLOR !== undefined) return undefined;
  const chalk = require('chalk') as typeof import('chalk');
  return new chalk.Instance({ level: 1 });
}

/** Reports a failure on stderr and returns its exit status. */
export function writeError(io: Io, err: unknown, options: { debug?: boolean; command?: Command; prefix?: string } = {}): number {
  const e = toCommandError(err);
  // A node sends the stack of its own crash in the error's details.
  const stack = e.code === 'internal' ? ((e.cause as Error | undefined)?.stack ?? (e.details?.stack as string | undefined)) : undefined;
  const hint = e.details?.crash && !options.debug ? ' (run with --debug for the stack trace)' : '';
  const paint = painter(io, io.stderr);
  const lines = [`${options.prefix ?? ''}${paint ? paint.red.bold('Error:') : 'Error:'} ${e.message}${hint}`];
  if (e.code === 'bad_argument' && options.command) {
    const { usageLine } = require('../../docs/cli-text') as typeof import('../../docs/cli-text');
    lines.push(`Usage: ${usageLine(options.command)}`);
  }
  if (e.code === 'internal' && options.debug) lines.push(stack ?? String(e.stack));
  io.stderr.write(`${lines.join('\n')}\n`);
  return EXIT_STATUS[e.code];
}

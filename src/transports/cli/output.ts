import type { Command } from '../../core/command';
import { Reshaped } from '../../core/runner';
import { columns, escape, renderText, rows } from '../../schema/text';
import { EXIT_STATUS, toCommandError } from '../../lib/errors';
import type { Format } from './argv';
import type { Field } from '../../schema/types';

export interface Out {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  /** The terminal's width, when the stream is one. */
  readonly columns?: number;
}

export interface Io {
  readonly stdout: Out;
  readonly stderr: Out;
  readonly stdin: NodeJS.ReadableStream;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * The process's own streams. A reader that goes away (`ctl registered_users localhost | head`)
 * ends the output quietly, as a program killed by SIGPIPE would, but the command still finishes
 * and keeps its exit status: Node ignores SIGPIPE, and its unhandled EPIPE would be a stack trace.
 * The streams stay the real ones, which the spinner needs to draw on a terminal.
 */
export function processIo(): Io & { readonly writeFailed: () => boolean } {
  let failed = false;
  for (const [stream, name] of [
    [process.stdout, 'standard output'],
    [process.stderr, 'standard error'],
  ] as const) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') return;
      failed = true;
      if (stream === process.stdout) process.stderr.write(`Error: cannot write to ${name}: ${err.message}\n`);
    });
  }
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    // Made when read: on a pipe it is a socket, which costs milliseconds, and most commands never read it.
    get stdin() {
      return process.stdin;
    },
    env: process.env,
    writeFailed: () => failed,
  };
}

/** The format when none is asked for: what scripts expect on a pipe, a table for people. */
export function defaultFormat(io: Io): Format {
  return io.stdout.isTTY ? 'table' : 'text';
}

/** `--format json` seen on a command line that may not parse: its errors are JSON too. */
export function asksForJson(argv: readonly string[]): boolean {
  return argv.some((word, i) => word === '--format=json' || (word === '--format' && argv[i + 1] === 'json'));
}

/** Writes a command's result to stdout and returns the exit status it stands for. */
export function writeResult(io: Io, command: Command, answer: unknown, format: Format): number {
  const [result, value] = answer instanceof Reshaped ? [answer.field, answer.value] : [command.result, answer];
  const status = result.type.kind === 'rescode' && value !== true ? 1 : 0;
  let text: string;
  // The HTTP API answers 0/1 for a rescode; a program reading ctl's JSON gets a plain boolean.
  if (format === 'json')
    text = JSON.stringify(
      result.type.kind === 'rescode' ? value === true : (require('../../schema/json') as typeof import('../../schema/json')).toJson(result, value),
    );
  else if (format === 'text' || result.type.kind === 'rescode' || result.type.kind === 'restuple') text = renderText(result, value);
  else if (format === 'tsv') text = [columns(result).map(escape), ...rows(result, value)].map((r) => r.join('\t')).join('\n');
  else text = isStructured(result) ? table(io, columns(result), rows(result, value)) : renderText(result, value);
  if (format === 'table' && io.stdout.isTTY) text = cutForTerminal(text, width(io));
  if (text !== '') io.stdout.write(`${text}\n`);
  return status;
}

function isStructured(result: Field): boolean {
  const t = result.type;
  return t.kind === 'tuple' || (t.kind === 'list' && t.elem.type.kind === 'tuple');
}

/** The terminal's width: the stream's, else `COLUMNS`, else 80. */
function width(io: Io): number {
  const fromEnv = Number(io.env.COLUMNS);
  if (io.stdout.columns !== undefined && io.stdout.columns > 0) return io.stdout.columns;
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 80;
}

/** One line longer than this many screen lines is shortened on a terminal (a 100 KB result line). */
const LONG_LINE_SCREENS = 10;

/**
 * A person at a terminal gets the start of a very long single line and how much was left out;
 * the whole of it is one `--format text` away, and a pipe always gets all of it.
 */
function cutForTerminal(text: string, columns: number): string {
  if (text.includes('\n') || text.length <= columns * LONG_LINE_SCREENS) return text;
  const shown = Math.max(columns - 48, 20);
  return `${text.slice(0, shown)}… (${text.length - shown} more characters: --format text prints them all)`;
}

function table(io: Io, head: string[], body: string[][]): string {
  if (body.length === 0) return '';
  const Table = require('cli-table3') as typeof import('cli-table3');
  const { strlen } = require('cli-table3/src/utils') as { strlen: (s: string) => number };
  const natural = head.map((h, i) => Math.max(strlen(h), ...body.map((row) => strlen(row[i] ?? ''))) + 2);
  const widths = fitWidths(natural, io.stdout.isTTY ? width(io) : Infinity);
  const fit = (row: string[]) => (widths ? row.map((cell, i) => (widths[i] < natural[i] ? wrap(cell, widths[i] - 2, strlen) : cell)) : row);
  const t = new Table({ head: fit(head), style: { head: [], border: [] }, ...(widths ? { colWidths: widths } : {}) });
  t.push(...body.map(fit));
  const lines = t.toString().split('\n');
  const headerEnd = lines.findIndex((line) => line.startsWith('├'));
  // Colour goes on after the layout: cli-table3 would ask the real process.stdout instead.
  const paint = painter(io, io.stdout);
  const header = lines
    .slice(1, headerEnd)
    .map((line) => (paint ? line.replace(/(?<=\u2502 )[^\u2502]*?(?= *\u2502)/g, (cell) => (cell === '' ? '' : paint.cyan(cell))) : line));
  // No rules between rows: they are told apart by their lines, as in a listing.
  return [lines[0], ...header, ...lines.slice(headerEnd).filter((line, i) => i === 0 || !line.startsWith('├'))].join('\n');
}

/** Lines of at most `max` wide: broken after a space or comma when one is near, else anywhere. */
function wrap(text: string, max: number, strlen: (s: string) => number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.match(/[^ ,]*[ ,]*/g) ?? []) {
    if (line !== '' && strlen(line + word.trimEnd()) > max) {
      lines.push(line.trimEnd());
      line = '';
    }
    for (const ch of word) {
      if (line !== '' && strlen(line + ch) > max && ch !== ' ') {
        lines.push(line);
        line = '';
      }
      line += ch;
    }
  }
  if (line.trimEnd() !== '' || lines.length === 0) lines.push(line.trimEnd());
  return lines.join('\n');
}

/** The narrowest cell a fitted table still gives a column, padding included. */
const MIN_COLUMN = 8;

/**
 * Column widths for a table no wider than `columns`, or undefined when it fits as it is. The
 * widest column alone is narrowed (wrapped) when that is enough; otherwise the widest ones are
 * narrowed to one common width, so the narrow ones stay whole.
 */
function fitWidths(natural: number[], columns: number): number[] | undefined {
  const room = columns - (natural.length + 1);
  const total = natural.reduce((a, b) => a + b, 0);
  if (total <= room) return undefined;
  const widest = natural.indexOf(Math.max(...natural));
  const alone = room - (total - natural[widest]);
  if (alone >= MIN_COLUMN) return natural.map((w, i) => (i === widest ? alone : w));
  const sorted = [...natural].sort((a, b) => a - b);
  let below = 0;
  let cap = MIN_COLUMN;
  for (let i = 0; i < sorted.length; i++) {
    const even = Math.floor((room - below) / (sorted.length - i));
    if (sorted[i] > even) {
      cap = Math.max(even, MIN_COLUMN);
      break;
    }
    below += sorted[i];
  }
  return natural.map((w) => Math.min(w, cap));
}

/**
 * Whether `out` gets colour: FORCE_COLOR decides when set (`0` or `false` never, any other value
 * always, even on a pipe), else a non-empty NO_COLOR means never, else only a terminal does.
 * Empty values count as unset, as no-color.org and force-color.org say.
 */
export function wantsColour(io: Io, out: Out): boolean {
  const force = io.env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  return out.isTTY === true;
}

/** A chalk instance when `out` gets colour; undefined otherwise. */
function painter(io: Io, out: Out): import('chalk').Chalk | undefined {
  if (!wantsColour(io, out)) return undefined;
  const chalk = require('chalk') as typeof import('chalk');
  return new chalk.Instance({ level: 1 });
}

export interface ErrorOptions {
  readonly debug?: boolean;
  readonly command?: Command;
  /** The line of `ctl batch` input that failed. */
  readonly line?: number;
  readonly format?: Format;
}

/** Reports a failure on stderr and returns its exit status. */
export function writeError(io: Io, err: unknown, options: ErrorOptions = {}): number {
  const e = toCommandError(err);
  // A node sends the stack of its own crash in the error's details.
  const stack = e.code === 'internal' ? ((e.cause as Error | undefined)?.stack ?? (e.details?.stack as string | undefined)) : undefined;
  const usage =
    e.code === 'bad_argument' && options.command
      ? (require('../../docs/cli-text') as typeof import('../../docs/cli-text')).usageLine(options.command)
      : undefined;
  if (options.format === 'json') {
    const report = {
      ...(options.line !== undefined ? { line: options.line } : {}),
      error: e.code,
      message: e.message,
      ...(typeof e.details?.arg === 'string' ? { argument: e.details.arg } : {}),
      ...(typeof e.details?.suggestion === 'string' ? { suggestion: e.details.suggestion } : {}),
      ...(usage !== undefined ? { usage } : {}),
      ...(options.debug && e.code === 'internal' ? { stack: stack ?? String(e.stack) } : {}),
    };
    io.stderr.write(`${JSON.stringify(report)}\n`);
    return EXIT_STATUS[e.code];
  }
  const hint = e.details?.crash && !options.debug ? ' (run with --debug for the stack trace)' : '';
  const paint = painter(io, io.stderr);
  const prefix = options.line !== undefined ? `line ${options.line}: ` : '';
  const lines = [`${prefix}${paint ? paint.red.bold('Error:') : 'Error:'} ${e.message}${hint}`];
  if (usage !== undefined) lines.push(`Usage: ${usage}`);
  if (e.code === 'internal' && options.debug) lines.push(stack ?? String(e.stack));
  io.stderr.write(`${lines.join('\n')}\n`);
  return EXIT_STATUS[e.code];
}

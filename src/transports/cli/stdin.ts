import type { Command } from '../../core/command';
import { callerArgs } from '../../core/args';
import { CommandError } from '../../lib/errors';
import type { Io } from './output';

/** A terminal as Node gives it: reading it character by character needs raw mode. */
interface TerminalIn extends NodeJS.ReadableStream {
  readonly isTTY?: boolean;
  setRawMode?(raw: boolean): unknown;
}

/** What the prompt says for the secrets `--stdin` reads as one line. */
const SECRET_PROMPTS: Readonly<Record<string, string>> = { password: 'Password', newpass: 'New password', passwordhash: 'Password hash' };

/**
 * `--stdin NAME`: the argument comes from standard input. A password is one line: typed at a
 * prompt with echo off on a terminal, or the first line of a pipe (so `printf 'pw\n'` and a
 * file with more lines after it give `pw`). Any other argument (an XML stanza, a text) is all
 * of standard input, one trailing newline dropped.
 */
export async function withStdinArg(io: Io, command: Command, words: readonly string[], name: string): Promise<string[]> {
  const index = callerArgs(command).findIndex((a) => a.name === name);
  const stdin = io.stdin as TerminalIn;
  const prompt = SECRET_PROMPTS[name];
  let value: string;
  if (prompt === undefined) {
    if (stdin.isTTY === true) io.stderr.write(`Reading ${name} from standard input (end with Ctrl-D)\n`);
    value = (await readAll(stdin)).replace(/\r?\n$/, '');
  } else if (stdin.isTTY === true && typeof stdin.setRawMode === 'function') {
    value = await readHidden(io, stdin, `${prompt}: `, `--stdin ${name}`);
  } else {
    value = await readFirstLine(stdin);
  }
  return [...words.slice(0, index), value, ...words.slice(index)];
}

/** A secret of ctl's own (the password of `--user`): typed at a prompt with echo off, or the first line of a pipe. */
export function readSecret(io: Io, prompt: string, name: string): Promise<string> {
  const stdin = io.stdin as TerminalIn;
  if (stdin.isTTY === true && typeof stdin.setRawMode === 'function') return readHidden(io, stdin, `${prompt}: `, name);
  return readFirstLine(stdin);
}

// Bytes are decoded once they are all in: a character may arrive split across chunks.
async function readAll(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** The first line, without its line end; what follows it is left unread. */
async function readFirstLine(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (chunks[chunks.length - 1].includes(0x0a)) break;
  }
  return Buffer.concat(chunks).toString('utf8').split('\n')[0].replace(/\r$/, '');
}

/**
 * One line typed at a terminal without echo. Raw mode (rather than `stty -echo`) keeps it in
 * this process; it then falls to us to edit the line: backspace, Ctrl-U, Enter, Ctrl-D, Ctrl-C.
 */
/** `what` names the secret in the error when Ctrl-C cancels it (`--stdin password`). */
function readHidden(io: Io, stdin: TerminalIn, prompt: string, what: string): Promise<string> {
  stdin.setRawMode!(true);
  stdin.setEncoding('utf8');
  io.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let line = '';
    const finish = (err?: Error) => {
      stdin.removeListener('data', onData);
      stdin.setRawMode!(false);
      stdin.pause();
      io.stderr.write('\n');
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(new CommandError('failed', `${what}: cancelled`));
        if (ch === '\u007f' || ch === '\b') line = [...line].slice(0, -1).join('');
        else if (ch === '\u0015') line = '';
        else if (ch >= ' ') line += ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

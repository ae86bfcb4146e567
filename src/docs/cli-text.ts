/**
 * Facts about the command line that both `ctl help` and the man page state: one place each.
 */
import type { Command } from '../core/command';
import { callerArgs } from '../core/args';
import type { Field, Type } from '../schema/types';
import { exampleValues } from './examples';

export const SYNOPSIS = 'ctl [OPTION ...] COMMAND [ARG ...]';

export const SUMMARY = 'administer an XMPP node: the ejabberd Administration API on the command line';

export const EXIT_STATUSES: readonly [number, string][] = [
  [0, 'success'],
  [1, 'the command failed: not found, conflict, a false check, an unknown or unimplemented command'],
  [2, 'usage error: no command, a wrong number of arguments, an argument of the wrong type'],
  [3, 'the node is not reachable, or the database is held by another process'],
];

export const ENVIRONMENT: readonly [string, string][] = [
  ['CTL_HOME', 'the node home directory, when --home is not given'],
  ['CTL_CONFIG', 'the configuration file, when --config is not given'],
  ['XDG_DATA_HOME', 'the home directory is $XDG_DATA_HOME/ctl when neither of the above is set (default ~/.local/share)'],
  ['NO_COLOR', 'when set, never colour the output'],
];

export const FILES: readonly [string, string][] = [
  [
    'HOME/ctl.yml',
    'configuration (YAML, ejabberd.yml key names): hosts, loglevel, auth_password_format, listen, modules (mod_muc: the MUC service at conference.HOST)',
  ],
  ['HOME/db/', 'the LevelDB database'],
  ['HOME/run/ctl.sock', 'the control socket of a running node'],
  ['HOME/log/ctl.log', 'the node log'],
];

/** A one-line type, e.g. `[contact::{jid::string, nick::string}]`. */
export function typeLabel(type: Type): string {
  switch (type.kind) {
    case 'list':
      return `[${fieldLabel(type.elem)}]`;
    case 'tuple':
      return `{${type.fields.map(fieldLabel).join(', ')}}`;
    default:
      return type.kind;
  }
}

export function fieldLabel(field: Field): string {
  return `${field.name}::${typeLabel(field.type)}`;
}

/** How a list or tuple argument is written on the command line. */
export function argHint(type: Type): string {
  if (type.kind === 'list') return 'comma-separated, e.g. a,b,c (or a JSON array)';
  if (type.kind === 'tuple') return `colon-separated ${type.fields.map((f) => f.name).join(':')} (or a JSON object)`;
  return '';
}

export function usageLine(command: Command): string {
  return ['ctl', command.name, ...callerArgs(command).map((a) => a.name)].join(' ');
}

/** Values an operator would type, by argument name; other arguments get generated examples. */
const EXAMPLE_WORDS: Readonly<Record<string, string>> = {
  user: 'alice',
  localuser: 'alice',
  host: 'example.org',
  server: 'example.org',
  localserver: 'example.org',
  password: 's3cret',
  newpass: 'n3w-s3cret',
  days: '30',
  reason: 'spam',
  status: 'away',
  timestamp: '1700000000',
  file: '/tmp/out.txt',
  nick: 'Bob',
  group: 'Friends',
};

/** An example invocation: `ctl register alice example.org s3cret`. */
export function exampleLine(command: Command): string {
  const args = callerArgs(command);
  const generated = exampleValues(args, command.policy === 'user' ? undefined : command.argsExample);
  const words = args.map((a, i) => EXAMPLE_WORDS[a.name] ?? exampleWord(a.type, generated[i]));
  return ['ctl', command.name, ...words.map(shellQuote)].join(' ');
}

/** A value as one command-line word: lists joined with `,`, tuples with `:`. */
export function exampleWord(type: Type, value: unknown): string {
  if (type.kind === 'list') return (value as unknown[]).map((v) => exampleWord(type.elem.type, v)).join(',');
  if (type.kind === 'tuple') {
    const obj = value as Record<string, unknown> | unknown[];
    const vals = Array.isArray(obj) ? obj : type.fields.map((f) => obj[f.name]);
    return vals.map((v, i) => exampleWord(type.fields[i].type, v)).join(':');
  }
  return String(value);
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

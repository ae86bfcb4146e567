/**
 * Facts about the command line that both `ctl help` and the man page state: one place each.
 */
import type { Command } from '../core/command';
import { callerArgs } from '../core/args';
import type { Field, Type } from '../schema/types';
import { exampleValues } from './examples';
import { HELP_EXAMPLES } from './help-examples';

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
  ['NO_COLOR', 'when set and not empty, never colour the output'],
  ['FORCE_COLOR', 'when set and not empty, colour the output even on a pipe; 0 or false: never colour it'],
  ['COLUMNS', 'the width tables fit on a terminal that does not tell its own'],
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
  host: 'localhost',
  server: 'localhost',
  localserver: 'localhost',
  grouphost: 'localhost',
  password: 's3cret',
  newpass: 'n3w-s3cret',
  days: '30',
  reason: 'spam',
  status: 'away',
  timestamp: '1700000000',
  file: '/tmp/out.txt',
  nick: 'Bob',
  group: 'Friends',
  name: 'lounge',
  service: 'conference.localhost',
  jid: 'bob@localhost',
  from: 'admin@localhost',
  to: 'alice@localhost',
  subject: 'Hi',
  body: 'Hello',
  resource: 'phone',
  priority: '5',
  module: 'mod_example',
  node: 'ctl@otherhost',
  nodename: 'self',
  users: 'bob@localhost',
  hashmethod: 'md5',
  delay: '60',
  announcement: 'The server will stop in one minute.',
};

/** A second user in the same call is another one: `add_rosteritem alice localhost bob localhost`. */
const OTHER_USERS: Readonly<Record<string, string>> = { alice: 'bob', bob: 'carol' };

/** The words of the example call: the declared example, else words chosen by argument name. */
export function exampleWords(command: Command): readonly string[] {
  const declared = HELP_EXAMPLES[command.name]?.words;
  if (declared) return declared;
  const args = callerArgs(command);
  const generated = exampleValues(args, command.policy === 'user' ? undefined : command.argsExample);
  const used = new Set<string>();
  return args.map((a, i) => {
    const allowed = allowedValues(command, a.name);
    let word = allowed?.[0] ?? EXAMPLE_WORDS[a.name];
    if (word === undefined || (a.type.kind === 'integer' && !/^-?\d+$/.test(word))) word = exampleWord(a.type, generated[i]);
    while (used.has(word) && OTHER_USERS[word]) word = OTHER_USERS[word];
    if (a.name === 'user' || a.name === 'localuser') used.add(word);
    return word;
  });
}

/** An example invocation: `ctl register alice localhost s3cret`. */
export function exampleLine(command: Command): string {
  return ['ctl', command.name, ...exampleWords(command).map(shellQuote)].join(' ');
}

/** The values an enumerated argument takes, when the command says. */
export function allowedValues(command: Command, arg: string): readonly string[] | undefined {
  const values = command.argValues?.[arg];
  return typeof values === 'function' ? values() : values;
}

/** What the example call prints on a pipe, when the examples say. */
export function exampleOutput(command: Command): readonly string[] | undefined {
  return HELP_EXAMPLES[command.name]?.output;
}

/** The description people read: ejabberd's, unless ctl's help says it better. */
export function helpDescription(command: Command): string {
  return command.helpDesc ?? command.desc;
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

export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

import type { Command as Commander } from 'commander';
import { CommandError } from '../../lib/errors';
import type { Registry } from '../../core/registry';
import type { Command } from '../../core/command';
import { callerArgs } from '../../core/args';

export type Format = 'text' | 'table' | 'tsv' | 'json';
export const FORMATS: readonly Format[] = ['text', 'table', 'tsv', 'json'];

export interface GlobalOptions {
  readonly home?: string;
  readonly config?: string;
  readonly format?: Format;
  /** Seconds; 0 means wait forever (`--no-timeout`). */
  readonly timeout: number;
  readonly node?: string;
  readonly stdin?: string;
  readonly debug: boolean;
  /** Summaries of long commands on stderr even when it is not a terminal. */
  readonly verbose: boolean;
  /** Imports fail on what they would skip with a warning, before writing anything. */
  readonly strict: boolean;
  /** The ejabberd SQL layout export_odbc and export2odbc write; the node checks the name. */
  readonly sqlSchema?: string;
  /** A server's JSON API to run the command on (`--url`, else `CTL_URL`), instead of this home's node. */
  readonly url?: string;
  readonly tokenFile?: string;
  /** The account to authenticate as on `url` (`user@host`), with the password of `passwordFile` or a prompt. */
  readonly user?: string;
  readonly passwordFile?: string;
}

/** What the command line asks for. */
export type Invocation =
  | { readonly kind: 'usage'; readonly globals: GlobalOptions }
  | { readonly kind: 'builtin'; readonly globals: GlobalOptions; readonly name: BuiltinName; readonly topic?: string }
  | { readonly kind: 'complete'; readonly globals: GlobalOptions; readonly words: readonly string[] }
  | { readonly kind: 'command'; readonly globals: GlobalOptions; readonly command: Command; readonly words: readonly string[] };

/** A word of ctl itself: `help` shows it like a command. */
export interface Builtin {
  readonly name: string;
  readonly usage: string;
  readonly desc: string;
  /** More for `ctl help NAME`; may contain newlines. */
  readonly longdesc?: string;
  readonly examples?: readonly string[];
}

/** The words of ctl itself, beside the API's commands: they run no command of the registry. */
export const BUILTINS = [
  {
    name: 'help',
    usage: 'help [COMMAND|TAG|PATTERN]',
    desc: 'show usage, one command, the commands of a tag, or those matching a glob',
    longdesc:
      'COMMAND is a command of the Administration API or of ctl itself (dashes work for underscores); TAG one of the tags the command list shows; PATTERN a glob with * and ?. ' +
      "'ctl COMMAND --help' is the same as 'ctl help COMMAND', 'ctl --help' and 'ctl -h' the same as 'ctl help'.",
    examples: ['ctl help register', 'ctl help roster', "ctl help 'srg_*'"],
  },
  {
    name: 'batch',
    usage: 'batch',
    desc: 'run one command per line of standard input in one process; failing lines are reported with their numbers',
    longdesc:
      'Each line is a command and its arguments, quoted as in a shell (\'...\', "...", \\); empty lines are skipped. ' +
      'Results are printed in line order; the exit status is 1 when any line failed.',
    examples: ["printf 'register bob localhost pw1\\nregister carol localhost pw2\\n' | ctl batch"],
  },
  {
    name: 'start',
    usage: 'start',
    desc: 'start the node in the background; returns once it answers',
    longdesc: 'Refuses when a node already runs on the home directory. When the node does not come up, the last lines of its log are shown.',
    examples: ['ctl start', 'ctl --home /srv/xmpp start'],
  },
  {
    name: 'foreground',
    usage: 'foreground',
    desc: 'run the node attached to the terminal, logging to standard error too',
    longdesc: 'For systemd (Type=simple) and containers; SIGTERM or Ctrl-C stops it cleanly.',
    examples: ['ctl foreground'],
  },
  {
    name: 'started',
    usage: 'started',
    desc: 'wait until the node answers (up to --timeout); exit 0 or 1',
    examples: ['ctl start && ctl started --timeout 30'],
  },
  {
    name: 'stopped',
    usage: 'stopped',
    desc: 'wait until no node runs (up to --timeout); exit 0 or 1',
    examples: ['ctl stop; ctl stopped'],
  },
  {
    name: 'ping',
    usage: 'ping',
    desc: 'print pong and exit 0 if the node answers, else pang and exit 3',
    examples: ['ctl ping'],
  },
  {
    name: 'version',
    usage: 'version',
    desc: "print ctl's version (also --version)",
    examples: ['ctl version'],
  },
  {
    name: 'completion',
    usage: 'completion bash|zsh|fish',
    desc: 'print the shell completion script for bash, zsh or fish',
    longdesc:
      'It completes command names, the topics of help, the global options, the configured hosts, enumerated values and, when a node runs, user names. ' +
      'The script asks ctl at each TAB, so it follows this ctl and its configuration without being installed again.',
    examples: ['source <(ctl completion bash)', 'ctl completion zsh > "${fpath[1]}/_ctl"', 'ctl completion fish > ~/.config/fish/completions/ctl.fish'],
  },
] as const satisfies readonly Builtin[];

/** The hidden word the completion scripts call: the words typed so far, verbatim, never parsed as options. */
export const COMPLETE = '__complete';

export type BuiltinName = (typeof BUILTINS)[number]['name'];

export const GLOBAL_OPTIONS: readonly { flags: string; desc: string }[] = [
  { flags: '--home <dir>', desc: 'the node home directory (default: $CTL_HOME, else $XDG_DATA_HOME/ctl)' },
  { flags: '--config <file>', desc: 'the configuration file (default: $CTL_CONFIG, else HOME/ctl.yml)' },
  { flags: '--format <format>', desc: 'output format: text, table, tsv or json (default: table on a terminal, else text)' },
  { flags: '--timeout <seconds>', desc: 'how long to wait for the database or the node (default: 10; 0 waits forever)' },
  { flags: '--no-timeout', desc: 'wait forever (same as --timeout 0)' },
  { flags: '--node <name>', desc: 'the node to act on; must be the node of this home' },
  { flags: '--stdin <arg>', desc: 'read argument <arg> from standard input instead of the command line' },
  { flags: '--debug', desc: 'show stack traces of internal errors' },
  { flags: '--verbose', desc: 'show the summaries of long commands on standard error, even when it is not a terminal' },
  { flags: '--strict', desc: 'import_piefxis: fail, before anything is written, when the file holds what would be skipped with a warning' },
  {
    flags: '--sql-schema <schema>',
    desc: 'export_odbc, export2odbc: the ejabberd PostgreSQL layout to write: pg (pg.sql, the default), pg-new (pg.new.sql, new_sql_schema: true) or pg-25 (pg.new.sql of ejabberd 25.03 and later, with users.type)',
  },
  {
    flags: '--url <url>',
    desc: "run the command on the JSON API at <url> (ejabberd's mod_http_api or a ctl node), e.g. http://127.0.0.1:5280/api (default: $CTL_URL)",
  },
  { flags: '--token-file <file>', desc: 'with --url: authenticate with the bearer token in <file> (default: $CTL_TOKEN)' },
  { flags: '--user <jid>', desc: 'with --url: authenticate as the account <jid> (user@host), password from --password-file or a prompt' },
  { flags: '--password-file <file>', desc: "with --user: the file whose first line is the account's password" },
  { flags: '-h, --help', desc: "show the usage, or with a command its help (as 'ctl help COMMAND')" },
  { flags: '--version', desc: "print ctl's version (ejabberdctl's '--version N COMMAND' is accepted and ignored)" },
];

/** Options that parseArgv rewrites into the builtin they stand for, before commander sees them. */
const REWRITTEN = new Set(['-h', '--help', '--version']);

/**
 * ejabberdctl's words that mean nothing for this node (an Erlang shell, Mnesia): what to use instead.
 */
export const UNSUPPORTED: Readonly<Record<string, string>> = {
  live: "the node has no Erlang shell; 'ctl foreground' runs it attached, logging to standard error",
  iexlive: "the node has no Elixir shell; 'ctl foreground' runs it attached, logging to standard error",
  debug: "the node has no shell to attach to; watch it with 'ctl status', 'ctl connected_users' and its log, HOME/log/ctl.log",
  iexdebug: "the node has no shell to attach to; watch it with 'ctl status', 'ctl connected_users' and its log, HOME/log/ctl.log",
  attach: "the node has no shell to attach to; watch it with 'ctl status', 'ctl connected_users' and its log, HOME/log/ctl.log",
  remsh: "the node has no shell to attach to; watch it with 'ctl status', 'ctl connected_users' and its log, HOME/log/ctl.log",
  etop: "there is no Erlang VM to watch; use 'ctl status', 'ctl stats onlineusers', 'ctl stats processes' and the log, HOME/log/ctl.log",
  mnesia: "the database is LevelDB, not Mnesia; 'ctl backup FILE' and 'ctl dump FILE' copy it, 'ctl help mnesia' lists the database commands",
};

/**
 * Parses argv the ejabberdctl way: global options are recognised anywhere on the line, every
 * other word is the command or one of its arguments (even when it starts with a dash), and
 * `change-password` means `change_password`. `plain: false` leaves even the common line to
 * commander, which must read it alike.
 */
export function parseArgv(given: readonly string[], registry: Registry, { plain = true }: { readonly plain?: boolean } = {}): Invocation {
  if (given[0] === COMPLETE) return { kind: 'complete', globals: toGlobals({}), words: given.slice(1) };
  const quick = plain ? plainCommand(given, registry) : undefined;
  if (quick) return quick;
  const argv = rewriteFlags(given);
  const stdinArg = prescan(argv, '--stdin');
  let invocation: Invocation | undefined;
  const { Command: Program, Option } = require('commander') as typeof import('commander');
  const program: Commander = new Program('ctl')
    .exitOverride()
    .helpOption(false)
    .helpCommand(false)
    .allowExcessArguments(true)
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
  for (const o of GLOBAL_OPTIONS) if (!o.flags.split(/[ ,]+/).some((flag) => REWRITTEN.has(flag))) program.addOption(new Option(o.flags, o.desc));
  const globals = (): GlobalOptions => toGlobals(program.opts());

  const verb = commandWord(argv);
  if (verb !== undefined && Object.hasOwn(UNSUPPORTED, verb)) {
    throw new CommandError('bad_argument', `'${verb}' is not supported by ctl: ${UNSUPPORTED[verb]}`);
  }
  for (const { name } of BUILTINS) {
    const sub = program.command(name).allowUnknownOption().helpOption(false);
    const takesTopic = name === 'help' || name === 'completion';
    if (takesTopic) sub.argument('[topic]').allowExcessArguments(true);
    sub.action((topic?: string) => {
      invocation = { kind: 'builtin', globals: globals(), name, topic: takesTopic ? topic : undefined };
    });
  }
  // Only the named command is declared: building all of them would cost every call start-up time.
  const named = registry.get((verb ?? '').replace(/-/g, '_'));
  for (const command of named ? [named] : []) {
    const positional = callerArgs(command).filter((a) => a.name !== stdinArg);
    // Arity is checked with the decoding, so `ctl batch` lines get the same errors.
    const sub = program.command(command.name).allowUnknownOption().helpOption(false).allowExcessArguments(true);
    for (const a of positional) sub.argument(`[${a.name}]`);
    sub.action(function (this: Commander) {
      invocation = { kind: 'command', globals: globals(), command, words: this.args };
    });
    if (command.name.includes('_')) sub.alias(command.name.replace(/_/g, '-'));
  }
  // Words that name no command reach the program itself.
  program.argument('[words...]').action((words: string[]) => {
    if (words.length === 0) invocation = { kind: 'usage', globals: globals() };
    else throw unknownCommand(words[0], registry);
  });

  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw new CommandError('bad_argument', String((err as Error).message ?? err).replace(/^error: /, ''));
  }
  if (!invocation) return { kind: 'usage', globals: globals() };
  if (invocation.kind === 'command' && stdinArg !== undefined) {
    const names = callerArgs(invocation.command).map((a) => a.name);
    if (!names.includes(stdinArg)) {
      throw new CommandError(
        'bad_argument',
        `--stdin ${stdinArg}: ${invocation.command.name} has no argument '${stdinArg}' (it takes: ${names.join(' ') || 'none'})`,
      );
    }
  }
  return invocation;
}

/** The global options by flag, as commander names them in its options: `--token-file` is `tokenFile`. */
const OPTION_KEYS: ReadonlyMap<string, { readonly key: string; readonly value: boolean }> = new Map(
  GLOBAL_OPTIONS.flatMap(({ flags }) => {
    const [flag, arg] = flags.split(' ');
    if (!flag.startsWith('--') || REWRITTEN.has(flag)) return [];
    const name = flag.startsWith('--no-') ? flag.slice('--no-'.length) : flag.slice(2);
    return [[flag, { key: name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()), value: arg !== undefined }]];
  }),
);

/**
 * The common line, `[options] COMMAND [ARGS...]` with no word but the global options' starting
 * with a dash, read without commander: loading it and declaring the line's grammar would cost
 * every call start-up time. Anything else (help, builtins, `--opt=value`, `--stdin`, a word
 * after the command that starts with a dash) is left to commander: undefined.
 */
function plainCommand(given: readonly string[], registry: Registry): Invocation | undefined {
  const options: Record<string, unknown> = {};
  const operands: string[] = [];
  for (let i = 0; i < given.length; i++) {
    const word = given[i];
    if (!word.startsWith('-')) {
      operands.push(word);
      continue;
    }
    const option = OPTION_KEYS.get(word);
    if (!option || option.key === 'stdin') return undefined;
    if (!option.value) options[option.key] = word.startsWith('--no-') ? false : true;
    else {
      const value = given[i + 1];
      if (value === undefined || value.startsWith('-')) return undefined;
      options[option.key] = value;
      i++;
    }
  }
  const verb = operands[0];
  if (verb === undefined || Object.hasOwn(UNSUPPORTED, verb) || BUILTINS.some((b) => b.name === verb)) return undefined;
  const command = registry.get(verb.replace(/-/g, '_'));
  if (!command || (verb !== command.name && verb !== command.name.replace(/_/g, '-'))) return undefined;
  return { kind: 'command', globals: toGlobals(options), command, words: operands.slice(1) };
}

function unknownCommand(name: string, registry: Registry): CommandError {
  const near = registry.suggest(name.replace(/-/g, '_'));
  return new CommandError('unknown_command', `Unknown command '${name}'${near ? `. Did you mean '${near}'?` : ''}`, {
    details: near ? { suggestion: near } : undefined,
  });
}

function toGlobals(o: Record<string, unknown>): GlobalOptions {
  const format = o.format as string | undefined;
  if (format !== undefined && !FORMATS.includes(format as Format)) {
    throw new CommandError('bad_argument', `--format must be one of ${FORMATS.join(', ')}, got '${format}'`);
  }
  let timeout = 10;
  if (o.timeout === false) timeout = 0;
  else if (typeof o.timeout === 'string') {
    if (!/^\d+(\.\d+)?$/.test(o.timeout)) throw new CommandError('bad_argument', `--timeout must be a number of seconds, got '${o.timeout}'`);
    timeout = Number(o.timeout);
  }
  return {
    home: o.home as string | undefined,
    config: o.config as string | undefined,
    format: format as Format | undefined,
    timeout,
    node: o.node as string | undefined,
    stdin: o.stdin as string | undefined,
    debug: o.debug === true,
    verbose: o.verbose === true,
    strict: o.strict === true,
    sqlSchema: o.sqlSchema as string | undefined,
    url: o.url as string | undefined,
    tokenFile: o.tokenFile as string | undefined,
    user: o.user as string | undefined,
    passwordFile: o.passwordFile as string | undefined,
  };
}

/**
 * `--help` anywhere and `-h` before the command become `help [COMMAND]`; `--version` becomes
 * `version`, unless it is ejabberdctl's `--version N` (an API version) before a command.
 * `-h` after the command stays an argument, which may well start with a dash.
 */
function rewriteFlags(argv: readonly string[]): readonly string[] {
  const words = [...argv];
  const at = words.indexOf('--version');
  if (at >= 0 && /^\d+$/.test(words[at + 1] ?? '') && at + 2 < words.length) words.splice(at, 2);
  const position = commandIndex(words);
  let wanted: 'help' | 'version' | undefined;
  const kept = words.filter((word, i) => {
    if (!REWRITTEN.has(word) || (word === '-h' && i !== position) || isOptionValue(words, i)) return true;
    if (wanted !== 'help') wanted = word === '--version' ? 'version' : 'help';
    return false;
  });
  if (wanted === undefined) return words;
  const index = commandIndex(kept);
  if (wanted === 'version') return ['version', ...kept.filter((word, i) => word.startsWith('--') || isOptionValue(kept, i))];
  if (kept[index] !== 'help') return [...kept.slice(0, index), 'help', ...kept.slice(index)];
  // `ctl help --help`: the help of help.
  const rest = kept.slice(index + 1);
  return commandIndex(rest) < rest.length ? kept : [...kept, 'help'];
}

const takesValue = (): Set<string> => new Set(GLOBAL_OPTIONS.filter((o) => o.flags.includes('<')).map((o) => o.flags.split(' ')[0]));

/** Whether word i is the value of the option before it (`--home -h` names a home called -h). */
function isOptionValue(words: readonly string[], i: number): boolean {
  const options = takesValue();
  let skip = false;
  for (let j = 0; j < i; j++) skip = !skip && options.has(words[j]);
  return skip;
}

/** Where the command word is, or would go: after the leading global options. */
function commandIndex(words: readonly string[]): number {
  const options = takesValue();
  for (let i = 0; i < words.length; i++) {
    if (options.has(words[i])) i++;
    else if (!words[i].startsWith('--')) return i;
  }
  return words.length;
}

/** The first word that is neither a global option nor an option's value: the command. */
function commandWord(argv: readonly string[]): string | undefined {
  return argv[commandIndex(argv)];
}

/** `--home` and `--config`, found before parsing: the home's extension modules add commands to parse. */
export function prescanHome(argv: readonly string[]): { readonly home?: string; readonly config?: string } {
  return { home: prescan(argv, '--home'), config: prescan(argv, '--config') };
}

/** The value of an option, found before parsing because it changes how arguments are counted. */
function prescan(argv: readonly string[], flag: string): string | undefined {
  let value: string | undefined;
  argv.forEach((word, i) => {
    if (word === flag && i + 1 < argv.length) value = argv[i + 1];
    else if (word.startsWith(`${flag}=`)) value = word.slice(flag.length + 1);
  });
  return value;
}

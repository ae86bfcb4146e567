import { statSync } from 'node:fs';
import type { Registry } from '../../core/registry';
import type { CommandRunner } from '../../core/runner';
import { CommandError } from '../../lib/errors';
import { checkConfigFile, resolveHome, type Home } from '../../config/home';
import type { Command } from '../../core/command';
import { parseArgv, prescanHome, type BuiltinName, type GlobalOptions } from './argv';
import { asksForJson, defaultFormat, writeError, writeResult, type Io, type Out } from './output';
import type { Spinner } from './spinner';
import { wordsToArgs } from './words';

/** What a command runner in this process is made from. */
export interface LocalRunnerOptions {
  readonly home: Home;
  readonly registry: Registry;
  /** How long to wait for another process to release the database, in ms; 0 waits forever. */
  readonly lockTimeout: number;
  /** Many commands in a row (`ctl batch`): writes are synced once, when the runner closes. */
  readonly bulk?: boolean;
  /** Imports fail on what they would skip with a warning (`--strict`). */
  readonly strict?: boolean;
  readonly sqlSchema?: string;
  readonly progress?: (text: string) => void;
  readonly working?: (text: string) => void;
  readonly summary?: (text: string) => void;
}

/** What the command line is given by its launcher: the commands, and the node's ways to run them. */
export interface CliApp {
  readonly registry: Registry;
  /** Runs commands in this process over the home's database, when no node answers. */
  localRunner(options: LocalRunnerOptions): CommandRunner;
  /** `ctl foreground`: runs the node in this process until it stops; resolves its exit status. */
  foreground(home: Home, echo: { write(s: string): unknown }): Promise<number>;
  /** The script `ctl start` runs, with the home directory and configuration file as arguments. */
  readonly nodeScript: string;
  /** The registry with the commands of the extension modules installed in a home, read when first needed. */
  readonly withModules?: (homeDir: () => string | undefined) => Registry;
}

/** The whole command line: parses argv, runs, prints, and returns the exit status. */
export async function main(argv: readonly string[], io: Io, given: CliApp): Promise<number> {
  const app = given.withModules ? { ...given, registry: given.withModules(() => moduleHome(argv, io.env)) } : given;
  const { registry } = app;
  let debug = argv.includes('--debug');
  let command: Command | undefined;
  try {
    const inv = parseArgv(argv, registry);
    debug = inv.globals.debug;
    if (inv.kind === 'usage') {
      io.stderr.write(help().usageText(registry));
      return 2;
    }
    if (inv.kind === 'builtin') return await builtin(inv.name, inv.topic, io, inv.globals, app);
    if (inv.kind === 'complete') return await completion().complete(io, inv.words, registry);
    // A --config naming no file is that option's error, not a misuse of the command: no usage line.
    if (remote().remoteUrl(inv.globals, io.env) === undefined) homeOf(inv.globals, io.env);
    command = inv.command;
    const words = inv.globals.stdin === undefined ? inv.words : await stdinArg().withStdinArg(io, inv.command, inv.words, inv.globals.stdin);
    const args = wordsToArgs(inv.command, words);
    const c = inv.command;
    const value = await withRunner(io, inv.globals, app, { debug, readsStore: c.needs === 'store' }, (runner) => runner.run(c, args));
    return writeResult(io, inv.command, value, inv.globals.format ?? defaultFormat(io));
  } catch (err) {
    return writeError(io, err, { debug, command, format: asksForJson(argv) ? 'json' : undefined });
  }
}

async function builtin(name: BuiltinName, topic: string | undefined, io: Io, globals: GlobalOptions, app: CliApp): Promise<number> {
  const { registry } = app;
  if (name === 'help') {
    io.stdout.write(topic === undefined ? help().usageText(registry) : help().helpText(registry, topic));
    return 0;
  }
  if (name === 'completion') {
    io.stdout.write(completion().completionScript(topic));
    return 0;
  }
  if (name === 'version') {
    io.stdout.write(help().versionText());
    return 0;
  }
  const url = remote().remoteUrl(globals, io.env);
  if (url !== undefined && name !== 'batch') {
    throw new CommandError('not_supported', `'${name}' acts on a node of this machine, not on a server's API: it does not work with --url or CTL_URL (${url})`);
  }
  if (name === 'batch') {
    return withRunner(io, globals, app, { bulk: true, debug: globals.debug, readsStore: true }, (runner) => runBatch(io, globals, registry, runner));
  }
  const home = homeOf(globals, io.env);
  const timeout = globals.timeout * 1000;
  const lifecycle = require('./lifecycle') as typeof import('./lifecycle');
  switch (name) {
    case 'start':
      return lifecycle.startBackground(io, home, timeout, app.nodeScript);
    case 'foreground':
      return app.foreground(home, io.stderr);
    case 'ping':
      return lifecycle.ping(io, home, timeout);
    default:
      return lifecycle.waitForState(home, name, timeout);
  }
}

// Loaded only when asked for: every other call would pay for them.
const help = () => require('./help') as typeof import('./help');
const stdinArg = () => require('./stdin') as typeof import('./stdin');
const completion = () => require('./completion') as typeof import('./completion');
const remote = () => require('./remote') as typeof import('./remote');

function homeOf(globals: GlobalOptions, env: NodeJS.ProcessEnv): Home {
  const home = resolveHome({ home: globals.home, config: globals.config, env });
  checkConfigFile(home);
  if (globals.node !== undefined) checkNode(home, globals.node);
  return home;
}

type RunnerOptions = { readonly bulk?: boolean; readonly debug?: boolean; readonly readsStore?: boolean };

/** On a server's API with --url; else on the running node when there is one, else in this process over the database. */
async function withRunner<T>(io: Io, globals: GlobalOptions, app: CliApp, options: RunnerOptions, run: (r: CommandRunner) => Promise<T>): Promise<T> {
  const url = remote().remoteUrl(globals, io.env);
  if (url !== undefined) {
    const authorization = await remote().authorization(globals, io, { stdinTaken: options.bulk === true || globals.stdin !== undefined });
    const { createHttpRunner } = require('../remote/http-runner') as typeof import('../remote/http-runner');
    const runner = createHttpRunner({ url, authorization, timeout: globals.timeout * 1000 });
    try {
      return await run(runner);
    } finally {
      await runner.close();
    }
  }
  const home = homeOf(globals, io.env);
  const timeout = globals.timeout * 1000;
  // Made on the first report: most commands have none to give.
  let spinner: Spinner | undefined;
  const spin = () => (spinner ??= (require('./spinner') as typeof import('./spinner')).createSpinner(io, { verbose: globals.verbose }));
  const report = { progress: (t: string) => spin().line(t), working: (t: string) => spin().working(t), summary: (t: string) => spin().summary(t) };
  const socket = mayHaveNode(home.socket) ? (require('../socket/client') as typeof import('../socket/client')) : undefined;
  const client = await socket?.connectControl(home.socket, timeout);
  const runner = client
    ? (require('../socket/remote-runner') as typeof import('../socket/remote-runner')).createRemoteRunner(client, {
        bulk: options.bulk,
        debug: options.debug,
        strict: globals.strict,
        sqlSchema: globals.sqlSchema,
        ...report,
      })
    : app.localRunner({
        home,
        registry: app.registry,
        lockTimeout: timeout,
        bulk: options.bulk,
        strict: globals.strict,
        sqlSchema: globals.sqlSchema,
        ...report,
      });
  // A note for the person at a terminal, never in a script's stderr.
  const forPeople = io.stderr.isTTY === true;
  const noteIfNew =
    forPeople && !client && options.readsStore === true && globals.format !== 'json'
      ? (require('./new-home') as typeof import('./new-home')).newHomeNote(io, home)
      : () => undefined;
  try {
    return await run(runner);
  } finally {
    spinner?.stop();
    noteIfNew();
    await runner.close();
  }
}

/** The home whose modules' commands the command line knows; none when the options name none that can be. */
function moduleHome(argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  try {
    return resolveHome({ ...prescanHome(argv), env }).dir;
  } catch {
    return undefined;
  }
}

/**
 * No socket file, no node: then the socket client (and node's net module) is not even loaded.
 * A socket we may not look at (permissions) might be a node's: connecting says why it fails.
 */
function mayHaveNode(socket: string): boolean {
  try {
    statSync(socket);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code !== 'ENOENT' && code !== 'ENOTDIR';
  }
}

/** `--node NAME` is accepted for old scripts, but a home has exactly one node. */
function checkNode(home: Home, name: string): void {
  const { loadConfig } = require('../../config/config') as typeof import('../../config/config');
  const own = loadConfig(home.configFile).nodeName;
  const full = name.includes('@') ? name : `${name}@localhost`;
  if (full !== own) {
    throw new CommandError('unavailable', `Node '${name}' is not the node of ${home.dir}, which is ${own}: choose another home with --home`);
  }
}

/** How many batch lines may be on their way at once: enough to hide the round trip to a node. */
const BATCH_WINDOW = 64;

/**
 * `ctl batch`: one command per line, one process, one runner; failures by line number.
 * Lines are sent ahead of their results (runners run commands in the order they get them)
 * and the results are printed in line order.
 */
async function runBatch(given: Io, globals: GlobalOptions, registry: Registry, runner: CommandRunner): Promise<number> {
  const { io, flush } = coalesced(given);
  try {
    return await batchLines(io, globals, registry, runner);
  } finally {
    flush();
  }
}

/** How long a batch's output may be held, in ms, and how much of it. */
const HOLD_MS = 20;
const HOLD_BYTES = 64 * 1024;

/**
 * The streams of `io`, whose writes are held a few milliseconds (or until enough is held) and
 * then written in order, each run of one stream's texts at once: a batch writes a result per
 * line, and a write per line costs more than the line.
 */
function coalesced(io: Io): { readonly io: Io; readonly flush: () => void } {
  const held: [Out, string][] = [];
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    bytes = 0;
    for (let i = 0; i < held.length;) {
      const [out] = held[i];
      let text = '';
      for (; i < held.length && held[i][0] === out; i++) text += held[i][1];
      out.write(text);
    }
    held.length = 0;
  };
  const wrap = (out: Out): Out => ({
    write(text: string) {
      held.push([out, text]);
      bytes += text.length;
      if (bytes >= HOLD_BYTES) flush();
      else timer ??= setTimeout(flush, HOLD_MS);
      return true;
    },
    get isTTY() {
      return out.isTTY;
    },
    get columns() {
      return out.columns;
    },
  });
  return { io: { ...io, stdout: wrap(io.stdout), stderr: wrap(io.stderr) }, flush };
}

async function batchLines(io: Io, globals: GlobalOptions, registry: Registry, runner: CommandRunner): Promise<number> {
  const format = globals.format ?? defaultFormat(io);
  let failed = 0;
  let lineNo = 0;
  const { createInterface } = require('node:readline') as typeof import('node:readline');
  const { shellWords } = require('./shell-words') as typeof import('./shell-words');
  const { lookup } = require('../../core/executor') as typeof import('../../core/executor');

  /** Runs one line; resolves to what prints its outcome. */
  async function job(n: number, line: string): Promise<() => void> {
    let command: Command | undefined;
    const report = (err: unknown) => () => {
      failed++;
      writeError(io, err, { debug: globals.debug, command, line: n, format: globals.format });
    };
    try {
      const words = shellWords(line);
      if (words.length === 0) return () => undefined;
      const c = (command = lookup(registry, words[0].replace(/-/g, '_')));
      const value = await runner.run(c, wordsToArgs(c, words.slice(1)));
      return () => {
        if (writeResult(io, c, value, format) !== 0) report(new CommandError('failed', `${c.name} answered false`))();
      };
    } catch (err) {
      return report(err);
    }
  }

  const inFlight: Promise<() => void>[] = [];
  for await (const line of createInterface({ input: io.stdin, crlfDelay: Infinity })) {
    inFlight.push(job(++lineNo, line));
    while (inFlight.length >= BATCH_WINDOW) (await inFlight.shift()!)();
  }
  for (const printer of inFlight) (await printer)();
  return failed > 0 ? 1 : 0;
}

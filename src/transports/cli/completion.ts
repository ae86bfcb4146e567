/**
 * Shell completion. The scripts `ctl completion SHELL` prints are small and never list a
 * command: at every TAB they call `ctl __complete WORD ...` with the words typed after `ctl`,
 * the last one being the word under the cursor (empty for a new word), so what they offer is
 * always this ctl's registry, this home's configured hosts and the running node's users.
 *
 * `__complete` prints one candidate per line, `VALUE` or `VALUE<TAB>DESCRIPTION`, already
 * filtered by the word under the cursor; or the single line `:files` or `:dirs` to ask the
 * shell for its own file or directory completion. It prints nothing on any failure.
 */
import { existsSync } from 'node:fs';
import type { Registry } from '../../core/registry';
import type { Command } from '../../core/command';
import { callerArgs } from '../../core/args';
import { CommandError } from '../../lib/errors';
import { loadConfig } from '../../config/config';
import { mucServiceOf } from '../../config/muc';
import { resolveHome, type Home } from '../../config/home';
import { BUILTINS, FORMATS, GLOBAL_OPTIONS } from './argv';
import type { Io } from './output';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** A node that does not answer within this time offers no user names: TAB must stay quick. */
export const USERS_TIMEOUT_MS = 1000;

/** Arguments that name a served host, and those that name an account on one. */
const HOST_ARGS = new Set(['host', 'server', 'vhost', 'localserver', 'grouphost']);
const USER_ARGS = new Set(['user', 'localuser']);
/** Arguments that name a host's MUC service (`conference.HOST`). */
const SERVICE_ARGS = new Set(['service']);

/** `ctl completion SHELL`: the script to source or install. */
export function completionScript(shell: string | undefined): string {
  switch (shell) {
    case 'bash':
      return BASH;
    case 'zsh':
      return ZSH;
    case 'fish':
      return FISH;
    default:
      throw new CommandError(
        'bad_argument',
        shell === undefined ? `completion: name the shell: ${SHELLS.join(', ')}` : `completion: no script for '${shell}'; shells: ${SHELLS.join(', ')}`,
      );
  }
}

/** `ctl __complete WORD ...`: prints the candidates for the last word; always exits 0. */
export async function complete(io: Io, words: readonly string[], registry: Registry): Promise<number> {
  try {
    const lines = await candidates(words, registry, io.env);
    if (lines.length > 0) io.stdout.write(`${lines.join('\n')}\n`);
  } catch {
    // A completion that fails offers nothing; an error message would land in the command line.
  }
  return 0;
}

interface Candidate {
  readonly value: string;
  readonly desc?: string;
}

/** The global options that take a value, by flag: `--home`, `--format`, ... */
const VALUED = new Set(GLOBAL_OPTIONS.filter((o) => o.flags.includes('<')).map((o) => o.flags.split(' ')[0]));

/** The candidates for the last of `words`, each a line `VALUE` or `VALUE<TAB>DESCRIPTION`. */
export async function candidates(words: readonly string[], registry: Registry, env: NodeJS.ProcessEnv): Promise<string[]> {
  const cur = words.length > 0 ? words[words.length - 1] : '';
  const typed = readLine(words.slice(0, -1));
  const home = () => resolveHome({ home: typed.options.get('--home'), config: typed.options.get('--config'), env });

  if (typed.pendingOption !== undefined) return optionValue(typed.pendingOption, cur, typed, registry, home);
  const eq = /^(--[\w-]+)=(.*)$/.exec(cur);
  if (eq && VALUED.has(eq[1])) {
    const inner = await optionValue(eq[1], eq[2], typed, registry, home);
    return inner[0]?.startsWith(':') ? [] : inner.map((line) => `${eq[1]}=${line}`);
  }
  if (cur.startsWith('-')) return lines(options(), cur);

  const [name, ...args] = typed.positional;
  if (name === undefined) return lines(commands(registry), cur.replace(/-/g, '_'), cur.includes('-'));
  const builtin = BUILTINS.find((b) => b.name === name);
  if (builtin) {
    if (args.length > 0) return [];
    if (builtin.name === 'help') return lines([...commands(registry), ...tags(registry)], cur.replace(/-/g, '_'), cur.includes('-'));
    if (builtin.name === 'completion')
      return lines(
        SHELLS.map((value) => ({ value })),
        cur,
      );
    return [];
  }
  const command = registry.get(name.replace(/-/g, '_'));
  if (!command) return [];
  const params = callerArgs(command).filter((a) => a.name !== typed.options.get('--stdin'));
  const arg = params[args.length];
  if (arg === undefined) return [];
  if (command.paths?.includes(arg.name)) return [':files'];
  if (HOST_ARGS.has(arg.name))
    return lines(
      hostsOf(home()).map((value) => ({ value })),
      cur,
    );
  const values = valuesOf(command, arg.name);
  if (values) return lines(values.map(choice), cur);
  if (SERVICE_ARGS.has(arg.name))
    return lines(
      servicesOf(home()).map((value) => ({ value })),
      cur,
    );
  // Commands name the user before its host: the users of every configured host are offered.
  if (USER_ARGS.has(arg.name)) {
    const h = home();
    return lines(await usersOf(h, registry, hostsOf(h)), cur);
  }
  return [];
}

interface TypedLine {
  /** The values of the global options typed so far. */
  readonly options: ReadonlyMap<string, string>;
  /** The command and its arguments typed so far. */
  readonly positional: readonly string[];
  /** An option whose value is the word under the cursor. */
  readonly pendingOption?: string;
}

/**
 * Global options are recognised anywhere, as the command line does; bash splits `--home=DIR`
 * at the `=` into three words, which are read as one.
 */
function readLine(words: readonly string[]): TypedLine {
  const options = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const eq = /^(--[\w-]+)=(.*)$/.exec(w);
    if (eq) options.set(eq[1], eq[2]);
    else if (VALUED.has(w)) {
      if (words[i + 1] === '=') i++;
      if (i + 1 >= words.length) return { options, positional, pendingOption: w };
      options.set(w, words[++i]);
    } else if (!w.startsWith('--')) positional.push(w);
  }
  return { options, positional };
}

async function optionValue(flag: string, cur: string, typed: TypedLine, registry: Registry, home: () => Home): Promise<string[]> {
  switch (flag) {
    case '--home':
      return [':dirs'];
    case '--config':
      return [':files'];
    case '--format':
      return lines(
        FORMATS.map((value) => ({ value })),
        cur,
      );
    case '--node':
      return lines([{ value: loadConfig(home().configFile).nodeName }], cur);
    case '--stdin': {
      const command = registry.get((typed.positional[0] ?? '').replace(/-/g, '_'));
      return command
        ? lines(
            callerArgs(command).map((a) => ({ value: a.name })),
            cur,
          )
        : [];
    }
    default:
      return [];
  }
}

/** The candidates that start with `prefix`; `dashed` writes command names the old way, `change-password`. */
function lines(all: readonly Candidate[], prefix: string, dashed = false): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const c of all) {
    if (!c.value.startsWith(prefix) || seen.has(c.value)) continue;
    seen.add(c.value);
    const value = dashed ? c.value.replace(/_/g, '-') : c.value;
    // One candidate per line, its description after a TAB: neither may contain them.
    const desc = c.desc?.replace(/\s+/g, ' ').trim();
    out.push(desc ? `${value}\t${desc}` : value);
  }
  return out;
}

function options(): Candidate[] {
  // `-h, --help <x>`: each spelling before the value is an option of its own.
  return GLOBAL_OPTIONS.flatMap((o) => (o.flags.match(/(?<![\w-])-{1,2}[\w-]+/g) ?? []).map((value) => ({ value, desc: o.desc })));
}

function commands(registry: Registry): Candidate[] {
  return [
    ...BUILTINS.map((b) => ({ value: b.name, desc: b.desc })),
    ...registry.list().map((c) => ({ value: c.name, desc: `${c.helpDesc || c.desc}${c.handler ? '' : ' (not implemented yet)'}` })),
  ];
}

function tags(registry: Registry): Candidate[] {
  return [...registry.tags()].map(([tag, list]) => ({ value: tag, desc: `tag: ${list.length} command${list.length === 1 ? '' : 's'}` }));
}

/** The values of an enumerated argument, when its declaration lists them. */
function valuesOf(command: Command, name: string): readonly string[] | undefined {
  const values = command.argValues?.[name];
  return typeof values === 'function' ? values() : values;
}

/** A listed value may explain itself, `0 (none)`: the word is what precedes the explanation. */
function choice(value: string): Candidate {
  const m = /^(\S+)\s+\((.*)\)$/.exec(value);
  return m ? { value: m[1], desc: m[2] } : { value };
}

function hostsOf(home: Home): readonly string[] {
  return loadConfig(home.configFile).hosts;
}

function servicesOf(home: Home): string[] {
  const config = loadConfig(home.configFile);
  return config.hosts.map((h) => mucServiceOf(config, h)).filter((s): s is string => s !== undefined);
}

/**
 * The registered users of `hosts`, from the running node (described by their host when there
 * are several); none when no node answers in time.
 */
async function usersOf(home: Home, registry: Registry, hosts: readonly string[]): Promise<Candidate[]> {
  const command: Command | undefined = registry.get('registered_users');
  if (!command || hosts.length === 0 || !existsSync(home.socket)) return [];
  const { connectControl } = require('../socket/client') as typeof import('../socket/client');
  let expire: () => void = () => undefined;
  const deadline = new Promise<undefined>((resolve) => (expire = () => resolve(undefined)));
  const timer = setTimeout(() => expire(), USERS_TIMEOUT_MS);
  const client = await Promise.race([connectControl(home.socket, USERS_TIMEOUT_MS), deadline]);
  try {
    if (!client) return [];
    const asked = hosts.map((host) => client.call({ command: command.name, args: { host } }).catch(() => []));
    const answers = await Promise.race([Promise.all(asked), deadline]);
    return (answers ?? []).flatMap((users, i) =>
      (Array.isArray(users) ? users : [])
        .filter((u): u is string => typeof u === 'string')
        .map((value) => ({ value, desc: hosts.length > 1 ? hosts[i] : undefined })),
    );
  } finally {
    clearTimeout(timer);
    client?.close();
  }
}

/*
 * The scripts. Each hands the words typed so far to `ctl __complete` and turns its lines into
 * the shell's candidates, showing the descriptions where the shell can.
 */

const BASH = [
  '# bash completion for ctl, printed by `ctl completion bash`.',
  '# In this shell:    source <(ctl completion bash)',
  '# In every shell:   ctl completion bash > ~/.local/share/bash-completion/completions/ctl',
  '_ctl() {',
  '    local cur=${COMP_WORDS[COMP_CWORD]} out line',
  '    out=$(command ctl __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0',
  '    COMPREPLY=()',
  '    case $out in',
  '    :files | :dirs)',
  '        compopt -o filenames 2>/dev/null',
  '        local kind=-f',
  '        [[ $out == :dirs ]] && kind=-d',
  '        while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen "$kind" -- "$cur")',
  '        return 0 ;;',
  '    esac',
  '    while IFS= read -r line; do',
  '        [[ -n $line ]] && COMPREPLY+=("${line%%$\'\\t\'*}")',
  '    done <<<"$out"',
  '    return 0',
  '}',
  'complete -F _ctl ctl',
  '',
].join('\n');

const ZSH = [
  '#compdef ctl',
  '# zsh completion for ctl, printed by `ctl completion zsh`.',
  '# In every shell:   ctl completion zsh > "${fpath[1]}/_ctl"   (then start a new shell)',
  '# In this shell:    source <(ctl completion zsh)              (after compinit)',
  '_ctl() {',
  '    local -a lines described plain',
  '    local line ret=1',
  '    lines=("${(@f)$(command ctl __complete "${(@Q)words[2,CURRENT]}" 2>/dev/null)}")',
  '    case ${lines[1]} in',
  '    :files) _files; return ;;',
  '    :dirs) _files -/; return ;;',
  '    esac',
  '    for line in "${lines[@]}"; do',
  '        [[ -z $line ]] && continue',
  "        if [[ $line == *$'\\t'* ]]; then",
  "            described+=(\"${${line%%$'\\t'*}//:/\\\\:}:${line#*$'\\t'}\")",
  '        else',
  '            plain+=("$line")',
  '        fi',
  '    done',
  "    (( ${#described} )) && _describe -t ctl 'ctl' described && ret=0",
  '    (( ${#plain} )) && compadd -a plain && ret=0',
  '    return ret',
  '}',
  'if [[ ${funcstack[1]} == _ctl ]]; then',
  '    _ctl "$@"',
  'else',
  '    compdef _ctl ctl',
  'fi',
  '',
].join('\n');

const FISH = [
  '# fish completion for ctl, printed by `ctl completion fish`.',
  '# In every shell:   ctl completion fish > ~/.config/fish/completions/ctl.fish',
  '# In this shell:    ctl completion fish | source',
  'function __ctl_complete',
  '    set -l words (commandline -opc)',
  '    set -e words[1]',
  '    set -l cur (commandline -ct)',
  '    set -l out (command ctl __complete $words "$cur" 2>/dev/null)',
  '    switch "$out[1]"',
  '        case :files',
  '            __fish_complete_path "$cur"',
  '        case :dirs',
  '            __fish_complete_directories "$cur"',
  "        case '*'",
  "            printf '%s\\n' $out",
  '    end',
  'end',
  "complete -c ctl -f -a '(__ctl_complete)'",
  '',
].join('\n');

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Registry } from '../../core/registry';
import { CommandError } from '../../lib/errors';
import { isAdminApi, type Command } from '../../core/command';
import { callerArgs } from '../../core/args';
import type { Field, Type } from '../../schema/types';
import {
  allowedValues,
  argHint,
  exampleLine,
  exampleOutput,
  EXIT_STATUSES,
  fieldLabel,
  helpDescription,
  SYNOPSIS,
  typeLabel,
  usageLine,
} from '../../docs/cli-text';
import { globToRegExp } from '../../lib/glob';
import { BUILTINS, GLOBAL_OPTIONS, type Builtin } from './argv';

const NOT_IMPLEMENTED_MARK = '*';

/** Where descriptions start in the command lists; a longer signature puts its description below. */
const SIGNATURE_WIDTH = 44;

/** `ctl` and `ctl help`: usage, options, and every command grouped by tag. */
export function usageText(registry: Registry): string {
  const all = registry.list();
  const missing = all.filter((c) => !c.handler).length;
  const api = all.filter(isAdminApi).length;
  const extension = all.filter((c) => c.extension !== undefined).length;
  const modules = extension > 0 ? ` and ${extension} of extension modules` : '';
  const width = Math.max(...GLOBAL_OPTIONS.map((o) => o.flags.length));
  const out = [
    `Usage: ${SYNOPSIS}`,
    '',
    'Options (accepted before or after the command):',
    ...GLOBAL_OPTIONS.map((o) => `  ${o.flags.padEnd(width)}  ${o.desc}`),
    '',
    `Commands of ctl itself (${BUILTINS.length}):`,
    ...BUILTINS.map((b) => listLine(' ', b.usage, b.desc)),
    '',
    `Commands of the Administration API, by tag (${api} of ejabberd's and ${all.length - api - extension} of ctl's${modules}${missing > 0 ? `; ${missing} not implemented yet, marked ${NOT_IMPLEMENTED_MARK}` : ''}):`,
  ];
  for (const [tag, commands] of registry.tags()) {
    out.push('', `  ${tag}`, ...commands.map(commandLine));
  }
  out.push(
    '',
    "Run 'ctl help COMMAND' (or 'ctl COMMAND --help') for one command, with examples; 'ctl help TAG' for a tag; 'ctl help PATTERN' with * and ?.",
    'When a node runs on the home directory, commands go to it; otherwise ctl opens the database itself.',
    '',
    'Exit status:',
    ...EXIT_STATUSES.map(([n, text]) => `  ${n}  ${text}`),
    '',
  );
  return out.join('\n');
}

/** One entry of a command list: the signature, and the description in its column. */
function listLine(mark: string, signature: string, desc: string): string {
  const head = `   ${mark}${signature}`;
  if (signature.length <= SIGNATURE_WIDTH) return `${head.padEnd(SIGNATURE_WIDTH + 4)} ${desc}`;
  return `${head}\n${' '.repeat(SIGNATURE_WIDTH + 5)}${desc}`;
}

function commandLine(c: Command): string {
  return listLine(c.handler ? ' ' : NOT_IMPLEMENTED_MARK, usageLine(c).slice(4), `${helpDescription(c)}${fromModule(c)}`);
}

/** Where a command of an extension module comes from, shown beside its description. */
const fromModule = (c: Command): string => (c.extension === undefined ? '' : ` [module ${c.extension}]`);

/** `ctl help TOPIC`: a word of ctl itself, a command, a tag, or a glob over command names. */
export function helpText(registry: Registry, topic: string): string {
  const name = topic.replace(/-/g, '_');
  const builtin = (BUILTINS as readonly Builtin[]).find((b) => b.name === topic);
  if (builtin) return builtinHelp(builtin);
  const command = registry.get(name);
  if (command) return commandHelp(command);
  const tagged = registry.tags().get(topic);
  if (tagged) return [`Commands tagged ${topic}:`, ...tagged.map(commandLine), ''].join('\n');
  if (/[*?[]/.test(name)) {
    const re = globToRegExp(name);
    const matches = registry.list().filter((c) => re.test(c.name));
    if (matches.length > 0) return matches.map(commandHelp).join('\n');
  }
  const near = registry.suggest(name);
  throw new CommandError('not_found', `No command or tag matches '${topic}'${near ? `. Did you mean '${near}'?` : ''}`);
}

function builtinHelp(b: Builtin): string {
  const out = [`${b.name}: ${b.desc}`, '', `Usage: ctl ${b.usage}`, ''];
  if (b.longdesc) out.push(b.longdesc, '');
  if (b.examples?.length) out.push(b.examples.length > 1 ? 'Examples:' : 'Example:', ...b.examples.map((e) => `  ${e}`), '');
  return out.join('\n');
}

export function commandHelp(c: Command): string {
  const args = callerArgs(c);
  const width = Math.max(0, ...args.map((a) => a.name.length));
  const desc = helpDescription(c);
  const out = [`${c.name}: ${desc || '(no description)'}${c.handler ? '' : ' [not implemented yet]'}${fromModule(c)}`, '', `Usage: ${usageLine(c)}`, ''];
  if (args.length > 0) {
    out.push('Arguments:');
    args.forEach((a, i) => {
      const hint = argHint(a.type);
      const argDesc = c.argsDesc?.[i - (args.length - c.args.length)];
      const values = allowedValues(c, a.name);
      const allowed = values ? `, one of: ${values.join(', ')}` : '';
      out.push(`  ${a.name.padEnd(width)}  ${typeLabel(a.type)}${hint ? ` (${hint})` : ''}${allowed}${argDesc ? `: ${argDesc}` : ''}`);
    });
    out.push('');
  }
  out.push(`Result: ${fieldLabel(c.result)}${resultNote(c)}`, '', `Tags: ${c.tags.join(', ')}    Policy: ${c.policy}`);
  if (c.extension !== undefined) out.push('', `From the extension module ${c.extension}; it runs in the node.`);
  const longdesc = c.helpLongdesc ?? c.longdesc;
  if (longdesc) out.push('', longdesc);
  if (c.note) out.push('', `Note: ${c.note}`);
  out.push('', 'Example:', `  ${exampleLine(c)}`, '');
  const output = exampleOutput(c);
  const shape = outputShape(c.result);
  if (output) out.push('Output:', ...output.map((line) => `  ${line}`), '');
  else if (shape) out.push(`Output: ${shape}`, '');
  return out.join('\n');
}

function resultNote(c: Command): string {
  if (c.result.type.kind === 'rescode') return ' (nothing printed; exit status 0 on success, 1 on failure)';
  if (c.result.type.kind === 'restuple') return ' (a text; exit status 0 on success, 1 on failure)';
  return '';
}

/** How a result prints on a pipe, said from its type: what scripts cut and awk. */
function outputShape(result: Field): string | undefined {
  const { type } = result;
  if (type.kind === 'list') {
    const elem = type.elem;
    if (elem.type.kind === 'tuple') return `one line per ${elem.name}: ${fieldsLine(elem.type)}; nothing when there is none`;
    return `one ${elem.name} per line; nothing when there is none`;
  }
  if (type.kind === 'tuple') return `one line: ${fieldsLine(type)}`;
  if (type.kind === 'rescode' || type.kind === 'restuple') return undefined;
  return `the ${result.name} (${type.kind}) on one line`;
}

function fieldsLine(type: Extract<Type, { kind: 'tuple' }>): string {
  return type.fields.map((f) => (f.type.kind === 'list' ? `${f.name} (a,b,...)` : f.name)).join('<TAB>');
}

/** `ctl version` and `ctl --version`. */
export function versionText(): string {
  return `ctl ${packageVersion()}\n`;
}

/** The package's version, found from here in the sources and in the build alike. */
function packageVersion(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'ctl' && pkg.version) return pkg.version;
    }
  }
  return 'unknown';
}

import type { Registry } from '../../core/registry';
import { CommandError } from '../../lib/errors';
import { isAdminApi, type Command } from '../../core/command';
import { callerArgs } from '../../core/args';
import { argHint, exampleLine, EXIT_STATUSES, fieldLabel, SYNOPSIS, typeLabel, usageLine } from '../../docs/cli-text';
import { globToRegExp } from '../../lib/glob';
import { BUILTINS, GLOBAL_OPTIONS } from './argv';

const NOT_IMPLEMENTED_MARK = '*';

/** `ctl` and `ctl help`: usage, options, and every command grouped by tag. */
export function usageText(registry: Registry): string {
  const all = registry.list();
  const missing = all.filter((c) => !c.handler).length;
  const width = Math.max(...GLOBAL_OPTIONS.map((o) => o.flags.length));
  const out = [
    `Usage: ${SYNOPSIS}`,
    '',
    'Options (accepted before or after the command):',
    ...GLOBAL_OPTIONS.map((o) => `  ${o.flags.padEnd(width)}  ${o.desc}`),
    '',
    'Commands of ctl itself:',
    ...BUILTINS.map((b) => `    ${b.usage.padEnd(44)} ${b.desc}`),
    '',
    `Commands of the Administration API (${apiCount(all)}, and ${all.length - apiCount(all)} of ctl's own; ${missing} not implemented yet, marked ${NOT_IMPLEMENTED_MARK}), by tag:`,
  ];
  for (const [tag, commands] of registry.tags()) {
    out.push('', `  ${tag}`, ...commands.map(commandLine));
  }
  out.push(
    '',
    "Run 'ctl help COMMAND' for one command, 'ctl help TAG' for a tag, 'ctl help PATTERN' with * and ?.",
    'When a node runs on the home directory, commands go to it; otherwise ctl opens the database itself.',
    '',
    'Exit status:',
    ...EXIT_STATUSES.map(([n, text]) => `  ${n}  ${text}`),
    '',
  );
  return out.join('\n');
}

/** The commands of ejabberd's Administration API, as opposed to ctl's own additions. */
function apiCount(all: readonly Command[]): number {
  return all.filter(isAdminApi).length;
}

function commandLine(c: Command): string {
  const mark = c.handler ? ' ' : NOT_IMPLEMENTED_MARK;
  return `   ${mark}${usageLine(c).slice(4).padEnd(44)} ${c.desc}`;
}

/** `ctl help TOPIC`: a command, a tag, or a glob over command names. */
export function helpText(registry: Registry, topic: string): string {
  const name = topic.replace(/-/g, '_');
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

export function commandHelp(c: Command): string {
  const args = callerArgs(c);
  const width = Math.max(0, ...args.map((a) => a.name.length));
  const out = [`${c.name}: ${c.desc || '(no description)'}${c.handler ? '' : ' [not implemented yet]'}`, '', `Usage: ${usageLine(c)}`, ''];
  if (args.length > 0) {
    out.push('Arguments:');
    args.forEach((a, i) => {
      const hint = argHint(a.type);
      const desc = c.argsDesc?.[i - (args.length - c.args.length)];
      out.push(`  ${a.name.padEnd(width)}  ${typeLabel(a.type)}${hint ? ` (${hint})` : ''}${desc ? `: ${desc}` : ''}`);
    });
    out.push('');
  }
  out.push(`Result: ${fieldLabel(c.result)}${resultNote(c)}`, '', `Tags: ${c.tags.join(', ')}    Policy: ${c.policy}`);
  if (c.longdesc) out.push('', c.longdesc);
  if (c.note) out.push('', `Note: ${c.note}`);
  out.push('', 'Example:', `  ${exampleLine(c)}`, '');
  return out.join('\n');
}

function resultNote(c: Command): string {
  if (c.result.type.kind === 'rescode') return ' (nothing printed; exit status 0 on success, 1 on failure)';
  if (c.result.type.kind === 'restuple') return ' (a text; exit status 0 on success, 1 on failure)';
  return '';
}

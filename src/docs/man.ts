import { isAdminApi, type Command } from '../core/command';
import { callerArgs } from '../core/args';
import { ENVIRONMENT, EXIT_STATUSES, exampleLine, fieldLabel, FILES, helpDescription, SUMMARY } from './cli-text';
import type { Registry } from '../core/registry';

interface OptionDoc {
  readonly flags: string;
  readonly desc: string;
}

/** roff-escapes text: backslashes, dashes, and a leading dot or quote. */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n');
}

/** The manual page `ctl(1)`, generated from the registry: committed, and tested for staleness. */
export function renderMan(registry: Registry, options: readonly OptionDoc[], builtins: readonly { usage: string; desc: string }[], version: string): string {
  const out: string[] = [
    `.TH CTL 1 "" "ctl ${version}" "User Commands"`,
    '.SH NAME',
    `ctl \\- ${roff(SUMMARY)}`,
    '.SH SYNOPSIS',
    '.B ctl',
    '[\\fIOPTION\\fR ...] \\fICOMMAND\\fR [\\fIARG\\fR ...]',
    '.SH DESCRIPTION',
    roff(
      'ctl runs the commands of the ejabberd Administration API, with their names and positional arguments, ' +
        'so scripts written for ejabberdctl keep working. Without a running node it opens the database itself. ' +
        'Output on a pipe is plain text: one list element per line, tuple fields separated by TAB, nothing for an ' +
        'empty result; inside a record TAB, newline and backslash are written \\t, \\n and \\\\. ' +
        'Errors go to standard error. Lists are written a,b,c and tuples a:b (a JSON array or object also works).',
    ),
    '.SH OPTIONS',
  ];
  for (const o of options) out.push('.TP', `.B ${roff(o.flags)}`, roff(o.desc));
  const all = registry.list();
  out.push(
    '.SH COMMANDS',
    roff(
      'When a node runs on the home directory, commands are sent to it over its control socket; otherwise ctl opens the database itself. The results are the same.',
    ),
    '.SS Commands of ctl itself',
  );
  for (const b of builtins) {
    const [name, ...rest] = b.usage.split(' ');
    out.push('.TP', `.B ${roff(name)}${rest.length ? ` \\fI${roff(rest.join(' '))}\\fR` : ''}`, roff(b.desc));
  }
  out.push(
    '.SS Commands of the Administration API',
    roff(
      `${all.filter(isAdminApi).length} commands, and ${all.filter((c) => !isAdminApi(c)).length} of ctl's own (api_token_*)${all.some((c) => !c.handler) ? '; those not implemented yet answer so and exit 1' : ''}. Run "ctl help COMMAND" for details.`,
    ),
  );
  for (const c of all) out.push(...commandEntry(c));
  out.push('.SH EXIT STATUS');
  for (const [n, text] of EXIT_STATUSES) out.push('.TP', `.B ${n}`, roff(text));
  out.push('.SH ENVIRONMENT');
  for (const [name, text] of ENVIRONMENT) out.push('.TP', `.B ${name}`, roff(text));
  out.push('.SH FILES', roff('HOME is the node home directory (see --home).'));
  for (const [name, text] of FILES) out.push('.TP', `.I ${roff(name)}`, roff(text));
  out.push('.SH EXAMPLES', '.nf');
  for (const name of ['register', 'registered_users', 'check_account', 'change_password']) {
    const c = registry.get(name);
    if (c) out.push(roff(exampleLine(c)));
  }
  out.push(
    roff("printf 'register bob localhost pw1\\nregister carol localhost pw2\\n' | ctl batch"),
    roff('ctl create_room lounge conference.localhost localhost'),
    roff('ctl get_room_occupants lounge conference.localhost'),
    '.fi',
    '',
  );
  return out.join('\n');
}

function commandEntry(c: Command): string[] {
  const args = callerArgs(c)
    .map((a) => a.name)
    .join(' ');
  const lines = ['.TP', `.B ${roff(c.name)}${args ? ` \\fI${roff(args)}\\fR` : ''}`];
  lines.push(roff(`${helpDescription(c) || '(no description)'}${c.handler ? '' : ' (not implemented yet)'}`));
  lines.push('.br', roff(`Result: ${fieldLabel(c.result)}. Tags: ${c.tags.join(', ')}.`));
  if (c.note) lines.push('.br', roff(c.note));
  return lines;
}

/**
 * The markdown API reference (`gen_markdown_doc_for_commands`).
 *
 * The layout is ejabberd's documentation generator's, plus the two hand edits of the
 * published reference (a blank line after the front matter, and `### Examples;` after a
 * blank line), so that `renderMarkdown(allCommands, '', ['perl', 'xmlrpc', 'json'])`
 * reproduces the reference byte for byte.
 */

import { CommandError } from '../lib/errors';
import type { Command } from '../core/command';
import { prettyField, prettyType } from '../schema/pretty';
import { commandExample, javaSample, jsonSample, perlSample, xmlrpcSample, type Example } from './examples';

/** The languages example calls can be written in, in the order the reference shows them. */
export const DOC_LANGUAGES = ['java', 'perl', 'xmlrpc', 'json'] as const;

export type DocLanguage = (typeof DOC_LANGUAGES)[number];

interface LanguageInfo {
  /** The tab label in the reference. */
  readonly label: string;
  /** The info string of the fenced code block. */
  readonly fence: string;
  /** The code, every line starting with the given indent. */
  readonly render: (example: Example, indent: string) => string;
}

/** How each language's example is labelled, fenced and written. */
export const LANGUAGE_INFO: Readonly<Record<DocLanguage, LanguageInfo>> = {
  java: { label: 'Java', fence: 'java', render: javaSample },
  perl: { label: 'Perl', fence: 'perl', render: perlSample },
  xmlrpc: { label: 'XmlRPC', fence: 'xml', render: xmlrpcSample },
  json: { label: 'JSON', fence: 'json', render: jsonSample },
};

/**
 * Checks a list of language names and returns them in display order, without duplicates.
 * @throws CommandError `bad_argument` naming the first unknown language and the allowed ones.
 */
export function checkDocLanguages(languages: readonly string[]): DocLanguage[] {
  const known: readonly string[] = DOC_LANGUAGES;
  const bad = languages.find((lang) => !known.includes(lang));
  if (bad !== undefined) {
    throw new CommandError('bad_argument', `Unknown example language '${bad}': choose from ${DOC_LANGUAGES.join(', ')}`, {
      details: { argument: 'examples', value: bad, allowed: [...DOC_LANGUAGES] },
    });
  }
  return DOC_LANGUAGES.filter((lang) => languages.includes(lang));
}

/**
 * Parses the comma-separated `examples` argument (`"perl,xmlrpc,json"`). Blanks around names
 * and empty items are ignored, so `""` asks for no examples at all.
 * @throws CommandError `bad_argument` for an unknown language.
 */
export function parseDocLanguages(list: string): DocLanguage[] {
  return checkDocLanguages(
    list
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  );
}

/**
 * The commands a reference documents: those whose name or defining module matches `regexp`
 * (unanchored, so `''` matches all), sorted by name in byte order.
 * @throws CommandError `bad_argument` when `regexp` is not a valid regular expression.
 */
export function selectCommands(commands: readonly Command[], regexp: string): Command[] {
  let re: RegExp;
  try {
    re = new RegExp(regexp);
  } catch (err) {
    throw new CommandError('bad_argument', `Invalid regexp '${regexp}': ${(err as Error).message}`, {
      details: { argument: 'regexp', value: regexp },
      cause: err,
    });
  }
  return commands
    .filter((command) => re.test(command.name) || re.test(command.module))
    .sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
}

/** The description shown under the title: the long one, or the short one when there is none. */
export function longDescription(command: Pick<Command, 'desc' | 'longdesc'>): string {
  return command.longdesc ? command.longdesc : command.desc;
}

const FRONT_MATTER = '---\ntitle: Administration API reference\nbodyclass: nocomment\n---\n';

/**
 * Renders the markdown reference of the commands selected by `regexp`, with example calls in
 * `languages` (any of java, perl, xmlrpc, json; shown in that order whatever the order given).
 * @throws CommandError `bad_argument` for an invalid regexp or an unknown language.
 */
export function renderMarkdown(commands: readonly Command[], regexp: string, languages: readonly string[]): string {
  const langs = checkDocLanguages(languages);
  return (
    FRONT_MATTER +
    selectCommands(commands, regexp)
      .map((command) => commandSection(command, langs))
      .join('')
  );
}

function commandSection(command: Command, langs: readonly DocLanguage[]): string {
  const { argsDesc, resultDesc } = command;
  let out = `\n## *${command.name}* - ${command.desc}\n`;
  out += `\n\n${longDescription(command)}\n`;
  out += '\n### Arguments:\n';
  out += command.args
    .map((arg, i) =>
      argsDesc === undefined ? `- *${arg.name}* :: ${prettyType(arg.type)}\n` : `\n*${arg.name}* :: ${prettyType(arg.type)}\n\n: ${argsDesc[i] ?? ''}\n`,
    )
    .join('');
  out += `\n### Result:\n${prettyField(command.result)}`;
  if (resultDesc !== undefined) out += `\n\n${resultDesc}\n`;
  out += '\n\n### Examples;\n';
  out += `\n${langs.map((lang) => `* ${LANGUAGE_INFO[lang].label}\n`).join('')}{: .code-samples-labels}\n`;
  const example = commandExample(command);
  for (const lang of langs) {
    const { fence, render } = LANGUAGE_INFO[lang];
    out += `\n* ~~~ ${fence}\n${render(example, '    ')}\n~~~\n`;
  }
  return `${out}{: .code-samples-tabs}\n\n`;
}

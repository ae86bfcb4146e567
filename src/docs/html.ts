/**
 * The HTML API reference (`gen_html_doc_for_commands`): one standalone HTML5 page with the
 * content of the markdown reference.
 *
 * As in ejabberd 17.04's HTML generator, user-policy commands show the account's `user` and
 * `server` as their first arguments, because that is how a caller passes them.
 */

import type { Command } from '../core/command';
import { callerArgs } from '../core/args';
import { prettyField, prettyType } from '../schema/pretty';
import { commandExample, exampleValues, type Example } from './examples';
import { checkDocLanguages, LANGUAGE_INFO, longDescription, selectCommands, type DocLanguage } from './markdown';

const TITLE = 'Administration API reference';

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]!);
}

const HTML_ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

const STYLE = `
body { margin: 0 auto; max-width: 60em; padding: 1em; font-family: Georgia, Palatino, serif; line-height: 1.5; }
h2 { margin-top: 2.5em; border-bottom: 1px solid #ccc; }
code, pre { font-family: Consolas, Monaco, "Andale Mono", monospace; font-size: 0.9em; }
code { white-space: pre; }
pre { background: #f4f4f4; padding: 0.5em; overflow: auto; }
.longdesc { white-space: pre-wrap; }
nav li { display: inline; margin-right: 0.5em; }`;

/**
 * Renders the HTML reference of the commands selected by `regexp` (matched against names and
 * modules), with example calls in `languages` (any of java, perl, xmlrpc, json).
 * @throws CommandError `bad_argument` for an invalid regexp or an unknown language.
 */
export function renderHtml(commands: readonly Command[], regexp: string, languages: readonly string[]): string {
  const langs = checkDocLanguages(languages);
  const selected = selectCommands(commands, regexp);
  const toc = selected.map((c) => `<li><a href="#${escapeHtml(c.name)}">${escapeHtml(c.name)}</a></li>`).join('\n');
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${TITLE}</title>`,
    `<style>${STYLE}\n</style>`,
    '</head>',
    '<body>',
    `<h1>${TITLE}</h1>`,
    ...(selected.length > 0 ? ['<nav>', '<ul>', toc, '</ul>', '</nav>'] : []),
    ...selected.map((command) => commandSection(command, langs)),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function commandSection(command: Command, langs: readonly DocLanguage[]): string {
  const name = escapeHtml(command.name);
  const title = command.desc ? `<code>${name}</code> - ${escapeHtml(command.desc)}` : `<code>${name}</code>`;
  const ldesc = longDescription(command);
  const parts = [
    `<section id="${name}">`,
    `<h2>${title}</h2>`,
    ...(ldesc ? [`<p class="longdesc">${escapeHtml(ldesc)}</p>`] : []),
    '<h3>Arguments</h3>',
    argumentList(command),
    '<h3>Result</h3>',
    `<pre><code>${escapeHtml(prettyField(command.result))}</code></pre>`,
  ];
  if (command.resultDesc !== undefined) parts.push(`<p>${escapeHtml(command.resultDesc)}</p>`);
  if (langs.length > 0) {
    const example = htmlExample(command);
    parts.push('<h3>Examples</h3>');
    for (const lang of langs) {
      const { label, fence, render } = LANGUAGE_INFO[lang];
      parts.push(`<h4>${label}</h4>`, `<pre><code class="language-${fence}">${escapeHtml(render(example, ''))}</code></pre>`);
    }
  }
  parts.push('</section>');
  return parts.join('\n');
}

const ACCOUNT_ARGS_DESC = ['User name of the account', 'Server (virtual host) of the account'];

function argumentList(command: Command): string {
  const args = callerArgs(command);
  if (args.length === 0) return '<p>None.</p>';
  const term = (i: number): string => {
    const arg = args[i]!;
    return `<strong>${escapeHtml(arg.name)}</strong> :: <code>${escapeHtml(prettyType(arg.type))}</code>`;
  };
  const { argsDesc } = command;
  if (argsDesc === undefined) return `<ul>\n${args.map((_, i) => `<li>${term(i)}</li>`).join('\n')}\n</ul>`;
  // Descriptions belong to the declared arguments, which follow any added account arguments.
  const offset = args.length - command.args.length;
  const entries = args.map((_, i) => {
    const desc = i < offset ? ACCOUNT_ARGS_DESC[i] : argsDesc[i - offset];
    return `<dt>${term(i)}</dt><dd>${escapeHtml(desc ?? '')}</dd>`;
  });
  return `<dl>\n${entries.join('\n')}\n</dl>`;
}

/** The example call with the arguments a caller passes, account arguments included. */
function htmlExample(command: Command): Example {
  const args = callerArgs(command);
  if (command.argsExample === undefined || args.length === command.args.length) return commandExample(command, args);
  const account = exampleValues(args.slice(0, args.length - command.args.length));
  return { ...commandExample(command), args, values: [...account, ...command.argsExample] };
}

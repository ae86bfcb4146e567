import { defineCommand } from '../src/schema/command';
import { f, list, tuple, integer, string, binary, atom, rescode, restuple } from '../src/schema/types';

export const documentationCommands = [
  defineCommand({
    name: 'gen_html_doc_for_commands',
    tags: ['documentation'],
    desc: 'Generates html documentation for ejabberd_commands',
    module: 'ejabberd_commands_doc',
    policy: 'restricted',
    needs: 'none',
    args: [f('file', binary), f('regexp', binary), f('examples', binary)],
    result: f('res', rescode),
    handler: async ({ file, regexp, examples }, { registry }) => {
      const { renderHtml } = await import('../src/docs/html');
      const { parseDocLanguages } = await import('../src/docs/markdown');
      const { writeFileAtomic } = await import('../src/services/files');
      await writeFileAtomic(file, renderHtml(registry.list(), regexp, parseDocLanguages(examples)));
      return true;
    },
    argsDesc: [
      'Path to file where generated documentation should be stored',
      'Regexp matching names of commands or modules that will be included inside generated document',
      'Comma separated list of languages (choosen from java, perl, xmlrpc, json)that will have example invocation include in markdown document',
    ],
    resultDesc: '0 if command failed, 1 when succedded',
    argsExample: ['/home/me/docs/api.html', 'mod_admin', 'java,json'],
    resultExample: true,
  }),
  defineCommand({
    name: 'gen_markdown_doc_for_commands',
    tags: ['documentation'],
    desc: 'Generates markdown documentation for ejabberd_commands',
    module: 'ejabberd_commands_doc',
    policy: 'restricted',
    needs: 'none',
    args: [f('file', binary), f('regexp', binary), f('examples', binary)],
    result: f('res', rescode),
    handler: async ({ file, regexp, examples }, { registry }) => {
      const { parseDocLanguages, renderMarkdown } = await import('../src/docs/markdown');
      const { writeFileAtomic } = await import('../src/services/files');
      await writeFileAtomic(file, renderMarkdown(registry.list(), regexp, parseDocLanguages(examples)));
      return true;
    },
    argsDesc: [
      'Path to file where generated documentation should be stored',
      'Regexp matching names of commands or modules that will be included inside generated document',
      'Comma separated list of languages (choosen from java, perl, xmlrpc, json)that will have example invocation include in markdown document',
    ],
    resultDesc: '0 if command failed, 1 when succedded',
    argsExample: ['/home/me/docs/api.html', 'mod_admin', 'java,json'],
    resultExample: true,
  }),
];

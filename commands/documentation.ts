import { defineCommand } from './support/define';
import { f, binary, rescode } from '../src/schema/types';

/** The two generators differ only in the format they write. */
function docCommand(format: 'html' | 'markdown') {
  return defineCommand({
    name: `gen_${format}_doc_for_commands`,
    tags: ['documentation'],
    desc: `Generates ${format} documentation for ejabberd_commands`,
    helpDesc: `Generates ${format} documentation for the commands of the Administration API`,
    module: 'ejabberd_commands_doc',
    policy: 'restricted',
    needs: 'none',
    paths: ['file'],
    args: [f('file', binary), f('regexp', binary), f('examples', binary)],
    result: f('res', rescode),
    handler: async ({ file, regexp, examples }, { registry }) => {
      const { writeCommandDocs } = await import('../src/docs/write');
      await writeCommandDocs(format, registry.list(), file, regexp, examples);
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
  });
}

export const documentationCommands = [docCommand('html'), docCommand('markdown')];

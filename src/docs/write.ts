import { isAdminApi, type Command } from '../core/command';
import { PUBLIC_FILE, writeFileAtomic } from '../lib/files';
import { renderHtml } from './html';
import { parseDocLanguages, renderMarkdown } from './markdown';

/** Writes the reference of the commands matching `regexp`, with examples in `examples` (a comma list). */
export async function writeCommandDocs(
  format: 'html' | 'markdown',
  commands: readonly Command[],
  file: string,
  regexp: string,
  examples: string,
): Promise<void> {
  const render = format === 'html' ? renderHtml : renderMarkdown;
  // The reference is ejabberd's Administration API; ctl's own additions are documented by ctl help.
  const api = commands.filter(isAdminApi);
  await writeFileAtomic(file, render(api, regexp, parseDocLanguages(examples)), PUBLIC_FILE);
}

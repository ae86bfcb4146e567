import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Element } from 'ltx';
import type { XmppModule } from '../api';
import { NS, StanzaError } from '../stanza';

/** Software Version (XEP-0092): the server's name and version; the operating system is not told. */
export const version: XmppModule = (api) => {
  const text = packageVersion(__dirname);
  api.discoFeature(NS.version);
  api.iq({ xmlns: NS.version, to: ['host'] }, (iq) => {
    if (iq.attrs.type !== 'get') throw new StanzaError('bad-request', 'The version is asked with an IQ get');
    const query = new Element('query', { xmlns: NS.version });
    query.c('name').t('ctl');
    query.c('version').t(text);
    return query;
  });
};

/**
 * The version of the nearest package.json above `dir`: the sources and the compiled tree
 * (dist/src/...) sit at different depths below it.
 */
function packageVersion(dir: string): string {
  for (let at = dir; ; at = dirname(at)) {
    const file = join(at, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
    if (dirname(at) === at) return 'unknown';
  }
}

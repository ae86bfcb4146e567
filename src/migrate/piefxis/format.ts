/**
 * What the XEP-0227 (PIEFXIS) export and import share: namespaces, file names, escaping and
 * the errors that point at a file and line.
 */
import { CommandError } from '../../lib/errors';
import { NOT_XML_CHAR } from '../../lib/xml';

export const NS_PIE = 'urn:xmpp:pie:0';
/** The namespace of drafts before 1.0 (2010), which old exports still carry. */
export const NS_PIE_DRAFT = 'http://www.xmpp.org/extensions/xep-0227.html#ns';
export const NS_SCRAM = 'urn:xmpp:pie:0#scram';
export const NS_XI = 'http://www.w3.org/2001/XInclude';
export const NS_CLIENT = 'jabber:client';
export const NS_DELAY = 'urn:xmpp:delay';

export const isPie = (uri: string): boolean => uri === NS_PIE || uri === NS_PIE_DRAFT;

/** `YYYYMMDD-HHMMSS` in UTC, the stem ejabberd gives every file of one export. */
export function fileStem(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}-${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`;
}

/** ejabberd's name for a host's file: the stem, `_`, the host with its dots as underscores. */
export function hostFileName(stem: string, host: string): string {
  return `${stem}_${host.replace(/\./g, '_')}.xml`;
}

const NOT_XML_CHARS = new RegExp(NOT_XML_CHAR.source, 'gu');

/**
 * Escapes for text and attribute values (single-quoted). Whitespace other than the space is a
 * reference in attributes, or a parser would turn it into a space. Characters that XML cannot
 * carry become U+FFFD, counted in `fixes`, so the file can always be read back.
 */
export function escaper(fixes: { count: number }) {
  const clean = (s: string) =>
    NOT_XML_CHAR.test(s)
      ? s.replace(NOT_XML_CHARS, () => {
          fixes.count++;
          return '\uFFFD';
        })
      : s;
  const ATTR: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', "'": '&apos;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };
  const TEXT: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' };
  return {
    attr: (s: string) => clean(s).replace(/[&<>'\t\n\r]/g, (c) => ATTR[c]),
    text: (s: string) => clean(s).replace(/[&<>\r]/g, (c) => TEXT[c]),
  };
}

/** Where in which file: the position errors name. */
export interface Where {
  readonly file: string;
  readonly line: number;
}

/** Valid XML whose content is not what XEP-0227 allows: a data error (no usage line) naming file and line. */
export function invalid(where: Where, message: string): CommandError {
  return new CommandError('failed', `Invalid XEP-0227 file ${where.file} (line ${where.line}): ${message}`, { details: { arg: 'file' } });
}

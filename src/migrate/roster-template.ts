import { CommandError } from '../lib/errors';
import { ErlangSyntaxError, formatTerm, parseErlangTerms, termText, type Term } from '../lib/erlang-terms';
import { readInputText } from './input-text';
import { contactJid, normalGroups, splitBare } from '../features/roster/records';
import type { TemplateEntry } from '../features/roster/roster';

/**
 * Roster template files, for push_roster and push_roster_all: read here, on the admin side;
 * the roster takes the parsed entries.
 */

/** `a;b;;c` → [a, b, c]; an empty text means no group. */
export function splitGroups(text: string): string[] {
  return text
    .split(';')
    .map((g) => g.trim())
    .filter((g) => g !== '');
}

/** The entries of a template file (an absolute path), prepared and merged by contact. */
export async function readRosterTemplate(path: string): Promise<TemplateEntry[]> {
  return mergeEntries(path, parseTemplate(path, await readTemplate(path)));
}

/** Far beyond any roster template: a bound, so that a huge file is refused instead of held in memory. */
const MAX_TEMPLATE_BYTES = 16 * 1024 * 1024;

function readTemplate(path: string): Promise<string> {
  return readInputText(path, 'the roster file', MAX_TEMPLATE_BYTES);
}

interface RawEntry {
  readonly line: number;
  readonly user: string;
  readonly server: string;
  readonly groups: readonly string[];
  readonly nick: string;
}

function malformed(path: string, where: string, why: string): CommandError {
  return new CommandError('failed', `Malformed roster file ${path} (${where}): ${why}`, { details: { arg: 'file' } });
}

/**
 * Two formats, told apart by their first term or entry: ejabberd's Erlang terms (a list of
 * `{User, Server, Group, Nick}` ending with a dot), or ours, one `JID<TAB>GROUPS<TAB>NICK` per
 * line with `#` comments.
 */
function parseTemplate(path: string, text: string): RawEntry[] {
  const firstContent = text.replace(/^\uFEFF/, '').replace(/^(\s|%[^\n]*)*/, '');
  return firstContent.startsWith('[') || firstContent.startsWith('{') ? parseErlangTemplate(path, text) : parseLineTemplate(path, text);
}

function parseErlangTemplate(path: string, text: string): RawEntry[] {
  let terms: Term[];
  try {
    terms = parseErlangTerms(text);
  } catch (err) {
    if (err instanceof ErlangSyntaxError) throw malformed(path, `line ${err.line}, column ${err.column}`, err.reason);
    throw err;
  }
  const entries: RawEntry[] = [];
  const shape = '{User, Server, Group, Nick}';
  for (const t of terms) {
    for (const e of t.type === 'list' ? t.items : [t]) {
      if (e.type !== 'tuple' || e.items.length !== 4) throw malformed(path, `line ${e.line}`, `an entry is ${shape}, found ${formatTerm(e)}`);
      const [user, server, group, nick] = e.items.map(termText);
      if (user === undefined || server === undefined || group === undefined || nick === undefined) {
        throw malformed(path, `line ${e.line}`, `the fields of ${shape} are strings or binaries, found ${formatTerm(e)}`);
      }
      entries.push({ line: e.line, user, server, groups: group === '' ? [] : [group], nick });
    }
    if (t.type === 'list' && t.tail) throw malformed(path, `line ${t.line}`, `a list of entries cannot end with '| ${formatTerm(t.tail)}'`);
  }
  return entries;
}

function parseLineTemplate(path: string, text: string): RawEntry[] {
  const entries: RawEntry[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const line = i + 1;
      if (raw.trim() === '' || raw.trimStart().startsWith('#')) return;
      const fields = raw.split('\t').map((x) => x.trim());
      if (fields.length > 3) throw malformed(path, `line ${line}`, `${fields.length} fields, but a line holds at most JID<TAB>GROUPS<TAB>NICK`);
      const [jid, groups = '', nick = ''] = fields;
      if (/\s/.test(jid)) throw malformed(path, `line ${line}`, `'${jid}' is not a JID: separate the JID, the groups and the nick with TABs`);
      if (jid.includes('/')) throw malformed(path, `line ${line}`, `'${jid}' has a resource: a roster holds bare JIDs`);
      const [user, server] = splitBare(jid);
      if (jid.startsWith('@')) throw malformed(path, `line ${line}`, `'${jid}' has an empty user part`);
      entries.push({ line, user, server, groups: splitGroups(groups), nick });
    });
  return entries;
}

/** Prepares the JIDs and merges entries for the same contact (their groups add up). */
function mergeEntries(path: string, raw: readonly RawEntry[]): TemplateEntry[] {
  const byJid = new Map<string, TemplateEntry>();
  for (const r of raw) {
    let contact: string;
    try {
      contact = contactJid(r.user, r.server);
    } catch (err) {
      throw malformed(path, `line ${r.line}`, (err as Error).message.replace(/ \((user|server)\)/, ''));
    }
    const old = byJid.get(contact);
    byJid.set(contact, {
      contact,
      groups: normalGroups([...(old?.groups ?? []), ...r.groups]),
      name: r.nick !== '' ? r.nick : (old?.name ?? ''),
    });
  }
  return [...byJid.values()];
}

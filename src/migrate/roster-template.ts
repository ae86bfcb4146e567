import { promises as fs } from 'node:fs';
import { CommandError } from '../lib/errors';
import { compareBytes } from '../storage/keys';
import type { AccountsService } from '../services/accounts';
import { ErlangSyntaxError, formatTerm, parseErlangTerms, termText, type Term } from '../lib/erlang-terms';
import { cannotRead } from '../lib/files';
import { nameprep, nodeprep } from '../lib/jid';

/**
 * Roster template files, for push_roster and push_roster_all, and the roster text helpers they
 * share with the roster service.
 */

/** One contact of a roster template file. */
export interface TemplateEntry {
  readonly jid: string;
  /** The account the entry names, when it is one of ours. */
  readonly local?: { readonly user: string; readonly host: string };
  readonly groups: readonly string[];
  readonly nick: string;
}

/** `a;b;;c` → [a, b, c]; an empty text means no group. */
export function splitGroups(text: string): string[] {
  return text.split(';').map((g) => g.trim()).filter((g) => g !== '');
}

export function normalGroups(groups: Iterable<string>): string[] {
  return [...new Set(groups)].sort(compareBytes);
}

/** A contact's bare JID from its parts; an empty user part gives a server JID (a gateway). */
export function contactJid(user: string, server: string, userArg: string, serverArg: string): string {
  const host = nameprep(server, serverArg);
  return user === '' ? host : `${nodeprep(user, userArg)}@${host}`;
}

/** `user@server` → [user, server]; a server JID has no user part. */
export function splitBare(jid: string): [string, string] {
  const at = jid.indexOf('@');
  return at < 0 ? ['', jid] : [jid.slice(0, at), jid.slice(at + 1)];
}

/** The entries of a template file, normalised, merged by contact; only registered accounts count as local. */
export async function readRosterTemplate(path: string, hosts: readonly string[], accounts: AccountsService): Promise<TemplateEntry[]> {
  return normaliseEntries(path, parseTemplate(path, await readTemplate(path)), hosts, accounts);
}

async function readTemplate(path: string): Promise<string> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (err) {
    throw cannotRead('the roster file', path, err);
  }
}

interface RawEntry {
  readonly line: number;
  readonly user: string;
  readonly server: string;
  readonly groups: readonly string[];
  readonly nick: string;
}

function malformed(path: string, where: string, why: string): CommandError {
  return new CommandError('bad_argument', `Malformed roster file ${path} (${where}): ${why}`, { details: { arg: 'file' } });
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

/** Normalises the JIDs and merges entries for the same contact (their groups add up). */
function normaliseEntries(path: string, raw: readonly RawEntry[], hosts: readonly string[], accounts: AccountsService): Promise<TemplateEntry[]> {
  const byJid = new Map<string, TemplateEntry>();
  for (const r of raw) {
    let jid: string;
    try {
      jid = contactJid(r.user, r.server, 'user', 'server');
    } catch (err) {
      throw malformed(path, `line ${r.line}`, (err as Error).message.replace(/ \((user|server)\)/, ''));
    }
    const old = byJid.get(jid);
    const [user, host] = splitBare(jid);
    byJid.set(jid, {
      jid,
      local: user !== '' && hosts.includes(host) ? { user, host } : undefined,
      groups: normalGroups([...(old?.groups ?? []), ...r.groups]),
      nick: r.nick !== '' ? r.nick : (old?.nick ?? ''),
    });
  }
  return keepRegistered([...byJid.values()], accounts);
}

/** Only registered accounts count as local: the others are contacts, never roster owners. */
async function keepRegistered(entries: TemplateEntry[], accounts: AccountsService): Promise<TemplateEntry[]> {
  const out: TemplateEntry[] = [];
  for (const e of entries) out.push(e.local && !(await accounts.exists(e.local.user, e.local.host)) ? { ...e, local: undefined } : e);
  return out;
}

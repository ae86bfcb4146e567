import { CommandError } from './errors';
import { isPrintableAscii } from './utf8';

/** Characters RFC 6122 nodeprep forbids in a local part, besides controls and spaces. */
const FORBIDDEN_LOCAL = /[\s"&'/:<>@\u0000-\u001f\u007f]/u;
const FORBIDDEN_DOMAIN = /[\s"&'/:<>@\\\u0000-\u001f\u007f]/u;
const MAX_PART_BYTES = 1023;

/**
 * What no name may hold, though it may look like nothing or like something else: controls (C0,
 * DEL, C1 such as U+0085), format characters (zero-width U+200B-U+200D, U+2060, U+FEFF, the soft
 * hyphen, the bidirectional marks, embeddings, overrides and isolates U+200E/F, U+202A-U+202E,
 * U+2066-U+2069), separators of every kind, private use, surrogates, noncharacters, U+FFFC and
 * U+FFFD, and RFC 3454's C.7 and C.8 leftovers. Nodeprep maps some of these to nothing; they are
 * refused here instead, so that a name is stored as it was seen.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Z}\p{Co}\p{Cs}\p{Noncharacter_Code_Point}\ufffc\ufffd\u2ff0-\u2ffb\u0340\u0341]/u;

/** Nodeprep's table B.1 marks that are not format characters: variation selectors, the grapheme joiner. */
const MAPPED_TO_NOTHING = /[\u034f\u1806\u180b-\u180d\ufe00-\ufe0f]/gu;

/**
 * Nodeprep's mapping (RFC 3491 table B.2, then NFKC): full case folding, so `straße` is
 * `strasse`, `ΣΑΣ` is `σασ`. Upper then lower case is full case folding for every character
 * of Unicode 3.2 (the tests compare it with Python's stringprep tables), once final sigma,
 * which lower-casing makes of a word's last Σ, is folded back.
 */
function fold(s: string, ascii = isPrintableAscii(s)): string {
  // Printable ASCII, which most names are, skips the Unicode work a server does for every JID of
  // every stanza: NFKC leaves it as it is, and folding it is lower-casing it.
  // Always a new string: V8 cuts a parser's text into slices that keep the whole chunk they came
  // from alive, and a name is kept (in a session, a cache, an import's list of users) long after
  // its chunk. The Unicode path copies by itself; here, flattening `' ' + s` copies it.
  if (ascii) return (' ' + s).slice(1).toLowerCase();
  return s
    .normalize('NFKC')
    .toUpperCase()
    .toLowerCase()
    .replace(/\u03c2/g, '\u03c3')
    .normalize('NFKC');
}

/** The first character of `text` that no name may hold, as U+XXXX; undefined when there is none. */
export function invisibleCharacter(text: string): string | undefined {
  const m = INVISIBLE.exec(text);
  return m ? `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : undefined;
}

/** `text` for an error message, with what a terminal would hide or reorder written as <U+XXXX>. */
export function shown(text: string): string {
  return text.replace(new RegExp(INVISIBLE.source, 'gu'), (c) => `<U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}>`);
}

function checkLength(value: string, what: string, argName: string): void {
  if (value.length === 0) throw new CommandError('bad_argument', `The ${what} (${argName}) must not be empty`, { details: { arg: argName } });
  if (Buffer.byteLength(value) > MAX_PART_BYTES) {
    throw new CommandError('bad_argument', `The ${what} (${argName}) is longer than ${MAX_PART_BYTES} bytes`, { details: { arg: argName } });
  }
}

/** Normalises a user name (JID local part) or says precisely why it is not one. */
export function nodeprep(user: string, argName = 'user'): string {
  // Printable ASCII holds nothing invisible but the space, and nothing nodeprep maps to nothing.
  const ascii = isPrintableAscii(user);
  const invisible = ascii ? undefined : invisibleCharacter(user.replace(/ /g, ''));
  if (invisible !== undefined) {
    throw new CommandError(
      'bad_argument',
      `Invalid user name '${shown(user)}' (${argName}): a user name cannot contain ${invisible} (a control, format or invisible character)`,
      {
        details: { arg: argName },
      },
    );
  }
  const u = fold(ascii ? user : user.replace(MAPPED_TO_NOTHING, ''), ascii);
  checkLength(u, 'user name', argName);
  if (FORBIDDEN_LOCAL.test(u)) {
    throw new CommandError(
      'bad_argument',
      `Invalid user name '${user}' (${argName}): a user name cannot contain spaces, control characters or any of "&'/:<>@`,
      { details: { arg: argName } },
    );
  }
  return u;
}

/** Normalises a host name (JID domain part). */
export function nameprep(host: string, argName = 'host'): string {
  const h = fold(host).replace(/\.$/, '');
  checkLength(h, 'host name', argName);
  if (FORBIDDEN_DOMAIN.test(h) || h.startsWith('.') || h.includes('..')) {
    throw new CommandError('bad_argument', `Invalid host name '${host}' (${argName})`, { details: { arg: argName } });
  }
  return h;
}

export function resourceprep(resource: string): string {
  return resource.normalize('NFKC');
}

export interface Jid {
  readonly user: string;
  readonly host: string;
  readonly resource: string;
}

/** Splits `user@host/resource` the RFC 7622 way: the first `/` ends the bare JID, then the first `@`. */
export function parseJid(text: string, argName = 'jid'): Jid {
  const slash = text.indexOf('/');
  const bare = slash < 0 ? text : text.slice(0, slash);
  const resource = slash < 0 ? '' : text.slice(slash + 1);
  const at = bare.indexOf('@');
  const user = at < 0 ? '' : bare.slice(0, at);
  const host = at < 0 ? bare : bare.slice(at + 1);
  if (at >= 0 && user === '') throw new CommandError('bad_argument', `Invalid JID '${text}' (${argName}): empty user part`);
  return {
    user: user === '' ? '' : nodeprep(user, argName),
    host: nameprep(host, argName),
    resource: resourceprep(resource),
  };
}

/** The JID `text` names, or undefined when it is not a JID (an attribute a client got wrong). */
export function tryParseJid(text: unknown): Jid | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    return parseJid(text);
  } catch {
    return undefined;
  }
}

export function formatJid(jid: { user: string; host: string; resource?: string }): string {
  return (jid.user ? `${jid.user}@` : '') + jid.host + (jid.resource ? `/${jid.resource}` : '');
}

/** An account's bare JID with both parts prepared (nodeprep, nameprep): what features take. */
export interface BareJid {
  readonly user: string;
  readonly host: string;
}

/** `user@host`, or `host` for a server's JID. */
export function bareText(jid: BareJid): string {
  return jid.user === '' ? jid.host : `${jid.user}@${jid.host}`;
}

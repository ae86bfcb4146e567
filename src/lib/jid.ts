import { CommandError } from './errors';

/** Characters RFC 6122 nodeprep forbids in a local part, besides controls and spaces. */
const FORBIDDEN_LOCAL = /[\s"&'/:<>@\u0000-\u001f\u007f]/u;
const FORBIDDEN_DOMAIN = /[\s"&'/:<>@\\\u0000-\u001f\u007f]/u;
const MAX_PART_BYTES = 1023;

/** Unicode NFKC plus case folding: what nodeprep and nameprep do in practice. */
function fold(s: string): string {
  return s.normalize('NFKC').toLowerCase().normalize('NFKC');
}

function checkLength(value: string, what: string, argName: string): void {
  if (value.length === 0) throw new CommandError('bad_argument', `The ${what} (${argName}) must not be empty`, { details: { arg: argName } });
  if (Buffer.byteLength(value) > MAX_PART_BYTES) {
    throw new CommandError('bad_argument', `The ${what} (${argName}) is longer than ${MAX_PART_BYTES} bytes`, { details: { arg: argName } });
  }
}

/** Normalises a user name (JID local part) or says precisely why it is not one. */
export function nodeprep(user: string, argName = 'user'): string {
  const u = fold(user);
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

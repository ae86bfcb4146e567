/**
 * One `<user>` of a XEP-0227 file, checked and turned into the records this node stores.
 * What this node cannot store (a private element without a namespace of its own, an unknown
 * subscription, a key of the wrong length) is skipped with a warning naming the element and
 * its line: other servers accept such data, and one odd element must not keep a user's others
 * out. Elements in namespaces this node does not keep are reported as ignored, as the XEP asks.
 */
import { formatJid, nameprep, nodeprep, parseJid } from '../../lib/jid';
import { MAX_XML_BYTES, serialise, type Element } from '../../lib/xml';
import { MAX_PASSWORD_BYTES } from '../../features/accounts/records';
import { MAX_SCRAM_ITERATIONS, type ScramSecret } from '../../features/accounts/secret';
import { delayedRecord, offlineRecord, type OfflineMessage } from '../../features/offline/records';
import { isReservedPrivateNamespace, NS_PRIVATE } from '../../features/private/records';
import { normalItem, NS_ROSTER, SUBSCRIPTIONS, type Ask, type RosterItem, type Subscription } from '../../features/roster/records';
import { NS_VCARD } from '../../features/vcard/records';
import { isPie, NS_CLIENT, NS_DELAY, NS_SCRAM, NS_XI, type Where } from './format';
import { label, type ElementInfo, type UserElement } from './read';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface ImportedUser {
  readonly host: string;
  readonly user: string;
  readonly where: Where;
  readonly password?: string;
  readonly scram?: ScramSecret;
  /** SCRAM mechanisms given but not storable here (SCRAM-SHA-256...). */
  readonly otherMechanisms: readonly string[];
  /** By contact bare JID. */
  readonly roster: ReadonlyMap<string, RosterItem>;
  readonly vcard?: string;
  /** Serialised elements by namespace. */
  readonly privates: ReadonlyMap<string, string>;
  /** Oldest first, as the file lists them. */
  readonly offline: readonly OfflineMessage[];
  readonly ignored: readonly { readonly label: string; readonly where: Where }[];
  /** What was skipped because this node cannot store it, in document order. */
  readonly warnings: readonly Warning[];
}

/** Something of a user that was skipped: where, whose, which element, and why. */
export interface Warning {
  readonly where: Where;
  /** `user@host`, or for a user skipped whole the name as the file gives it. */
  readonly user: string;
  /** `<item>`, `<nons>`, or `<user>` when the whole user is skipped. */
  readonly element: string;
  readonly why: string;
}

/** A user that cannot be imported at all: its name is missing or invalid. */
export interface SkippedUser {
  readonly skipped: Warning;
}

/** Content this node cannot store, thrown where it is found and caught by the element it spoils. */
class Unfit extends Error {
  constructor(
    readonly where: Where,
    message: string,
  ) {
    super(message);
  }
}

const invalid = (where: Where, message: string): Unfit => new Unfit(where, message);

export function warningText(w: Warning): string {
  const whose = w.element === '<user>' ? `the user ${w.user}` : `${w.element} of ${w.user}`;
  return `Warning: skipped ${whose} in ${w.where.file} (line ${w.where.line}): ${w.why}`;
}

const elements = (el: Element): Element[] => el.children.filter((c): c is Element => typeof c !== 'string');

/**
 * Reads `u` (its tree is consumed). `now` stamps offline messages that carry no delay from
 * the host.
 */
export function readUser(u: UserElement, now: number): ImportedUser | SkippedUser {
  const { el, host } = u;
  const name = el.attrs.name as string | undefined;
  try {
    if (name === undefined) throw invalid(u.where, "the <user> has no 'name' attribute");
    const user = part(() => nodeprep(name), u.where);
    const password = el.attrs.password as string | undefined;
    if (password !== undefined && Buffer.byteLength(password) > MAX_PASSWORD_BYTES)
      throw invalid(u.where, `the password of ${user}@${host} is longer than ${MAX_PASSWORD_BYTES} bytes`);
    return readElements(u, user, password, now);
  } catch (err) {
    if (!(err instanceof Unfit)) throw err;
    const who = name === undefined ? 'without a name' : `'${name}'`;
    return { skipped: { where: err.where, user: who, element: '<user>', why: err.message } };
  }
}

export const isSkipped = (u: ImportedUser | SkippedUser): u is SkippedUser => 'skipped' in u;

function readElements(u: UserElement, user: string, password: string | undefined, now: number): ImportedUser {
  const { el, info, host } = u;
  const file = u.where.file;
  const at = (e: Element): Where => ({ file, line: meta(e).line });
  const meta = (e: Element): ElementInfo => info.get(e)!;
  const id = `${user}@${host}`;
  const warnings: Warning[] = [];
  /** Runs `read` for element `e`; what it cannot store is skipped with a warning. */
  const guarded = (e: Element, read: () => void) => {
    try {
      read();
    } catch (err) {
      if (!(err instanceof Unfit)) throw err;
      warnings.push({ where: err.where, user: id, element: `<${e.name}>`, why: err.message });
    }
  };
  /** Text where elements belong carries nothing: it is dropped with a warning. */
  const noText = (e: Element) => {
    if (e.children.some((c) => typeof c === 'string' && c.trim() !== '')) {
      warnings.push({ where: at(e), user: id, element: `text in <${e.name}>`, why: `text is not allowed in <${e.name}>` });
    }
  };

  noText(el);
  const once = new Map<string, number>();
  const single = (e: Element, what: string) => {
    const line = once.get(what);
    if (line !== undefined) throw invalid(at(e), `${id} has a second ${what} (the first is on line ${line})`);
    once.set(what, meta(e).line);
  };
  const mechanisms = new Map<string, number>();
  let scram: ScramSecret | undefined;
  // SHA-256 keys go beside SHA-1 ones; alone, they are not enough to store (a secret has SHA-1 keys).
  let scram256: ScramSecret | undefined;
  const otherMechanisms: string[] = [];
  const roster = new Map<string, RosterItem>();
  const rosterLines = new Map<string, number>();
  const requests: { jid: string; where: Where }[] = [];
  let vcard: string | undefined;
  const privates = new Map<string, string>();
  const offline: OfflineMessage[] = [];
  const ignored: { label: string; where: Where }[] = [];

  for (const child of elements(el)) guarded(child, () => readChild(child));

  function readChild(child: Element): void {
    const { uri, local } = meta(child);
    const where = at(child);
    if (uri === NS_SCRAM && local === 'scram-credentials') {
      const mechanism = child.attrs.mechanism as string | undefined;
      if (!mechanism) throw invalid(where, "the <scram-credentials> has no 'mechanism' attribute");
      const first = mechanisms.get(mechanism);
      if (first !== undefined) throw invalid(where, `${id} has a second ${mechanism} <scram-credentials> (the first is on line ${first})`);
      mechanisms.set(mechanism, where.line);
      // -PLUS only adds channel binding: the stored keys are those of the plain mechanism.
      const sha1 = mechanism === 'SCRAM-SHA-1' || mechanism === 'SCRAM-SHA-1-PLUS';
      const sha256 = mechanism === 'SCRAM-SHA-256' || mechanism === 'SCRAM-SHA-256-PLUS';
      const secret = readScram(child, meta, at, id, sha1 ? 20 : sha256 ? 32 : undefined);
      if (sha1) scram ??= secret;
      else if (sha256) scram256 ??= secret;
      else otherMechanisms.push(mechanism);
    } else if (uri === NS_ROSTER && local === 'query') {
      single(child, 'roster');
      noText(child);
      for (const item of elements(child)) {
        guarded(item, () => {
          const { uri: iu, local: il } = meta(item);
          if (iu !== NS_ROSTER || il !== 'item') throw invalid(at(item), `<${item.name}> is not allowed in a roster: it holds <item> elements`);
          const [jid, entry] = rosterItem(item, meta, at, noText);
          const line = rosterLines.get(jid);
          if (line !== undefined) throw invalid(at(item), `${jid} is in the roster of ${id} twice (the first item is on line ${line})`);
          rosterLines.set(jid, meta(item).line);
          roster.set(jid, entry);
        });
      }
    } else if (uri === NS_PRIVATE && local === 'query') {
      single(child, 'private storage');
      noText(child);
      for (const stored of elements(child)) {
        guarded(stored, () => {
          const ns = meta(stored).uri;
          if (ns === '') throw invalid(at(stored), `<${stored.name}> in private storage has no namespace: each element is kept under its xmlns`);
          if (isReservedPrivateNamespace(ns)) {
            throw invalid(
              at(stored),
              `<${stored.name}> is in the reserved namespace ${ns}: private storage refuses it (the element has no namespace of its own)`,
            );
          }
          if (privates.has(ns)) throw invalid(at(stored), `${id} has a second private element in namespace ${ns}`);
          privates.set(ns, sized(serialise(payload(stored, meta, false)), at(stored), `the private element <${stored.name}>`));
        });
      }
    } else if (uri === NS_VCARD && local === 'vCard') {
      single(child, 'vCard');
      vcard = sized(serialise(payload(child, meta, false)), where, 'the vCard');
    } else if (isPie(uri) && local === 'offline-messages') {
      single(child, '<offline-messages>');
      noText(child);
      for (const m of elements(child)) {
        const mm = meta(m);
        if (mm.local === 'message' && (mm.uri === NS_CLIENT || isPie(mm.uri))) guarded(m, () => offline.push(offlineMessage(m, meta, at, host, now)));
        else ignored.push({ label: label(mm.local, mm.uri), where: at(m) });
      }
    } else if (local === 'presence' && (uri === NS_CLIENT || isPie(uri))) {
      const type = child.attrs.type as string | undefined;
      if (type !== 'subscribe') ignored.push({ label: `<presence type='${type ?? ''}'>`, where });
      else {
        const from = child.attrs.from as string | undefined;
        if (from === undefined) throw invalid(where, "the subscription request <presence> has no 'from' attribute");
        requests.push({ jid: bareJid(from, where), where });
      }
    } else if (uri === NS_XI && local === 'include') {
      throw invalid(where, 'an <xi:include> inside a <user> is not followed: include whole <host> or <user> elements');
    } else if (isPie(uri)) {
      throw invalid(where, `<${child.name}> is not an element of a XEP-0227 <user>`);
    } else ignored.push({ label: label(local, uri), where });
  }

  // A pending request from a contact: the item says so, or is made to say so.
  for (const { jid, where } of requests) {
    const item = roster.get(jid);
    if (!item) roster.set(jid, { name: '', subscription: 'none', ask: 'in', groups: [] });
    else if (item.ask === 'none') roster.set(jid, { ...item, ask: 'in' });
    else if (item.ask === 'out') {
      const why = `${jid} asks to subscribe while ${id} asks ${jid} too: this node keeps one pending request per contact, and keeps the outgoing one`;
      warnings.push({ where, user: id, element: `<presence type='subscribe' from='${jid}'>`, why });
    }
  }

  if (scram256 && scram) {
    const { iterations, salt, storedKey, serverKey } = scram256;
    scram = { ...scram, sha256: { iterations, salt, storedKey, serverKey } };
  } else if (scram256) otherMechanisms.push('SCRAM-SHA-256');
  return {
    host,
    user,
    where: u.where,
    password: password === '' ? undefined : password,
    scram,
    otherMechanisms,
    roster,
    vcard,
    privates,
    offline,
    ignored,
    warnings,
  };
}

/** Runs a JID-part check, turning its argument error into a file error. */
function part<T>(check: () => T, where: Where): T {
  try {
    return check();
  } catch (err) {
    throw invalid(where, (err as Error).message.replace(/ \([a-z]+\)/, ''));
  }
}

function bareJid(text: string, where: Where): string {
  const jid = part(() => parseJid(text, 'jid'), where);
  return formatJid({ user: jid.user, host: jid.host });
}

function readScram(el: Element, meta: (e: Element) => ElementInfo, at: (e: Element) => Where, id: string, keyBytes?: number): ScramSecret {
  const fields = new Map<string, string>();
  for (const c of elements(el)) {
    const { uri, local } = meta(c);
    if (uri !== NS_SCRAM || !['iter-count', 'salt', 'server-key', 'stored-key'].includes(local)) {
      throw invalid(at(c), `<${c.name}> is not allowed in <scram-credentials>: use iter-count, salt, server-key and stored-key`);
    }
    if (fields.has(local)) throw invalid(at(c), `the <scram-credentials> of ${id} has a second <${local}>`);
    fields.set(local, c.getText().trim());
  }
  const field = (name: string) => {
    const v = fields.get(name);
    if (v === undefined) throw invalid(at(el), `the <scram-credentials> of ${id} has no <${name}>`);
    return v;
  };
  const iter = field('iter-count');
  if (!/^[1-9][0-9]*$/.test(iter) || Number(iter) > MAX_SCRAM_ITERATIONS) {
    throw invalid(at(el), `the <iter-count> of ${id} must be a whole number from 1 to ${MAX_SCRAM_ITERATIONS}, not '${iter}'`);
  }
  const b64 = (name: string) => {
    const v = field(name);
    if (v === '' || !BASE64.test(v)) throw invalid(at(el), `the <${name}> of ${id} is not base64: '${v}'`);
    return v;
  };
  const [salt, stored, server] = [b64('salt'), b64('stored-key'), b64('server-key')];
  // ejabberd (23.01 and since) keeps its keys and salt as base64 text and exports that text in
  // base64 again: a key that decodes to the base64 of a key of the right length is such a one.
  const inner = (v: string) => {
    // Only a text as long as the base64 of a key can be one: most keys are decoded no further.
    if (keyBytes === undefined || decodedLength(v) !== 4 * Math.ceil(keyBytes / 3)) return undefined;
    const text = Buffer.from(v, 'base64').toString('latin1');
    return BASE64.test(text) && keyBytes !== undefined && Buffer.from(text, 'base64').length === keyBytes ? text : undefined;
  };
  const twice = keyBytes !== undefined && inner(stored) !== undefined && inner(server) !== undefined;
  const once = (v: string) => (twice ? Buffer.from(v, 'base64').toString('latin1') : v);
  const key = (name: string, v: string) => {
    const bytes = decodedLength(v);
    if (keyBytes !== undefined && bytes !== keyBytes) {
      throw invalid(at(el), `the <${name}> of ${id} is ${bytes} bytes long, but a ${keyBytes === 20 ? 'SCRAM-SHA-1' : 'SCRAM-SHA-256'} key is ${keyBytes}`);
    }
    return v;
  };
  const saltText = once(salt);
  if (saltText === '' || !BASE64.test(saltText)) throw invalid(at(el), `the <salt> of ${id} is not base64: '${salt}'`);
  return {
    format: 'scram',
    hash: 'sha1',
    iterations: Number(iter),
    salt: saltText,
    storedKey: key('stored-key', once(stored)),
    serverKey: key('server-key', once(server)),
  };
}

/** The bytes that a text `BASE64` accepts decodes to. */
function decodedLength(v: string): number {
  return (v.length / 4) * 3 - (v.endsWith('==') ? 2 : v.endsWith('=') ? 1 : 0);
}

function rosterItem(item: Element, meta: (e: Element) => ElementInfo, at: (e: Element) => Where, noText: (e: Element) => void): [string, RosterItem] {
  const where = at(item);
  const a = item.attrs as Record<string, string | undefined>;
  if (a.jid === undefined) throw invalid(where, "the roster <item> has no 'jid' attribute");
  const jid = part(() => parseJid(a.jid!, 'jid'), where);
  if (jid.resource !== '') throw invalid(where, `the roster <item> jid '${a.jid}' has a resource: a roster holds bare JIDs`);
  const subscription = (a.subscription ?? 'none') as Subscription;
  if (!(SUBSCRIPTIONS as readonly string[]).includes(subscription)) {
    throw invalid(where, `unknown subscription '${a.subscription}' in the roster <item> for ${a.jid}: use none, from, to or both`);
  }
  // RFC 3921 also had ask='unsubscribe', which RFC 6121 dropped: no request is pending then.
  const asks: Record<string, Ask> = { subscribe: 'out', unsubscribe: 'none' };
  const ask = a.ask === undefined ? 'none' : asks[a.ask];
  if (ask === undefined) throw invalid(where, `unknown ask '${a.ask}' in the roster <item> for ${a.jid}: use subscribe, or leave it out`);
  noText(item);
  const groups = new Set<string>();
  for (const g of elements(item)) {
    const { uri, local } = meta(g);
    if (uri !== NS_ROSTER || local !== 'group') throw invalid(at(g), `<${g.name}> is not allowed in a roster <item>: it holds <group> elements`);
    const text = g.getText();
    if (text !== '') groups.add(text);
  }
  // RFC 6121 §3.4: a pre-approval the owner gave before the contact asked.
  const approved = a.approved === 'true' || a.approved === '1';
  return [
    formatJid({ user: jid.user, host: jid.host }),
    normalItem({ name: a.name ?? '', subscription, ask, groups: [...groups], ...(approved && { approved }) }),
  ];
}

function sized(xml: string, where: Where, what: string): string {
  if (Buffer.byteLength(xml) > MAX_XML_BYTES) throw invalid(where, `${what} is larger than ${MAX_XML_BYTES} bytes`);
  return xml;
}

/**
 * `el` as a document of its own: the namespace declarations it relies on from its ancestors
 * are copied onto it. A stanza in jabber:client is stored without xmlns, as this node stores
 * every stanza.
 */
function payload(el: Element, meta: (e: Element) => ElementInfo, stanza: boolean): Element {
  const { scope, uri } = meta(el);
  const prefixes = new Set<string>();
  let unprefixed = false;
  const visit = (e: Element) => {
    const colon = e.name.indexOf(':');
    if (colon < 0) unprefixed ||= !('xmlns' in e.attrs);
    else prefixes.add(e.name.slice(0, colon));
    for (const a of Object.keys(e.attrs)) {
      const c = a.indexOf(':');
      if (c > 0 && !a.startsWith('xmlns:') && !a.startsWith('xml:')) prefixes.add(a.slice(0, c));
    }
    for (const c of elements(e)) visit(c);
  };
  visit(el);
  const decls: Record<string, string> = {};
  const inherited = scope[''] ?? '';
  if (stanza && (el.attrs.xmlns === NS_CLIENT || (!('xmlns' in el.attrs) && (uri === NS_CLIENT || isPie(uri))))) {
    delete el.attrs.xmlns;
  } else if (unprefixed && !('xmlns' in el.attrs) && inherited !== '') decls.xmlns = inherited;
  for (const p of prefixes) if (!(`xmlns:${p}` in el.attrs) && scope[p] !== undefined) decls[`xmlns:${p}`] = scope[p];
  el.attrs = { ...decls, ...el.attrs };
  el.parent = null as unknown as Element;
  return el;
}

function offlineMessage(m: Element, meta: (e: Element) => ElementInfo, at: (e: Element) => Where, host: string, now: number): OfflineMessage {
  const where = at(m);
  // The host's own delay says when the message was stored; the file keeps it as it was.
  const delay = elements(m).find((d) => {
    const dm = meta(d);
    if (dm.uri !== NS_DELAY || dm.local !== 'delay' || typeof d.attrs.from !== 'string') return false;
    try {
      return nameprep(d.attrs.from) === host && Number.isFinite(Date.parse(String(d.attrs.stamp)));
    } catch {
      return false;
    }
  });
  const stanza = payload(m, meta, true);
  const message = delay ? delayedRecord(stanza, Date.parse(String(delay.attrs.stamp))) : offlineRecord(stanza, host, now);
  sized(message.xml, where, 'the offline <message>');
  return message;
}

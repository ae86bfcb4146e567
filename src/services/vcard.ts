import { clone } from 'ltx';
import { CommandError } from '../lib/errors';
import { TABLES } from '../storage/tables';
import type { AccountsService, ServiceDeps } from './accounts';
import { checkXmlText, Element, isXmlName, MAX_XML_BYTES, parseXml } from '../lib/xml';

/** What TABLES.vcard holds: the vCard exactly as an XMPP client will receive it. */
export interface VcardRecord {
  readonly xml: string;
}

export const VCARD_NS = 'vcard-temp';

/** Checks a vCard field name and gives its stored (upper-case) form. */
function fieldName(name: string, argName: string): string {
  const upper = name.toUpperCase();
  if (!isXmlName(upper)) {
    throw new CommandError('bad_argument', `Invalid vCard field name '${name}' (${argName}): a field name is an XML element name such as FN, NICKNAME or TEL`, {
      details: { arg: argName },
    });
  }
  return upper;
}

/**
 * Checks values for XML and normalises line ends the way any XML parser will when the vCard
 * is read back, so that what get_vcard prints is what the server sends. Empty values are dropped:
 * setting nothing removes the field.
 */
function contentValues(values: readonly string[], argName: string): string[] {
  for (const v of values) checkXmlText(v, 'content', argName);
  return values.map((v) => v.replace(/\r\n?/g, '\n')).filter((v) => v !== '');
}

const elementsOf = (el: Element, name: string): Element[] => el.getChildElements().filter((c) => c.getName() === name);
const hasText = (el: Element): boolean => el.children.some((c) => typeof c === 'string' && c.trim() !== '');

/** One field of a vCard as the commands spell it: `FN`, `N FAMILY`, `TEL HOME`. */
interface Field {
  readonly name: string;
  readonly sub?: string;
}

const spell = (f: Field) => (f.sub === undefined ? f.name : `${f.name} ${f.sub}`);

/**
 * vCards (XEP-0054, vcard-temp), stored as serialised XML under TABLES.vcard so that the XMPP
 * server can serve them unchanged. Setting a field keeps the others and their order.
 */
export function createVcardService(deps: ServiceDeps, accounts: AccountsService) {
  const { store } = deps;

  async function known(user: string, host: string) {
    const j = accounts.jid(user, host);
    if (!(await accounts.exists(j.user, j.host))) throw new CommandError('not_found', `User ${j.id} does not exist`);
    return j;
  }

  async function load(j: { id: string; k: string }): Promise<Element | undefined> {
    const rec = await store.get<VcardRecord>(TABLES.vcard, j.k);
    if (!rec) return undefined;
    try {
      return parseXml(rec.xml, `the stored vCard of ${j.id}`);
    } catch (err) {
      // The argument was fine, the database is not: not a usage error.
      throw new CommandError('failed', (err as Error).message, { cause: err });
    }
  }

  /** The text of a field; a field made of subfields has none, and saying so beats printing "". */
  function textOf(el: Element, j: { id: string }, f: Field): string {
    const subs = el.getChildElements();
    if (subs.length > 0 && !hasText(el)) {
      const names = [...new Set(subs.map((s) => s.getName()))].join(', ');
      throw new CommandError('not_found', `The ${spell(f)} field of the vCard of ${j.id} has no text, only subfields: ${names} (use get_vcard2)`);
    }
    return el.getText();
  }

  /** Every value of a field, in document order. */
  async function read(user: string, host: string, f: Field): Promise<string[]> {
    const j = await known(user, host);
    const card = await load(j);
    if (!card) throw new CommandError('not_found', `User ${j.id} has no vCard`);
    const fields = elementsOf(card, f.name);
    const sub = f.sub;
    let found: Element[];
    if (sub === undefined) found = fields;
    // A TEL is typed by an empty child (<HOME/>, <CELL/>...) beside its NUMBER.
    else if (f.name === 'TEL') found = fields.filter((t) => elementsOf(t, sub).length > 0).flatMap((t) => elementsOf(t, 'NUMBER').slice(0, 1));
    else found = fields.flatMap((el) => elementsOf(el, sub));
    if (found.length === 0) throw new CommandError('not_found', `The vCard of ${j.id} has no ${spell(f)}`);
    return found.map((el) => textOf(el, j, f));
  }

  /** Replaces the elements `old` of `parent` by `fresh`, at the place of the first of them. */
  function replace(parent: Element, old: readonly Element[], fresh: readonly Element[]): void {
    const at = old.length > 0 ? parent.children.indexOf(old[0]) : parent.children.length;
    const children = parent.children.flatMap((c, i) => [...(i === at ? fresh : []), ...(old.includes(c as Element) ? [] : [c])]);
    if (at === parent.children.length) children.push(...fresh);
    for (const el of fresh) el.parent = parent;
    parent.children = children;
  }

  function setText(card: Element, j: { id: string }, name: string, values: readonly string[]): void {
    const old = elementsOf(card, name);
    const compound = old.find((el) => el.getChildElements().length > 0);
    if (compound) {
      const subs = compound.getChildElements().map((c) => c.getName()).join(', ');
      throw new CommandError('conflict', `The ${name} field of the vCard of ${j.id} has subfields (${subs}): use set_vcard2 to change them`);
    }
    replace(card, old, values.map((v) => new Element(name).t(v)));
  }

  function setTel(card: Element, type: string, values: readonly string[]): void {
    const old = elementsOf(card, 'TEL').filter((t) => elementsOf(t, type).length > 0);
    // The new numbers keep the other type flags of the first one they replace (<VOICE/>, <PREF/>...).
    const flags = old.length > 0 ? old[0].getChildElements().filter((c) => c.getName() !== 'NUMBER') : type === 'NUMBER' ? [] : [new Element(type)];
    const fresh = values.map((v) => {
      const tel = new Element('TEL');
      for (const flag of flags) tel.cnode(clone(flag));
      tel.c('NUMBER').t(v);
      return tel;
    });
    replace(card, old, fresh);
  }

  function setSub(card: Element, j: { id: string }, f: Required<Field>, values: readonly string[]): void {
    let parent = elementsOf(card, f.name)[0];
    if (parent && hasText(parent)) {
      throw new CommandError('conflict', `The ${f.name} field of the vCard of ${j.id} is text, not subfields: use set_vcard to change it`);
    }
    if (!parent) {
      if (values.length === 0) return;
      parent = new Element(f.name);
      card.cnode(parent);
    }
    replace(parent, elementsOf(parent, f.sub), values.map((v) => new Element(f.sub).t(v)));
    if (parent.getChildElements().length === 0) card.remove(parent);
  }

  async function write(user: string, host: string, f: Field, rawValues: readonly string[], argName: string): Promise<boolean> {
    const values = contentValues(rawValues, argName);
    const j = await known(user, host);
    const card = (await load(j)) ?? new Element('vCard', { xmlns: VCARD_NS });
    if (f.sub === undefined) setText(card, j, f.name, values);
    else if (f.name === 'TEL') setTel(card, f.sub, values);
    else setSub(card, j, { name: f.name, sub: f.sub }, values);
    const xml = card.toString();
    if (Buffer.byteLength(xml) > MAX_XML_BYTES) {
      throw new CommandError('bad_argument', `The vCard of ${j.id} would be larger than ${MAX_XML_BYTES} bytes (${argName})`, { details: { arg: argName } });
    }
    const rec: VcardRecord = { xml };
    await store.put(TABLES.vcard, j.k, rec);
    return true;
  }

  const one = (name: string) => ({ name: fieldName(name, 'name') });
  const two = (name: string, sub: string) => ({ name: fieldName(name, 'name'), sub: fieldName(sub, 'subname') });

  return {
    /** The first value of a field (`FN`), or of a subfield (`N FAMILY`; `TEL HOME` is the home NUMBER). */
    async get(user: string, host: string, name: string, subname?: string): Promise<string> {
      const [first] = await read(user, host, subname === undefined ? one(name) : two(name, subname));
      return first;
    },

    /** Every value of a subfield, from every `name` element. */
    getMulti(user: string, host: string, name: string, subname: string): Promise<string[]> {
      return read(user, host, two(name, subname));
    },

    /** Makes `name` hold exactly `content`; an empty content removes the field. */
    set(user: string, host: string, name: string, content: string): Promise<boolean> {
      return write(user, host, one(name), [content], 'content');
    },

    /** setMulti with one value. */
    set2(user: string, host: string, name: string, subname: string, content: string): Promise<boolean> {
      return write(user, host, two(name, subname), [content], 'content');
    },

    /**
     * Replaces the `subname` elements of the first `name` element by one per value (for `TEL`,
     * the numbers of that type); no value removes them, and `name` too once it is empty.
     */
    setMulti(user: string, host: string, name: string, subname: string, contents: readonly string[]): Promise<boolean> {
      return write(user, host, two(name, subname), contents, 'contents');
    },

    /** Unlike ejabberd's, keeps the rest of the vCard. */
    setNickname(user: string, host: string, nickname: string): Promise<boolean> {
      return write(user, host, { name: 'NICKNAME' }, [nickname], 'nickname');
    },
  };
}

export type VcardService = ReturnType<typeof createVcardService>;

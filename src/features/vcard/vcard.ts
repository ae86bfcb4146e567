import { clone } from 'ltx';
import { checkField, CommandError, fieldError } from '../../lib/errors';
import { bareText, type BareJid } from '../../lib/jid';
import { checkXmlText, Element, isXmlName, MAX_XML_BYTES, parseXml } from '../../lib/xml';
import type { Accounts } from '../accounts/accounts';
import { accountLockKey, type FeatureDeps } from '../deps';
import { NS_VCARD, readVcard, VCARD, vcardKey, type VcardRecord } from './records';

/**
 * One field of a vCard as an administrator names it: `FN`, `N FAMILY`, `TEL HOME` (for TEL,
 * `sub` is a type flag, and the field's value is the NUMBER of the TELs that carry it).
 * Made by `vcardField`, which checks and upper-cases the names.
 */
export interface VcardField {
  readonly name: string;
  readonly sub?: string;
}

/** Checks a field name (errors name `name`) and subfield name (errors name `sub`). */
export function vcardField(name: string, sub?: string): VcardField {
  const field = { name: fieldName(name, 'name') };
  return sub === undefined ? field : { ...field, sub: fieldName(sub, 'sub') };
}

function fieldName(name: string, field: string): string {
  const upper = name.toUpperCase();
  if (!isXmlName(upper)) {
    throw fieldError(
      'bad_argument',
      field,
      (n) => `Invalid vCard field name '${name}' (${n}): a field name is an XML element name such as FN, NICKNAME or TEL`,
    );
  }
  return upper;
}

/**
 * The values a field will hold: refuses what XML cannot carry (errors name `values`), ends lines
 * the way any XML parser will when the vCard is read back (so that what is read is what the
 * server sends), and drops empty values, since setting nothing removes the field.
 */
export function vcardValues(values: readonly string[]): string[] {
  for (const v of values) checkField('values', (n) => checkXmlText(v, 'content', n));
  return values.map((v) => v.replace(/\r\n?/g, '\n')).filter((v) => v !== '');
}

const spellField = (f: VcardField): string => (f.sub === undefined ? f.name : `${f.name} ${f.sub}`);

const elementsOf = (el: Element, name: string): Element[] => el.getChildElements().filter((c) => c.getName() === name);
const hasText = (el: Element): boolean => el.children.some((c) => typeof c === 'string' && c.trim() !== '');

export interface Vcard {
  /** The user's vCard, or undefined when none is stored. */
  get(jid: BareJid): Promise<Element | undefined>;
  /** Replaces the user's vCard by `card`, a `<vCard xmlns='vcard-temp'/>` (errors name `vcard`). */
  set(jid: BareJid, card: Element): Promise<void>;
  /** The first value of a field (`FN`), or of a subfield (`N FAMILY`; `TEL HOME` is the home NUMBER). */
  fieldValue(jid: BareJid, field: VcardField): Promise<string>;
  /** Every value of a field or subfield, across repeated fields, in document order. */
  fieldValues(jid: BareJid, field: VcardField): Promise<string[]>;
  /**
   * Makes a field hold exactly `values`, keeping the rest of the vCard and its order. A field
   * without `sub` holds text; with `sub`, the subfields of the first such field are replaced by
   * one per value (for TEL, the numbers of that type); no value removes them, and the field too
   * once it is empty. Errors about the values name `values`.
   */
  setField(jid: BareJid, field: VcardField, values: readonly string[]): Promise<void>;
}

/**
 * vCards (XEP-0054, vcard-temp), stored serialised so that the XMPP server can serve them
 * unchanged. Setting a field keeps the others and their order.
 */
export function createVcard(deps: FeatureDeps, accounts: Accounts): Vcard {
  const { store, events, locks } = deps;

  async function load(jid: BareJid): Promise<Element | undefined> {
    const rec = await readVcard(store, jid);
    return rec && parseStored(jid, rec);
  }

  async function read(jid: BareJid, f: VcardField): Promise<string[]> {
    await accounts.requireUser(jid);
    const card = await load(jid);
    if (!card) throw new CommandError('not_found', `User ${bareText(jid)} has no vCard`);
    const found = find(card, f);
    if (found.length === 0) throw new CommandError('not_found', `The vCard of ${bareText(jid)} has no ${spellField(f)}`);
    return found.map((el) => textOf(el, jid, f));
  }

  /**
   * Stores the card `fn` makes of the stored one, under the account's lock so that no other
   * change of the card is lost meanwhile; size errors name `field`.
   */
  async function write(jid: BareJid, field: string, fn: (card: Element | undefined) => Element): Promise<void> {
    await locks.run(accountLockKey(jid), async () => {
      await accounts.requireUser(jid);
      const xml = fn(await load(jid)).toString();
      checkSize(jid, xml, field);
      await store.put(VCARD, vcardKey(jid), { xml } satisfies VcardRecord);
    });
    events.emit('vcard-changed', { jid });
  }

  return {
    async get(jid) {
      await accounts.requireUser(jid);
      return load(jid);
    },

    async set(jid, card) {
      if (card.getName() !== 'vCard' || card.getNS() !== NS_VCARD) {
        throw fieldError('bad_argument', 'vcard', (n) => `The ${n} must be a <vCard xmlns='${NS_VCARD}'/>, not <${card.getName()}>`);
      }
      await write(jid, 'vcard', () => card);
    },

    async fieldValue(jid, field) {
      const [first] = await read(jid, field);
      return first;
    },

    fieldValues: read,

    async setField(jid, f, raw) {
      const values = vcardValues(raw);
      await write(jid, 'values', (stored) => {
        const card = stored ?? new Element('vCard', { xmlns: NS_VCARD });
        if (f.sub === undefined) setText(card, jid, f.name, values);
        else if (f.name === 'TEL') setTel(card, f.sub, values);
        else setSub(card, jid, { name: f.name, sub: f.sub }, values);
        return card;
      });
    },
  };
}

function parseStored(jid: BareJid, rec: VcardRecord): Element {
  try {
    return parseXml(rec.xml, `the stored vCard of ${bareText(jid)}`);
  } catch (err) {
    // The request was fine, the database is not: not a usage error.
    throw new CommandError('failed', (err as Error).message, { cause: err });
  }
}

function checkSize(jid: BareJid, xml: string, field: string): void {
  if (Buffer.byteLength(xml) > MAX_XML_BYTES) {
    throw fieldError('bad_argument', field, (n) => `The vCard of ${bareText(jid)} would be larger than ${MAX_XML_BYTES} bytes (${n})`);
  }
}

function find(card: Element, f: VcardField): Element[] {
  const fields = elementsOf(card, f.name);
  const sub = f.sub;
  if (sub === undefined) return fields;
  // A TEL is typed by an empty child (<HOME/>, <CELL/>...) beside its NUMBER.
  if (f.name === 'TEL') return fields.filter((t) => elementsOf(t, sub).length > 0).flatMap((t) => elementsOf(t, 'NUMBER').slice(0, 1));
  return fields.flatMap((el) => elementsOf(el, sub));
}

/** The text of a field; a field made of subfields has none, and saying so beats answering "". */
function textOf(el: Element, jid: BareJid, f: VcardField): string {
  const subs = el.getChildElements();
  if (subs.length > 0 && !hasText(el)) {
    const names = [...new Set(subs.map((s) => s.getName()))].join(', ');
    throw new CommandError('not_found', `The ${spellField(f)} field of the vCard of ${bareText(jid)} has no text, only subfields: ${names} (use get_vcard2)`);
  }
  return el.getText();
}

/** Replaces the elements `old` of `parent` by `fresh`, at the place of the first of them. */
function replace(parent: Element, old: readonly Element[], fresh: readonly Element[]): void {
  const at = old.length > 0 ? parent.children.indexOf(old[0]) : parent.children.length;
  const children = parent.children.flatMap((c, i) => [...(i === at ? fresh : []), ...(old.includes(c as Element) ? [] : [c])]);
  if (at === parent.children.length) children.push(...fresh);
  for (const el of fresh) el.parent = parent;
  parent.children = children;
}

function setText(card: Element, jid: BareJid, name: string, values: readonly string[]): void {
  const old = elementsOf(card, name);
  const compound = old.find((el) => el.getChildElements().length > 0);
  if (compound) {
    const subs = compound
      .getChildElements()
      .map((c) => c.getName())
      .join(', ');
    throw new CommandError('conflict', `The ${name} field of the vCard of ${bareText(jid)} has subfields (${subs}): use set_vcard2 to change them`);
  }
  replace(
    card,
    old,
    values.map((v) => new Element(name).t(v)),
  );
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

function setSub(card: Element, jid: BareJid, f: Required<VcardField>, values: readonly string[]): void {
  let parent = elementsOf(card, f.name)[0];
  if (parent && hasText(parent)) {
    throw new CommandError('conflict', `The ${f.name} field of the vCard of ${bareText(jid)} is text, not subfields: use set_vcard to change it`);
  }
  if (!parent) {
    if (values.length === 0) return;
    parent = new Element(f.name);
    card.cnode(parent);
  }
  replace(
    parent,
    elementsOf(parent, f.sub),
    values.map((v) => new Element(f.sub).t(v)),
  );
  if (parent.getChildElements().length === 0) card.remove(parent);
}

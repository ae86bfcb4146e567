/**
 * The XML-RPC wire format (http://xmlrpc.com/spec.md): method calls in, responses and faults
 * out. Values decode to JavaScript: int/i4 (and the `<integer>` ejabberd's documentation
 * shows) to numbers, string to strings, struct to objects, array to arrays.
 */
import { escapeXML, escapeXMLText } from 'ltx';
import type { Element } from '../../lib/xml';
import { parseXml } from '../../lib/xml';
import { decodeUtf8 } from '../../lib/utf8';

export type XmlRpcValue = number | string | boolean | null | XmlRpcValue[] | { [name: string]: XmlRpcValue };

export interface MethodCall {
  readonly method: string;
  readonly params: XmlRpcValue[];
}

/** A fault of the call itself, with ejabberd's fault codes. */
export class Fault extends Error {
  constructor(
    readonly faultCode: number,
    message: string,
  ) {
    super(message);
  }
}

export const FAULT = { unknownCall: -112, duplicated: -114, missing: -116, other: -118, extra: -120, badType: -122 } as const;

export function parseMethodCall(body: string): MethodCall {
  try {
    return readMethodCall(body);
  } catch (err) {
    // A reference to what XML cannot carry (&#xD800;) stops the parser with a line and column
    // only: read the call again with a mark in its place, to name the member that holds it.
    if (body.includes(MARK)) throw err;
    const refs: string[] = [];
    const marked = body.replace(CHAR_REF, (ref: string, hex?: string, dec?: string) => {
      if (isXmlChar(hex ? parseInt(hex, 16) : Number(dec)) || refs.length >= MAX_MARKS) return ref;
      refs.push(ref);
      return MARK + String.fromCharCode(0xe000 + refs.length - 1);
    });
    if (refs.length > 0) {
      try {
        readMethodCall(marked, refs);
      } catch (found) {
        if (found instanceof Unreadable) throw found;
      }
    }
    throw err;
  }
}

/** Character references, decimal or hexadecimal. */
const CHAR_REF = /&#(?:x([0-9a-fA-F]+)|([0-9]+));/g;
/**
 * Stands for a reference XML cannot carry, followed by a private-use character that tells which
 * one: a noncharacter, which XML can carry and no argument needs.
 */
const MARK = '\ufdd0';
const MARKED = /\ufdd0[\ue000-\uf8ff]/;
const MAX_MARKS = 0x1900;

function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

/** A fault that names the member holding a reference XML cannot carry. */
class Unreadable extends Fault {}

/** `refs`: the references that marks stand for in `body`, to be named where one is found. */
function readMethodCall(body: string, refs?: readonly string[]): MethodCall {
  let root: Element;
  try {
    root = parseXml(body, 'the XML-RPC request');
  } catch (err) {
    throw new Fault(FAULT.other, (err as Error).message);
  }
  if (root.getName() !== 'methodCall') throw new Fault(FAULT.other, `Not an XML-RPC call: the root element is <${root.getName()}>, not <methodCall>`);
  const method = root.getChildText('methodName')?.trim();
  if (!method) throw new Fault(FAULT.other, 'The XML-RPC call has no <methodName>');
  checkMarks(method, { path: '', refs }, 'The method name holds');
  const all = root.getChild('params')?.getChildren('param') ?? [];
  const params = all.map((p, i) => {
    const v = p.getChild('value');
    if (!v) throw new Fault(FAULT.other, 'A <param> has no <value>');
    // The arguments are the last of two params, after the auth struct.
    return decodeValue(v, { path: all.length > 1 && i === 0 ? 'auth' : i > 1 ? `param${i + 1}` : '', refs });
  });
  return { method, params };
}

interface Where {
  /** The member names and array indexes down to a value, joined by dots. */
  readonly path: string;
  readonly refs?: readonly string[];
}

function inside(at: Where, name: string): Where {
  const step = name === '' ? "''" : name;
  return { ...at, path: at.path === '' ? step : `${at.path}.${step}` };
}

/** `text` with the references its marks stand for. */
function unmarked(text: string, refs: readonly string[]): string {
  return text.replace(new RegExp(MARKED.source, 'g'), (m) => refs[m.charCodeAt(1) - 0xe000]);
}

/** Refuses a value or member name that holds a mark, naming where it is. */
function checkMarks(text: string, at: Where, what?: string): void {
  const mark = at.refs && MARKED.exec(text);
  if (!mark || !at.refs) return;
  const path = unmarked(at.path, at.refs);
  const where = what ?? (path === '' ? 'The arguments hold' : `The argument ${path} holds`);
  throw new Unreadable(FAULT.badType, `${where} ${unmarked(mark[0], at.refs)}, a character XML cannot carry`);
}

function decodeValue(v: Element, at: Where): XmlRpcValue {
  const [typed] = v.getChildElements();
  const text = (typed ?? v).getText();
  checkMarks(text, at);
  if (!typed) return text;
  switch (typed.getName()) {
    case 'int':
    case 'i4':
    case 'i8':
    case 'integer': {
      if (!/^\s*[+-]?\d+\s*$/.test(text)) throw new Fault(FAULT.badType, `'${text}' is not an integer`);
      return Number(text);
    }
    case 'double':
      return Number(text);
    case 'boolean':
      return text.trim() === '1' || text.trim() === 'true';
    case 'string':
    case 'dateTime.iso8601':
      return text;
    case 'base64': {
      // Read as U+FFFD, bytes that are not UTF-8 would make two different passwords one.
      const decoded = decodeUtf8(Buffer.from(text, 'base64'));
      if (decoded === undefined)
        throw new Fault(FAULT.badType, `${at.path === '' ? 'The arguments are' : `The argument ${at.path} is`} <base64> of bytes that are not UTF-8`);
      return decoded;
    }
    case 'nil':
      return null;
    case 'array':
      return (typed.getChild('data')?.getChildren('value') ?? []).map((x, i) => decodeValue(x, inside(at, String(i))));
    case 'struct': {
      const out: { [name: string]: XmlRpcValue } = {};
      for (const m of typed.getChildren('member')) {
        const name = m.getChildText('name') ?? '';
        checkMarks(name, inside(at, name));
        if (Object.prototype.hasOwnProperty.call(out, name)) throw new Fault(FAULT.duplicated, `Attribute '${name}' duplicated`);
        const value = m.getChild('value');
        if (!value) throw new Fault(FAULT.other, `Member '${name}' has no <value>`);
        out[name] = decodeValue(value, inside(at, name));
      }
      return out;
    }
    default:
      throw new Fault(FAULT.badType, `Unknown XML-RPC type <${typed.getName()}>`);
  }
}

/** Builds `<value>` elements as text. */
export const xml = {
  int: (n: number) => `<value><int>${n}</int></value>`,
  string: (s: string) => `<value><string>${escapeXMLText(s)}</string></value>`,
  struct: (members: readonly [string, string][]) =>
    `<value><struct>${members.map(([n, v]) => `<member><name>${escapeXML(n)}</name>${v}</member>`).join('')}</struct></value>`,
  array: (values: readonly string[]) => `<value><array><data>${values.join('')}</data></array></value>`,
};

export function methodResponse(value: string): string {
  return `<?xml version="1.0"?><methodResponse><params><param>${value}</param></params></methodResponse>`;
}

export function faultResponse(code: number, message: string): string {
  return `<?xml version="1.0"?><methodResponse><fault>${xml.struct([
    ['faultCode', xml.int(code)],
    ['faultString', xml.string(message)],
  ])}</fault></methodResponse>`;
}

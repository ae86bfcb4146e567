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
    throw (err instanceof Fault && unreadable(body)) || err;
  }
}

function readMethodCall(body: string): MethodCall {
  let root: Element;
  try {
    root = parseXml(body, 'the XML-RPC request');
  } catch (err) {
    throw new Fault(FAULT.other, (err as Error).message);
  }
  if (root.getName() !== 'methodCall') throw new Fault(FAULT.other, `Not an XML-RPC call: the root element is <${root.getName()}>, not <methodCall>`);
  const method = root.getChildText('methodName')?.trim();
  if (!method) throw new Fault(FAULT.other, 'The XML-RPC call has no <methodName>');
  const params = paramValues(root).map(([v, path]) => decodeValue(v, path));
  return { method, params };
}

/** Each param's <value>, with the path that names it: the arguments are the last of two params, after the auth struct. */
function paramValues(root: Element): [Element, string][] {
  const all = root.getChild('params')?.getChildren('param') ?? [];
  return all.map((p, i) => {
    const v = p.getChild('value');
    if (!v) throw new Fault(FAULT.other, 'A <param> has no <value>');
    return [v, all.length > 1 && i === 0 ? 'auth' : i > 1 ? `param${i + 1}` : ''];
  });
}

/** The member names and array indexes down to a value, joined by dots. */
function inside(path: string, name: string): string {
  const step = name === '' ? "''" : name;
  return path === '' ? step : `${path}.${step}`;
}

function decodeValue(v: Element, path: string): XmlRpcValue {
  const [typed] = v.getChildElements();
  if (!typed) return v.getText();
  const text = typed.getText();
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
        throw new Fault(FAULT.badType, `${path === '' ? 'The arguments are' : `The argument ${path} is`} <base64> of bytes that are not UTF-8`);
      return decoded;
    }
    case 'nil':
      return null;
    case 'array':
      return (typed.getChild('data')?.getChildren('value') ?? []).map((x, i) => decodeValue(x, inside(path, String(i))));
    case 'struct': {
      const out: { [name: string]: XmlRpcValue } = {};
      for (const m of typed.getChildren('member')) {
        const name = m.getChildText('name') ?? '';
        if (Object.prototype.hasOwnProperty.call(out, name)) throw new Fault(FAULT.duplicated, `Attribute '${name}' duplicated`);
        const value = m.getChild('value');
        if (!value) throw new Fault(FAULT.other, `Member '${name}' has no <value>`);
        out[name] = decodeValue(value, inside(path, name));
      }
      return out;
    }
    default:
      throw new Fault(FAULT.badType, `Unknown XML-RPC type <${typed.getName()}>`);
  }
}

/** Character references, decimal or hexadecimal. */
const CHAR_REF = /&#(?:x([0-9a-fA-F]+)|([0-9]+));/g;
/**
 * Stands for a reference XML cannot carry, followed by a private-use character that tells which
 * one: a noncharacter, which XML can carry and no argument needs.
 */
const MARK = '\ufdd0';
const MARKED = /\ufdd0[\ue000-\uf8ff]/g;
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

/**
 * A reference to what XML cannot carry (&#xD800;) stops the parser with a line and column only:
 * read the call again with a mark in its place, to name the member that holds it.
 */
function unreadable(body: string): Fault | undefined {
  if (body.includes(MARK)) return undefined;
  const refs: string[] = [];
  const marked = body.replace(CHAR_REF, (ref: string, hex?: string, dec?: string) => {
    if (isXmlChar(hex ? parseInt(hex, 16) : Number(dec)) || refs.length >= MAX_MARKS) return ref;
    refs.push(ref);
    return MARK + String.fromCharCode(0xe000 + refs.length - 1);
  });
  if (refs.length === 0) return undefined;
  const unmarked = (text: string) => text.replace(MARKED, (m) => refs[m.charCodeAt(1) - 0xe000]);
  const refIn = (text: string) => (text.match(MARKED) ?? []).map(unmarked)[0];
  const fault = (where: string, ref: string) => new Fault(FAULT.badType, `${where} ${ref}, a character XML cannot carry`);
  let root: Element;
  try {
    root = parseXml(marked, 'the XML-RPC request');
  } catch {
    return undefined;
  }
  const method = refIn(root.getChildText('methodName') ?? '');
  if (method) return fault('The method name holds', method);
  const search = (v: Element, path: string): Fault | undefined => {
    const [typed] = v.getChildElements();
    const ref = refIn((typed ?? v).getText());
    if (ref) return fault(path === '' ? 'The arguments hold' : `The argument ${unmarked(path)} holds`, ref);
    const kind = typed?.getName();
    const members = kind === 'struct' ? typed!.getChildren('member').map((m) => [m.getChildText('name') ?? '', m.getChild('value')] as const) : [];
    const items = kind === 'array' ? (typed!.getChild('data')?.getChildren('value') ?? []).map((x, i) => [String(i), x] as const) : [];
    for (const [name, child] of [...members, ...items]) {
      const at = inside(path, name);
      const inName = refIn(name);
      if (inName) return fault(`The argument ${unmarked(at)} holds`, inName);
      const found = child && search(child, at);
      if (found) return found;
    }
    return undefined;
  };
  try {
    for (const [v, path] of paramValues(root)) {
      const found = search(v, path);
      if (found) return found;
    }
  } catch {
    // A param without a value: the call is malformed in other ways too.
  }
  return undefined;
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

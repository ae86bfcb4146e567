/**
 * The XML-RPC wire format (http://xmlrpc.com/spec.md): method calls in, responses and faults
 * out. Values decode to JavaScript: int/i4 (and the `<integer>` ejabberd's documentation
 * shows) to numbers, string to strings, struct to objects, array to arrays.
 */
import { escapeXML, escapeXMLText } from 'ltx';
import type { Element } from '../../lib/xml';
import { parseXml } from '../../lib/xml';

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
  let root: Element;
  try {
    root = parseXml(body, 'the XML-RPC request');
  } catch (err) {
    throw new Fault(FAULT.other, (err as Error).message);
  }
  if (root.getName() !== 'methodCall') throw new Fault(FAULT.other, `Not an XML-RPC call: the root element is <${root.getName()}>, not <methodCall>`);
  const method = root.getChildText('methodName')?.trim();
  if (!method) throw new Fault(FAULT.other, 'The XML-RPC call has no <methodName>');
  const params = (root.getChild('params')?.getChildren('param') ?? []).map((p) => {
    const v = p.getChild('value');
    if (!v) throw new Fault(FAULT.other, 'A <param> has no <value>');
    return decodeValue(v);
  });
  return { method, params };
}

function decodeValue(v: Element): XmlRpcValue {
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
    case 'base64':
      return Buffer.from(text, 'base64').toString('utf8');
    case 'nil':
      return null;
    case 'array':
      return (typed.getChild('data')?.getChildren('value') ?? []).map(decodeValue);
    case 'struct': {
      const out: { [name: string]: XmlRpcValue } = {};
      for (const m of typed.getChildren('member')) {
        const name = m.getChildText('name') ?? '';
        if (Object.prototype.hasOwnProperty.call(out, name)) throw new Fault(FAULT.duplicated, `Attribute '${name}' duplicated`);
        const value = m.getChild('value');
        if (!value) throw new Fault(FAULT.other, `Member '${name}' has no <value>`);
        out[name] = decodeValue(value);
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

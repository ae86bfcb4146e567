/**
 * XML for stored payloads (vCards, private and privacy data, stanzas). saxes parses strictly
 * (well-formedness, namespaces, line and column of any error, and no DTD entities, so no entity
 * expansion attacks); ltx gives the element tree XMPP code works with and serialises it.
 */
import { Element } from 'ltx';
import { SaxesParser } from 'saxes';
import { CommandError } from './errors';

export { Element };

/** Larger payloads are refused: a vCard with a photo fits, a runaway file does not. */
export const MAX_XML_BYTES = 1024 * 1024;
/**
 * Deeper elements are refused by every XML reader, as soon as the parser reaches one: no
 * payload or file needs more, and the parser must stop there (saxes resolves a namespace by
 * walking the open elements, so going on would cost the square of the depth).
 */
export const MAX_XML_DEPTH = 64;

/**
 * Parses one XML element. `what` names the argument or file in the error, e.g.
 * `Malformed XML in argument 'stanza' (line 1, column 9): unexpected close tag`.
 */
export function parseXml(text: string, what: string): Element {
  if (Buffer.byteLength(text) > MAX_XML_BYTES) throw malformed(what, `longer than ${MAX_XML_BYTES} bytes`);
  const parser = new SaxesParser({ xmlns: false, position: true });
  const stack: Element[] = [];
  let root: Element | undefined;
  let failure: string | undefined;
  parser.on('error', (err) => {
    failure ??= err.message;
  });
  parser.on('doctype', () => {
    failure ??= `${parser.line}:${parser.column}: a document type declaration is not allowed`;
  });
  parser.on('opentag', (tag) => {
    if (root && stack.length === 0) failure ??= `${parser.line}:${parser.column}: more than one root element`;
    if (stack.length >= MAX_XML_DEPTH) failure ??= `${parser.line}:${parser.column}: nested deeper than ${MAX_XML_DEPTH} elements`;
    // Stops the parser at once: nothing after the first failure is needed.
    if (failure) throw STOP;
    const el = new Element(tag.name, tag.attributes as Record<string, string>);
    if (stack.length > 0) stack[stack.length - 1].cnode(el);
    else root ??= el;
    stack.push(el);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.on('text', (text) => {
    if (stack.length > 0) stack[stack.length - 1].t(text);
    else if (text.trim() !== '') failure ??= `${parser.line}:${parser.column}: text outside the root element`;
  });
  parser.on('cdata', (text) => {
    if (stack.length > 0) stack[stack.length - 1].t(text);
  });
  try {
    parser.write(text).close();
  } catch (err) {
    if (err !== STOP) failure ??= (err as Error).message;
  }
  if (failure) throw malformed(what, failure);
  if (!root) throw malformed(what, 'no element');
  return root;
}

const STOP = new Error('stopped');

/**
 * Stored XML read from elsewhere (a dump, a backup), as its record's decoder checks it: the
 * element, or why the text is none, e.g. `not XML (line 1, column 30: unclosed tag: FN)`.
 */
export function storedElement(text: string): Element | string {
  try {
    return parseXml(text, '');
  } catch (err) {
    const m = /^Malformed XML in (?: \(line (\d+), column (\d+)\))?: (.*)$/s.exec((err as Error).message);
    if (!m) throw err;
    return `not XML (${m[1] === undefined ? '' : `line ${m[1]}, column ${m[2]}: `}${m[3]})`;
  }
}

function malformed(what: string, why: string): CommandError {
  const m = /^(\d+):(\d+): (.*)$/s.exec(why);
  const where = m ? ` (line ${m[1]}, column ${m[2]})` : '';
  return new CommandError('bad_argument', `Malformed XML in ${what}${where}: ${m ? m[3] : why}`);
}

/** ltx leaves CR as it is, and a parser would turn it into LF: write it as a reference. */
export function serialise(el: Element): string {
  return el.toString().replace(/\r/g, '&#13;');
}

// XML 1.0 NameStartChar and NameChar without ':', which would need a prefix declaration.
const NAME_START =
  'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const XML_NAME = new RegExp(`^[${NAME_START}][${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F\\u2040]*$`, 'u');

/** An element name of an XML 1.0 document, without a namespace prefix. */
export function isXmlName(name: string): boolean {
  return XML_NAME.test(name);
}

/** Characters XML 1.0 cannot carry, not even escaped: a document holding one could never be re-read. */
export const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** Refuses text that XML cannot carry, naming the argument. */
export function checkXmlText(text: string, what: string, argName: string): void {
  const bad = NOT_XML_CHAR.exec(text);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw new CommandError('bad_argument', `The ${what} (${argName}) contains U+${code}, which XML cannot carry`, { details: { arg: argName } });
  }
}

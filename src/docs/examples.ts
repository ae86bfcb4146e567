/**
 * Example invocations of a command, as the API reference shows them: example values for the
 * arguments and the result, and the call written in Java, Perl, XML-RPC and JSON.
 *
 * The values and layouts follow ejabberd's documentation generator, so that the markdown
 * reference reproduces ejabberd's byte for byte; the same blocks feed the HTML page.
 */

import type { Command } from '../core/command';
import type { Field, Type } from '../schema/types';

/** One example call: the fields with their values, and the result with its value. */
export interface Example {
  readonly name: string;
  readonly args: readonly Field[];
  readonly values: readonly unknown[];
  readonly result: Field;
  readonly resultValue: unknown;
}

/** A restuple example: generated ones are `{ok, "Success"}`. */
export interface ResTuple {
  readonly ok: boolean;
  readonly text: string;
}

/**
 * Example values for `fields`: the declared `argsExample` when given, otherwise generated.
 * Generated values share one state across all fields, so the letters and numbers run on
 * from one argument to the next (`aaaaa`, `bbbbb`, ... and 1, 2, ...).
 */
export function exampleValues(fields: readonly Field[], declared?: readonly unknown[]): readonly unknown[] {
  if (declared !== undefined) {
    if (declared.length !== fields.length) {
      throw new Error(`argsExample has ${declared.length} values for ${fields.length} arguments`);
    }
    return declared;
  }
  const state = { letter: 'a'.charCodeAt(0) - 1, number: 0 };
  return fields.map((field) => generate(field.type, state));
}

/** The example result: the declared `resultExample`, or one generated from a fresh state. */
export function exampleResult(command: Pick<Command, 'result' | 'resultExample'>): unknown {
  if (command.resultExample !== undefined) return command.resultExample;
  return generate(command.result.type, { letter: 'a'.charCodeAt(0) - 1, number: 0 });
}

/** The example call of a command, with its declared arguments or with `args` instead. */
export function commandExample(command: Command, args: readonly Field[] = command.args): Example {
  return {
    name: command.name,
    args,
    values: exampleValues(args, command.argsExample),
    result: command.result,
    resultValue: exampleResult(command),
  };
}

function generate(type: Type, state: { letter: number; number: number }): unknown {
  switch (type.kind) {
    case 'integer':
      return ++state.number;
    case 'string':
    case 'binary':
    case 'atom':
      return String.fromCharCode(++state.letter).repeat(5);
    case 'rescode':
      return true;
    case 'restuple':
      return { ok: true, text: 'Success' } satisfies ResTuple;
    case 'tuple':
      return Object.fromEntries(type.fields.map((field) => [field.name, generate(field.type, state)]));
    case 'list':
      // Exactly two elements, the second continuing where the first left off.
      return [generate(type.elem.type, state), generate(type.elem.type, state)];
  }
}

/**
 * Whether a rescode or restuple example stands for success: `ok` or `true`, as in ejabberd.
 * A restuple example given as a bare text is a success with that text.
 */
export function isSuccess(value: unknown, type: 'rescode' | 'restuple' = 'rescode'): boolean {
  if (typeof value === 'object' && value !== null && 'ok' in value) return isSuccess(value.ok);
  if (type === 'restuple' && typeof value === 'string') return true;
  return value === true || value === 'ok' || value === 'true';
}

function restupleText(value: unknown): string {
  if (typeof value === 'object' && value !== null && 'text' in value) return String(value.text);
  return String(value);
}

const fieldOf = (value: unknown, name: string): unknown => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined);
const items = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);
const pad = (n: number): string => ' '.repeat(n);

/** The Perl call via XMLRPC::Lite; every line starts with `indent`. */
export function perlSample(ex: Example, indent: string): string {
  const args = ex.args.map((field, i) => perlValue(field, ex.values[i])).join(`,\n${indent}  `);
  return `${indent}XMLRPC::Lite->proxy($url)->call("${ex.name}", {\n${indent}  ${args}\n${indent}})->results()`;
}

function perlValue(field: Field, value: unknown): string {
  const { type } = field;
  let text: string;
  if (type.kind === 'integer') text = String(value);
  else if (type.kind === 'tuple') text = `{${type.fields.map((f) => perlValue(f, fieldOf(value, f.name))).join(', ')}}`;
  else if (type.kind === 'list')
    text = `[${items(value)
      .map((v) => `{${perlValue(type.elem, v)}}`)
      .join(', ')}]`;
  // Perl interpolates `$` and `@` inside double quotes.
  else text = `"${String(value).replace(/[\\"$@]/g, (c) => `\\${c}`)}"`;
  return `${field.name} => ${text}`;
}

/** The XML-RPC request; every line starts with `indent`. */
export function xmlrpcSample(ex: Example, indent: string): string {
  const members = ex.args.flatMap((field, i) => xmlMember(field, ex.values[i], 10));
  const lines = [
    '<methodCall>',
    `  <methodName>${ex.name}</methodName>`,
    '  <params>',
    '    <param>',
    '      <value>',
    '        <struct>',
    ...members,
    '        </struct>',
    '      </value>',
    '    </param>',
    '  </params>',
    '</methodCall>',
  ];
  return lines.map((line) => indent + line).join('\n');
}

const escapeXml = (text: string): string => text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));

function xmlMember(field: Field, value: unknown, j: number): string[] {
  const { type } = field;
  let payload: string[];
  if (type.kind === 'integer') payload = [`${pad(j + 4)}<integer>${String(value)}</integer>`];
  else if (type.kind === 'tuple') {
    // The struct's members sit at the struct's own indent, as in ejabberd's generator.
    const members = type.fields.flatMap((f) => xmlMember(f, fieldOf(value, f.name), j + 4));
    payload = [`${pad(j + 4)}<struct>`, ...members, `${pad(j + 4)}</struct>`];
  } else if (type.kind === 'list') {
    const elements = items(value).flatMap((v) => [
      `${pad(j + 8)}<value>`,
      `${pad(j + 10)}<struct>`,
      ...xmlMember(type.elem, v, j + 12),
      `${pad(j + 10)}</struct>`,
      `${pad(j + 8)}</value>`,
    ]);
    payload = [`${pad(j + 4)}<array>`, `${pad(j + 6)}<data>`, ...elements, `${pad(j + 6)}</data>`, `${pad(j + 4)}</array>`];
  } else payload = [`${pad(j + 4)}<string>${escapeXml(String(value))}</string>`];
  return [`${pad(j)}<member>`, `${pad(j + 2)}<name>${field.name}</name>`, `${pad(j + 2)}<value>`, ...payload, `${pad(j + 2)}</value>`, `${pad(j)}</member>`];
}

/** The HTTP API request and its answer; every line starts with `indent`. */
export function jsonSample(ex: Example, indent: string): string {
  const inner = `${indent}  `;
  const args = ex.args.map((field, i) => `"${field.name}": ${jsonValue(field, ex.values[i], inner)}`);
  const { result, resultValue } = ex;
  let status = '200 OK';
  let body: string;
  if (result.type.kind === 'rescode') {
    if (!isSuccess(resultValue)) status = '500 Internal Server Error';
    body = '""';
  } else if (result.type.kind === 'restuple') {
    if (!isSuccess(resultValue, 'restuple')) status = '500 Internal Server Error';
    body = JSON.stringify(restupleText(resultValue));
  } else if (result.type.kind === 'list' || result.type.kind === 'tuple') {
    body = jsonValue(result, resultValue, indent);
  } else {
    // A scalar result is wrapped in an object named after it; the repeated indent before
    // and inside it is ejabberd's layout, kept so the reference stays byte-identical.
    body = `${indent}{"${result.name}": ${jsonValue(result, resultValue, indent)}${indent}}`;
  }
  return [
    `${indent}POST /api/${ex.name}`,
    `${indent}{`,
    `${inner}${args.join(`,\n${inner}`)}`,
    `${indent}}`,
    indent,
    `${indent}HTTP/1.1 ${status}`,
    `${indent}${body}`,
  ].join('\n');
}

function jsonValue(field: Field, value: unknown, indent: string): string {
  const { type } = field;
  const inner = `${indent}  `;
  const block = (open: string, entries: string[], close: string): string => `${open}\n${inner}${entries.join(`,\n${inner}`)}\n${indent}${close}`;
  if (type.kind === 'integer') return String(value);
  if (type.kind === 'tuple') {
    return block(
      '{',
      type.fields.map((f) => `"${f.name}": ${jsonValue(f, fieldOf(value, f.name), inner)}`),
      '}',
    );
  }
  if (type.kind === 'list') {
    const elem = type.elem.type;
    // A list of {atom, value} pairs reads better, and is sent, as an object keyed by the atom.
    if (elem.kind === 'tuple' && elem.fields.length === 2 && elem.fields[0]!.type.kind === 'atom') {
      const [key, val] = elem.fields as [Field, Field];
      const entries = items(value).map((v) => `${JSON.stringify(String(fieldOf(v, key.name)))}: ${jsonValue(val, fieldOf(v, val.name), inner)}`);
      return block('{', entries, '}');
    }
    return block(
      '[',
      items(value).map((v) => jsonValue(type.elem, v, inner)),
      ']',
    );
  }
  return JSON.stringify(String(value));
}

/** The Java call through Apache XML-RPC; every line starts with `indent`. */
export function javaSample(ex: Example, indent: string): string {
  const params = javaMap(
    ex.args.map((field, i) => [field, ex.values[i]] as const),
    indent,
  );
  return [
    `${indent}XmlRpcClientConfigImpl config = new XmlRpcClientConfigImpl();`,
    `${indent}config.setServerURL(new URL(url));`,
    indent,
    `${indent}XmlRpcClient client = new XmlRpcClient();`,
    `${indent}client.setConfig(config);`,
    indent,
    `${indent}client.execute("${ex.name}", new Object[] {${params}});`,
  ].join('\n');
}

function javaMap(entries: readonly (readonly [Field, unknown])[], indent: string): string {
  if (entries.length === 0) return 'new HashMap<String, Object>()';
  const puts = entries.map(([f, v]) => `${indent}  put("${f.name}", ${javaValue(f.type, v, `${indent}  `)});`);
  return `new HashMap<String, Object>() {{\n${puts.join('\n')}\n${indent}}}`;
}

function javaValue(type: Type, value: unknown, indent: string): string {
  if (type.kind === 'integer') return String(value);
  if (type.kind === 'tuple')
    return javaMap(
      type.fields.map((f) => [f, fieldOf(value, f.name)] as const),
      indent,
    );
  if (type.kind === 'list') {
    const list = items(value);
    if (list.length === 0) return 'new Object[] {}';
    // Each element travels as a one-member struct named after the element, as in XML-RPC.
    const elems = list.map((v) => `${indent}  ${javaMap([[type.elem, v]], `${indent}  `)}`);
    return `new Object[] {\n${elems.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(String(value));
}

/**
 * XML-RPC under a seeded stream of hostile method calls: mutated calls of real commands, values
 * of the wrong XML-RPC types, deep nesting, entities and character references XML cannot carry,
 * document type declarations, bytes that are not UTF-8. Every answer is a methodResponse with
 * a result or a clean fault (no crash, no stack trace), the node still answers, and a refused
 * call left the database as it was. Callers authenticate with a valid bearer token (in the
 * header, or in the auth struct): credentials are not fuzzed.
 */
import { decodeUtf8 } from '../../src/lib/utf8';
import { parseXml, type Element } from '../../src/lib/xml';
import type { ControlClient } from '../helpers/fuzz';
import {
  argsFor,
  BAD_UTF8,
  CRASHING,
  fuzzableCommands,
  mutateBytes,
  Pairs,
  randomName,
  Raw,
  rawHttp,
  requestHead,
  Rng,
  shown,
  openFuzzNode,
  closeFuzzNode,
  UnchangedCheck,
  type Json,
  type RawResponse,
} from '../helpers/fuzz';
import type { HttpNode } from '../helpers/http-node';

jest.setTimeout(240_000);

const SEED = 0x5eed_0003;
const INPUTS = 1200;

let n: HttpNode;
let client: ControlClient;
let token: string;
beforeAll(async () => ({ n, client, token } = await openFuzzNode()));
afterAll(() => closeFuzzNode({ n, client }));

const commands = fuzzableCommands();
const names = commands.map((c) => c.name);

/** Text as XML writes it; what XML cannot carry (U+0000, a lone surrogate) as a character reference. */
function xmlText(s: string): string {
  return s.replace(/[&<>]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`,
  );
}

/** A JSON value as an XML-RPC <value>: numbers as <int> (or <double> when not whole), objects as structs. */
function xmlValue(v: Json): string {
  if (v instanceof Raw) {
    if (v.text.startsWith('"')) return `<value><string>${xmlText(JSON.parse(v.text) as string)}</string></value>`;
    return /^-?\d+$/.test(v.text) ? `<value><int>${v.text}</int></value>` : `<value><double>${xmlText(v.text)}</double></value>`;
  }
  if (v instanceof Pairs)
    return `<value><struct>${v.pairs.map(([k, x]) => `<member><name>${xmlText(k)}</name>${xmlValue(x)}</member>`).join('')}</struct></value>`;
  if (Array.isArray(v)) return `<value><array><data>${v.map(xmlValue).join('')}</data></array></value>`;
  if (v === null) return '<value><nil/></value>';
  if (typeof v === 'object') return xmlValue(new Pairs(Object.entries(v)));
  if (typeof v === 'boolean') return `<value><boolean>${v ? 1 : 0}</boolean></value>`;
  if (typeof v === 'number') return Number.isInteger(v) ? `<value><int>${v}</int></value>` : `<value><double>${v}</double></value>`;
  return `<value><string>${xmlText(v)}</string></value>`;
}

function methodCall(method: string, params: readonly string[], prolog = '<?xml version="1.0"?>'): string {
  return `${prolog}<methodCall><methodName>${xmlText(method)}</methodName><params>${params.map((p) => `<param>${p}</param>`).join('')}</params></methodCall>`;
}

/** Values a decoder must refuse or read with care: wrong types, bad numbers, bad base64, unknown types. */
const ODD_VALUES = [
  '<value><int>abc</int></value>',
  '<value><int> 5 </int></value>',
  '<value><int>+7</int></value>',
  '<value><int></int></value>',
  '<value><i4>2147483648</i4></value>',
  '<value><i8>123456789012345678901234567890</i8></value>',
  '<value><integer>9007199254740993</integer></value>',
  '<value><double>NaN</double></value>',
  '<value><double>1e999</double></value>',
  '<value><double>-0</double></value>',
  '<value><boolean>yes</boolean></value>',
  '<value><boolean>2</boolean></value>',
  '<value><base64>!!!!</base64></value>',
  `<value><base64>${Buffer.from('hello').toString('base64')}</base64></value>`,
  `<value><base64>${Buffer.from([0x70, 0xff, 0x77]).toString('base64')}</base64></value>`,
  '<value><dateTime.iso8601>19980717T14:08:55</dateTime.iso8601></value>',
  '<value><foo>1</foo></value>',
  '<value><string>a</string><string>b</string></value>',
  '<value>bare text</value>',
  '<value/>',
  '<value><nil/></value>',
  '<value><array/></value>',
  '<value><array><data><value><int>1</int></value><int>2</int></data></array></value>',
  '<value><struct><member><value><int>1</int></value></member></struct></value>',
  '<value><struct><member><name>a</name></member></struct></value>',
  '<value><string><![CDATA[<x/> & y]]></string></value>',
  '<value><string>a<!-- c -->b</string></value>',
  '<value><string><?pi x?>p</string></value>',
  '<value><string>&unknown;</string></value>',
  '<value><string>&#0;</string></value>',
  '<value><string>&#xFFFE;</string></value>',
  '<value><string>&#x110000;</string></value>',
  '<value><string>&#xD800;&#xDC00;</string></value>',
  '<value><string>&#55296;</string></value>',
  '<value><string>&#x1F600; &lt;&amp;&gt;&quot;&apos;</string></value>',
  '<value><string>tab\there\r\nline</string></value>',
  '<value><string xmlns="urn:x">n</string></value>',
];

/** The references of ODD_VALUES to characters XML cannot carry: U+0000, U+FFFE, past U+10FFFF, a surrogate. */
const UNCARRIED = /&#(0|xFFFE|x110000|xD800|55296);/;

/** The fault for such a reference: it names the argument. */
const NAMED = /^The argument (.+) holds &#x?[0-9a-fA-F]+;, a character XML cannot carry$/;

/** A <value> nested `depth` levels deep in arrays or structs. */
function deepValue(depth: number, structs: boolean): string {
  const open = structs ? '<value><struct><member><name>a</name>' : '<value><array><data>';
  const close = structs ? '</member></struct></value>' : '</data></array></value>';
  return `${open.repeat(depth)}<value><string>x</string></value>${close.repeat(depth)}`;
}

/** Document shapes that are no method call, or a dangerous one. */
const ODD_DOCUMENTS = [
  '',
  ' ',
  'not xml',
  '<methodCall/>',
  '<methodCall><methodName></methodName></methodCall>',
  '<methodCall><methodName> echo_string </methodName><params/></methodCall>',
  '<methodCall><params/></methodCall>',
  '<methodResponse><params/></methodResponse>',
  '<methodCall><methodName>echo_string</methodName></methodCall><methodCall/>',
  '<methodCall><methodName>echo_string</methodName><params><param/></params></methodCall>',
  '<?xml version="1.0" encoding="ISO-8859-1"?><methodCall><methodName>echo_string</methodName><params><param><value><struct><member><name>thisstring</name><value>x</value></member></struct></value></param></params></methodCall>',
  '<!DOCTYPE methodCall [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><methodCall><methodName>echo_string</methodName><params><param><value><struct><member><name>thisstring</name><value><string>&c;</string></value></member></struct></value></param></params></methodCall>',
  '<!DOCTYPE methodCall SYSTEM "file:///etc/passwd"><methodCall><methodName>echo_string</methodName></methodCall>',
  '<methodCall xmlns:x="urn:x"><x:methodName>echo_string</x:methodName></methodCall>',
  '<methodCall><methodName>echo_string</methodName><params><param><value><struct><member><name>thisstring</name><value><string>a</string></value></member><member><name>thisstring</name><value><string>b</string></value></member></struct></value></param></params></methodCall>',
  '<methodCall><methodName>echo_string</methodName><params><param><value><struct><member><name>__proto__</name><value><struct><member><name>thisstring</name><value><string>p</string></value></member></struct></value></member></struct></value></param></params></methodCall>',
  '<methodCall><methodName>echo_string</methodName><params><param><value><int>1</int></value></param><param><value><int>1</int></value></param><param><value><int>1</int></value></param></params></methodCall>',
];

/** What a call must get, beyond a clean answer. */
interface Expect {
  /** A fault whose string matches this. */
  readonly fault?: RegExp;
  /** The members that may be named by the fault. */
  readonly members?: readonly string[];
  readonly command?: string;
}

interface Input {
  readonly body: Buffer;
  readonly contentType: string;
  /** The token goes in the Authorization header, not in an auth struct. */
  readonly header: boolean;
  readonly expect: Expect;
}

/** The params of a call: an auth struct with the token first, or none (the header carries it). */
function params(header: boolean, args: string): string[] {
  const auth = xmlValue(
    new Pairs([
      ['user', 'admin'],
      ['server', 'localhost'],
      ['token', token],
    ]),
  );
  return header ? [args] : [auth, args];
}

function input(rng: Rng): Input {
  const command = rng.pick(commands);
  const header = rng.chance(0.7);
  const base = { contentType: rng.pick(['text/xml', 'text/xml', 'application/xml', 'text/xml; charset=utf-8', 'TEXT/XML']), header };
  const args = argsFor(rng, command);
  const call = (argsXml: string, method = command.name) => Buffer.from(methodCall(method, params(header, argsXml)));
  const kind = rng.int(16);
  if (kind < 5) return { ...base, body: call(xmlValue(args)), expect: { command: command.name } };
  if (kind < 7) {
    // One argument of an odd XML-RPC type.
    const pairs = args.pairs.slice();
    const i = rng.int(pairs.length + 1);
    const odd = new Raw(rng.pick(ODD_VALUES));
    const at = (p: Pairs) =>
      `<value><struct>${p.pairs.map(([k, x]) => `<member><name>${xmlText(k)}</name>${x instanceof Raw && x === odd ? x.text : xmlValue(x)}</member>`).join('')}</struct></value>`;
    if (i < pairs.length) pairs[i] = [pairs[i][0], odd];
    else pairs.push(['extra', odd]);
    const members = pairs.map(([k]) => k);
    const expect: Expect = UNCARRIED.test(odd.text)
      ? { fault: NAMED, members, command: command.name }
      : /<base64>cP93/.test(odd.text)
        ? { fault: /^The argument (\S+) is <base64> of bytes that are not UTF-8$|, a character XML cannot carry$/, command: command.name }
        : { command: command.name };
    return { ...base, body: call(at(new Pairs(pairs))), expect };
  }
  if (kind === 7) {
    // A lone surrogate spelled as a character reference in one string argument.
    const strings = args.pairs.filter(([, v]) => typeof v === 'string');
    if (strings.length === 0) return { ...base, body: call(xmlValue(args)), expect: { command: command.name } };
    const [member] = rng.pick(strings);
    const ref = rng.pick(['&#xD800;', '&#xdfff;', '&#55296;', 'a&#xDBFF;b', '&#xD83D;&#xDE00;']);
    const pairs = args.pairs.map(([k, v]) => [k, k === member ? new Raw(`"${ref}"`) : v] as const);
    // xmlText escaped the reference's ampersand: take it back, so that it is a reference.
    const body = xmlValue(new Pairs(pairs)).replace(/&amp;(#x?[0-9a-fA-F]+;)/g, '&$1');
    return {
      ...base,
      body: call(body),
      expect: { fault: NAMED, members: args.pairs.map(([k]) => k), command: command.name },
    };
  }
  if (kind === 8) {
    const text = call(xmlValue(args));
    const at = 1 + rng.int(text.length - 1);
    return {
      ...base,
      body: Buffer.concat([text.subarray(0, at), rng.pick(BAD_UTF8), text.subarray(at)]),
      expect: { fault: /^The request body is not valid UTF-8$/ },
    };
  }
  // Mutated bytes could spoil a token in the auth struct, and a refused login counts: the header carries it.
  if (kind < 11) return { ...base, header: true, body: mutateBytes(rng, Buffer.from(methodCall(command.name, params(true, xmlValue(args))))), expect: {} };
  if (kind === 11) {
    const depth = rng.pick([10, 65, 1000, 15_000]);
    const pairs = args.pairs.length > 0 ? args.pairs : [['deep', '']];
    const i = rng.int(pairs.length);
    const xml = `<value><struct>${pairs.map(([k, x], j) => `<member><name>${xmlText(k)}</name>${j === i ? deepValue(depth, rng.chance(0.5)) : xmlValue(x)}</member>`).join('')}</struct></value>`;
    return {
      ...base,
      body: call(xml),
      expect: depth > 60 ? { fault: /nested deeper than 64 elements|a character XML cannot carry|malformed character entity/ } : { command: command.name },
    };
  }
  if (kind === 12) return { ...base, header: true, body: Buffer.from(rng.pick(ODD_DOCUMENTS)), expect: {} };
  if (kind === 13) return { ...base, body: call(xmlValue(args), randomName(rng, names)), expect: {} };
  if (kind === 14) {
    // A call of a real command whose arguments are no struct.
    const value = rng.pick<Json>([[], 'x', 1, null, true, [new Pairs(args.pairs)]]);
    return { ...base, body: call(xmlValue(value)), expect: { command: command.name } };
  }
  return { ...base, contentType: rng.pick(['text/plain', 'application/json', '', 'text/html', 'application/xml-rpc']), body: call(xmlValue(args)), expect: {} };
}

/** The answer: a result, a fault, or what is wrong with it. */
function answer(r: RawResponse, req: Input): { fault?: { code: number; text: string }; problem?: string } {
  const type = req.contentType.split(';')[0].trim().toLowerCase();
  if (type !== 'text/xml' && type !== 'application/xml')
    return r.status === 415 ? { fault: { code: 0, text: 'refused' } } : { problem: `status ${r.status}, not 415` };
  if (r.status !== 200) return { problem: `status ${r.status}` };
  if (r.headers['content-type'] !== 'text/xml') return { problem: `content type ${r.headers['content-type']}` };
  const text = decodeUtf8(r.body);
  if (text === undefined) return { problem: 'a body that is not UTF-8' };
  let root: Element;
  try {
    root = parseXml(text, 'the response');
  } catch (err) {
    return { problem: `a response that is not XML: ${(err as Error).message}` };
  }
  if (root.getName() !== 'methodResponse') return { problem: `a <${root.getName()}> response` };
  const fault = root.getChild('fault');
  if (!fault) return root.getChild('params')?.getChild('param')?.getChild('value') ? {} : { problem: 'neither params nor a fault' };
  const members = new Map(
    fault
      .getChild('value')
      ?.getChild('struct')
      ?.getChildren('member')
      .map((m) => [m.getChildText('name'), m.getChild('value')]) ?? [],
  );
  const code = Number(members.get('faultCode')?.getChild('int')?.getText());
  const faultText = members.get('faultString')?.getChild('string')?.getText() ?? '';
  if (!Number.isInteger(code) || faultText === '') return { problem: 'a fault without code and string' };
  if (/^internal error|^\S+ crashed: /.test(faultText) && !(req.expect.command && CRASHING.has(req.expect.command)))
    return { problem: `a crash: ${faultText}` };
  if (/\n\s+at /.test(faultText)) return { problem: 'a stack trace in the fault' };
  if (/Invalid (or expired token|user name or password|credentials)|Authentication required|Too many failed logins/.test(faultText)) {
    return { problem: `a refused login, which this test must not cause: ${faultText}` };
  }
  return { fault: { code, text: faultText } };
}

test(`${INPUTS} seeded hostile XML-RPC calls: a result or a clean fault, a node that answers, nothing changed by a refused call`, async () => {
  const rng = new Rng(SEED);
  const unchanged = new UnchangedCheck(client, n.dir);
  const problems: string[] = [];
  let refused = 0;
  let expected = 0;
  for (let i = 0; i < INPUTS && problems.length < 5; i++) {
    const req = input(rng);
    const headers: [string, string][] = req.header ? [['Authorization', `Bearer ${token}`]] : [];
    if (req.contentType !== '') headers.push(['Content-Type', req.contentType]);
    const what = `${req.contentType} ${shown(req.body)}`;
    await unchanged.before();
    let r: RawResponse;
    try {
      r = await rawHttp(n.url, requestHead('POST', '/rpc', headers, req.body), req.body);
    } catch (err) {
      problems.push(`${(err as Error).message}: ${what}`);
      continue;
    }
    const { fault, problem } = answer(r, req);
    if (problem) problems.push(`${problem}: ${what} gave ${r.status} ${shown(r.body)}`);
    if (req.expect.fault) {
      expected++;
      const m = fault && req.expect.fault.exec(fault.text);
      const named = m?.[1];
      // A member without a name is named ''.
      const names = req.expect.members?.map((k) => (k === '' ? "''" : k));
      if (!m || (names && !names.some((k) => named === k || named?.startsWith(`${k}.`)))) {
        problems.push(
          `not the fault ${req.expect.fault}${req.expect.members ? ` naming one of ${req.expect.members.join(', ')}` : ''}: ${what} gave ${shown(r.body)}`,
        );
      }
    }
    if (fault) refused++;
    const changed = await unchanged.after(fault !== undefined);
    if (changed) problems.push(`${changed}: ${what} gave ${r.status} ${shown(r.body)}`);
    if (i % 50 === 49 && (await client.ping()).result !== 'pong') problems.push(`no pong after ${what}`);
  }
  expect(problems).toEqual([]);
  expect(await client.ping()).toEqual({ id: 'ping', ok: true, result: 'pong' });
  const echo = Buffer.from(methodCall('echo_string', [xmlValue({ thisstring: 'still here' })]));
  const r = await rawHttp(
    n.url,
    requestHead(
      'POST',
      '/rpc',
      [
        ['Authorization', `Bearer ${token}`],
        ['Content-Type', 'text/xml'],
      ],
      echo,
    ),
    echo,
  );
  expect(r.body.toString()).toContain('<string>still here</string>');
  // The stream must reach the handlers and be refused there too, or it tests nothing.
  expect(refused).toBeGreaterThan(INPUTS / 3);
  expect(refused).toBeLessThan(INPUTS);
  expect(expected).toBeGreaterThan(INPUTS / 10);
  expect(unchanged.checked).toBe(refused);
});

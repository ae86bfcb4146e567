/**
 * Reads XEP-0227 documents as a stream: saxes parses each file a chunk at a time, and every
 * `<user>` element becomes a small tree handed to a visitor, so memory is bounded by the
 * largest user, not by the file. XIncludes in place of a `<host>` or `<user>` are followed,
 * but only to files inside the directory of the including file.
 */
import { promises as fs } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { SaxesParser } from 'saxes';
import { CommandError } from '../../lib/errors';
import { nameprep } from '../../lib/jid';
import { fsReason, openRegularFile } from '../../lib/files';
import { invalid, isPie, NS_PIE, NS_XI, type Where } from './format';
import { Element, MAX_XML_DEPTH } from '../../lib/xml';
import { OutsideSubset, SubsetParser, type SubsetHandlers, type SubsetTag } from '../../lib/xml-subset';

/** No file is read beyond this size. */
export const MAX_FILE_BYTES = 4 * 1024 ** 3;
/** A tag, text or comment longer than this is refused: saxes would hold it whole. */
export const MAX_TOKEN_CHARS = 8 * 1024 ** 2;
/** A `<user>` element is kept in memory while it is read: this is its limit. */
export const MAX_USER_CHARS = 64 * 1024 ** 2;
/** At most this many files, the top one and those it includes. */
export const MAX_FILES = 1_000_000;
/** Small enough that the users of one chunk, held until it is parsed, die young. */
const CHUNK_BYTES = 64 * 1024;

/** Prefix → namespace, `''` for the default one. */
export type Scope = Readonly<Record<string, string>>;

/** What the tree of a `<user>` does not say itself: where each element is and its namespace. */
export interface ElementInfo {
  readonly line: number;
  readonly uri: string;
  readonly local: string;
  /** The namespace declarations in scope at the element. */
  readonly scope: Scope;
}

/**
 * saxes stores each handler as a property added by `on()`; past about a dozen such additions
 * V8 turns the parser into a dictionary object and parsing becomes four times slower. Handler
 * properties created in the constructor keep it a fast object.
 */
class Parser extends SaxesParser<{ xmlns: true; position: true }> {
  constructor() {
    super({ xmlns: true, position: true });
    const self = this as unknown as Record<string, undefined>;
    self.xmldeclHandler = undefined;
    self.textHandler = undefined;
    self.piHandler = undefined;
    self.doctypeHandler = undefined;
    self.commentHandler = undefined;
    self.openTagStartHandler = undefined;
    self.attributeHandler = undefined;
    self.openTagHandler = undefined;
    self.closeTagHandler = undefined;
    self.cdataHandler = undefined;
    self.errorHandler = undefined;
    self.endHandler = undefined;
    self.readyHandler = undefined;
  }
}

/** A saxes parser that gives its events to `on`, as the quick parser does, and its errors to `failed`. */
function saxes(on: SubsetHandlers, failed: (message: string) => void): Parser {
  const parser = new Parser();
  parser.on('error', (err) => failed(err.message));
  parser.on('doctype', () => failed(`${parser.line}:${parser.column}: a document type declaration is not allowed`));
  parser.on('xmldecl', on.xmldecl);
  parser.on('opentagstart', on.opentagstart);
  parser.on('opentag', (tag) => {
    const attrs: Record<string, string> = {};
    for (const name in tag.attributes) attrs[name] = tag.attributes[name].value;
    on.opentag({ name: tag.name, local: tag.local, uri: tag.uri, ns: tag.ns, attrs });
  });
  parser.on('closetag', on.closetag);
  parser.on('text', on.text);
  parser.on('cdata', on.text);
  parser.on('comment', on.comment);
  parser.on('processinginstruction', on.comment);
  return parser;
}

/** An element of a `<user>` tree that knows where it was and its namespace (a WeakMap costs the collector dearly). */
class Located extends Element {
  readonly pie: ElementInfo;
  constructor(name: string, attrs: Record<string, string>, pie: ElementInfo) {
    super(name);
    // The tag's own object, made for this element alone: ltx would copy it.
    this.attrs = attrs;
    this.pie = pie;
  }
}

const INFO = { get: (el: Element) => (el as Located).pie };

export interface UserElement {
  readonly host: string;
  readonly el: Element;
  readonly where: Where;
  readonly info: { get(el: Element): ElementInfo | undefined };
}

export interface Visitor {
  user(u: UserElement): void | Promise<void>;
  /** An element in a namespace this node does not import, skipped whole. */
  ignored(label: string, where: Where): void;
}

export interface Hosts {
  readonly hosts: readonly string[];
  /** The configuration file, named when a host is not served. */
  readonly configFile: string;
}

type Expect = 'server-data' | 'host' | 'user';

type Frame =
  | { readonly kind: 'server-data'; readonly name: string; readonly scope: Scope }
  | { readonly kind: 'host'; readonly name: string; readonly scope: Scope; readonly host: string }
  | {
      readonly kind: 'include';
      readonly name: string;
      readonly scope: Scope;
      readonly href: string;
      readonly where: Where;
      readonly expect: Expect;
      readonly host?: string;
    }
  | { readonly kind: 'skip'; readonly name: string; readonly scope: Scope }
  | {
      readonly kind: 'tree';
      readonly name: string;
      readonly scope: Scope;
      readonly el: Element;
      readonly user?: { readonly host: string; readonly where: Where };
    };

type Item =
  | { readonly kind: 'user'; readonly user: UserElement }
  | { readonly kind: 'include'; readonly href: string; readonly where: Where; readonly expect: Expect; readonly host?: string }
  | { readonly kind: 'ignored'; readonly label: string; readonly where: Where };

interface Run {
  readonly hosts: Hosts;
  readonly visitor: Visitor;
  /** Read with the quick parser, which throws `OutsideSubset` where saxes must judge. */
  readonly quick: boolean;
  /** Real paths of the files read so far: a file is read once. */
  readonly seen: Set<string>;
}

function malformed(file: string, message: string): CommandError {
  const m = /^(\d+):(\d+): (.*)$/s.exec(message);
  const where = m ? ` (line ${m[1]}, column ${m[2]})` : '';
  return new CommandError('failed', `Malformed XML in ${file}${where}: ${m ? m[3] : message}`, { details: { arg: 'file' } });
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

export const label = (local: string, uri: string): string => (uri === '' ? `<${local}>` : `<${local} xmlns='${uri}'>`);

/**
 * Reads `file` (a `<server-data>` document) and the files it includes, in document order.
 * With `quick`, the files are read by the quick parser of the XML that exports are made of,
 * which throws `OutsideSubset` at anything else: the caller then reads them again without it.
 */
export async function readPiefxis(file: string, hosts: Hosts, visitor: Visitor, quick = false): Promise<number> {
  const run: Run = { hosts, visitor, quick, seen: new Set() };
  await scan(resolve(file), 'server-data', undefined, run);
  return run.seen.size;
}

async function openInput(path: string, from?: Where, real = path): Promise<fs.FileHandle> {
  const shown = from ? `${path}, included from ${from.file} (line ${from.line})` : path;
  let handle: fs.FileHandle;
  try {
    handle = await openRegularFile(real, 'the XEP-0227 file', shown);
  } catch (err) {
    if (!(err instanceof CommandError)) throw err;
    throw new CommandError(err.code, err.message, { cause: err.cause, details: { arg: 'file' } });
  }
  const st = await handle.stat();
  if (st.size > MAX_FILE_BYTES) {
    await handle.close();
    throw new CommandError('failed', `Cannot read the XEP-0227 file ${shown}: it is larger than ${MAX_FILE_BYTES} bytes`, { details: { arg: 'file' } });
  }
  return handle;
}

function inside(dir: string, path: string): boolean {
  const r = relative(dir, path);
  return r !== '' && r !== '..' && !r.startsWith(`..${sep}`) && !isAbsolute(r);
}

/**
 * The file an `<xi:include href>` names: a relative path that stays inside the directory of
 * the including file, also once symbolic links are followed. URLs and absolute paths are
 * refused: an import must not read what the operator did not hand it.
 */
async function includedFile(from: string, href: string, where: Where, run: Run): Promise<{ path: string; real: string }> {
  const dir = dirname(from);
  const refuse = (why: string) => invalid(where, `the <xi:include> href '${href}' ${why}; only relative paths to files inside ${dir} are followed`);
  if (href === '') throw refuse('is empty');
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(href)) throw refuse('is a URL');
  if (/[?#]/.test(href)) throw refuse('has a query or a fragment');
  let path: string;
  try {
    path = decodeURIComponent(href);
  } catch {
    throw refuse('has a malformed %-escape');
  }
  if (path.includes('\0')) throw refuse('contains a NUL character');
  if (isAbsolute(path)) throw refuse('is an absolute path');
  const target = resolve(dir, path);
  if (!inside(dir, target)) throw refuse('leads outside that directory');
  let real: string;
  try {
    real = await fs.realpath(target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not_found' : 'failed';
    throw new CommandError(code, `Cannot read the XEP-0227 file ${target}, included from ${where.file} (line ${where.line}): ${fsReason(err)}`, {
      cause: err,
      details: { arg: 'file' },
    });
  }
  if (!inside(await fs.realpath(dir), real)) throw refuse('leads outside that directory through a symbolic link');
  if (run.seen.has(real)) throw invalid(where, `${target} is included a second time`);
  return { path: target, real };
}

function checkHost(jid: string | undefined, where: Where, hosts: Hosts): string {
  if (jid === undefined) throw invalid(where, "the <host> has no 'jid' attribute");
  let host: string;
  try {
    host = nameprep(jid);
  } catch {
    throw invalid(where, `'${jid}' is not a host name`);
  }
  if (!hosts.hosts.includes(host)) {
    throw new CommandError(
      'not_found',
      `${where.file} (line ${where.line}) holds users of host '${jid}', which this node does not serve: it serves ${hosts.hosts.join(', ')} (hosts in ${hosts.configFile})`,
      { details: { arg: 'file' } },
    );
  }
  return host;
}

/**
 * Reads one file whose root must be `expect`; `host` is the host of an included `<user>`.
 * Messages name `path` as the operator wrote it; `real`, its checked real path, is what is read.
 */
async function scan(path: string, expect: Expect, host: string | undefined, run: Run, from?: Where, real?: string): Promise<void> {
  if (run.seen.size >= MAX_FILES) throw invalid(from ?? { file: path, line: 1 }, `more than ${MAX_FILES} files are included`);
  const handle = await openInput(path, from, real);
  run.seen.add(real ?? (await fs.realpath(path)));
  const stack: Frame[] = [];
  const queue: Item[] = [];
  let failure: Error | undefined;
  const fail = (err: Error) => void (failure ??= err);
  let tagLine = 1;
  /** The line where the last tag ended: text starts there. */
  let endLine = 1;
  let lastEvent = 0;
  let userStart = 0;
  let inUser = false;
  let root = false;

  const here = (): Where => ({ file: path, line: tagLine });
  const tooBig = () => {
    if (inUser && parser.position - userStart > MAX_USER_CHARS) {
      fail(invalid({ file: path, line: parser.line }, `a <user> element is longer than ${MAX_USER_CHARS} characters`));
    }
  };

  /** Opens a PIE element where the format expects one: `<server-data>`, `<host>` or `<user>`. */
  function openPie(kind: Expect, tag: SubsetTag, scope: Scope, userHost: string | undefined): Frame {
    const where = here();
    if (kind === 'server-data') return { kind, name: tag.name, scope };
    if (kind === 'host') return { kind, name: tag.name, scope, host: checkHost(tag.attrs.jid, where, run.hosts) };
    const el = new Located(tag.name, tag.attrs, { line: where.line, uri: tag.uri, local: tag.local, scope });
    userStart = parser.position;
    inUser = true;
    return { kind: 'tree', name: tag.name, scope, el, user: { host: userHost!, where } };
  }

  function openChild(parent: Frame, tag: SubsetTag, scope: Scope): Frame {
    const where = here();
    if (parent.kind === 'skip') return { kind: 'skip', name: tag.name, scope };
    if (parent.kind === 'tree') {
      const el = new Located(tag.name, tag.attrs, { line: where.line, uri: tag.uri, local: tag.local, scope });
      parent.el.cnode(el);
      return { kind: 'tree', name: tag.name, scope, el };
    }
    if (parent.kind === 'include') throw invalid(where, `<${tag.name}> inside an <xi:include> is not supported (no fallbacks)`);
    const wanted: Expect = parent.kind === 'server-data' ? 'host' : 'user';
    if (tag.uri === NS_XI && tag.local === 'include') {
      const { href, parse, xpointer } = tag.attrs;
      if (href === undefined) throw invalid(where, "the <xi:include> has no 'href' attribute");
      if (parse !== undefined && parse !== 'xml') throw invalid(where, `the <xi:include> has parse='${parse}': only XML files can be included`);
      if (xpointer !== undefined) throw invalid(where, 'the <xi:include> has an xpointer: only whole files can be included');
      return { kind: 'include', name: tag.name, scope, href, where, expect: wanted, host: parent.kind === 'host' ? parent.host : undefined };
    }
    if (isPie(tag.uri)) {
      if (tag.local !== wanted) throw invalid(where, `<${tag.name}> is not allowed in <${parent.name}>: it holds <${wanted}> elements`);
      return openPie(wanted, tag, scope, parent.kind === 'host' ? parent.host : undefined);
    }
    queue.push({ kind: 'ignored', label: label(tag.local, tag.uri), where });
    return { kind: 'skip', name: tag.name, scope };
  }

  const xmldecl = (decl: { readonly encoding?: string }) => {
    if (decl.encoding !== undefined && !/^utf-?8$/i.test(decl.encoding))
      fail(malformed(path, `1:1: the encoding is ${decl.encoding}; only UTF-8 files can be read`));
  };
  const opentagstart = () => {
    tagLine = parser.line;
    lastEvent = parser.position;
  };
  const opentag = (tag: SubsetTag) => {
    lastEvent = parser.position;
    endLine = parser.line;
    if (failure) throw failure;
    try {
      const parent = stack[stack.length - 1];
      const scope = isEmpty(tag.ns) ? (parent?.scope ?? {}) : { ...parent?.scope, ...tag.ns };
      if (stack.length >= MAX_XML_DEPTH) throw invalid(here(), `elements are nested deeper than ${MAX_XML_DEPTH} levels`);
      if (parent) stack.push(openChild(parent, tag, scope));
      else {
        root = true;
        if (tag.local !== expect || !isPie(tag.uri)) {
          const ns = tag.uri === '' ? 'no namespace' : `namespace ${tag.uri}`;
          throw invalid(here(), `the root element is <${tag.name}> in ${ns}, where <${expect}> in namespace ${NS_PIE} was expected`);
        }
        stack.push(openPie(expect, tag, scope, host));
      }
      tooBig();
    } catch (err) {
      fail(err as Error);
    }
    // Out of the parser's write(): parsing on would only cost time (the square of the depth, past the limit).
    if (failure) throw failure;
  };
  const closetag = () => {
    lastEvent = parser.position;
    endLine = parser.line;
    const frame = stack.pop();
    if (failure || !frame) return;
    if (frame.kind === 'tree' && frame.user) {
      inUser = false;
      queue.push({ kind: 'user', user: { host: frame.user.host, el: frame.el, where: frame.user.where, info: INFO } });
    }
    if (frame.kind === 'include') queue.push({ kind: 'include', href: frame.href, where: frame.where, expect: frame.expect, host: frame.host });
  };
  const text = (text: string) => {
    lastEvent = parser.position;
    const top = stack[stack.length - 1];
    if (failure || !top || top.kind === 'skip') return;
    if (top.kind === 'tree') {
      top.el.t(text);
      tooBig();
    } else if (text.trim() !== '') {
      const line = endLine + (/^\s*/.exec(text)![0].match(/\n/g)?.length ?? 0);
      fail(invalid({ file: path, line }, `text is not allowed in <${top.name}>`));
    }
  };
  const comment = () => {
    lastEvent = parser.position;
    endLine = parser.line;
  };
  const handlers: SubsetHandlers = { xmldecl, opentagstart, opentag, closetag, text, comment };
  const parser = run.quick ? new SubsetParser(handlers) : saxes(handlers, (message) => fail(malformed(path, message)));

  const drain = async () => {
    for (const item of queue.splice(0)) {
      if (item.kind === 'user') await run.visitor.user(item.user);
      else if (item.kind === 'ignored') run.visitor.ignored(item.label, item.where);
      else {
        const included = await includedFile(path, item.href, item.where, run);
        await scan(included.path, item.expect, item.host, run, item.where, included.real);
      }
    }
  };

  // The next chunk is read while this one is parsed: a read waits for a thread of libuv's
  // pool, which is slow to come when the other core is busy writing or collecting.
  const buffers = [Buffer.alloc(CHUNK_BYTES), Buffer.alloc(CHUNK_BYTES)];
  const ended = Promise.resolve({ bytesRead: 0 });
  let reading: Promise<{ bytesRead: number }> = ended;
  try {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let offset = 0;
    reading = handle.read(buffers[0], 0, CHUNK_BYTES, null);
    for (let turn = 0; ; turn ^= 1) {
      const buffer = buffers[turn];
      const { bytesRead } = await reading;
      reading = bytesRead > 0 ? handle.read(buffers[turn ^ 1], 0, CHUNK_BYTES, null) : ended;
      let text: string;
      try {
        text = decoder.decode(buffer.subarray(0, bytesRead), { stream: bytesRead > 0 });
      } catch {
        throw malformed(path, `the file is not valid UTF-8 (near byte ${offset + bytesRead})`);
      }
      if (bytesRead === 0) {
        parser.write(text);
        parser.close();
        if (!failure && !root) fail(malformed(path, 'no element'));
      } else {
        parser.write(text);
        offset += bytesRead;
        if (offset > MAX_FILE_BYTES) fail(malformed(path, `the file grew larger than ${MAX_FILE_BYTES} bytes while it was read`));
        if (parser.position - lastEvent > MAX_TOKEN_CHARS) {
          if (!(parser instanceof SaxesParser)) throw new OutsideSubset('a long token');
          fail(malformed(path, `${parser.line}:${parser.column}: a tag, text or comment is longer than ${MAX_TOKEN_CHARS} characters`));
        }
      }
      if (failure) throw failure;
      await drain();
      if (bytesRead === 0) return;
    }
  } finally {
    await reading.catch(() => undefined);
    await handle.close();
  }
}

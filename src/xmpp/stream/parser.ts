/**
 * The client stream parser: untrusted bytes in, stream events and ltx stanzas out, under the
 * restricted XML of RFC 6120 §11 (no DOCTYPE, comments, processing instructions or unknown
 * entities), a stanza size limit and a nesting limit.
 *
 * Two framings: a TCP stream is one document whose root is `<stream:stream>` and whose children
 * are the stanzas; a WebSocket stream (RFC 7395) sends one element per frame, `<open/>` and
 * `<close/>` included, which is parsed as the children of a root the parser supplies itself.
 */
import { StringDecoder } from 'node:string_decoder';
import { Element } from 'ltx';
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { NS } from '../stanza';

/** What the parser reports; the connection implements it (one object, no closure per event). */
export interface StreamHandler {
  /** The stream header (TCP) or `<open/>` (WebSocket): its attributes as sent, and its namespaces. */
  onStreamOpen(attrs: Record<string, string>, names: StreamNames): void;
  /** A complete top-level element, and the namespace it is in (`jabber:client` when it declares none). */
  onStanza(el: Element, ns: string): void;
  /** `</stream:stream>` or `<close/>`. */
  onStreamClose(): void;
  /** A stream error condition of RFC 6120 §4.9.3; the parser accepts nothing more afterwards. */
  onError(condition: string, text: string): void;
}

/** How the stream header named itself: checked by the connection (invalid-namespace, bad-namespace-prefix). */
export interface StreamNames {
  readonly local: string;
  readonly uri: string;
  /** The default namespace the header declares (`jabber:client` for a client). */
  readonly defaultNs: string | undefined;
}

export interface StreamParserOptions {
  /** Bytes; a larger stanza is a `policy-violation`. */
  readonly maxStanzaSize: number;
  /** Frames (RFC 7395) instead of one document. */
  readonly framed?: boolean;
  /** Elements nested deeper than this inside a stanza are a `policy-violation`. */
  readonly maxDepth?: number;
}

const DEFAULT_MAX_DEPTH = 64;

/** The root a framed stream's frames are parsed under: it makes jabber:client their default namespace. */
const FRAME_ROOT = `<frames xmlns='${NS.client}'>`;

/** Saxes' state between markup, where an idle stream's parser rests. */
const SAX_TEXT = 13;
/** Idle parsers kept for the next stream that has something to say. */
const POOL_SIZE = 64;

/** A saxes parser whose events go to whichever stream parser holds it at the moment. */
type PooledSax = SaxesParser<{ xmlns: true }> & { owner: StreamParser | undefined };
/** Saxes' own fields that tell whether it holds part of a token. */
interface SaxInternals {
  state: number;
  text: string;
  name: string;
  carriedFromPrevious: string | undefined;
  closeTag(): void;
  _init(): void;
}

const pool: PooledSax[] = [];

function newSax(): PooledSax {
  const sax = new SaxesParser({ xmlns: true, position: true }) as PooledSax;
  sax.owner = undefined;
  sax.on('opentag', (tag) => sax.owner?.open(tag));
  sax.on('closetag', (tag) => sax.owner?.close(tag));
  sax.on('text', (text) => sax.owner?.text(text));
  sax.on('cdata', (text) => sax.owner?.text(text));
  sax.on('doctype', () => sax.owner?.fail('restricted-xml', 'DOCTYPE is not allowed in XMPP'));
  sax.on('comment', () => sax.owner?.fail('restricted-xml', 'XML comments are not allowed in XMPP'));
  sax.on('processinginstruction', () => sax.owner?.fail('restricted-xml', 'processing instructions are not allowed in XMPP'));
  // A DOCTYPE after the prolog is an error to saxes, not a doctype event.
  sax.on('error', (err) => sax.owner?.fail(/doctype/i.test(err.message) ? 'restricted-xml' : 'not-well-formed', err.message));
  // saxes reports a close tag that does not match before saying so: note the name it read.
  const internal = sax as unknown as SaxInternals;
  const closeTag = internal.closeTag;
  internal.closeTag = () => {
    if (sax.owner) sax.owner.closing = internal.name;
    closeTag.call(sax);
  };
  return sax;
}

/** A parser at the start of a document. */
function takeSax(owner: StreamParser): PooledSax {
  const sax = pool.pop() ?? newSax();
  sax.owner = owner;
  return sax;
}

function giveBack(sax: PooledSax): void {
  sax.owner = undefined;
  if (pool.length >= POOL_SIZE) return;
  (sax as unknown as SaxInternals)._init();
  pool.push(sax);
}

function attributesOf(tag: SaxesTagNS): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const name in tag.attributes) attrs[name] = tag.attributes[name].value;
  return attrs;
}

const escapeAttr = (v: string) => v.replace(/&/g, '&amp;').replace(/'/g, '&apos;').replace(/</g, '&lt;');

/**
 * Between stanzas a stream holds no parser: an idle stream costs a few fields, not a saxes
 * instance. The next bytes get a parser from the pool, first fed the stream's root again (its
 * name and namespace declarations as the client sent them, or the framing root) so that it
 * reads them as the root's children, exactly as the first parser would have.
 */
export class StreamParser {
  private sax: PooledSax | undefined = undefined;
  private decoder: StringDecoder | undefined = undefined;
  private stack: Element[] = [];
  private failed = false;
  private rootOpen = false;
  /** The root as fed to a parser taken in the middle of the stream. */
  private root = '';
  /** The parser is being fed the root again: its events are not the client's. */
  private priming = false;
  /** Inside saxes' write(). */
  private writing = false;
  /** The name saxes read in the close tag it is looking at. */
  closing = '';
  /** The current chunk, where it starts in the stream (UTF-16 units), and whether it is all ASCII. */
  private chunk = '';
  private chunkPos = 0;
  /** Counted here: saxes' own position is only right inside its callbacks. */
  private nextPos = 0;
  /** Stream position = saxes' position + this (saxes counts from the root it was fed). */
  private posBase = 0;
  private chunkAscii = true;
  /** Where the open stanza started, and how many of its bytes came in earlier chunks. */
  private stanzaStart = 0;
  private stanzaBytes = 0;
  private readonly maxDepth: number;

  constructor(
    private readonly handler: StreamHandler,
    private readonly options: StreamParserOptions,
  ) {
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.reset();
  }

  /** A fresh document: after STARTTLS and SASL success the client opens a new stream. */
  reset(): void {
    this.release();
    this.stack = [];
    this.failed = false;
    this.rootOpen = false;
    this.root = '';
    this.chunkPos = 0;
    this.nextPos = 0;
    this.posBase = 0;
    if (this.options.framed) {
      this.root = FRAME_ROOT;
      this.rootOpen = true;
      this.nextPos = FRAME_ROOT.length;
    }
  }

  private get position(): number {
    return this.sax!.position + this.posBase;
  }

  /** A parser for the next chunk: at the document's start, or inside the root once it opened. */
  private acquire(): PooledSax {
    const sax = takeSax(this);
    this.sax = sax;
    // saxes counts positions from the first character it was fed.
    this.posBase = this.chunkPos;
    if (this.rootOpen) {
      this.priming = true;
      try {
        sax.write(this.root);
      } finally {
        this.priming = false;
      }
      this.posBase -= this.root.length;
    }
    return sax;
  }

  /** Hands the parser back when it holds nothing of the stream but the root. */
  private releaseIfIdle(): void {
    const sax = this.sax;
    if (!sax || !this.rootOpen || this.stack.length > 0) return;
    const internal = sax as unknown as SaxInternals;
    if (internal.state !== SAX_TEXT || internal.carriedFromPrevious !== undefined || !/^\s*$/.test(internal.text)) return;
    this.release();
  }

  private release(): void {
    const sax = this.sax;
    this.sax = undefined;
    if (!sax) return;
    // Stopped from one of its own events, saxes is still reading the chunk: it is not reused.
    if (this.writing) sax.owner = undefined;
    else giveBack(sax);
  }

  /** Feeds bytes (or an already decoded frame). */
  write(data: Buffer | string): void {
    if (this.failed) return;
    const chunk = typeof data === 'string' ? data : this.decode(data);
    if (chunk === '') return;
    if (this.options.framed && Buffer.byteLength(chunk) > this.options.maxStanzaSize) {
      return this.fail('policy-violation', `stanza larger than ${this.options.maxStanzaSize} bytes`);
    }
    this.chunk = chunk;
    this.chunkPos = this.nextPos;
    this.nextPos += chunk.length;
    this.chunkAscii = chunk.length === Buffer.byteLength(chunk);
    const sax = this.sax ?? this.acquire();
    this.writing = true;
    try {
      sax.write(chunk);
    } catch (err) {
      // saxes throws out of write() for some input (an unknown entity) instead of reporting it.
      this.fail('not-well-formed', (err as Error).message);
    } finally {
      this.writing = false;
    }
    if (this.failed) return;
    if (this.stack.length > 0) {
      this.stanzaBytes += this.bytesInChunk(Math.max(this.stanzaStart, this.chunkPos), this.chunkPos + chunk.length);
      if (this.stanzaBytes > this.options.maxStanzaSize) this.fail('policy-violation', `stanza larger than ${this.options.maxStanzaSize} bytes`);
    }
    if (this.options.framed && this.stack.length > 0 && !this.failed) this.fail('not-well-formed', 'a WebSocket frame must hold one complete element');
    this.chunk = '';
    if (!this.failed) this.releaseIfIdle();
  }

  /** Bytes to text; a decoder only while a character is split between chunks. */
  private decode(data: Buffer): string {
    if (this.decoder === undefined) {
      if (data.length === 0 || data[data.length - 1] < 0x80) return data.toString('utf8');
      this.decoder = new StringDecoder('utf8');
    }
    const text = this.decoder.write(data);
    if (data.length > 0 && data[data.length - 1] < 0x80) this.decoder = undefined;
    return text;
  }

  /** Nothing more is parsed (the connection is closing). */
  stop(): void {
    this.failed = true;
    this.stack = [];
    this.release();
  }

  private bytesInChunk(from: number, to: number): number {
    if (this.chunkAscii) return to - from;
    return Buffer.byteLength(this.chunk.slice(from - this.chunkPos, to - this.chunkPos));
  }

  /** Called by the parser's events (as are open, close and text). */
  fail(condition: string, text: string): void {
    if (this.failed || this.priming) return;
    this.failed = true;
    this.stack = [];
    // A parser that failed is not used again.
    if (this.sax) this.sax.owner = undefined;
    this.sax = undefined;
    this.handler.onError(condition, text);
  }

  open(tag: SaxesTagNS): void {
    if (this.failed || this.priming) return;
    const depth = this.stack.length;
    // The document root: the stream header (framed: the root this parser wrote itself).
    if (!this.rootOpen) return this.openRoot(tag);
    const attrs = attributesOf(tag);
    if (depth === 0 && this.options.framed && tag.uri === NS.framing) {
      if (tag.local === 'open') return this.handler.onStreamOpen(attrs, { local: tag.local, uri: tag.uri, defaultNs: NS.client });
      if (tag.local === 'close') return this.handler.onStreamClose();
    }
    if (depth >= this.maxDepth) return this.fail('policy-violation', `elements nested deeper than ${this.maxDepth}`);
    const el = new Element(tag.name, attrs);
    if (depth === 0) {
      this.stanzaStart = Math.max(this.chunkPos, this.position - tag.name.length - 2);
      this.stanzaBytes = 0;
    } else {
      this.stack[depth - 1].cnode(el);
    }
    this.stack.push(el);
  }

  private openRoot(tag: SaxesTagNS): void {
    this.rootOpen = true;
    if (this.options.framed) return;
    const attrs = attributesOf(tag);
    let root = `<${tag.name}`;
    for (const name in attrs) if (name === 'xmlns' || name.startsWith('xmlns:')) root += ` ${name}='${escapeAttr(attrs[name])}'`;
    this.root = `${root}>`;
    this.handler.onStreamOpen(attrs, { local: tag.local, uri: tag.uri, defaultNs: tag.ns[''] });
  }

  close(tag: SaxesTagNS): void {
    if (this.failed || this.priming) return;
    if (!tag.isSelfClosing && tag.name !== this.closing) return this.fail('not-well-formed', `</${this.closing}> does not close <${tag.name}>`);
    const el = this.stack.pop();
    if (el === undefined) {
      // The root closed: the client ended its stream (framed: never, the root is ours).
      if (!this.options.framed) this.handler.onStreamClose();
      return;
    }
    if (this.stack.length > 0) return;
    const size = this.stanzaBytes + this.bytesInChunk(Math.max(this.stanzaStart, this.chunkPos), Math.min(this.position, this.chunkPos + this.chunk.length));
    if (size > this.options.maxStanzaSize) return this.fail('policy-violation', `stanza larger than ${this.options.maxStanzaSize} bytes`);
    this.handler.onStanza(el, this.namespaceOf(el));
  }

  private namespaceOf(el: Element): string {
    const colon = el.name.indexOf(':');
    if (colon < 0) return el.attrs.xmlns ?? this.defaultNs();
    const prefix = el.name.slice(0, colon);
    return el.attrs[`xmlns:${prefix}`] ?? this.sax?.resolve(prefix) ?? '';
  }

  private defaultNs(): string {
    return this.sax?.resolve('') ?? NS.client;
  }

  text(text: string): void {
    if (this.failed || this.priming) return;
    const depth = this.stack.length;
    if (depth > 0) {
      this.stack[depth - 1].t(text);
    } else if (!/^\s*$/.test(text)) {
      this.fail('bad-format', 'text between stanzas');
    }
  }
}

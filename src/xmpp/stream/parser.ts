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

export const DEFAULT_MAX_DEPTH = 64;

/** The root a framed stream's frames are parsed under: it makes jabber:client their default namespace. */
const FRAME_ROOT = `<frames xmlns='${NS.client}'>`;

export class StreamParser {
  private sax!: SaxesParser<{ xmlns: true }>;
  private readonly decoder = new StringDecoder('utf8');
  private stack: Element[] = [];
  private failed = false;
  private rootOpen = false;
  private closing = '';
  /** The current chunk, where it starts in the stream (UTF-16 units), and whether it is all ASCII. */
  private chunk = '';
  private chunkPos = 0;
  /** Counted here: saxes' own position is only right inside its callbacks. */
  private nextPos = 0;
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
    const sax = new SaxesParser({ xmlns: true, position: true });
    sax.on('opentag', (tag) => this.open(tag));
    sax.on('closetag', (tag) => this.close(tag));
    sax.on('text', (text) => this.text(text));
    sax.on('cdata', (text) => this.text(text));
    sax.on('doctype', () => this.fail('restricted-xml', 'DOCTYPE is not allowed in XMPP'));
    sax.on('comment', () => this.fail('restricted-xml', 'XML comments are not allowed in XMPP'));
    sax.on('processinginstruction', () => this.fail('restricted-xml', 'processing instructions are not allowed in XMPP'));
    // A DOCTYPE after the prolog is an error to saxes, not a doctype event.
    sax.on('error', (err) => this.fail(/doctype/i.test(err.message) ? 'restricted-xml' : 'not-well-formed', err.message));
    // saxes reports a close tag that does not match before saying so: note the name it read.
    const internal = sax as unknown as { closeTag(): void; name: string };
    const closeTag = internal.closeTag;
    internal.closeTag = () => {
      this.closing = internal.name;
      closeTag.call(sax);
    };
    this.sax = sax;
    this.stack = [];
    this.failed = false;
    this.rootOpen = false;
    this.chunkPos = 0;
    this.nextPos = 0;
    if (this.options.framed) {
      this.sax.write(FRAME_ROOT);
      this.nextPos = FRAME_ROOT.length;
    }
  }

  /** Feeds bytes (or an already decoded frame). */
  write(data: Buffer | string): void {
    if (this.failed) return;
    const chunk = typeof data === 'string' ? data : this.decoder.write(data);
    if (chunk === '') return;
    if (this.options.framed && Buffer.byteLength(chunk) > this.options.maxStanzaSize) {
      return this.fail('policy-violation', `stanza larger than ${this.options.maxStanzaSize} bytes`);
    }
    this.chunk = chunk;
    this.chunkPos = this.nextPos;
    this.nextPos += chunk.length;
    this.chunkAscii = chunk.length === Buffer.byteLength(chunk);
    try {
      this.sax.write(chunk);
    } catch (err) {
      // saxes throws out of write() for some input (an unknown entity) instead of reporting it.
      this.fail('not-well-formed', (err as Error).message);
    }
    if (this.failed) return;
    if (this.stack.length > 0) {
      this.stanzaBytes += this.bytesInChunk(Math.max(this.stanzaStart, this.chunkPos), this.chunkPos + chunk.length);
      if (this.stanzaBytes > this.options.maxStanzaSize) this.fail('policy-violation', `stanza larger than ${this.options.maxStanzaSize} bytes`);
    }
    if (this.options.framed && this.stack.length > 0 && !this.failed) this.fail('not-well-formed', 'a WebSocket frame must hold one complete element');
    this.chunk = '';
  }

  /** Nothing more is parsed (the connection is closing). */
  stop(): void {
    this.failed = true;
    this.stack = [];
  }

  private bytesInChunk(from: number, to: number): number {
    if (this.chunkAscii) return to - from;
    return Buffer.byteLength(this.chunk.slice(from - this.chunkPos, to - this.chunkPos));
  }

  private fail(condition: string, text: string): void {
    if (this.failed) return;
    this.failed = true;
    this.stack = [];
    this.handler.onError(condition, text);
  }

  private open(tag: SaxesTagNS): void {
    if (this.failed) return;
    const depth = this.stack.length;
    // The document root: the stream header (framed: the root this parser wrote itself).
    if (!this.rootOpen) return this.openRoot(tag);
    const attrs: Record<string, string> = {};
    for (const name in tag.attributes) attrs[name] = tag.attributes[name].value;
    if (depth === 0 && this.options.framed && tag.uri === NS.framing) {
      if (tag.local === 'open') return this.handler.onStreamOpen(attrs, { local: tag.local, uri: tag.uri, defaultNs: NS.client });
      if (tag.local === 'close') return this.handler.onStreamClose();
    }
    if (depth >= this.maxDepth) return this.fail('policy-violation', `elements nested deeper than ${this.maxDepth}`);
    const el = new Element(tag.name, attrs);
    if (depth === 0) {
      this.stanzaStart = Math.max(this.chunkPos, this.sax.position - tag.name.length - 2);
      this.stanzaBytes = 0;
    } else {
      this.stack[depth - 1].cnode(el);
    }
    this.stack.push(el);
  }

  private openRoot(tag: SaxesTagNS): void {
    this.rootOpen = true;
    if (this.options.framed) return;
    const attrs: Record<string, string> = {};
    for (const name in tag.attributes) attrs[name] = tag.attributes[name].value;
    this.handler.onStreamOpen(attrs, { local: tag.local, uri: tag.uri, defaultNs: tag.ns[''] });
  }

  private close(tag: SaxesTagNS): void {
    if (this.failed) return;
    if (!tag.isSelfClosing && tag.name !== this.closing) return this.fail('not-well-formed', `</${this.closing}> does not close <${tag.name}>`);
    const el = this.stack.pop();
    if (el === undefined) {
      // The root closed: the client ended its stream (framed: never, the root is ours).
      if (!this.options.framed) this.handler.onStreamClose();
      return;
    }
    if (this.stack.length > 0) return;
    const size =
      this.stanzaBytes + this.bytesInChunk(Math.max(this.stanzaStart, this.chunkPos), Math.min(this.sax.position, this.chunkPos + this.chunk.length));
    if (size > this.options.maxStanzaSize) return this.fail('policy-violation', `stanza larger than ${this.options.maxStanzaSize} bytes`);
    this.handler.onStanza(el, this.namespaceOf(el));
  }

  private namespaceOf(el: Element): string {
    const colon = el.name.indexOf(':');
    if (colon < 0) return el.attrs.xmlns ?? this.defaultNs();
    const prefix = el.name.slice(0, colon);
    return el.attrs[`xmlns:${prefix}`] ?? this.sax.resolve(prefix) ?? '';
  }

  private defaultNs(): string {
    return this.sax.resolve('') ?? NS.client;
  }

  private text(text: string): void {
    if (this.failed) return;
    const depth = this.stack.length;
    if (depth > 0) {
      this.stack[depth - 1].t(text);
    } else if (!/^\s*$/.test(text)) {
      this.fail('bad-format', 'text between stanzas');
    }
  }
}

export function createStreamParser(handler: StreamHandler, options: StreamParserOptions): StreamParser {
  return new StreamParser(handler, options);
}

/**
 * A fast reader for the XML that exports are made of: UTF-8 text without carriage returns,
 * ASCII names, the five predefined entities and character references, comments, and an XML
 * declaration. It gives the events and positions saxes gives for such a document, and it
 * checks the same well-formedness rules. Anything else (a DTD, CDATA, a processing
 * instruction, a non-ASCII name, an unusual namespace declaration, any error at all) is not
 * judged here: it throws `OutsideSubset`, and the caller reads the document again with saxes,
 * which accepts or refuses it with its own message. So this reader never decides what is
 * well-formed differently from saxes; it only decides sooner for the common case.
 */

/** The document leaves the subset: read it with saxes instead. */
export class OutsideSubset extends Error {
  constructor(why: string) {
    super(`outside the XML subset read quickly: ${why}`);
  }
}

/** A start tag: what saxes gives with `xmlns: true` that its readers use, with the attributes' values. */
export interface SubsetTag {
  readonly name: string;
  readonly local: string;
  readonly uri: string;
  /** The namespace declarations of this tag, `''` for the default one. */
  readonly ns: Record<string, string>;
  /** Values by attribute name as written, fresh for each tag: a reader may keep it. */
  readonly attrs: Record<string, string>;
}

export interface SubsetHandlers {
  xmldecl(decl: { readonly encoding?: string }): void;
  opentagstart(): void;
  opentag(tag: SubsetTag): void;
  closetag(): void;
  text(text: string): void;
  comment(): void;
}

const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

/** 1 for a character that may start an ASCII name, 2 for one that may only follow. */
const NAME_CHARS = new Uint8Array(128);
for (let c = 0; c < 128; c++) NAME_CHARS[c] = /[A-Za-z_]/.test(String.fromCharCode(c)) ? 1 : /[-0-9.]/.test(String.fromCharCode(c)) ? 2 : 0;
const isNameStart = (c: number) => c < 128 && NAME_CHARS[c] === 1;
const isNameChar = (c: number) => c < 128 && NAME_CHARS[c] !== 0;

/**
 * The end of the ASCII name at `from` (`from` itself when none starts there): at most one
 * colon, neither first nor last, as namespaces allow. A colon that ends the text may be
 * followed by more of the name in the next chunk: the end of the text is returned then.
 */
function nameEnd(text: string, from: number): number {
  // Never past the end: one charCodeAt out of range makes V8 give up inlining it at that place.
  const n = text.length;
  if (from >= n || !isNameStart(text.charCodeAt(from))) return from;
  let i = from + 1;
  while (i < n && isNameChar(text.charCodeAt(i))) i++;
  if (i >= n || text.charCodeAt(i) !== 0x3a) return i;
  if (i + 1 === n) return n;
  if (!isNameStart(text.charCodeAt(i + 1))) return i;
  i += 2;
  while (i < n && isNameChar(text.charCodeAt(i))) i++;
  return i;
}
const DECL =
  /<\?xml[ \t\n]+version[ \t\n]*=[ \t\n]*(['"])1\.0\1(?:[ \t\n]+encoding[ \t\n]*=[ \t\n]*(['"])([A-Za-z][A-Za-z0-9._-]*)\2)?(?:[ \t\n]+standalone[ \t\n]*=[ \t\n]*(['"])(?:yes|no)\4)?[ \t\n]*\?>/y;
const ENTITY = /&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#x([0-9A-Fa-f]{1,6}));/y;
const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
/** Characters XML 1.0 does not allow (the file decoded as UTF-8 has no lone surrogates), or `]]>`. */
const BAD_TEXT = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|\]\]>/;
const BAD_VALUE = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF<]/;
const BAD_COMMENT = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|--/;
const SPACES = /^[ \t\n]*$/;
/**
 * Past this many characters waiting for their end, a token is saxes' to judge (it has a limit
 * of its own). Room for any text this node stores, a vCard's photo among them (1 MiB at most).
 */
const MAX_PENDING = 2 * 1024 * 1024;

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x09;
const isChar = (n: number) =>
  n === 0x9 || n === 0xa || n === 0xd || (n >= 0x20 && n <= 0xd7ff) || (n >= 0xe000 && n <= 0xfffd) || (n >= 0x10000 && n <= 0x10ffff);

/** A tag's end is not in the text yet. */
const MORE = -1;

/** The namespaces in scope, innermost first: a short list, as documents declare few. */
interface Binding {
  readonly prefix: string;
  readonly uri: string;
  readonly next: Binding | undefined;
}
const ROOT_SCOPE: Binding = { prefix: 'xml', uri: XML_NS, next: undefined };
const NO_NS: Readonly<Record<string, string>> = Object.freeze({});
/** The one name a plain object does not take as a key. */
const PROTO = '__proto__';

function resolve(scope: Binding | undefined, prefix: string): string | undefined {
  for (let b = scope; b !== undefined; b = b.next) if (b.prefix === prefix) return b.uri;
  return undefined;
}

export class SubsetParser {
  /** The line saxes would report at the event being handled. */
  line = 1;
  private text = '';
  /** Where `text` starts in the document. */
  private base = 0;
  /** `text` up to here is parsed. */
  private at = 0;
  /** The next newline not counted in `line` yet, or -1 when `text` has none. */
  private newline = -1;
  /** Where the event being handled ends, or the end of the text between writes. */
  private event = 0;
  /** No '<' before here: text waiting for its end is not searched again from its start. */
  private searched = 0;
  /** The names of the open elements, and beside them the namespaces in scope in each. */
  private readonly open: string[] = [];
  private readonly scopes: Binding[] = [];
  /** Some markup has been read: spaces are text from here on. */
  private begun = false;
  private sawRoot = false;

  constructor(private readonly on: SubsetHandlers) {}

  /** The position saxes would report: an index into the document as a JavaScript string, past the last character read. */
  get position(): number {
    return this.base + this.event;
  }

  write(chunk: string): void {
    if (chunk.indexOf('\r') >= 0) throw new OutsideSubset('a carriage return');
    this.lineTo(this.at); // the lines of what is dropped are counted before it goes
    const tail = this.text.length - this.at;
    this.text = this.at === 0 ? this.text + chunk : this.text.slice(this.at) + chunk;
    this.base += this.at;
    // The newline to count next: the one already found, or the first of the new chunk.
    this.newline = this.newline >= 0 ? this.newline - this.at : this.text.indexOf('\n', tail);
    this.event -= this.at;
    this.searched = Math.max(0, this.searched - this.at);
    this.at = 0;
    this.parse(false);
    this.event = this.text.length;
    if (this.text.length - this.at > MAX_PENDING) throw new OutsideSubset('a long token');
  }

  close(): void {
    // What is left is text, or a token cut short. saxes refuses an unfinished document before it
    // gives the text at its end: so is it left here.
    if (this.open.length > 0 || !this.sawRoot) throw new OutsideSubset('an incomplete document');
    this.parse(true);
  }

  /** Sets `line` to the line of the character before `end` (saxes counts a character as it reads it). */
  private lineTo(end: number): void {
    while (this.newline >= 0 && this.newline < end) {
      this.line++;
      this.newline = this.text.indexOf('\n', this.newline + 1);
    }
  }

  private parse(final: boolean): void {
    const { text } = this;
    for (;;) {
      const lt = text.indexOf('<', Math.max(this.at, this.searched));
      if (lt < 0) {
        // Text runs to the end of what is here: it is handed on when its end is known.
        this.searched = text.length;
        if (final) this.chars(text.length);
        return;
      }
      if (lt > this.at) this.chars(lt);
      const end = this.markup(lt, final);
      if (end === MORE) return;
      this.at = end;
      this.begun = true;
    }
  }

  /** The character data from `at` to `end`. */
  private chars(end: number): void {
    const raw = this.text.slice(this.at, end);
    this.at = end;
    if (BAD_TEXT.test(raw)) throw new OutsideSubset('a character XML does not allow');
    if (this.open.length === 0 && !SPACES.test(raw)) throw new OutsideSubset('text outside the root');
    // saxes hands on all text but the spaces that open the document, and gives it once it has
    // read the '<' after it (or come to the end).
    if (raw === '' || (this.open.length === 0 && !this.begun)) return;
    this.lineTo(end);
    this.event = end < this.text.length ? end + 1 : end;
    this.on.text(raw.indexOf('&') < 0 ? raw : decode(raw));
  }

  /** The markup starting at `lt`: the index past it, or MORE. */
  private markup(lt: number, final: boolean): number {
    const { text } = this;
    const next = lt + 1 < text.length ? text.charCodeAt(lt + 1) : -1;
    if (next === 0x2f) return this.closeTag(lt, final);
    if (next === 0x21) return this.comment(lt, final);
    if (next === 0x3f) return this.declaration(lt, final);
    return this.openTag(lt, final);
  }

  private need(final: boolean): number {
    if (final) throw new OutsideSubset('an incomplete document');
    return MORE;
  }

  private declaration(lt: number, final: boolean): number {
    const close = this.text.indexOf('?>', lt);
    if (close < 0) return this.need(final);
    if (this.base + lt !== 0) throw new OutsideSubset('a processing instruction');
    DECL.lastIndex = lt;
    const m = DECL.exec(this.text);
    if (!m || DECL.lastIndex !== close + 2) throw new OutsideSubset('an XML declaration of another form');
    this.lineTo(close + 2);
    this.event = close + 2;
    this.on.xmldecl({ encoding: m[3] });
    return close + 2;
  }

  private comment(lt: number, final: boolean): number {
    const { text } = this;
    if (text.length < lt + 4) return this.need(final);
    if (!text.startsWith('<!--', lt)) throw new OutsideSubset('a DTD or CDATA');
    const close = text.indexOf('-->', lt + 4);
    if (close < 0) return this.need(final);
    if (BAD_COMMENT.test(text.slice(lt + 4, close)) || text.charCodeAt(close - 1) === 0x2d) throw new OutsideSubset('a comment XML does not allow');
    this.lineTo(close + 3);
    // saxes gives a comment before it reads the '>' that ends it.
    this.event = close + 2;
    this.on.comment();
    return close + 3;
  }

  private closeTag(lt: number, final: boolean): number {
    const { text } = this;
    const gt = text.indexOf('>', lt);
    if (gt < 0) return this.need(final);
    const top = this.open[this.open.length - 1];
    const end = lt + 2 + (top?.length ?? 0);
    if (top === undefined || !text.startsWith(top, lt + 2) || isNameChar(text.charCodeAt(end)) || text.charCodeAt(end) === 0x3a) {
      throw new OutsideSubset('a close tag that does not match');
    }
    for (let i = end; i < gt; i++) if (!isSpace(text.charCodeAt(i))) throw new OutsideSubset('a malformed close tag');
    this.lineTo(gt + 1);
    this.event = gt + 1;
    this.open.pop();
    this.scopes.pop();
    this.on.closetag();
    return gt + 1;
  }

  private openTag(lt: number, final: boolean): number {
    const { text } = this;
    let i = nameEnd(text, lt + 1);
    if (i >= text.length) return this.need(final);
    if (i === lt + 1) throw new OutsideSubset('a name that is not ASCII');
    const name = text.slice(lt + 1, i);
    // saxes reports the start of a tag once it has read the character after the name.
    const startEnd = i + 1;
    const attrs: Record<string, string> = {};
    let ns: Record<string, string> | undefined;
    let prefixed = 0;
    for (;;) {
      const spaced = i;
      while (i < text.length && isSpace(text.charCodeAt(i))) i++;
      if (i >= text.length) return this.need(final);
      const c = text.charCodeAt(i);
      if (c === 0x3e || c === 0x2f) break;
      if (i === spaced) throw new OutsideSubset('attributes without space between them');
      const nameAt = i;
      i = nameEnd(text, i);
      if (i >= text.length) return this.need(final);
      if (i === nameAt) throw new OutsideSubset('an attribute name that is not ASCII');
      const attr = text.slice(nameAt, i);
      while (i < text.length && isSpace(text.charCodeAt(i))) i++;
      if (i >= text.length) return this.need(final);
      if (text.charCodeAt(i) !== 0x3d) throw new OutsideSubset('an attribute without a value');
      i++;
      while (i < text.length && isSpace(text.charCodeAt(i))) i++;
      if (i >= text.length) return this.need(final);
      const q = text[i];
      if (q !== "'" && q !== '"') throw new OutsideSubset('an unquoted attribute value');
      const close = text.indexOf(q, i + 1);
      if (close < 0) return this.need(final);
      const value = attributeValue(text.slice(i + 1, close));
      i = close + 1;
      if (attr === PROTO || Object.hasOwn(attrs, attr)) throw new OutsideSubset('a repeated attribute, or one named __proto__');
      attrs[attr] = value;
      if (attr === 'xmlns' || attr.startsWith('xmlns:')) {
        const prefix = attr === 'xmlns' ? '' : attr.slice(6);
        if (value === '' || value !== value.trim() || value === XML_NS || value === XMLNS_NS || prefix === 'xml' || prefix === 'xmlns' || prefix === PROTO) {
          throw new OutsideSubset('an unusual namespace declaration');
        }
        (ns ??= {})[prefix] = value;
      } else if (attr.includes(':')) prefixed++;
    }
    let selfClosing = false;
    if (text.charCodeAt(i) === 0x2f) {
      if (i + 1 >= text.length) return this.need(final);
      if (text.charCodeAt(i + 1) !== 0x3e) throw new OutsideSubset('a slash inside a tag');
      selfClosing = true;
      i++;
    }
    // No element open after one was: the root is closed.
    if (this.open.length === 0 && this.sawRoot) throw new OutsideSubset('a second root');
    let scope = this.scopes[this.scopes.length - 1] ?? ROOT_SCOPE;
    if (ns !== undefined) for (const prefix in ns) scope = { prefix, uri: ns[prefix], next: scope };
    const colon = name.indexOf(':');
    const prefix = colon < 0 ? '' : name.slice(0, colon);
    const uri = resolve(scope, prefix);
    if (colon >= 0 && (prefix === 'xml' || prefix === 'xmlns' || uri === undefined)) throw new OutsideSubset('an element prefix');
    if (prefixed > 0) checkPrefixed(attrs, scope);

    this.sawRoot = true;
    this.lineTo(startEnd);
    this.event = startEnd;
    this.on.opentagstart();
    this.lineTo(i + 1);
    this.event = i + 1;
    this.on.opentag({ name, local: colon < 0 ? name : name.slice(colon + 1), uri: uri ?? '', ns: ns ?? NO_NS, attrs });
    if (selfClosing) this.on.closetag();
    else {
      this.open.push(name);
      this.scopes.push(scope);
    }
    return i + 1;
  }
}

/** Prefixed attributes must be bound, and two may not name the same attribute. */
function checkPrefixed(attrs: Record<string, unknown>, scope: Binding): void {
  const seen = new Set<string>();
  for (const attr in attrs) {
    const colon = attr.indexOf(':');
    if (colon < 0 || attr.startsWith('xmlns:')) continue;
    const uri = resolve(scope, attr.slice(0, colon));
    if (uri === undefined) throw new OutsideSubset('an unbound attribute prefix');
    const key = `{${uri}}${attr.slice(colon + 1)}`;
    if (seen.has(key)) throw new OutsideSubset('a repeated attribute');
    seen.add(key);
  }
}

/** An attribute value as saxes gives it: tabs and newlines as spaces, then references replaced. */
function attributeValue(raw: string): string {
  if (BAD_VALUE.test(raw)) throw new OutsideSubset('a character an attribute value does not allow');
  const spaced = raw.indexOf('\n') < 0 && raw.indexOf('\t') < 0 ? raw : raw.replace(/[\t\n]/g, ' ');
  return spaced.indexOf('&') < 0 ? spaced : decode(spaced);
}

/** Text with its references replaced; a reference other than the predefined ones leaves the subset. */
function decode(raw: string): string {
  let out = '';
  let from = 0;
  for (let amp = raw.indexOf('&'); amp >= 0; amp = raw.indexOf('&', from)) {
    ENTITY.lastIndex = amp;
    const m = ENTITY.exec(raw);
    if (!m) throw new OutsideSubset('an entity');
    let char: string;
    if (m[1] !== undefined) char = ENTITIES[m[1]];
    else {
      const code = m[2] !== undefined ? parseInt(m[2], 10) : parseInt(m[3], 16);
      if (!isChar(code)) throw new OutsideSubset('a reference to a character XML does not allow');
      char = String.fromCodePoint(code);
    }
    out += raw.slice(from, amp) + char;
    from = ENTITY.lastIndex;
  }
  return out + raw.slice(from);
}

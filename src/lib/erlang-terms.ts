/**
 * Erlang terms as `file:consult/1` reads them: the format of ejabberd's roster templates and of
 * its old ejabberd.cfg. Only literal terms: no variables, operators (but a sign), funs, records
 * or macros, which a data file has no business holding.
 */

interface Located {
  /** Line of the term's first character, from 1. */
  readonly line: number;
}

export type Term =
  | (Located & { readonly type: 'atom'; readonly value: string })
  | (Located & { readonly type: 'integer'; readonly value: number })
  | (Located & { readonly type: 'float'; readonly value: number })
  /** `"text"`: a char list in Erlang, kept apart from other lists so that it reads as text. */
  | (Located & { readonly type: 'string'; readonly value: string })
  /** `<<...>>`; `value` is the bytes read as UTF-8. */
  | (Located & { readonly type: 'binary'; readonly value: string; readonly bytes: Buffer })
  | (Located & { readonly type: 'tuple'; readonly items: readonly Term[] })
  /** `[a, b]`, or `[a, b | tail]` when the tail is not a list. */
  | (Located & { readonly type: 'list'; readonly items: readonly Term[]; readonly tail?: Term })
  | (Located & { readonly type: 'map'; readonly entries: readonly (readonly [Term, Term])[] });

export class ErlangSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${reason}`);
    this.name = 'ErlangSyntaxError';
  }
}

/** Deeper nesting than this is refused rather than allowed to overflow the stack. */
const MAX_DEPTH = 512;

type Token =
  | { kind: 'punct'; text: string; line: number; column: number }
  | { kind: 'atom'; text: string; line: number; column: number }
  | { kind: 'integer'; value: number; text: string; line: number; column: number }
  | { kind: 'float'; value: number; text: string; line: number; column: number }
  | { kind: 'string'; value: string; text: string; line: number; column: number }
  | { kind: 'var'; text: string; line: number; column: number }
  | { kind: 'end'; text: string; line: number; column: number }
  | { kind: 'eof'; text: string; line: number; column: number };

const ATOM_START = /[a-z\u00df-\u00f6\u00f8-\u00ff]/;
const NAME_CHAR = /[A-Za-z0-9_@\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff]/;
const VAR_START = /[A-Z_\u00c0-\u00d6\u00d8-\u00de]/;
const PUNCT = ['<<', '>>', '=>', '#{', '{', '}', '[', ']', '(', ')', ',', '|', '/', ':', '-', '+'];
const ESCAPES: Record<string, number> = { b: 8, d: 127, e: 27, f: 12, n: 10, r: 13, s: 32, t: 9, v: 11 };

/** Splits the text into tokens; positions count code points, lines and columns from 1. */
function tokenize(text: string): Token[] {
  const src = Array.from(text.replace(/^\uFEFF/, ''));
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let column = 1;
  const fail = (reason: string, l = line, c = column): never => {
    throw new ErlangSyntaxError(reason, l, c);
  };
  const advance = (n = 1) => {
    for (let k = 0; k < n; k++) {
      if (src[i] === '\n') {
        line++;
        column = 1;
      } else column++;
      i++;
    }
  };
  const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

  /** One escape sequence after a backslash inside a string, quoted atom or char literal. */
  const escape = (): number => {
    advance(); // the backslash
    const c = src[i];
    if (c === undefined) return fail('a backslash at the end of the file');
    if (c >= '0' && c <= '7') {
      let digits = '';
      while (digits.length < 3 && src[i] >= '0' && src[i] <= '7') {
        digits += src[i];
        advance();
      }
      return parseInt(digits, 8);
    }
    if (c === 'x') {
      advance();
      let digits = '';
      if (src[i] === '{') {
        advance();
        while (src[i] !== undefined && /[0-9a-fA-F]/.test(src[i])) {
          digits += src[i];
          advance();
        }
        if (src[i] !== '}' || digits === '') fail("a \\x{...} escape needs hexadecimal digits and a closing '}'");
        advance();
      } else {
        for (let k = 0; k < 2 && src[i] !== undefined && /[0-9a-fA-F]/.test(src[i]); k++) {
          digits += src[i];
          advance();
        }
        if (digits.length !== 2) fail('a \\x escape needs two hexadecimal digits');
      }
      const code = parseInt(digits, 16);
      if (code > 0x10ffff) fail(`\\x{${digits}} is beyond the last Unicode character`);
      return code;
    }
    if (c === '^') {
      advance();
      const ctl = src[i];
      if (ctl === undefined) return fail('a \\^ escape at the end of the file');
      advance();
      return ctl.codePointAt(0)! % 32;
    }
    advance();
    return ESCAPES[c] ?? c.codePointAt(0)!;
  };

  /** The characters up to `quote`; an unterminated one is reported where it started. */
  const quoted = (quote: string, what: string): string => {
    const l = line;
    const col = column;
    advance();
    let out = '';
    for (;;) {
      const c = src[i];
      if (c === undefined) return fail(`${what} that starts here is never closed`, l, col);
      if (c === quote) break;
      if (c === '\\') out += String.fromCodePoint(escape());
      else {
        out += c;
        advance();
      }
    }
    advance();
    return out;
  };

  const isDigitIn = (c: string | undefined, radix: number) => c !== undefined && /[0-9a-zA-Z]/.test(c) && parseInt(c, 36) < radix;
  /** Digits of a radix; an underscore between two digits (`1_000`) separates them, as in OTP 23+. */
  const digitsIn = (radix: number): string => {
    let out = '';
    for (;;) {
      if (isDigitIn(src[i], radix)) out += src[i];
      else if (!(src[i] === '_' && out !== '' && isDigitIn(src[i + 1], radix))) return out;
      advance();
    }
  };

  while (i < src.length) {
    const c = src[i];
    const start = { line, column };
    if (c === '%') {
      while (i < src.length && src[i] !== '\n') advance();
    } else if (/\s/.test(c)) {
      advance();
    } else if (c === '.' && (src[i + 1] === undefined || /\s|%/.test(src[i + 1]))) {
      tokens.push({ kind: 'end', text: '.', ...start });
      advance();
    } else if (isDigit(c)) {
      let digits = digitsIn(10);
      let kind: 'integer' | 'float' = 'integer';
      let value: number;
      if (src[i] === '#') {
        const radix = Number(digits);
        if (radix < 2 || radix > 36) fail(`${digits}# is not a radix between 2 and 36`, start.line, start.column);
        advance();
        const body = digitsIn(radix);
        if (body === '') fail(`${digits}# needs digits in base ${radix}`);
        value = parseInt(body, radix);
        digits = `${digits}#${body}`;
      } else if (src[i] === '.' && isDigit(src[i + 1])) {
        kind = 'float';
        advance();
        digits += `.${digitsIn(10)}`;
        if (src[i] === 'e' || src[i] === 'E') {
          let exp = 'e';
          advance();
          if (src[i] === '-' || src[i] === '+') {
            exp += src[i];
            advance();
          }
          const e = digitsIn(10);
          if (e === '') fail('a float exponent needs digits');
          digits += exp + e;
        }
        value = Number(digits);
      } else value = Number(digits);
      if (kind === 'integer' && !Number.isSafeInteger(value))
        fail(`the integer ${digits} is too large (the limit is ${Number.MAX_SAFE_INTEGER})`, start.line, start.column);
      if (src[i] !== undefined && NAME_CHAR.test(src[i])) fail(`unexpected '${src[i]}' after the number ${digits}`);
      tokens.push({ kind, value, text: digits, ...start });
    } else if (c === '$') {
      advance();
      if (src[i] === undefined) fail('a $ character literal at the end of the file', start.line, start.column);
      let code: number;
      if (src[i] === '\\') code = escape();
      else {
        code = src[i].codePointAt(0)!;
        advance();
      }
      tokens.push({ kind: 'integer', value: code, text: `$${String.fromCodePoint(code)}`, ...start });
    } else if (c === '"') {
      const value = quoted('"', 'the string');
      tokens.push({ kind: 'string', value, text: JSON.stringify(value), ...start });
    } else if (c === "'") {
      tokens.push({ kind: 'atom', text: quoted("'", 'the quoted atom'), ...start });
    } else if (ATOM_START.test(c) || VAR_START.test(c)) {
      let name = '';
      while (src[i] !== undefined && NAME_CHAR.test(src[i])) {
        name += src[i];
        advance();
      }
      tokens.push({ kind: ATOM_START.test(c) ? 'atom' : 'var', text: name, ...start });
    } else {
      const two = c + (src[i + 1] ?? '');
      const p = PUNCT.find((x) => x === two || x === c);
      if (c === '.') fail("a '.' that ends a term must be followed by a space, a new line or the end of the file");
      if (!p) fail(`unexpected character '${c}'`);
      tokens.push({ kind: 'punct', text: p!, ...start });
      advance(p!.length);
    }
  }
  tokens.push({ kind: 'eof', text: 'the end of the file', line, column });
  return tokens;
}

/**
 * Parses every term of the text, each ending with a dot (`{a, 1}. [b].`), as `file:consult`
 * does. Throws ErlangSyntaxError with the line and column of the first problem.
 */
export function parseErlangTerms(text: string): Term[] {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const describe = (t: Token) => (t.kind === 'eof' ? t.text : t.kind === 'string' ? `the string ${t.text}` : `'${t.text}'`);
  const fail = (reason: string, t: Token = peek()): never => {
    throw new ErlangSyntaxError(reason, t.line, t.column);
  };
  const isPunct = (text: string, t: Token = peek()) => t.kind === 'punct' && t.text === text;
  const expect = (text: string, context: string) => {
    if (!isPunct(text)) fail(`expected '${text}' ${context}, found ${describe(peek())}`);
    pos++;
  };

  /** Items up to `close`, separated by commas; `[` also allows a `| Tail`. */
  function sequence<T>(close: string, item: () => T, opened: Token, onBar?: () => void): T[] {
    const items: T[] = [];
    if (isPunct(close)) {
      pos++;
      return items;
    }
    for (;;) {
      items.push(item());
      if (isPunct(',')) {
        pos++;
        continue;
      }
      if (onBar && isPunct('|')) {
        pos++;
        onBar();
      }
      if (isPunct(close)) {
        pos++;
        return items;
      }
      const t = peek();
      if (t.kind === 'eof') fail(`'${opened.text}' opened on line ${opened.line} is never closed`, opened);
      fail(`expected ',' or '${close}', found ${describe(t)}`);
    }
  }

  /**
   * Text segments are stored as UTF-8 whether or not they say `/utf8`: Erlang would cut each
   * character to its low byte, which is never what a person writing `<<"José">>` meant.
   */
  function binary(opened: Token, line: number): Term {
    const chunks: Buffer[] = [];
    sequence(
      '>>',
      () => {
        const t = peek();
        if (t.kind === 'string') {
          pos++;
          if (isPunct('/')) {
            pos++;
            const spec = peek();
            if (spec.kind !== 'atom' || !['utf8', 'binary'].includes(spec.text)) fail(`a text segment of a binary takes /utf8, found ${describe(spec)}`);
            pos++;
          }
          chunks.push(Buffer.from(t.value, 'utf8'));
        } else if (t.kind === 'integer') {
          pos++;
          if (t.value > 255) fail(`the byte ${t.text} of a binary is larger than 255`, t);
          chunks.push(Buffer.from([t.value]));
        } else fail(`a binary holds strings and bytes (0 to 255), found ${describe(t)}`);
      },
      opened,
    );
    const buf = Buffer.concat(chunks);
    return { type: 'binary', value: buf.toString('utf8'), bytes: buf, line };
  }

  function term(depth: number): Term {
    if (depth > MAX_DEPTH) fail(`terms nested deeper than ${MAX_DEPTH} levels`);
    const t = peek();
    const line = t.line;
    pos++;
    switch (t.kind) {
      case 'atom':
        return { type: 'atom', value: t.text, line };
      case 'integer':
        return { type: 'integer', value: t.value, line };
      case 'float':
        return { type: 'float', value: t.value, line };
      case 'string': {
        let value = t.value;
        // Adjacent string literals are one string, as in Erlang source.
        while (peek().kind === 'string') value += (tokens[pos++] as { value: string }).value;
        return { type: 'string', value, line };
      }
      case 'var':
        return fail(`'${t.text}' is a variable: a data file holds only literal terms (quote it, '${t.text}', for an atom)`, t);
      case 'end':
        return fail("expected a term, found '.'", t);
      case 'eof':
        return fail('expected a term, found the end of the file', t);
      case 'punct':
        break;
    }
    switch (t.text) {
      case '-':
      case '+': {
        const n = peek();
        if (n.kind !== 'integer' && n.kind !== 'float') return fail(`expected a number after '${t.text}', found ${describe(n)}`);
        pos++;
        const value = t.text === '-' ? -n.value : n.value;
        return n.kind === 'integer' ? { type: 'integer', value, line } : { type: 'float', value, line };
      }
      case '{':
        return { type: 'tuple', items: sequence('}', () => term(depth + 1), t), line };
      case '[': {
        let tail: Term | undefined;
        const items = sequence(
          ']',
          () => term(depth + 1),
          t,
          () => {
            tail = term(depth + 1);
            if (!isPunct(']')) fail(`expected ']' after the tail of the list, found ${describe(peek())}`);
          },
        );
        if (tail?.type === 'list' && tail.tail === undefined) return { type: 'list', items: [...items, ...tail.items], line };
        if (tail?.type === 'string') {
          const chars = Array.from(tail.value, (ch): Term => ({ type: 'integer', value: ch.codePointAt(0)!, line: tail!.line }));
          return { type: 'list', items: [...items, ...chars], line };
        }
        return tail === undefined ? { type: 'list', items, line } : { type: 'list', items, tail, line };
      }
      case '<<':
        return binary(t, line);
      case '#{': {
        const entries = sequence(
          '}',
          () => {
            const k = term(depth + 1);
            expect('=>', 'between a key and its value in a map');
            return [k, term(depth + 1)] as const;
          },
          t,
        );
        return { type: 'map', entries, line };
      }
      default:
        return fail(`expected a term, found ${describe(t)}`, t);
    }
  }

  const terms: Term[] = [];
  while (peek().kind !== 'eof') {
    const first = peek();
    terms.push(term(0));
    const after = peek();
    if (after.kind === 'end') pos++;
    else if (after.kind === 'eof') fail(`the term that starts on line ${first.line} does not end with '.'`, after);
    else fail(`expected '.' after the term that starts on line ${first.line}, found ${describe(after)}`, after);
  }
  return terms;
}

/**
 * The text a term stands for where Erlang code expects text: a string, binary, atom, or a list
 * of character codes (what `"abc"` really is). Anything else has no text: `undefined`.
 */
export function termText(term: Term): string | undefined {
  switch (term.type) {
    case 'string':
    case 'binary':
    case 'atom':
      return term.value;
    case 'list':
      if (term.tail !== undefined) return undefined;
      if (!term.items.every((x) => x.type === 'integer' && x.value >= 0 && x.value <= 0x10ffff)) return undefined;
      return String.fromCodePoint(...term.items.map((x) => (x as { value: number }).value));
    default:
      return undefined;
  }
}

const PLAIN_ATOM = /^[a-z][A-Za-z0-9_@]*$/;

/** The term in Erlang syntax, for messages: `{<<"bob">>,"example.org",workers}`. */
export function formatTerm(term: Term): string {
  switch (term.type) {
    case 'atom':
      return PLAIN_ATOM.test(term.value) ? term.value : `'${escapeText(term.value, "'")}'`;
    case 'integer':
      return String(term.value);
    case 'float':
      return Number.isInteger(term.value) ? term.value.toFixed(1) : String(term.value);
    case 'string':
      return `"${escapeText(term.value, '"')}"`;
    case 'binary':
      return `<<"${escapeText(term.value, '"')}">>`;
    case 'tuple':
      return `{${term.items.map(formatTerm).join(',')}}`;
    case 'list':
      return `[${term.items.map(formatTerm).join(',')}${term.tail ? `|${formatTerm(term.tail)}` : ''}]`;
    case 'map':
      return `#{${term.entries.map(([k, v]) => `${formatTerm(k)} => ${formatTerm(v)}`).join(',')}}`;
  }
}

function escapeText(text: string, quote: string): string {
  return text.replace(/[\\"'\n\t\r\u0000-\u001f]/g, (c) => {
    if (c === '\\') return '\\\\';
    if (c === '"' || c === "'") return c === quote ? `\\${c}` : c;
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    return `\\x{${c.charCodeAt(0).toString(16)}}`;
  });
}

/**
 * Types as Erlang terms, printed the way `io_lib:format("~p", [Term])` prints them.
 *
 * The API reference shows every argument and result type as ejabberd's generator printed it,
 * e.g. `{res,rescode}` or a multi-line `{contacts,{list,{contact,{tuple,[...]}}}}`. Matching
 * those bytes means porting the layout rules of OTP's `io_lib_pretty` (line width 80, starting
 * at column 1), restricted to the only terms types produce: atoms, tuples and proper lists.
 */

import type { Field, Type } from './types';

/** An Erlang term as types produce it: an atom, a tuple or a proper list. */
export type Term = string | { readonly tuple: readonly Term[] } | { readonly list: readonly Term[] };

/** The term ejabberd declares for a type: `integer`, `{list,{Name,T}}`, `{tuple,[{N,T},...]}`. */
export function typeTerm(type: Type): Term {
  switch (type.kind) {
    case 'list':
      return { tuple: ['list', fieldTerm(type.elem)] };
    case 'tuple':
      return { tuple: ['tuple', { list: type.fields.map(fieldTerm) }] };
    default:
      return type.kind;
  }
}

/** The term ejabberd declares for a named type: `{Name, Type}`. */
export function fieldTerm(field: Field): Term {
  return { tuple: [field.name, typeTerm(field.type)] };
}

/** `~p` of a field's `{Name, Type}`, e.g. `{res,rescode}`; long terms span several lines. */
export function prettyField(field: Field): string {
  return prettyTerm(fieldTerm(field));
}

/** `~p` of a bare type, as the argument lines of the reference show it, e.g. `binary`. */
export function prettyType(type: Type): string {
  return prettyTerm(typeTerm(type));
}

/** `~p` of any term made of atoms, tuples and lists, printed from column 1 in 80 columns. */
export function prettyTerm(term: Term): string {
  const root = measure(term);
  // `~p` sets no character budget, so the budget M that bounds every line is the term's width.
  const m = root.len;
  if (root.text !== undefined || root.len < LINE - 1) return write(root);
  // io_lib_pretty first tries aligning tagged tuples after their tag (-1), then a fixed
  // indent of 4, and falls back to 1 when neither keeps the indentation in the left half.
  const tind = [-1, 4].find((t) => fitsIndent(root, m, t)) ?? 1;
  return new Layout(m, tind).pp(root, 1, '', 0, 0);
}

/** The `~p` line width. */
const LINE = 80;

/** A measured term: `len` is its one-line width; leaves (atoms, `[]`, `{}`) carry `text`. */
interface Node {
  readonly len: number;
  readonly text?: string;
  readonly tagged: boolean;
  readonly open: string;
  readonly close: string;
  readonly items: readonly Node[];
}

function measure(term: Term): Node {
  if (typeof term === 'string') {
    const text = writeAtom(term);
    return { len: text.length, text, tagged: false, open: '', close: '', items: [] };
  }
  const isList = 'list' in term;
  const elements: readonly Term[] = 'list' in term ? term.list : term.tuple;
  const items = elements.map(measure);
  const [open, close] = isList ? ['[', ']'] : ['{', '}'];
  if (items.length === 0) return { len: 2, text: open + close, tagged: false, open, close, items };
  const len = 2 + items.reduce((sum, n) => sum + n.len, 0) + items.length - 1;
  // A "tagged" tuple starts with an atom; `[]` and `{}` are leaves but not atoms.
  const tagged = !isList && items.length > 1 && typeof elements[0] === 'string';
  return { len, tagged, open, close, items };
}

const RESERVED = new Set(
  'after and andalso band begin bnot bor bsl bsr bxor case catch cond div end fun if let not of or orelse receive rem try when xor'.split(' '),
);

function writeAtom(name: string): string {
  if (/^[a-z][A-Za-z0-9_@]*$/.test(name) && !RESERVED.has(name)) return name;
  return `'${name.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

function write(n: Node): string {
  return n.text ?? n.open + n.items.map(write).join(',') + n.close;
}

const lastDepth = (rest: readonly Node[], ld: number): number => (rest.length > 0 ? 0 : ld + 1);

/** Whether a leaf may follow the previous element on the same line (pp_tail's condition). */
function leafFitsAfter(e: Node, col: number, m: number, ld1: number, w: number): boolean {
  if (e.text === undefined) return false;
  const elen = 1 + e.len;
  return ld1 === 0 ? elen + 1 < LINE - col && w + elen + 1 <= m : elen < LINE - col - ld1 && w + elen + ld1 <= m;
}

const fitsFlat = (n: Node, col: number, m: number, ld: number, w: number): boolean => n.len < LINE - col - ld && n.len + w + ld <= m;

/** The layout pass; `m` is the whole term's width and `tind` the tagged-tuple indent mode. */
class Layout {
  constructor(
    private readonly m: number,
    private readonly tind: number,
  ) {}

  pp(n: Node, col: number, ind: string, ld: number, w: number): string {
    if (n.text !== undefined || fitsFlat(n, col, this.m, ld, w)) return write(n);
    if (n.tagged) return n.open + this.tagTuple(n.items, col, ind, ld, w + 1) + n.close;
    return n.open + this.list(n.items, col + 1, ind + ' ', ld, w + 1) + n.close;
  }

  private tagTuple(items: readonly Node[], col: number, ind: string, ld: number, w: number): string {
    const [tag, ...rest] = items as [Node, ...Node[]];
    const tagInd = tag.len + 2;
    if (this.tind > 0 && tagInd > this.tind) {
      return tag.text + this.tail(rest, col + this.tind, col + tagInd, ind + ' '.repeat(this.tind), ld, w + tag.len);
    }
    return `${tag.text},` + this.list(rest, col + tagInd, ind + ' '.repeat(tagInd), ld, w + tag.len + 1);
  }

  private list(items: readonly Node[], col0: number, ind: string, ld: number, w: number): string {
    const [first, ...rest] = items as [Node, ...Node[]];
    const [text, width] = this.element(first, col0, ind, lastDepth(rest, ld), w);
    return text + this.tail(rest, col0, col0 + width, ind, ld, w + width);
  }

  private tail(items: readonly Node[], col0: number, col: number, ind: string, ld: number, w: number): string {
    let out = '';
    for (let i = 0; i < items.length; i++) {
      const e = items[i]!;
      const ld1 = lastDepth(items.slice(i + 1), ld);
      if (leafFitsAfter(e, col, this.m, ld1, w)) {
        out += `,${e.text}`;
        col += 1 + e.len;
        w += 1 + e.len;
      } else {
        const [text, width] = this.element(e, col0, ind, ld1, 0);
        out += `,\n${ind}${text}`;
        col = col0 + width;
        w = width;
      }
    }
    return out;
  }

  /** A leaf that fits keeps its width; anything else counts as a full line, forcing a break. */
  private element(e: Node, col: number, ind: string, ld: number, w: number): [string, number] {
    if (e.text !== undefined && fitsFlat(e, col, this.m, ld, w)) return [e.text, e.len];
    return [this.pp(e, col, ind, ld, w), LINE];
  }
}

/**
 * io_lib_pretty's dry run (`cind`): the mode fails when a tagged tuple would push its
 * elements past the middle of the line, unless the whole term still fits after them.
 */
function fitsIndent(root: Node, m: number, tind: number): boolean {
  const half = Math.floor(LINE / 2);

  const node = (n: Node, col: number, ld: number, w: number): boolean => {
    if (n.text !== undefined || fitsFlat(n, col, m, ld, w)) return true;
    if (!n.tagged) return list(n.items, col + 1, ld, w + 1);
    const [tag, ...rest] = n.items as [Node, ...Node[]];
    const tagInd = tag.len + 2;
    const tcol = col + tagInd;
    if (tind > 0 && tagInd > tind) {
      const col1 = col + tind;
      return (m + col1 <= LINE || col1 <= half) && tail(rest, col1, tcol, ld, w + 1 + tag.len);
    }
    return (m + tcol < LINE || tcol < half) && list(rest, tcol, ld, w + 1 + tag.len + 1);
  };

  const element = (e: Node, col: number, ld: number, w: number): number | undefined => {
    if (e.text !== undefined && fitsFlat(e, col, m, ld, w)) return e.len;
    return node(e, col, ld, w) ? LINE : undefined;
  };

  const list = (items: readonly Node[], col0: number, ld: number, w: number): boolean => {
    const [first, ...rest] = items as [Node, ...Node[]];
    const width = element(first, col0, lastDepth(rest, ld), w);
    return width !== undefined && tail(rest, col0, col0 + width, ld, w + width);
  };

  const tail = (items: readonly Node[], col0: number, col: number, ld: number, w: number): boolean => {
    for (let i = 0; i < items.length; i++) {
      const e = items[i]!;
      const ld1 = lastDepth(items.slice(i + 1), ld);
      if (leafFitsAfter(e, col, m, ld1, w)) {
        col += 1 + e.len;
        w += 1 + e.len;
        continue;
      }
      const width = element(e, col0, ld1, 0);
      if (width === undefined) return false;
      col = col0 + width;
      w = width;
    }
    return true;
  };

  return node(root, 1, 0, 0);
}

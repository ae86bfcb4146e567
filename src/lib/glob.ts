/** Shell-style globs: `*`, `?` and `[...]` (with `!` or `^` to negate a class). */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else if (ch === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += `[${glob
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * A glob for matching data rather than command names: `*`, `?` (one character, astral ones
 * included) and `[...]` classes (`[!...]` or `[^...]` negate; a `]` right after the opening
 * bracket is literal, as in the shell). A `[` without its `]`, or a class with a reversed range,
 * throws a SyntaxError that says what is wrong, where `globToRegExp` would read it literally.
 */
export function strictGlobToRegExp(glob: string): RegExp {
  const chars = Array.from(glob);
  let re = '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else if (ch === '[') {
      let j = i + 1;
      let negate = false;
      if (chars[j] === '!' || chars[j] === '^') {
        negate = true;
        j++;
      }
      let body = '';
      const first = j;
      for (; j < chars.length && (chars[j] !== ']' || j === first); j++) {
        const c = chars[j];
        body += c === '-' && j !== first && chars[j + 1] !== ']' && j + 1 < chars.length ? '-' : c.replace(/[\\\]\[^-]/, '\\$&');
      }
      if (j >= chars.length) throw new SyntaxError(`'[' at position ${i + 1} has no closing ']'`);
      re += `[${negate ? '^' : ''}${body}]`;
      i = j;
    } else re += ch.replace(/[.*+?^${}()|[\]\\/]/, '\\$&');
  }
  try {
    return new RegExp(`^${re}$`, 'su');
  } catch {
    throw new SyntaxError(`'${glob}' has a character class with a range in the wrong order`);
  }
}

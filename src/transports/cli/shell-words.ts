import { CommandError } from '../../lib/errors';

/**
 * Splits one line into words as a POSIX shell would, without expansions: single quotes keep
 * everything, double quotes keep all but `\"`, `\\`, `\$` and `` \` ``, a backslash outside
 * quotes escapes the next character, and `#` at the start of a word begins a comment.
 */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new CommandError('bad_argument', 'unterminated single quote');
      word += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (ch === '"') {
      i++;
      for (; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) i++;
        word += line[i];
      }
      if (i >= line.length) throw new CommandError('bad_argument', 'unterminated double quote');
      inWord = true;
    } else if (ch === '\\') {
      if (i + 1 < line.length) word += line[++i];
      inWord = true;
    } else if (ch === ' ' || ch === '\t' || ch === '\r') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (ch === '#' && !inWord) {
      break;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** The greeting's text: the module's files require each other by relative path. */
export function greet(word: string, who: string): string {
  return `${word}, ${who}!`;
}

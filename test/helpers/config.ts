import { parseConfig } from '../../src/config/config';

export const CONFIG_FILE = '/etc/ctl/ctl.yml';

/** A ctl.yml's text as the node reads it. */
export const parse = (text: string) => parseConfig(text, CONFIG_FILE);

/** The message a configuration is refused with; the test fails if it is accepted. */
export function failure(text: string): string {
  try {
    parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the configuration was accepted');
}

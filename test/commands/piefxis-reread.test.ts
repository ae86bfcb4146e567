/**
 * import_piefxis reads what exports are made of with a quick parser, and a file with anything
 * else (CDATA, carriage returns, a processing instruction) again with saxes: either way the same
 * users go in, and each warning is printed once.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempHome } from '../helpers/cli';
import { clock, configure, dump } from './piefxis-helpers';

const homes: ReturnType<typeof tempHome>[] = [];
afterEach(() => homes.splice(0).forEach((h) => h.cleanup()));

async function importing(text: string) {
  const home = tempHome();
  homes.push(home);
  configure(home.dir);
  const file = join(home.dir, 'users.xml');
  writeFileSync(file, text);
  const result = await home.ctl(['import_piefxis', file], { clock });
  return { file, result, stored: await dump(home.dir) };
}

/**
 * Line 4 holds a user this node skips with a warning; `vcard` is romeo's, on line 6. A comment
 * puts it beyond the first chunk the parser is given (64 KB), so that the warning is met
 * before the quick parser stops.
 */
const document = (vcard: string, eol = '\n') =>
  [
    "<?xml version='1.0' encoding='UTF-8'?>",
    "<server-data xmlns='urn:xmpp:pie:0'>",
    "<host jid='capulet.com'><user name='juliet' password='pw'/>",
    `<user password='x'/><!-- ${'x'.repeat(100_000)} -->`,
    "<user name='romeo' password='pw2'>",
    `<vCard xmlns='vcard-temp'>${vcard}</vCard>`,
    '</user>',
    '</host>',
    '</server-data>',
    '',
  ].join(eol);

const warning = (file: string) => `Warning: skipped the user without a name in ${file} (line 4): the <user> has no 'name' attribute\n`;

describe('import_piefxis reads a file outside the quick subset again, with the same outcome', () => {
  test.each([
    ['CDATA after a warning', document('<FN><![CDATA[Romeo <M>]]></FN>'), document('<FN>Romeo &lt;M&gt;</FN>')],
    ['a processing instruction after a warning', document('<?note x?><FN>Romeo</FN>'), document('<FN>Romeo</FN>')],
    ['carriage returns', document('<FN>Romeo</FN>', '\r\n'), document('<FN>Romeo</FN>')],
  ])('%s', async (_label, unusual, usual) => {
    const reread = await importing(unusual);
    const quick = await importing(usual);
    // The warning is printed once, though the file was read up to it twice.
    expect(reread.result).toEqual({ status: 0, stdout: '', stderr: warning(reread.file) });
    expect(quick.result).toEqual({ status: 0, stdout: '', stderr: warning(quick.file) });
    expect(Object.keys(reread.stored.passwd).sort()).toEqual(['capulet.com|juliet', 'capulet.com|romeo']);
    expect(reread.stored).toEqual(quick.stored);
  });

  test('an error past the point where the quick parser stops is reported by saxes, and nothing is written', async () => {
    const { file, result, stored } = await importing(document('<FN><![CDATA[Romeo]]></FN><FN>'));
    expect(result).toEqual({ status: 1, stdout: '', stderr: `${warning(file)}Error: Malformed XML in ${file} (line 6, column 64): unexpected close tag.\n` });
    expect(stored.passwd).toEqual({});
  });
});

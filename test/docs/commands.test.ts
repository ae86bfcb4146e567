import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempHome } from '../helpers/cli';
import { PUBLISHED_REFERENCE_MD5 } from '../helpers/reference';

let home: ReturnType<typeof tempHome>;
beforeEach(() => (home = tempHome()));
afterEach(() => home.cleanup());

const md5 = (file: string) => createHash('md5').update(readFileSync(file)).digest('hex');

describe('gen_markdown_doc_for_commands', () => {
  test('writes the Administration API reference, byte for byte', async () => {
    const out = join(home.dir, 'api.md');
    expect(await home.ctl(['gen_markdown_doc_for_commands', out, '', 'perl,xmlrpc,json'])).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(md5(out)).toBe(PUBLISHED_REFERENCE_MD5);
  });

  test('selects commands by regexp over names and modules', async () => {
    const out = join(home.dir, 'some.md');
    await home.ctl(['gen_markdown_doc_for_commands', out, '^check_', 'json']);
    const names = [...readFileSync(out, 'utf8').matchAll(/^## \*([a-z_0-9]+)\*/gm)].map((m) => m[1]);
    expect(names).toEqual(['check_account', 'check_password', 'check_password_hash']);
    await home.ctl(['gen_markdown_doc_for_commands', out, 'mod_muc_admin', 'json']);
    expect(readFileSync(out, 'utf8').match(/^## \*/gm)).toHaveLength(16);
  });

  test('refuses an unknown example language and a bad regexp, writing nothing', async () => {
    const out = join(home.dir, 'no.md');
    expect(await home.ctl(['gen_markdown_doc_for_commands', out, '', 'perl,cobol'])).toEqual({
      status: 2,
      stdout: '',
      stderr: "Error: Unknown example language 'cobol': choose from java, perl, xmlrpc, json\nUsage: ctl gen_markdown_doc_for_commands file regexp examples\n",
    });
    expect((await home.ctl(['gen_markdown_doc_for_commands', out, '([', 'json'])).status).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  test('reports a directory that does not exist and leaves no temporary file', async () => {
    const r = await home.ctl(['gen_markdown_doc_for_commands', join(home.dir, 'missing', 'api.md'), '', 'json']);
    expect(r).toEqual({ status: 1, stdout: '', stderr: `Error: Cannot write ${join(home.dir, 'missing', 'api.md')}: the directory does not exist\n` });
    await home.ctl(['gen_markdown_doc_for_commands', home.dir, '', 'json']);
    expect(readdirSync(home.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('gen_html_doc_for_commands', () => {
  test('writes an HTML page with every selected command', async () => {
    const out = join(home.dir, 'api.html');
    expect((await home.ctl(['gen_html_doc_for_commands', out, 'register', 'perl,json'])).status).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('registered_users');
    expect(html).toContain('registered_vhosts');
    expect(html).not.toContain('check_account');
  });
});

/**
 * Deeply nested XML is refused as soon as the parser passes the depth limit, whatever reads it:
 * a XEP-0227 file, a jabberd14 spool file, an XML argument. Before, the XEP-0227 reader went on
 * parsing after the limit, and saxes resolves each namespace by walking the open elements, so
 * 100 000 levels took minutes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fails, tempHome } from '../helpers/cli';

jest.setTimeout(20_000);

const DEPTH = 100_000;
const nested = (depth: number) => '<x>'.repeat(depth) + '</x>'.repeat(depth);

let home: ReturnType<typeof tempHome>;
beforeEach(() => {
  home = tempHome();
  writeFileSync(join(home.dir, 'ctl.yml'), 'hosts: [localhost]\n');
});
afterEach(() => home.cleanup());

test('import_piefxis refuses 100 000 nested elements, naming the file and the line', async () => {
  const file = join(home.dir, 'deep.xml');
  writeFileSync(
    file,
    `<?xml version='1.0'?>\n<server-data xmlns='urn:xmpp:pie:0'>\n<host jid='localhost'>\n<user name='a'>${nested(DEPTH)}</user></host></server-data>\n`,
  );
  expect(await home.ctl(['import_piefxis', file])).toEqual(
    fails(1, `Error: Invalid XEP-0227 file ${file} (line 4): elements are nested deeper than 64 levels\n`),
  );
  expect(await home.ctl(['registered_users', 'localhost'])).toEqual({ status: 0, stdout: '', stderr: '' });
});

test('import_piefxis refuses deep nesting outside a user too, where elements are skipped', async () => {
  const file = join(home.dir, 'deep.xml');
  writeFileSync(
    file,
    `<server-data xmlns='urn:xmpp:pie:0'>\n<host jid='localhost'>\n<other xmlns='urn:example'>${nested(DEPTH)}</other></host></server-data>\n`,
  );
  expect(await home.ctl(['import_piefxis', file])).toEqual(
    fails(1, `Error: Invalid XEP-0227 file ${file} (line 3): elements are nested deeper than 64 levels\n`),
  );
});

test('import_file refuses a deeply nested jabberd14 spool file, naming the file and the line', async () => {
  const dir = join(home.dir, 'spool', 'localhost');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'a.xml');
  // 100 000 levels of <x> are 700 000 bytes: under the 1 MiB limit of a spool file.
  writeFileSync(file, `<xdb>\n${nested(DEPTH)}</xdb>\n`);
  const r = await home.ctl(['import_file', file]);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(
    new RegExp(
      `^Error: Malformed XML in the jabberd14 spool file ${file.replace(/[.]/g, '\\.')} \\(line 2, column \\d+\\): nested deeper than 64 elements\\n$`,
    ),
  );
  expect(r.status).toBe(1);
});

test('an XML argument nested 100 000 deep is a usage error naming the argument', async () => {
  expect(await home.ctl(['register', 'a', 'localhost', 'pw'])).toMatchObject({ status: 0 });
  const r = await home.ctl(['private_set', 'a', 'localhost', `<query xmlns='jabber:iq:private'>${nested(DEPTH)}</query>`]);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^Error: Malformed XML in argument 'element' \(line 1, column \d+\): nested deeper than 64 elements\n/);
  expect(r.status).toBe(2);
});

import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempHome } from '../helpers/cli';
import { clock, configure, put } from './piefxis-helpers';

let home: ReturnType<typeof tempHome>;
beforeEach(() => {
  home = tempHome();
  configure(home.dir);
});
afterEach(() => home.cleanup());

// --verbose: these tests read the summaries, which a pipe gets only when asked.
const ctl = (argv: string[]) => home.ctl([...argv, '--verbose'], { clock });
const read = (dir: string) => Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));

const SCRAM = {
  format: 'scram',
  hash: 'sha1',
  iterations: 4096,
  salt: 'bW9udGFndWUubmV0IHNhbHQ=',
  storedKey: 'WT92r3qCtxbfqmTCylcc5n/nTTU=',
  serverKey: 'FPWbcU0wz+VBD7OUhg65GqXYvxY=',
} as const;
const MESSAGE =
  '<message type="chat" from="romeo@montague.net/orchard" to="juliet@capulet.com" id="m1"><body>Hi &amp; bye</body>' +
  '<delay xmlns="urn:xmpp:delay" from="capulet.com" stamp="2023-11-14T22:13:20.000Z"/></message>';

async function verona(): Promise<void> {
  for (const argv of [
    ['register', 'juliet', 'capulet.com', 's3crEt'],
    ['register', 'romeo', 'montague.net', 'iLuvJuLi3T'],
    ['add_rosteritem', 'juliet', 'capulet.com', 'romeo', 'montague.net', "R'o&<m>\neo", 'Friends;Verona & Mantua', 'both'],
    ['set_vcard', 'juliet', 'capulet.com', 'FN', 'Juliet Capulet'],
    ['private_set', 'juliet', 'capulet.com', "<storage xmlns='storage:bookmarks'><conference jid='tomb@conference.capulet.com'/></storage>"],
  ]) {
    expect((await ctl(argv)).status).toBe(0);
  }
  await put(home.dir, [
    ['passwd', ['capulet.com', 'tybalt'], { secret: SCRAM, created: 0 }],
    ['roster', ['capulet.com', 'juliet', 'benvolio@montague.net'], { name: 'Ben', subscription: 'from', ask: 'in', groups: [] }],
    ['roster', ['capulet.com', 'juliet', 'mercutio@montague.net'], { name: '', subscription: 'none', ask: 'in', groups: [] }],
    ['roster', ['capulet.com', 'juliet', 'nurse@capulet.com'], { name: 'bad\u0001name', subscription: 'none', ask: 'out', groups: [] }],
    // Rows without an account (left by a crash of an old version) are not exported.
    ['roster', ['capulet.com', 'ghost', 'juliet@capulet.com'], { name: '', subscription: 'both', ask: 'none', groups: [] }],
    ['vcard', ['capulet.com', 'zombie'], { xml: '<vCard xmlns="vcard-temp"/>' }],
    ['offline', ['capulet.com', 'juliet'], { from: 'romeo@montague.net/orchard', to: 'juliet@capulet.com', xml: MESSAGE, timestamp: 1700000000000 }],
  ]);
}

const CAPULET = `<?xml version='1.0' encoding='UTF-8'?>
<host xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude' jid='capulet.com'>
  <user name='juliet' password='s3crEt'>
    <query xmlns='jabber:iq:roster'>
      <item jid='benvolio@montague.net' name='Ben' subscription='from'/>
      <item jid='nurse@capulet.com' name='bad\uFFFDname' subscription='none' ask='subscribe'/>
      <item jid='romeo@montague.net' name='R&apos;o&amp;&lt;m&gt;&#10;eo' subscription='both'><group>Friends</group><group>Verona &amp; Mantua</group></item>
    </query>
    <presence xmlns='jabber:client' type='subscribe' from='benvolio@montague.net' to='juliet@capulet.com'/>
    <presence xmlns='jabber:client' type='subscribe' from='mercutio@montague.net' to='juliet@capulet.com'/>
    <vCard xmlns="vcard-temp"><FN>Juliet Capulet</FN></vCard>
    <query xmlns='jabber:iq:private'>
      <storage xmlns="storage:bookmarks"><conference jid="tomb@conference.capulet.com"/></storage>
    </query>
    <offline-messages>
      <message xmlns="jabber:client" type="chat" from="romeo@montague.net/orchard" to="juliet@capulet.com" id="m1"><body>Hi &amp; bye</body><delay xmlns="urn:xmpp:delay" from="capulet.com" stamp="2023-11-14T22:13:20.000Z"/></message>
    </offline-messages>
  </user>
  <user name='tybalt'>
    <scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'><iter-count>4096</iter-count><salt>bW9udGFndWUubmV0IHNhbHQ=</salt><server-key>FPWbcU0wz+VBD7OUhg65GqXYvxY=</server-key><stored-key>WT92r3qCtxbfqmTCylcc5n/nTTU=</stored-key></scram-credentials>
  </user>
</host>
`;
const MONTAGUE = `<?xml version='1.0' encoding='UTF-8'?>
<host xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude' jid='montague.net'>
  <user name='romeo' password='iLuvJuLi3T'/>
</host>
`;
const SHAKESPEARE = `<?xml version='1.0' encoding='UTF-8'?>
<host xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude' jid='shakespeare.lit'>
</host>
`;
const main = (...hosts: string[]) =>
  `<?xml version='1.0' encoding='UTF-8'?>\n<server-data xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude'>\n` +
  hosts.map((h) => `  <xi:include href='20240102-030405_${h}.xml'/>\n`).join('') +
  '</server-data>\n';

describe('export_piefxis', () => {
  test('one file per host named as ejabberd names them (UTC), and a main file including them', async () => {
    await verona();
    const dir = join(home.dir, 'export');
    expect(await ctl(['export_piefxis', dir])).toEqual({
      status: 0,
      stdout: '',
      stderr:
        `Exported 3 users to ${dir}/20240102-030405.xml, which includes 20240102-030405_capulet_com.xml (capulet.com, 2 users), ` +
        '20240102-030405_montague_net.xml (montague.net, 1 user), 20240102-030405_shakespeare_lit.xml (shakespeare.lit, 0 users)\n' +
        '1 character that XML cannot carry was written as U+FFFD\n',
    });
    expect(read(dir)).toEqual({
      '20240102-030405.xml': main('capulet_com', 'montague_net', 'shakespeare_lit'),
      '20240102-030405_capulet_com.xml': CAPULET,
      '20240102-030405_montague_net.xml': MONTAGUE,
      '20240102-030405_shakespeare_lit.xml': SHAKESPEARE,
    });
  });

  test('the files hold secrets: mode 0600, and a directory it creates is 0700', async () => {
    await verona();
    const dir = join(home.dir, 'a', 'b');
    expect((await ctl(['export_piefxis', dir])).status).toBe(0);
    expect(statSync(join(home.dir, 'a')).mode & 0o777).toBe(0o700);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(dir)) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
  });

  test('a relative directory is taken from the current directory', async () => {
    const cwd = process.cwd();
    process.chdir(home.dir);
    try {
      expect((await ctl(['export_piefxis', 'rel'])).stderr).toMatch(new RegExp(`^Exported 0 users to ${home.dir}/rel/20240102-030405.xml, `));
    } finally {
      process.chdir(cwd);
    }
    expect(readdirSync(join(home.dir, 'rel')).sort()).toHaveLength(4);
  });

  test('a directory that cannot be made is an error naming it; nothing is written', async () => {
    const file = join(home.dir, 'plain-file');
    writeFileSync(file, 'x');
    expect(await ctl(['export_piefxis', file])).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: Cannot create the directory ${file}: a file of that name exists\n`,
    });
    expect(await ctl(['export_piefxis', join(file, 'sub')])).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: Cannot create the directory ${join(file, 'sub')}: a part of the path is not a directory\n`,
    });
  });
});

describe('export_piefxis_host', () => {
  test('the main file includes the one host', async () => {
    await verona();
    const dir = join(home.dir, 'export');
    expect(await ctl(['export_piefxis_host', dir, 'Montague.NET'])).toEqual({
      status: 0,
      stdout: '',
      stderr: `Exported 1 user to ${dir}/20240102-030405.xml, which includes 20240102-030405_montague_net.xml (montague.net, 1 user)\n`,
    });
    expect(read(dir)).toEqual({ '20240102-030405.xml': main('montague_net'), '20240102-030405_montague_net.xml': MONTAGUE });
  });

  test('a host this node does not serve is refused before anything is made', async () => {
    const dir = join(home.dir, 'export');
    expect(await ctl(['export_piefxis_host', dir, 'verona.it'])).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: Unknown host 'verona.it': this node serves capulet.com, montague.net, shakespeare.lit (hosts in ${join(home.dir, 'ctl.yml')})\n`,
    });
    expect(() => statSync(dir)).toThrow();
  });

  test('missing arguments are usage errors', async () => {
    const usage = (stderr: string) => ({ status: 2, stdout: '', stderr });
    expect(await ctl(['export_piefxis_host', 'dir'])).toEqual(usage("Error: missing argument 'host'\nUsage: ctl export_piefxis_host dir host\n"));
    expect(await ctl(['export_piefxis'])).toEqual(usage("Error: missing argument 'dir'\nUsage: ctl export_piefxis dir\n"));
    expect(await ctl(['import_piefxis'])).toEqual(usage("Error: missing argument 'file'\nUsage: ctl import_piefxis file\n"));
  });
});

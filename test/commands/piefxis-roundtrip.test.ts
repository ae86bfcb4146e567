import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempHome } from '../helpers/cli';
import { clock, configure, dump, NOW, put, type Row } from './piefxis-helpers';

let a: ReturnType<typeof tempHome>;
let b: ReturnType<typeof tempHome>;
beforeEach(() => {
  a = tempHome();
  b = tempHome();
});
afterEach(() => {
  a.cleanup();
  b.cleanup();
});

const CREATED = Math.floor(NOW / 1000);
const read = (dir: string) => Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));

/** Everything the commands can store for a user, and what only the XMPP side would (pending requests, expiry). */
async function fill(home: ReturnType<typeof tempHome>): Promise<void> {
  const ctl = (argv: string[]) => home.ctl(argv, { clock });
  for (const argv of [
    ['register', 'juliet', 'capulet.com', 's3crEt'],
    ['register', 'romeo', 'montague.net', 'iLuvJuLi3T'],
    ['register', 'Ælfred', 'capulet.com', 'pässwörd 🗝'],
    ['register', 'hamlet', 'shakespeare.lit', '2b0Rnot2B'],
    ['add_rosteritem', 'juliet', 'capulet.com', 'romeo', 'montague.net', 'Romeo', 'Friends;Família 🌹', 'both'],
    ['add_rosteritem', 'juliet', 'capulet.com', 'tybalt', 'capulet.com', 'Tybalt "Prince of Cats"', '', 'to'],
    ['add_rosteritem', 'juliet', 'capulet.com', '', 'conference.capulet.com', '', 'Services', 'from'],
    ['add_rosteritem', 'romeo', 'montague.net', 'juliet', 'capulet.com', 'Juliet\t&\n<3', 'Love', 'none'],
    ['set_vcard', 'juliet', 'capulet.com', 'FN', 'Juliet Capulet'],
    ['set_vcard2', 'juliet', 'capulet.com', 'N', 'FAMILY', 'Capulet'],
    ['set_vcard2_multi', 'juliet', 'capulet.com', 'ADR', 'LOCALITY', 'Verona,Mantua'],
    ['set_vcard', 'romeo', 'montague.net', 'DESC', 'Line one\nline two & <three>'],
    [
      'private_set',
      'juliet',
      'capulet.com',
      "<storage xmlns='storage:bookmarks'><conference jid='tomb@conference.capulet.com' autojoin='true'><nick>J</nick></conference></storage>",
    ],
    ['private_set', 'juliet', 'capulet.com', "<p:prefs xmlns:p='urn:example:prefs' p:theme='dark'>\n  <p:font size='12'>Serif</p:font>\n</p:prefs>"],
    ['send_message', 'chat', 'romeo@montague.net/orchard', 'juliet@capulet.com', 'Tonight', 'Wherefore art thou?'],
    ['send_message', 'normal', 'romeo@montague.net/orchard', 'juliet@capulet.com/balcony', '', 'Same millisecond'],
    ['send_message', 'headline', 'capulet.com', 'romeo@montague.net', 'Banished', ''],
  ]) {
    expect({ argv, ...(await ctl(argv)) }).toMatchObject({ argv, status: 0 });
  }
  const expiring =
    '<message from="friar@shakespeare.lit" id="x"><body>Burn after reading</body><x xmlns="jabber:x:expire" seconds="3600"/><delay xmlns="urn:xmpp:delay" from="shakespeare.lit" stamp="2023-11-14T22:13:20.000Z"/></message>';
  await put(home.dir, [
    ['roster', ['capulet.com', 'juliet', 'benvolio@montague.net'], { name: 'Ben', subscription: 'from', ask: 'in', groups: ['Cousins'] }],
    ['roster', ['capulet.com', 'juliet', 'mercutio@montague.net'], { name: '', subscription: 'none', ask: 'in', groups: [] }],
    ['roster', ['montague.net', 'romeo', 'rosaline@capulet.com'], { name: 'Rosaline', subscription: 'none', ask: 'out', groups: [] }],
    ['roster', ['montague.net', 'romeo', 'benvolio@montague.net'], { name: '', subscription: 'to', ask: 'none', groups: [], approved: true }],
    ['offline', ['shakespeare.lit', 'hamlet'], { from: 'friar@shakespeare.lit', to: '', xml: expiring, timestamp: 1700000000000, expires: 1700003600000 }],
  ]);
}

describe('export_piefxis, then import_piefxis into a fresh node, gives back the same data', () => {
  test.each(['scram', 'plain'] as const)('with auth_password_format: %s', async (format) => {
    configure(a.dir, format);
    configure(b.dir, format);
    await fill(a);
    const original = await dump(a.dir);
    expect(Object.keys(original.offline)).toHaveLength(4);
    expect(Object.keys(original.roster)).toHaveLength(8);

    const out = join(a.dir, 'export');
    expect((await a.ctl(['export_piefxis', out], { clock })).status).toBe(0);
    const imported = await b.ctl(['import_piefxis', join(out, '20240102-030405.xml'), '--verbose'], { clock });
    expect(imported).toEqual({
      status: 0,
      stdout: '',
      stderr:
        `Imported 4 users (passwords: 4 ${format === 'scram' ? 'SCRAM' : 'plain'}), 8 roster items, 2 vCards, 2 private storage elements, 4 offline messages ` +
        `from ${out}/20240102-030405.xml and 3 included files\n`,
    });
    // Every table, every byte: secrets (salts included), rosters, vCards, private data, offline queues and their indexes.
    expect(await dump(b.dir)).toEqual(original);
    for (const [user, host, password] of [
      ['juliet', 'capulet.com', 's3crEt'],
      ['ælfred', 'capulet.com', 'pässwörd 🗝'],
      ['hamlet', 'shakespeare.lit', '2b0Rnot2B'],
    ]) {
      expect(await b.ctl(['check_password', user, host, password])).toEqual({ status: 0, stdout: '', stderr: '' });
      expect((await b.ctl(['check_password', user, host, `${password}!`])).status).toBe(1);
    }
    // And exporting the imported node writes the same files again.
    const again = join(b.dir, 'export');
    expect((await b.ctl(['export_piefxis', again], { clock })).status).toBe(0);
    expect(read(again)).toEqual(read(out));
  });

  test('1 234 users: whole batches and their boundaries, one host file streamed', async () => {
    configure(a.dir, 'plain', ['capulet.com']);
    configure(b.dir, 'plain', ['capulet.com']);
    const rows: Row[] = [];
    for (let i = 0; i < 1234; i++) {
      const user = `user${String(i).padStart(4, '0')}`;
      rows.push(['passwd', ['capulet.com', user], { secret: { format: 'plain', password: `pw${i}` }, created: CREATED }]);
      rows.push(['roster', ['capulet.com', user, `friend${i % 7}@montague.net`], { name: `F${i}`, subscription: 'both', ask: 'none', groups: ['G'] }]);
      if (i % 3 === 0) rows.push(['vcard', ['capulet.com', user], { xml: `<vCard xmlns="vcard-temp"><FN>User ${i}</FN></vCard>` }]);
    }
    await put(a.dir, rows);
    // Some are already on the new node: they keep what they have there.
    await put(b.dir, [['passwd', ['capulet.com', 'user0600'], { secret: { format: 'plain', password: 'kept' }, created: 1 }]]);
    const out = join(a.dir, 'export');
    expect((await a.ctl(['export_piefxis', out, '--verbose'], { clock })).stderr).toBe(
      `Exported 1234 users to ${out}/20240102-030405.xml, which includes 20240102-030405_capulet_com.xml (capulet.com, 1234 users)\n`,
    );
    expect((await b.ctl(['import_piefxis', join(out, '20240102-030405.xml'), '--verbose'], { clock })).stderr).toBe(
      `Imported 1233 users (passwords: 1233 plain), 1233 roster items, 411 vCards, 0 private storage elements, 0 offline messages from ${out}/20240102-030405.xml and 1 included file\n` +
        'Skipped 1 user that already exists, and all their data: user0600@capulet.com\n',
    );
    const [from, to] = [await dump(a.dir), await dump(b.dir)];
    expect(to.passwd['capulet.com|user0600']).toEqual({ secret: { format: 'plain', password: 'kept' }, created: 1 });
    delete from.passwd['capulet.com|user0600'];
    delete to.passwd['capulet.com|user0600'];
    delete from.roster['capulet.com|user0600|friend5@montague.net'];
    delete from.vcard['capulet.com|user0600'];
    expect(to).toEqual(from);
  });
});

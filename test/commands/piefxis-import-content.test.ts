import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempHome } from '../helpers/cli';
import { clock, configure, dump, ok } from './piefxis-helpers';

let home: ReturnType<typeof tempHome>;
beforeEach(() => {
  home = tempHome();
  configure(home.dir);
});
afterEach(() => home.cleanup());

// --verbose: these tests read the summaries, which a pipe gets only when asked.
const ctl = (argv: string[]) => home.ctl([...argv, '--verbose'], { clock });

/** Writes `text` as a file of the home and imports it. */
async function load(text: string) {
  const file = join(home.dir, 'in.xml');
  writeFileSync(file, text);
  return { file, result: await ctl(['import_piefxis', file]) };
}

const summary = (file: string, users: number, items: number, vcards: number, privates: number, offline: number) =>
  `Imported ${users} user${users === 1 ? '' : 's'} (passwords: ${users} plain), ${items} roster item${items === 1 ? '' : 's'}, ` +
  `${vcards} vCard${vcards === 1 ? '' : 's'}, ${privates} private storage element${privates === 1 ? '' : 's'}, ${offline} offline message${offline === 1 ? '' : 's'} from ${file}\n`;

describe('import_piefxis: what the XML says, whatever its spelling', () => {
  test('prefixes and inherited namespaces: stored elements carry the declarations they need', async () => {
    const { file, result } = await load(`<?xml version='1.0'?>
<pie:server-data xmlns:pie='urn:xmpp:pie:0' xmlns:b='storage:bookmarks' xmlns='jabber:client'>
  <pie:host jid='Capulet.COM'>
    <pie:user name='Juliet' password='pw'>
      <pie:offline-messages>
        <message from='romeo@montague.net' to='juliet@capulet.com'><body>no delay</body></message>
      </pie:offline-messages>
      <r:query xmlns:r='jabber:iq:roster'>
        <r:item jid='Romeo@Montague.NET' subscription='from' ask='unsubscribe'>
          <r:group>B</r:group><r:group>A</r:group><r:group>B</r:group><r:group></r:group>
        </r:item>
        <r:item jid='montague.net'/>
      </r:query>
      <query xmlns='jabber:iq:private'><b:storage><b:conference jid='tea@conference.capulet.com'/></b:storage></query>
      <v:vCard xmlns:v='vcard-temp'><v:FN>J &amp; R</v:FN></v:vCard>
    </pie:user>
  </pie:host>
</pie:server-data>
`);
    expect(result).toEqual(ok(summary(file, 1, 2, 1, 1, 1)));
    const d = await dump(home.dir);
    expect(Object.keys(d.passwd)).toEqual(['capulet.com|juliet']);
    expect(d.roster).toEqual({
      'capulet.com|juliet|montague.net': { name: '', subscription: 'none', ask: 'none', groups: [] },
      'capulet.com|juliet|romeo@montague.net': { name: '', subscription: 'from', ask: 'none', groups: ['A', 'B'] },
    });
    expect(d.private).toEqual({
      'capulet.com|juliet|storage:bookmarks': { xml: '<b:storage xmlns:b="storage:bookmarks"><b:conference jid="tea@conference.capulet.com"/></b:storage>' },
    });
    expect(d.vcard).toEqual({ 'capulet.com|juliet': { xml: '<v:vCard xmlns:v="vcard-temp"><v:FN>J &amp; R</v:FN></v:vCard>' } });
    // No delay from the host: the message is stamped now, as if it had just arrived.
    expect(d.offline).toEqual({
      'capulet.com|juliet|001704164645678-000000': {
        from: 'romeo@montague.net',
        to: 'juliet@capulet.com',
        xml: '<message from="romeo@montague.net" to="juliet@capulet.com"><body>no delay</body><delay xmlns="urn:xmpp:delay" from="capulet.com" stamp="2024-01-02T03:04:05.678Z"/></message>',
        timestamp: 1704164645678,
      },
    });
  });

  test('offline messages: the host delay gives the time, expiry is kept, equal stamps keep their order', async () => {
    const delay = (from: string) => `<delay xmlns='urn:xmpp:delay' from='${from}' stamp='2023-11-14T22:13:20Z'/>`;
    const { file, result } = await load(`<server-data xmlns='urn:xmpp:pie:0'><host jid='capulet.com'><user name='juliet' password='pw'>
<offline-messages>
<message xmlns='jabber:client' id='1'><x xmlns='jabber:x:expire' seconds='60'/>${delay('capulet.com')}</message>
<message id='2'>${delay('capulet.com')}</message>
<message xmlns='jabber:client' id='3'>${delay('relay.example')}</message>
<presence xmlns='jabber:client'/>
</offline-messages>
</user></host></server-data>`);
    expect(result).toEqual(ok(`${summary(file, 1, 0, 0, 0, 3)}Ignored what this node does not keep: 1 <presence xmlns='jabber:client'>\n`));
    const d = await dump(home.dir);
    const t = 1700000000000; // 2023-11-14T22:13:20Z
    expect(d.offline).toEqual({
      'capulet.com|juliet|001700000000000-000000': {
        from: '',
        to: '',
        xml: `<message id="1"><x xmlns="jabber:x:expire" seconds="60"/><delay xmlns="urn:xmpp:delay" from="capulet.com" stamp="2023-11-14T22:13:20Z"/></message>`,
        timestamp: t,
        expires: t + 60_000,
      },
      'capulet.com|juliet|001700000000000-000001': {
        from: '',
        to: '',
        xml: `<message id="2"><delay xmlns="urn:xmpp:delay" from="capulet.com" stamp="2023-11-14T22:13:20Z"/></message>`,
        timestamp: t,
      },
      'capulet.com|juliet|001704164645678-000000': {
        from: '',
        to: '',
        xml:
          '<message id="3"><delay xmlns="urn:xmpp:delay" from="relay.example" stamp="2023-11-14T22:13:20Z"/>' +
          '<delay xmlns="urn:xmpp:delay" from="capulet.com" stamp="2024-01-02T03:04:05.678Z"/></message>',
        timestamp: 1704164645678,
      },
    });
    expect(d.offline_by_time).toEqual({
      '001700000000000-000000|capulet.com|juliet': 1,
      '001700000000000-000001|capulet.com|juliet': 1,
      '001704164645678-000000|capulet.com|juliet': 1,
    });
    expect(d.offline_by_expiry).toEqual({ '001700000060000|capulet.com|juliet|001700000000000-000000': 1 });
  });

  test('a user whose data is larger than a staging block goes in whole, with the users around it', async () => {
    // Four private elements of about 1 MB each (the most each may be): 4 million characters
    // staged for romeo, with some that take more than one byte.
    const text = `é✓${'x'.repeat(1_000_000)}`;
    const payload = (i: number) => `<p${i} xmlns='urn:big:${i}'>${text}</p${i}>`;
    const { file, result } = await load(`<server-data xmlns='urn:xmpp:pie:0'><host jid='montague.net'>
  <user name='abram' password='a'/>
  <user name='romeo' password='r'><query xmlns='jabber:iq:private'>${payload(1)}${payload(2)}${payload(3)}${payload(4)}</query></user>
  <user name='balthasar' password='b'/>
</host></server-data>`);
    expect(result).toEqual(ok(summary(file, 3, 0, 0, 4, 0)));
    const d = await dump(home.dir);
    expect(Object.keys(d.passwd).sort()).toEqual(['montague.net|abram', 'montague.net|balthasar', 'montague.net|romeo']);
    for (const i of [1, 2, 3, 4]) expect(d.private[`montague.net|romeo|urn:big:${i}`]).toEqual({ xml: `<p${i} xmlns="urn:big:${i}">${text}</p${i}>` });
  });

  test('the namespace of the drafts before XEP-0227 1.0 is read too', async () => {
    const { file, result } = await load(`<server-data xmlns='http://www.xmpp.org/extensions/xep-0227.html#ns'>
  <host jid='montague.net'><user name='romeo' password='iLuvJuLi3T'/></host>
</server-data>`);
    expect(result).toEqual(ok(summary(file, 1, 0, 0, 0, 0)));
    expect(await ctl(['check_password', 'romeo', 'montague.net', 'iLuvJuLi3T'])).toEqual(ok());
  });

  test('elements of other namespaces are skipped, counted and named, wherever they are', async () => {
    const { file, result } = await load(`<server-data xmlns='urn:xmpp:pie:0'>
  <muc xmlns='urn:example:muc'><room/></muc>
  <host jid='capulet.com'>
    <stats xmlns='urn:example:stats'/>
    <user name='juliet' password='pw'>
      <pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='n'/></pubsub>
      <archive xmlns='urn:xmpp:pie:0#mam'/>
      <presence xmlns='jabber:client' type='subscribed' from='romeo@montague.net'/>
    </user>
    <user name='nurse' password='pw'><archive xmlns='urn:xmpp:pie:0#mam'/></user>
  </host>
</server-data>`);
    expect(result).toEqual(
      ok(
        `Imported 2 users (passwords: 2 plain), 0 roster items, 0 vCards, 0 private storage elements, 0 offline messages from ${file}\n` +
          "Ignored what this node does not keep: 1 <muc xmlns='urn:example:muc'>, 1 <stats xmlns='urn:example:stats'>, " +
          "1 <pubsub xmlns='http://jabber.org/protocol/pubsub'>, 2 <archive xmlns='urn:xmpp:pie:0#mam'>, 1 <presence type='subscribed'>\n",
      ),
    );
  });

  test('a user with no credentials gets an account nobody can log in to, until change_password', async () => {
    const { file, result } = await load(
      `<server-data xmlns='urn:xmpp:pie:0'><host jid='capulet.com'><user name='nurse'/><user name='tybalt' password=''/></host></server-data>`,
    );
    expect(result).toEqual(
      ok(
        `Imported 2 users, 0 roster items, 0 vCards, 0 private storage elements, 0 offline messages from ${file}\n` +
          '2 users have no password this node can use (none given, or only SCRAM mechanisms other than SCRAM-SHA-1): nurse@capulet.com, tybalt@capulet.com; set one with change_password\n',
      ),
    );
    expect((await ctl(['check_password', 'tybalt', 'capulet.com', ''])).status).toBe(1);
  });
});

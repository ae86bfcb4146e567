import { join } from 'node:path';
import { tempHome } from '../helpers/cli';
import { clock, configure, dump, FIXTURES, ok } from './piefxis-helpers';

let home: ReturnType<typeof tempHome>;
beforeEach(() => {
  home = tempHome();
  configure(home.dir);
});
afterEach(() => home.cleanup());

// --verbose: these tests read the summaries, which a pipe gets only when asked.
const ctl = (argv: string[]) => home.ctl([...argv, '--verbose'], { clock });
const CREATED = 1704164645; // NOW in seconds
const plain = (password: string) => ({ secret: { format: 'plain', password }, created: CREATED });
const XEP_PLAIN = join(FIXTURES, 'xep-plain.xml');
const XEP_SCRAM = join(FIXTURES, 'xep-scram.xml');
const STAMP_1469 = Date.parse('1469-07-21T00:32:29Z');

const JULIET_MESSAGE =
  '<message from="romeo@montague.net/orchard" to="juliet@capulet.com/balcony" type="chat">\n' +
  '\t  <body>Neither, fair saint, if either thee dislike.</body>\n' +
  '\t  <delay xmlns="urn:xmpp:delay" from="capulet.com" stamp="1469-07-21T00:32:29Z">\n' +
  '\t    Offline Storage\n' +
  '\t  </delay>\n' +
  '\t</message>';

describe('import_piefxis of the examples of XEP-0227', () => {
  test('plain passwords, roster, subscription requests, vCard, offline message, private storage', async () => {
    expect(await ctl(['import_piefxis', XEP_PLAIN])).toEqual(
      ok(
        `Imported 3 users (passwords: 3 plain), 3 roster items, 1 vCard, 1 private storage element, 1 offline message from ${XEP_PLAIN}\n` +
          "Ignored what this node does not keep: 1 <query xmlns='jabber:iq:privacy'>\n",
      ),
    );
    expect(await dump(home.dir)).toEqual({
      passwd: {
        'capulet.com|juliet': plain('s3crEt'),
        'montague.net|romeo': plain('iLuvJuLi3T'),
        'shakespeare.lit|hamlet': plain('2b0Rnot2B'),
      },
      roster: {
        'capulet.com|juliet|benvolio@montague.net': { name: '', subscription: 'none', ask: 'in', groups: [] },
        'capulet.com|juliet|mercutio@montague.net': { name: '', subscription: 'none', ask: 'in', groups: [] },
        'capulet.com|juliet|romeo@montague.net': { name: 'Romeo', subscription: 'both', ask: 'none', groups: ['Friends'] },
      },
      vcard: { 'capulet.com|juliet': { xml: '<vCard xmlns="vcard-temp">\n        <FN>Juliet Capulet</FN>\n      </vCard>' } },
      private: { 'shakespeare.lit|hamlet|exodus:prefs': { xml: '<exodus xmlns="exodus:prefs">\n\t  <defaultnick>Hamlet</defaultnick>\n\t</exodus>' } },
      offline: {
        'capulet.com|juliet|000000000000000-000000': {
          from: 'romeo@montague.net/orchard',
          to: 'juliet@capulet.com/balcony',
          xml: JULIET_MESSAGE,
          timestamp: STAMP_1469,
        },
      },
      offline_by_time: { '000000000000000-000000|capulet.com|juliet': 1 },
      offline_by_expiry: {},
    });
    expect(await ctl(['check_password', 'juliet', 'capulet.com', 's3crEt'])).toEqual(ok());
    expect(await ctl(['get_roster', 'juliet', 'capulet.com'])).toEqual({
      status: 0,
      stdout: 'benvolio@montague.net\t\tnone\tin\t\nmercutio@montague.net\t\tnone\tin\t\nromeo@montague.net\tRomeo\tboth\tnone\tFriends\n',
      stderr: '',
    });
    expect(await ctl(['get_vcard', 'juliet', 'capulet.com', 'FN'])).toEqual({ status: 0, stdout: 'Juliet Capulet\n', stderr: '' });
    expect(await ctl(['get_offline_count', 'juliet', 'capulet.com'])).toEqual({ status: 0, stdout: '1\n', stderr: '' });
  });

  test('with auth_password_format: scram, plain passwords are stored as SCRAM and still check', async () => {
    configure(home.dir, 'scram');
    expect((await ctl(['import_piefxis', XEP_PLAIN])).stderr).toMatch(/^Imported 3 users \(passwords: 3 plain, stored as SCRAM\), /);
    const { passwd } = await dump(home.dir);
    expect(Object.values(passwd).map((r) => (r as { secret: { format: string; iterations: number } }).secret)).toEqual([
      expect.objectContaining({ format: 'scram', iterations: 4096 }),
      expect.objectContaining({ format: 'scram', iterations: 4096 }),
      expect.objectContaining({ format: 'scram', iterations: 4096 }),
    ]);
    expect(await ctl(['check_password', 'romeo', 'montague.net', 'iLuvJuLi3T'])).toEqual(ok());
    expect((await ctl(['check_password', 'romeo', 'montague.net', 'iluvjuli3t'])).status).toBe(1);
  });

  test('SCRAM credentials are stored as given, never turned into a password', async () => {
    expect(await ctl(['import_piefxis', XEP_SCRAM])).toEqual(
      ok(
        `Imported 3 users (passwords: 2 SCRAM), 1 roster item, 0 vCards, 0 private storage elements, 0 offline messages from ${XEP_SCRAM}\n` +
          '1 user has no password this node can use (none given, or only SCRAM mechanisms other than SCRAM-SHA-1): mercutio@montague.net; set one with change_password\n',
      ),
    );
    const { passwd, roster } = await dump(home.dir);
    expect(passwd['capulet.com|juliet']).toEqual({
      secret: {
        format: 'scram',
        hash: 'sha1',
        iterations: 100000,
        salt: 'TmFDbE5hQ2xOYUNsTmFDbE5hQ2xOYUNsTmFDbE5hQ2xOYUNsTmFDbE5hQ2wK',
        storedKey: 'Q6qT/SbybblGCZz8e8eSfCJOQic=',
        serverKey: '0pXWGK0GZJ6TR73AIUN3ITYtA1g=',
      },
      created: CREATED,
    });
    expect(passwd['montague.net|romeo']).toEqual({
      secret: {
        format: 'scram',
        hash: 'sha1',
        iterations: 4096,
        salt: 'bW9udGFndWUubmV0IHNhbHQ=',
        storedKey: 'WT92r3qCtxbfqmTCylcc5n/nTTU=',
        serverKey: 'FPWbcU0wz+VBD7OUhg65GqXYvxY=',
        sha256: {
          iterations: 4096,
          salt: 'bW9udGFndWUubmV0IHNhbHQ=',
          storedKey: 'c3RvcmVkLWtleS1vZi0zMi1ieXRlcy0tLS0tLS0tLS0=',
          serverKey: 'c2VydmVyLWtleS1vZi0zMi1ieXRlcy0tLS0tLS0tLS0=',
        },
      },
      created: CREATED,
    });
    expect(roster).toEqual({ 'montague.net|romeo|juliet@capulet.com': { name: 'Juliet', subscription: 'to', ask: 'out', groups: [] } });
    // The keys were computed outside this code for the password iLuvJuLi3T.
    expect(await ctl(['check_password', 'romeo', 'montague.net', 'iLuvJuLi3T'])).toEqual(ok());
    expect((await ctl(['check_password', 'romeo', 'montague.net', 's3crEt'])).status).toBe(1);
    // Only SCRAM-SHA-256 keys: the account exists but nobody knows its password.
    expect(await ctl(['check_account', 'mercutio', 'montague.net'])).toEqual(ok());
    expect(passwd['montague.net|mercutio']).toEqual({ secret: { format: 'plain', password: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/) }, created: CREATED });
    expect(await ctl(['change_password', 'mercutio', 'montague.net', 'new'])).toEqual(ok());
    expect(await ctl(['check_password', 'mercutio', 'montague.net', 'new'])).toEqual(ok());
  });

  test('XIncludes: the XEP layout of host files and user files in a subdirectory', async () => {
    const main = join(FIXTURES, 'split', 'main.xml');
    expect(await ctl(['import_piefxis', main])).toEqual(
      ok(`Imported 3 users (passwords: 3 plain), 1 roster item, 1 vCard, 0 private storage elements, 1 offline message from ${main} and 4 included files\n`),
    );
    const d = await dump(home.dir);
    expect(d.passwd).toEqual({ 'capulet.com|juliet': plain('s3crEt'), 'capulet.com|nurse': plain('anon'), 'montague.net|romeo': plain('iLuvJuLi3T') });
    expect(d.roster).toEqual({ 'capulet.com|juliet|romeo@montague.net': { name: 'Romeo', subscription: 'both', ask: 'none', groups: ['Friends'] } });
    expect(d.vcard).toEqual({ 'capulet.com|juliet': { xml: '<vCard xmlns="vcard-temp">\n    <FN>Juliet Capulet</FN>\n  </vCard>' } });
    expect(Object.keys(d.offline)).toEqual(['capulet.com|juliet|000000000000000-000000']);
  });

  test('existing accounts are skipped with all their data; importing again imports nothing', async () => {
    expect((await ctl(['register', 'juliet', 'capulet.com', 'other'])).status).toBe(0);
    expect(await ctl(['import_piefxis', XEP_PLAIN])).toEqual(
      ok(
        `Imported 2 users (passwords: 2 plain), 0 roster items, 0 vCards, 1 private storage element, 0 offline messages from ${XEP_PLAIN}\n` +
          'Skipped 1 user that already exists, and all their data: juliet@capulet.com\n' +
          "Ignored what this node does not keep: 1 <query xmlns='jabber:iq:privacy'>\n",
      ),
    );
    expect(await ctl(['check_password', 'juliet', 'capulet.com', 'other'])).toEqual(ok());
    const first = await dump(home.dir);
    expect(first.roster).toEqual({});
    expect(first.vcard).toEqual({});
    expect(first.offline).toEqual({});
    expect(await ctl(['import_piefxis', XEP_PLAIN])).toEqual(
      ok(
        `Imported 0 users, 0 roster items, 0 vCards, 0 private storage elements, 0 offline messages from ${XEP_PLAIN}\n` +
          'Skipped 3 users that already exist, and all their data: juliet@capulet.com, romeo@montague.net, hamlet@shakespeare.lit\n' +
          "Ignored what this node does not keep: 1 <query xmlns='jabber:iq:privacy'>\n",
      ),
    );
    expect(await dump(home.dir)).toEqual(first);
  });

  test('a relative path is taken from the current directory', async () => {
    const cwd = process.cwd();
    process.chdir(FIXTURES);
    try {
      expect((await ctl(['import_piefxis', 'xep-plain.xml'])).stderr).toContain(` from ${XEP_PLAIN}\n`);
    } finally {
      process.chdir(cwd);
    }
  });
});

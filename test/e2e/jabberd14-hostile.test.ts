import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fails, tempHome } from '../helpers/cli';
import { openLevelStore } from '../../src/storage/level';
import { PASSWD } from '../../src/features/accounts/records';
import { LAST } from '../../src/features/last/records';
import { OFFLINE } from '../../src/features/offline/records';
import { PRIVATE } from '../../src/features/private/records';
import { ROSTER } from '../../src/features/roster/records';
import { VCARD } from '../../src/features/vcard/records';

let home: ReturnType<typeof tempHome>;
let spool: string;
beforeEach(() => {
  home = tempHome();
  writeFileSync(join(home.dir, 'ctl.yml'), 'hosts:\n  - example.org\n');
  spool = join(home.dir, 'example.org');
  mkdirSync(spool);
});
afterEach(() => home.cleanup());

const PW = "<password xmlns='jabber:iq:auth'>pw</password>";

/** Writes alice.xml and imports it. */
async function importText(text: string | Buffer) {
  const file = join(spool, 'alice.xml');
  writeFileSync(file, text);
  return { file, result: await home.ctl(['import_file', file]) };
}

/** Nothing of alice may be stored after a failed import. */
async function nothingStored(): Promise<void> {
  const store = await openLevelStore(join(home.dir, 'db'));
  try {
    for (const t of [PASSWD, LAST, ROSTER, VCARD, PRIVATE, OFFLINE, `${OFFLINE}_by_time`]) {
      for await (const k of store.keys(t)) throw new Error(`${t} holds ${JSON.stringify(k)}`);
    }
  } finally {
    await store.close();
  }
}

describe('import_file refuses broken and hostile files, and writes nothing', () => {
  test('truncated XML names the file, line and column', async () => {
    const { file, result } = await importText(`<xdb>\n${PW}\n<query xmlns='jabber:iq:roster'><item jid='bob@example.org'`);
    expect(result).toEqual(fails(1, `Error: Malformed XML in the jabberd14 spool file ${file} (line 3, column 59): unclosed tag: query\n`));
    await nothingStored();
  });

  test('a document type declaration is refused, so entities never expand', async () => {
    const laughs = `<?xml version="1.0"?>\n<!DOCTYPE xdb [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n<xdb><password xmlns='jabber:iq:auth'>&c;</password></xdb>`;
    const { file, result } = await importText(laughs);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`^Error: Malformed XML in the jabberd14 spool file ${file} \\(line 2, column \\d+\\): a document type declaration is not allowed\\n`),
    );
    await nothingStored();
  });

  test('a file larger than 1 MiB is refused before it is read: one huge line', async () => {
    const { file, result } = await importText(`<xdb>${PW}<x>${'a'.repeat(1024 * 1024)}</x></xdb>`);
    expect(result).toEqual(fails(1, `Error: Cannot read the jabberd14 spool file ${file}: it is larger than 1048576 bytes\n`));
    await nothingStored();
  });

  test('bytes that are not UTF-8', async () => {
    const { file, result } = await importText(Buffer.concat([Buffer.from(`<xdb>${PW}<x>caf`), Buffer.from([0xe9]), Buffer.from('</x></xdb>')]));
    expect(result).toEqual(fails(1, `Error: Cannot read the jabberd14 spool file ${file}: it is not UTF-8 text (byte 58 is invalid)\n`));
  });

  test('a FIFO is refused instead of waiting for a writer', async () => {
    const fifo = join(spool, 'alice.xml');
    execFileSync('mkfifo', [fifo]);
    expect(await home.ctl(['import_file', fifo])).toEqual(fails(1, `Error: Cannot read the jabberd14 spool file ${fifo}: it is not a regular file (a FIFO)\n`));
  });

  test('the root element must be <xdb>', async () => {
    const { file, result } = await importText(`<spool>${PW}</spool>`);
    expect(result).toEqual(fails(1, `Error: Invalid jabberd14 spool file ${file}: the root element is <spool>, not <xdb>\n`));
  });

  test('no password: a user who could never log in is not created', async () => {
    const { file, result } = await importText("<xdb><crypt xmlns='jabber:iq:auth:crypt'>abXyZ12</crypt><vCard xmlns='vcard-temp'><FN>A</FN></vCard></xdb>");
    expect(result).toEqual(
      fails(
        1,
        `Error: Invalid jabberd14 spool file ${file}: it holds no password (jabber:iq:auth): accounts whose password jabberd14 kept only as a hash cannot be imported\n`,
      ),
    );
    await nothingStored();
  });

  test('an empty password', async () => {
    const { file, result } = await importText("<xdb><password xmlns='jabber:iq:auth'></password></xdb>");
    expect(result).toEqual(fails(1, `Error: Invalid jabberd14 spool file ${file}: the password (jabber:iq:auth) is empty\n`));
  });

  test('a bad roster item late in the file: nothing of the user is written', async () => {
    const roster = "<query xmlns='jabber:iq:roster'><item jid='bob@example.org' subscription='both'/><item jid='a b@example.org' subscription='both'/></query>";
    const { file, result } = await importText(`<xdb>${PW}<vCard xmlns='vcard-temp'><FN>A</FN></vCard>${roster}</xdb>`);
    expect(result).toEqual(
      fails(
        1,
        `Error: Invalid jabberd14 spool file ${file}: the roster item 'a b@example.org' is not a valid JID: Invalid user name 'a b' (jid): a user name cannot contain spaces, control characters or any of "&'/:<>@\n`,
      ),
    );
    await nothingStored();
  });

  test('roster items: an unknown subscription, a resource', async () => {
    let r = await importText(`<xdb>${PW}<query xmlns='jabber:iq:roster'><item jid='bob@example.org' subscription='mutual'/></query></xdb>`);
    expect(r.result).toEqual(
      fails(1, `Error: Invalid jabberd14 spool file ${r.file}: the roster item bob@example.org has subscription 'mutual': use none, to, from or both\n`),
    );
    r = await importText(`<xdb>${PW}<query xmlns='jabber:iq:roster'><item jid='bob@example.org/home'/></query></xdb>`);
    expect(r.result).toEqual(
      fails(
        1,
        `Error: Invalid jabberd14 spool file ${r.file}: the roster item 'bob@example.org/home' is not a valid JID: a roster holds bare JIDs, without a resource\n`,
      ),
    );
    await nothingStored();
  });

  test('last activity that is not a number of seconds', async () => {
    const { file, result } = await importText(`<xdb>${PW}<query xmlns='jabber:iq:last' last='yesterday'>x</query></xdb>`);
    expect(result).toEqual(
      fails(1, `Error: Invalid jabberd14 spool file ${file}: the last activity (jabber:iq:last) has last='yesterday', not a number of seconds\n`),
    );
  });

  test('only messages in the offline queue', async () => {
    const { file, result } = await importText(`<xdb>${PW}<foo xmlns='jabber:x:offline'><iq type='get'/></foo></xdb>`);
    expect(result).toEqual(
      fails(1, `Error: Invalid jabberd14 spool file ${file}: the offline queue (jabber:x:offline) holds a <iq/>: only messages are kept offline\n`),
    );
  });

  test('private elements: a reserved namespace, none at all', async () => {
    let r = await importText(`<xdb>${PW}<query xmlns='jabber:iq:private' j_private_flag='1'/></xdb>`);
    expect(r.result).toEqual(
      fails(1, `Error: Invalid jabberd14 spool file ${r.file}: the private element <query> is in the reserved namespace jabber:iq:private\n`),
    );
    r = await importText(`<xdb>${PW}<notes j_private_flag='1'/></xdb>`);
    expect(r.result).toEqual(fails(1, `Error: Invalid jabberd14 spool file ${r.file}: the private element <notes> has no xmlns\n`));
    await nothingStored();
  });

  test('elements nested too deep are refused by the parser', async () => {
    const { file, result } = await importText(`<xdb>${PW}${'<a>'.repeat(100)}${'</a>'.repeat(100)}</xdb>`);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`^Error: Malformed XML in the jabberd14 spool file ${file} \\(line 1, column \\d+\\): nested deeper than 64 elements\\n`),
    );
    await nothingStored();
  });
});

/**
 * load checks the whole dump before writing anything: a faulty file is an error naming the
 * file and the line, and leaves the database as it was.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempHome } from '../helpers/cli';
import { ctlOk, everything } from './backup-helpers';

let home: ReturnType<typeof tempHome>;
let before: Awaited<ReturnType<typeof everything>>;
const file = () => join(home.dir, 'in.dump');

beforeEach(async () => {
  home = tempHome();
  await ctlOk(home.ctl, 'register', 'zed', 'localhost', 'pw');
  before = await everything(home.dir);
});
afterEach(() => home.cleanup());

const HEADER = '{"format":"ctl-dump","version":1,"node":"ctl@localhost","created":"2025-01-01T00:00:00.000Z","tables":["last"]}\n';
const GOOD = '{"table":"last","key":["localhost","zed"],"value":{"timestamp":1,"status":""}}\n';
const TABLE_LIST =
  'api_tokens, api_tokens_by_account, last, mam, mam_by_time, muc_registered, muc_registered_nick, muc_room, offline, offline_by_expiry, offline_by_time, passwd, privacy, private, roster, srg, srg_member, srg_user, vcard';

async function refused(message: string) {
  expect(await home.ctl(['load', file()])).toEqual({ status: 1, stdout: '', stderr: `Error: ${message}\n` });
  expect(await everything(home.dir)).toEqual(before);
}

test('a good dump loads (the baseline of the cases below)', async () => {
  writeFileSync(file(), HEADER + GOOD);
  expect(await home.ctl(['load', file(), '--verbose'])).toEqual({ status: 0, stdout: '', stderr: `Loaded 1 records from ${file()}\n` });
  expect(await everything(home.dir)).not.toEqual(before);
});

test('a missing file', async () => {
  await refused(`Cannot read the dump ${file()}: it does not exist`);
});

test('a directory', async () => {
  mkdirSync(file());
  await refused(`Cannot read the dump ${file()}: it is a directory`);
});

test('an empty file', async () => {
  writeFileSync(file(), '');
  await refused(`Invalid dump ${file()}: the file is empty`);
});

test.each([
  ['a text file', 'hello\n'],
  ['a backup', '{"format":"ctl-backup","version":1,"node":"ctl@localhost","created":"x"}\n'],
  ['records without a header', GOOD + GOOD],
])('%s is not a dump', async (_what, content) => {
  writeFileSync(file(), content);
  await refused(`Invalid dump ${file()} (line 1): not a ctl dump (it does not start with a ctl-dump header)`);
});

test('a dump of a later format version', async () => {
  writeFileSync(file(), HEADER.replace('"version":1', '"version":2') + GOOD);
  await refused(`Invalid dump ${file()} (line 1): format version 2 is not supported (this ctl reads version 1)`);
});

test.each([
  ['{"table":"last","key":["localhost","zed"],"value":', /^not valid JSON \(.+\)$/],
  ['["last",["localhost","zed"],1]', 'a record must be an object {"table", "key", "value"}'],
  ['{"table":"last","key":["localhost","zed"],"value":1,"extra":2}', "unexpected field 'extra'"],
  ['{"table":7,"key":["localhost","zed"],"value":1}', "the field 'table' must be a table name"],
  ['{"table":"users","key":["localhost","zed"],"value":1}', `unknown table 'users': the tables are ${TABLE_LIST}`],
  ['{"table":"last","key":"localhost","value":1}', "the field 'key' must be a non-empty list of strings without NUL characters"],
  ['{"table":"last","key":[],"value":1}', "the field 'key' must be a non-empty list of strings without NUL characters"],
  ['{"table":"last","key":["localhost",3],"value":1}', "the field 'key' must be a non-empty list of strings without NUL characters"],
  ['{"table":"last","key":["local\\u0000host","zed"],"value":1}', "the field 'key' must be a non-empty list of strings without NUL characters"],
  ['{"table":"last","key":["localhost","zed"],"value":null}', "the field 'value' is missing or null"],
  ['{"table":"last","key":["localhost","zed"]}', "the field 'value' is missing or null"],
])('a bad record after good ones, %s, is refused with its line number', async (record, why) => {
  writeFileSync(file(), `${HEADER}${GOOD}\n${GOOD}${record}\n${GOOD}`);
  const r = await home.ctl(['load', file()]);
  expect(r.status).toBe(1);
  const prefix = `Error: Invalid dump ${file()} (line 5): `;
  expect(r.stderr.startsWith(prefix)).toBe(true);
  const message = r.stderr.slice(prefix.length, -1);
  if (typeof why === 'string') expect(message).toBe(why);
  else expect(message).toMatch(why);
  expect(await everything(home.dir)).toEqual(before);
});

describe("each record is checked as its table's feature decodes it, with the limits of the commands", () => {
  const roster = (subscription: string) => ({ name: 'Bob', subscription, ask: 'none', groups: ['Friends'] });
  test.each([
    [
      'a last activity past the year 9999',
      { table: 'last', key: ['localhost', 'zed'], value: { timestamp: 253402300800, status: 'gone' } },
      'the last activity of zed@localhost: timestamp must be seconds since 1970, at most 253402300799 (9999-12-31 23:59:59 UTC)',
    ],
    [
      'a roster item with an unknown subscription',
      { table: 'roster', key: ['localhost', 'zed', 'bob@localhost'], value: roster('mutual') },
      "the roster item bob@localhost of zed@localhost: subscription must be 'none', 'from', 'to', 'both'",
    ],
    [
      'a vCard that is not XML',
      { table: 'vcard', key: ['localhost', 'zed'], value: { xml: '<vCard xmlns="vcard-temp"><FN>Zed</vCard>' } },
      'the vCard of zed@localhost: xml is not XML (line 1, column 41: unexpected close tag.)',
    ],
    [
      'a vCard of another namespace',
      { table: 'vcard', key: ['localhost', 'zed'], value: { xml: '<vCard><FN>Zed</FN></vCard>' } },
      'the vCard of zed@localhost: xml must be a vCard in the namespace vcard-temp, not <vCard>',
    ],
    [
      'a private element under another namespace than its own',
      { table: 'private', key: ['localhost', 'zed', 'storage:bookmarks'], value: { xml: '<storage xmlns="storage:rosternotes"/>' } },
      'the private element storage:bookmarks of zed@localhost: xml must be an element in the namespace storage:bookmarks',
    ],
    [
      'an offline message that is not a message',
      { table: 'offline', key: ['localhost', 'zed', '000001700000000-000000'], value: { from: 'a@b', to: 'zed@localhost', xml: '<iq/>', timestamp: 1 } },
      'the offline message 000001700000000-000000 of zed@localhost: xml must be a <message/>, not <iq>',
    ],
    [
      'an API token that expires past the year 9999',
      { table: 'api_tokens', key: ['0'.repeat(64)], value: { jid: 'zed@localhost', created: 1, expires: 1e12 } },
      `the API token ${'0'.repeat(64)}: expires must be seconds since 1970`,
    ],
    [
      'a room with an option of the wrong type',
      {
        table: 'muc_room',
        key: ['conference.localhost', 'tea'],
        value: { options: { persistent: 'yes' }, affiliations: [], subject: '', subjectAuthor: '', createdAt: 1, lastActivity: 1 },
      },
      'the room tea@conference.localhost: options.persistent must be a valid value of the room option persistent',
    ],
    [
      'a record of a host this node does not serve',
      { table: 'last', key: ['example.net', 'zed'], value: { timestamp: 1, status: '' } },
      `the last activity of zed@example.net: the host example.net is not served by this node: it serves localhost (hosts in ${'HOME'}/ctl.yml)`,
    ],
    ['a key of the wrong shape', { table: 'roster', key: ['localhost', 'zed'], value: roster('both') }, 'a key of table roster is [host, user, contact]'],
  ])('%s is refused, naming the line, and nothing is written', async (_what, record, why) => {
    writeFileSync(file(), `${HEADER}${GOOD}${JSON.stringify(record)}\n${GOOD}`);
    await refused(`Invalid dump ${file()} (line 3): ${why.replace('HOME', home.dir)}`);
  });

  test('the same records, well formed, load', async () => {
    const records = [
      { table: 'last', key: ['localhost', 'zed'], value: { timestamp: 253402300799, status: 'gone' } },
      { table: 'roster', key: ['localhost', 'zed', 'bob@localhost'], value: roster('both') },
      { table: 'vcard', key: ['localhost', 'zed'], value: { xml: '<vCard xmlns="vcard-temp"><FN>Zed</FN></vCard>' } },
    ];
    writeFileSync(file(), HEADER + records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    expect((await home.ctl(['load', file()])).status).toBe(0);
    expect(await home.ctl(['get_vcard', 'zed', 'localhost', 'FN'])).toEqual({ status: 0, stdout: 'Zed\n', stderr: '' });
    expect((await home.ctl(['get_roster', 'zed', 'localhost'])).stdout).toBe('bob@localhost\tBob\tboth\tnone\tFriends\n');
  });
});

test('a record cut short at the end of the file', async () => {
  writeFileSync(file(), `${HEADER}${GOOD}${GOOD.slice(0, 30)}`);
  const r = await home.ctl(['load', file()]);
  expect(r.stderr).toMatch(new RegExp(`^Error: Invalid dump ${file()} \\(line 3\\): not valid JSON`));
  expect(await everything(home.dir)).toEqual(before);
});

test('a huge line is refused without being held in memory', async () => {
  writeFileSync(file(), `${HEADER}${GOOD}{"table":"last","key":["a"],"value":"${'x'.repeat(17 * 1024 * 1024)}"}\n`);
  await refused(`Cannot read the dump ${file()}: line 3 is longer than 16777216 bytes`);
});

test('a bad line after many good ones still writes nothing', async () => {
  const many = Array.from({ length: 2500 }, (_, i) => `{"table":"last","key":["localhost","u${i}"],"value":{"timestamp":${i},"status":""}}\n`).join('');
  writeFileSync(file(), `${HEADER}${many}{"table":"nope","key":["a"],"value":1}\n`);
  const r = await home.ctl(['load', file()]);
  expect(r.stderr).toBe(`Error: Invalid dump ${file()} (line 2502): unknown table 'nope': the tables are ${TABLE_LIST}\n`);
  expect(await everything(home.dir)).toEqual(before);
});

test('takes exactly one argument', async () => {
  expect((await home.ctl(['load'])).status).toBe(2);
  expect((await home.ctl(['load', 'a', 'b'])).status).toBe(2);
});

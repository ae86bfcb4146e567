/**
 * restore refuses whatever is not a complete, intact backup, before it changes anything.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempHome } from '../helpers/cli';
import { readBackup } from '../../src/migrate/backup-file';
import { ctlOk, everything, fillEveryTable } from './backup-helpers';

let home: ReturnType<typeof tempHome>;
let good: Buffer;
let before: Awaited<ReturnType<typeof everything>>;
const file = () => join(home.dir, 'in.backup');

beforeAll(async () => {
  // One good backup of a full database, made once for the whole file.
  const source = tempHome();
  try {
    await fillEveryTable(source.dir, source.ctl);
    await ctlOk(source.ctl, 'backup', join(source.dir, 'good.backup'));
    good = readFileSync(join(source.dir, 'good.backup'));
  } finally {
    source.cleanup();
  }
});

beforeEach(async () => {
  home = tempHome();
  await ctlOk(home.ctl, 'register', 'zed', 'localhost', 'pw');
  await ctlOk(home.ctl, 'set_vcard', 'zed', 'localhost', 'FN', 'Zed');
  before = await everything(home.dir);
});
afterEach(() => home.cleanup());

/** restore FILE fails with exactly `message`, and the database is as it was. */
async function refused(message: string, path = file()) {
  expect(await home.ctl(['restore', path])).toEqual({ status: 1, stdout: '', stderr: `Error: ${message}\n` });
  expect(await everything(home.dir)).toEqual(before);
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const lines = () => good.toString('utf8').split('\n').slice(0, -1);
const lineCount = () => lines().length;

/** A backup of two records, written by hand as the format says. */
function smallBackup(): Buffer {
  const body =
    '{"format":"ctl-backup","version":1,"node":"ctl@localhost","created":"2025-01-01T00:00:00.000Z"}\n' +
    '["last","localhost\\u0000alice",{"timestamp":1,"status":"ü"}]\n' +
    '["passwd","localhost\\u0000alice",{"secret":{"format":"plain","password":"pw"},"created":1}]\n';
  return Buffer.from(`${body}${JSON.stringify({ end: 'ctl-backup', records: 2, tables: { last: 1, passwd: 1 }, sha256: sha(body) })}\n`);
}

test('a missing file', async () => {
  await refused(`Cannot read the backup ${file()}: it does not exist`);
});

test('a directory', async () => {
  mkdirSync(file());
  await refused(`Cannot read the backup ${file()}: it is a directory`);
});

test('an empty file', async () => {
  writeFileSync(file(), '');
  await refused(`Invalid backup ${file()}: the file is empty`);
});

test.each([
  ['a text file', 'hello\nworld\n'],
  ['a dump', '{"format":"ctl-dump","version":1,"node":"ctl@localhost","created":"x","tables":[]}\n'],
  ['binary bytes', '\u0000\u0001\u0002\u00ff'],
])('%s is not a backup', async (_what, content) => {
  writeFileSync(file(), content);
  await refused(`Invalid backup ${file()} (line 1): not a ctl backup (it does not start with a ctl-backup header)`);
});

test('a backup of a later format version', async () => {
  writeFileSync(file(), good.toString().replace('"version":1', '"version":2'));
  await refused(`Invalid backup ${file()} (line 1): format version 2 is not supported (this ctl reads version 1)`);
});

describe('a truncated backup', () => {
  test('cut after the header', async () => {
    writeFileSync(file(), `${lines()[0]}\n`);
    await refused(`Invalid backup ${file()}: the file is truncated (no end line after 0 records)`);
  });

  test('cut at the end of a record line', async () => {
    writeFileSync(file(), `${lines().slice(0, 4).join('\n')}\n`);
    await refused(`Invalid backup ${file()}: the file is truncated (no end line after 3 records)`);
  });

  test('cut in the middle of a record line', async () => {
    const text = `${lines().slice(0, 4).join('\n')}\n${lines()[4].slice(0, 10)}`;
    writeFileSync(file(), text);
    await refused(`Invalid backup ${file()} (line 5): the file is truncated (its last line is incomplete)`);
  });

  test('cut in the end line, or just before its newline', async () => {
    const n = lineCount();
    writeFileSync(file(), good.subarray(0, good.length - 1));
    await refused(`Invalid backup ${file()} (line ${n}): the file is truncated (its last line is incomplete)`);
    writeFileSync(file(), good.subarray(0, good.length - 20));
    await refused(`Invalid backup ${file()} (line ${n}): the file is truncated (its last line is incomplete)`);
  });

  test('cut at any byte: never accepted', async () => {
    const path = file();
    const small = smallBackup();
    writeFileSync(path, small);
    await expect(readBackup(path)).resolves.toMatchObject({ records: 2 });
    for (let at = 0; at < small.length; at++) {
      writeFileSync(path, small.subarray(0, at));
      await expect(readBackup(path)).rejects.toMatchObject({ code: 'failed', message: expect.stringMatching(/^Invalid backup /) });
    }
  });
});

describe('a corrupt backup', () => {
  test('one changed letter in a value fails the checksum', async () => {
    const text = good.toString().replace('bob Liddell', 'bob Liddeli');
    writeFileSync(file(), text);
    await refused(`Invalid backup ${file()} (line ${lineCount()}): the checksum does not match: the file is corrupt`);
  });

  test('any byte changed anywhere: never accepted', async () => {
    const path = file();
    const small = smallBackup();
    for (let at = 0; at < small.length; at++) {
      const bad = Buffer.from(small);
      bad[at] ^= bad[at] === 0x0a ? 0x2a : 0x01;
      writeFileSync(path, bad);
      await expect(readBackup(path)).rejects.toMatchObject({ code: 'failed' });
    }
  });

  test('records with a recomputed checksum but a wrong count', async () => {
    const ls = lines();
    const body = `${ls.slice(0, -2).join('\n')}\n`;
    const end = JSON.parse(ls[ls.length - 1]);
    writeFileSync(file(), `${body}${JSON.stringify({ ...end, sha256: sha(body) })}\n`);
    await refused(`Invalid backup ${file()} (line ${ls.length - 1}): the end line counts ${end.records} records, the file holds ${end.records - 1}`);
  });

  test('a record that is not [table, key, value], even with a matching checksum', async () => {
    for (const [record, why] of [
      ['{"table":"passwd"}', 'a malformed end line'],
      ['["passwd","k"]', 'a record must be [table, key, value]'],
      ['["no tables!","k",1]', 'invalid table name "no tables!"'],
      ['["passwd",7,1]', 'a record key must be a string'],
      ['["passwd","k",null]', 'a record value cannot be null'],
      ['["passwd","k",', 'not valid JSON'],
    ]) {
      const header = lines()[0];
      const body = `${header}\n${record}\n`;
      writeFileSync(file(), `${body}${JSON.stringify({ end: 'ctl-backup', records: 1, tables: { passwd: 1 }, sha256: sha(body) })}\n`);
      await refused(`Invalid backup ${file()} (line 2): ${why}`);
    }
  });

  describe('a record that load would refuse, with a matching checksum', () => {
    /** A backup of alice's good account and `record`, as backup writes them. */
    const withRecord = (record: string) => {
      const good = '["passwd","localhost\\u0000alice",{"secret":{"format":"plain","password":"pw"},"created":1}]';
      const body = `${lines()[0]}\n${good}\n${record}\n`;
      const table = (JSON.parse(record) as string[])[0];
      const tables = table === 'passwd' ? { passwd: 2 } : { [table]: 1, passwd: 1 };
      return `${body}${JSON.stringify({ end: 'ctl-backup', records: 2, tables, sha256: sha(body) })}\n`;
    };
    const keys = (iterations: number) => ({
      iterations,
      salt: 'H1oD5YZbkRfLUOpW7cVMJw==',
      storedKey: 'IzoJVk2cLl8OqR/TibQwE3vdfg4=',
      serverKey: '12zTeQZ0jzZcnFugmKD0ltYx+Tk=',
    });
    const scram = (sha1: number, sha256: number) =>
      `["passwd","localhost\\u0000mallory",${JSON.stringify({ secret: { format: 'scram', hash: 'sha1', ...keys(sha1), sha256: keys(sha256) }, created: 1 })}]`;

    test.each([
      ['50000000 SHA-1 iterations', scram(50_000_000, 4096), 'the account mallory@localhost: secret.iterations must be a whole number from 1 to 1000000'],
      [
        '2000000 SHA-256 iterations',
        scram(4096, 2_000_000),
        'the account mallory@localhost: secret.sha256.iterations must be a whole number from 1 to 1000000',
      ],
      [
        'an account without a secret',
        '["passwd","localhost\\u0000mallory",{"password":"pw"}]',
        'the account mallory@localhost: created must be seconds since 1970',
      ],
      [
        'a vCard that is not XML',
        '["vcard","localhost\\u0000alice",{"xml":"<vCard xmlns=\\"vcard-temp\\"><FN>"}]',
        'the vCard of alice@localhost: xml is not XML (line 1, column 30: unclosed tag: FN)',
      ],
      [
        'a last activity past the year 9999',
        '["last","localhost\\u0000alice",{"timestamp":253402300800,"status":""}]',
        'the last activity of alice@localhost: timestamp must be seconds since 1970, at most 253402300799 (9999-12-31 23:59:59 UTC)',
      ],
      [
        'a lone surrogate in a value',
        '["last","localhost\\u0000alice",{"timestamp":1,"status":"\\ud800"}]',
        'the value holds a lone surrogate at status, which is not Unicode text',
      ],
    ])('%s: restore refuses the whole backup, naming the line', async (_what, record, why) => {
      writeFileSync(file(), withRecord(record));
      await refused(`Invalid backup ${file()} (line 3): ${why}`);
    });

    test('install_fallback refuses it too and stages nothing', async () => {
      writeFileSync(file(), withRecord(scram(50_000_000, 4096)));
      expect(await home.ctl(['install_fallback', file()])).toEqual({
        status: 1,
        stdout: '',
        stderr: `Error: Invalid backup ${file()} (line 3): the account mallory@localhost: secret.iterations must be a whole number from 1 to 1000000\n`,
      });
      expect(() => readFileSync(join(home.dir, 'fallback.backup'))).toThrow();
    });
  });

  test('more after the end line', async () => {
    writeFileSync(file(), Buffer.concat([good, Buffer.from('["passwd","localhost\\u0000mallory",{}]\n')]));
    await refused(`Invalid backup ${file()} (line ${lineCount() + 1}): there is more after the end line`);
  });

  test('a huge line is refused without being held in memory', async () => {
    writeFileSync(file(), `${lines()[0]}\n["passwd","k","${'x'.repeat(17 * 1024 * 1024)}"]\n`);
    await refused(`Cannot read the backup ${file()}: line 2 is longer than 16777216 bytes`);
  });
});

test('install_fallback refuses the same files and stages nothing', async () => {
  writeFileSync(file(), good.subarray(0, good.length - 5));
  expect(await home.ctl(['install_fallback', file()])).toEqual({
    status: 1,
    stdout: '',
    stderr: `Error: Invalid backup ${file()} (line ${lineCount()}): the file is truncated (its last line is incomplete)\n`,
  });
  expect(() => readFileSync(join(home.dir, 'fallback.backup'))).toThrow();
});

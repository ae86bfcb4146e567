import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fails, ok } from '../helpers/cli';
import { fakeMuc, mucCli, type FakeMuc } from './muc-helpers';
import { DEFAULT_ROOM_OPTIONS } from '../../src/config/muc';

let dir: string;
let muc: FakeMuc;
let ctl: ReturnType<typeof mucCli>;

beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'ctl-muc-files-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => {
  muc = fakeMuc();
  ctl = mucCli(muc);
});

function roomsFile(text: string): string {
  const file = join(dir, `rooms-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(file, text);
  return file;
}

const room = (jid: string) => muc.state.set(jid, { options: DEFAULT_ROOM_OPTIONS, affiliations: [], occupants: [], idleDays: 0 });

describe('create_rooms_file', () => {
  test('stores every room of the file as persistent, in one batch; blank lines and repeats are skipped; each room is reported on stderr', async () => {
    const file = roomsFile('Lobby@conference.localhost\n\n  attic@conference.localhost  \r\nhall@conference.example.org\nlobby@conference.localhost\n\n');
    expect(await ctl(['create_rooms_file', file])).toEqual({
      status: 0,
      stdout: '',
      stderr: 'Creating room lobby@conference.localhost\nCreating room attic@conference.localhost\nCreating room hall@conference.example.org\n',
    });
    expect(muc.calls).toEqual(['createRooms lobby@conference.localhost attic@conference.localhost hall@conference.example.org']);
    expect(muc.state.get('attic@conference.localhost')!.options.persistent).toBe(true);
  });

  test('a last line without a newline counts; an empty file creates nothing', async () => {
    expect(await ctl(['create_rooms_file', roomsFile('lobby@conference.localhost')])).toEqual({
      status: 0,
      stdout: '',
      stderr: 'Creating room lobby@conference.localhost\n',
    });
    expect(await ctl(['create_rooms_file', roomsFile('\n\n')])).toEqual(ok());
    expect(muc.state.size).toBe(1);
  });

  test.each([
    ['lobby', "Line 2 of the rooms file: 'lobby' is not a room JID (room@service)"],
    ['lobby@conference.localhost/desk', "Line 2 of the rooms file: 'lobby@conference.localhost/desk' is not a room JID (room@service)"],
    [
      'lob by@conference.localhost',
      `Line 2 of the rooms file: 'lob by@conference.localhost' is not a room JID (room@service): Invalid room name 'lob by' (room): a room name cannot contain spaces, control characters or any of "&'/:<>@`,
    ],
    ['@conference.localhost', "Line 2 of the rooms file: '@conference.localhost' is not a room JID (room@service)"],
    ['lobby@', "Line 2 of the rooms file: 'lobby@' is not a room JID (room@service): The host name (room) must not be empty"],
    [
      'lobby@conference.nowhere.example',
      'Line 2 of the rooms file: No MUC service conference.nowhere.example here: the services are conference.localhost, conference.example.org',
    ],
    ['lobby@localhost', 'Line 2 of the rooms file: localhost is a host, not a MUC service: its rooms are on conference.localhost'],
  ])('a bad line (%s) is an error naming its number, and nothing is created', async (line, why) => {
    const file = roomsFile(`attic@conference.localhost\n${line}\nhall@conference.localhost\n`);
    expect(await ctl(['create_rooms_file', file])).toEqual(fails(1, `Error: ${why}\n`));
    expect(muc.state.size).toBe(0);
    expect(muc.calls).toEqual([]);
  });

  test('a long bad line is repeated in the error only in part', async () => {
    const junk = 'x'.repeat(500);
    expect(await ctl(['create_rooms_file', roomsFile(`${junk}\n`)])).toEqual(
      fails(1, `Error: Line 1 of the rooms file: '${'x'.repeat(80)}...' is not a room JID (room@service)\n`),
    );
  });

  test('a room that exists already is an error naming its line, and nothing is created', async () => {
    room('hall@conference.localhost');
    const file = roomsFile('attic@conference.localhost\n\nhall@conference.localhost\n');
    expect(await ctl(['create_rooms_file', file])).toEqual(fails(1, `Error: Line 3 of the rooms file: room hall@conference.localhost already exists\n`));
    expect([...muc.state.keys()]).toEqual(['hall@conference.localhost']);
  });

  test('a file that cannot be read is an error naming it', async () => {
    const file = join(dir, 'missing.txt');
    const r = await ctl(['create_rooms_file', file]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(file);
  });
});

describe('destroy_rooms_file', () => {
  beforeEach(() => ['lobby@conference.localhost', 'attic@conference.localhost', 'hall@conference.example.org'].forEach(room));

  test('destroys every room of the file; each is reported on stderr with its host', async () => {
    const file = roomsFile('lobby@conference.localhost\n\nhall@conference.example.org\n');
    expect(await ctl(['destroy_rooms_file', file])).toEqual({
      status: 0,
      stdout: '',
      stderr: 'Destroying room: lobby@conference.localhost - vhost: localhost\nDestroying room: hall@conference.example.org - vhost: example.org\n',
    });
    expect(muc.calls).toEqual(['destroyRooms lobby@conference.localhost hall@conference.example.org']);
    expect([...muc.state.keys()]).toEqual(['attic@conference.localhost']);
  });

  test('a bad line, or a room that does not exist, is an error naming its line, and nothing is destroyed', async () => {
    const bad = roomsFile('lobby@conference.localhost\nnot a@jid\n');
    expect(await ctl(['destroy_rooms_file', bad])).toEqual(
      fails(
        1,
        `Error: Line 2 of the rooms file: 'not a@jid' is not a room JID (room@service): Invalid room name 'not a' (room): a room name cannot contain spaces, control characters or any of "&'/:<>@\n`,
      ),
    );
    const missing = roomsFile('lobby@conference.localhost\ncellar@conference.localhost\n');
    expect(await ctl(['destroy_rooms_file', missing])).toEqual(fails(1, `Error: Line 2 of the rooms file: room cellar@conference.localhost does not exist\n`));
    const plain = roomsFile('lobby@localhost\n');
    expect(await ctl(['destroy_rooms_file', plain])).toEqual(
      fails(1, `Error: Line 1 of the rooms file: localhost is a host, not a MUC service: its rooms are on conference.localhost\n`),
    );
    expect(muc.state.size).toBe(3);
    expect(muc.calls).toEqual([]);
  });

  test('a room that goes away while the file is read is no error: the rooms destroyed are reported', async () => {
    const destroyRooms = muc.destroyRooms;
    muc.destroyRooms = async (rooms, reason) => {
      muc.state.delete('lobby@conference.localhost');
      return destroyRooms(rooms, reason);
    };
    const file = roomsFile('lobby@conference.localhost\nattic@conference.localhost\n');
    expect(await ctl(['destroy_rooms_file', file])).toEqual({
      status: 0,
      stdout: '',
      stderr: 'Destroying room: attic@conference.localhost - vhost: localhost\n',
    });
  });
});

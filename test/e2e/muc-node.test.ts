/**
 * The room commands through a running node's control socket, against its real MUC service:
 * what they print, what they refuse, and persistent rooms surviving a restart.
 */
import { writeFileSync } from 'node:fs';
import { optionsOutput } from '../helpers/muc';
import { join } from 'node:path';
import { eventually, startXmppNode, xmppClientLive, type XmppNode } from '../helpers/xmpp';

jest.setTimeout(60_000);

const SERVICE = 'conference.localhost';
const ok = (stdout = '') => ({ status: 0, stdout, stderr: '' });
const fails = (status: number, stderr: string) => ({ status, stdout: '', stderr });

let x: XmppNode;
beforeEach(async () => (x = await startXmppNode({ users: { 'ann@localhost': 'pw' } })));
afterEach(() => x?.stop());

test('create_room, get_room_options, change_room_option, muc_online_rooms and destroy_room on a live node', async () => {
  expect(await x.ctl(['create_room', 'Lobby', SERVICE, 'localhost'])).toEqual(ok());
  expect(await x.ctl(['get_room_options', 'lobby', SERVICE])).toEqual(ok(optionsOutput()));
  expect(await x.ctl(['muc_online_rooms', 'global'])).toEqual(ok('lobby@conference.localhost\n'));
  expect(await x.ctl(['muc_online_rooms', SERVICE])).toEqual(ok('lobby@conference.localhost\n'));
  expect(await x.ctl(['get_room_occupants_number', 'lobby', SERVICE])).toEqual(ok('0\n'));
  expect(await x.ctl(['get_room_occupants', 'lobby', SERVICE])).toEqual(ok());

  expect(await x.ctl(['change_room_option', 'lobby', SERVICE, 'title', 'Tea\there'])).toEqual(ok());
  expect(await x.ctl(['change_room_option', 'lobby', SERVICE, 'max_users', '50'])).toEqual(ok());
  const options = (await x.ctl(['get_room_options', 'lobby', SERVICE])).stdout.split('\n');
  expect(options[0]).toBe('title\tTea\\there');
  expect(options).toContain('max_users\t50');

  expect(await x.ctl(['set_room_affiliation', 'lobby', SERVICE, 'ann@localhost', 'admin'])).toEqual(ok());
  expect(await x.ctl(['get_room_affiliations', 'lobby', SERVICE])).toEqual(ok('ann\tlocalhost\tadmin\t\n'));

  expect(await x.ctl(['destroy_room', 'lobby', SERVICE])).toEqual(ok());
  expect(await x.ctl(['muc_online_rooms', 'global'])).toEqual(ok());
});

test('bad input is refused with a clear error and leaves nothing behind', async () => {
  expect(await x.ctl(['create_room', 'lobby', 'localhost', 'localhost'])).toEqual(
    fails(1, "Error: 'localhost' is not the MUC service of localhost: its rooms are on conference.localhost\n"),
  );
  const badName = await x.ctl(['create_room', 'a b', SERVICE, 'localhost']);
  expect(badName).toMatchObject({ status: 2, stdout: '', stderr: expect.stringMatching(/^Error: Invalid room name 'a b' \(name\)/) });
  expect(await x.ctl(['muc_online_rooms', 'global'])).toEqual(ok());

  expect(await x.ctl(['create_room', 'lobby', SERVICE, 'localhost'])).toEqual(ok());
  const again = await x.ctl(['create_room', 'lobby', SERVICE, 'localhost']);
  expect(again).toMatchObject({ status: 1, stdout: '', stderr: expect.stringContaining('lobby@conference.localhost') });
  const maybe = await x.ctl(['change_room_option', 'lobby', SERVICE, 'persistent', 'maybe']);
  expect(maybe).toMatchObject({
    status: 2,
    stdout: '',
    stderr: expect.stringMatching(/^Error: Invalid value 'maybe' for room option persistent: use true or false\n/),
  });
  const unknown = await x.ctl(['change_room_option', 'lobby', SERVICE, 'colour', 'blue']);
  expect(unknown).toMatchObject({ status: 2, stdout: '', stderr: expect.stringMatching(/^Error: Unknown room option 'colour'/) });
  expect((await x.ctl(['get_room_options', 'lobby', SERVICE])).stdout).toContain('persistent\tfalse\n');

  for (const args of [
    ['get_room_options', 'hall', SERVICE],
    ['destroy_room', 'hall', SERVICE],
    ['get_room_occupants', 'hall', SERVICE],
  ]) {
    const r = await x.ctl(args);
    expect(r).toMatchObject({ status: 1, stdout: '', stderr: expect.stringContaining('hall@conference.localhost') });
    expect(r.stderr).not.toMatch(/[{}]|<<|undefined/);
  }
  for (const args of [
    ['muc_online_rooms', 'localhost'],
    ['get_room_options', 'lobby', 'localhost'],
  ]) {
    const r = await x.ctl(args);
    expect(r).toMatchObject({ status: 1, stdout: '', stderr: expect.stringContaining(SERVICE) });
  }
});

test('create_rooms_file stores persistent rooms that survive a restart; destroy_rooms_file removes them', async () => {
  const bad = join(x.home, 'bad-rooms.txt');
  writeFileSync(bad, 'one@conference.localhost\nnot a room\n');
  expect(await x.ctl(['create_rooms_file', bad])).toEqual(fails(1, `Error: Line 2 of the rooms file: 'not a room' is not a room JID (room@service)\n`));
  expect(await x.ctl(['muc_online_rooms', 'global'])).toEqual(ok());

  const file = join(x.home, 'rooms.txt');
  writeFileSync(file, 'one@conference.localhost\n\ntwo@conference.localhost\n');
  expect(await x.ctl(['create_rooms_file', file])).toEqual({
    status: 0,
    stdout: '',
    stderr: 'Creating room one@conference.localhost\nCreating room two@conference.localhost\n',
  });
  expect(await x.ctl(['muc_online_rooms', 'global'])).toEqual(ok('one@conference.localhost\ntwo@conference.localhost\n'));

  await x.node.control.restart();
  expect(await x.ctl(['muc_online_rooms', 'global'])).toEqual(ok('one@conference.localhost\ntwo@conference.localhost\n'));
  expect((await x.ctl(['get_room_options', 'two', SERVICE])).stdout).toContain('persistent\ttrue\n');
  expect(await x.ctl(['rooms_unused_list', 'global', '3650'])).toEqual({ status: 0, stdout: '', stderr: 'rooms unused: 0 out of 2\n' });

  expect(await x.ctl(['destroy_rooms_file', file])).toEqual({
    status: 0,
    stdout: '',
    stderr: 'Destroying room: one@conference.localhost - vhost: localhost\nDestroying room: two@conference.localhost - vhost: localhost\n',
  });
  expect(await x.ctl(['muc_online_rooms', 'global'])).toEqual(ok());
  await x.node.control.restart();
  expect(await x.ctl(['muc_online_rooms', 'global'])).toEqual(ok());
});

test('with a client in a room: occupants, the user’s rooms, and a direct invitation', async () => {
  const client = xmppClientLive('xmpp-client', {
    client: { service: `xmpp://127.0.0.1:${x.ports.c2s}`, domain: 'localhost', username: 'ann', password: 'pw', resource: 'desk' },
    steps: [
      { send: `<presence to='den@${SERVICE}/Ann'><x xmlns='http://jabber.org/protocol/muc'/></presence>` },
      { wait: [`from='den@${SERVICE}/Ann'`, "code='110'"], label: 'joined' },
      // A room a client creates stays locked until its owner accepts it (XEP-0045 §10.1.2).
      {
        iq: `<iq type='set' to='den@${SERVICE}' id='instant'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`,
      },
      { checkpoint: 'inside' },
      { wait: ["xmlns='jabber:x:conference'", `jid='hall@${SERVICE}'`, "reason='Come in'"], label: 'invited' },
    ],
    timeout: 40,
  });
  try {
    await client.checkpoint('inside', 30_000);
    expect(await x.ctl(['get_room_occupants', 'den', SERVICE])).toEqual(ok('ann@localhost/desk\tAnn\tmoderator\n'));
    expect(await x.ctl(['get_room_occupants_number', 'den', SERVICE])).toEqual(ok('1\n'));
    expect(await x.ctl(['get_user_rooms', 'ann', 'localhost'])).toEqual(ok('den@conference.localhost\n'));
    expect(await x.ctl(['create_room', 'hall', SERVICE, 'localhost'])).toEqual(ok());
    // Ann is inside den, so den's invitation skips her; hall's reaches her.
    expect(await x.ctl(['send_direct_invitation', 'den', SERVICE, 'none', 'Come in', 'ann@localhost'])).toEqual(ok());
    expect(await x.ctl(['send_direct_invitation', 'hall', SERVICE, 'none', 'Come in', 'ann@localhost:nobody@localhost'])).toEqual(ok());
  } finally {
    client.resume();
  }
  const run = await client.done;
  expect(run.events.filter((e) => e.event === 'error')).toEqual([]);
  const invitations = run.events.filter((e) => e.event === 'recv' && String(e.xml).includes('jabber:x:conference'));
  expect(invitations).toHaveLength(1);
  expect(String(invitations[0].xml)).toMatch(/^<message from=["']hall@conference\.localhost["'] to=["']ann@localhost["']/);
  // The room a client made is temporary: it goes with its last occupant.
  await eventually(
    () => x.ctl(['muc_online_rooms', 'global']),
    (r) => r.stdout === 'hall@conference.localhost\n',
  );
  expect(await x.ctl(['get_user_rooms', 'ann', 'localhost'])).toEqual(ok());
});

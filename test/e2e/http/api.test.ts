/**
 * The JSON API over a real socket, driven by curl.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempHome } from '../../helpers/cli';
import { curl, startHttpNode, type HttpNode } from '../../helpers/http-node';

jest.setTimeout(60_000);
let n: HttpNode;
beforeAll(async () => (n = await startHttpNode()));
afterAll(() => n.stop());

const ADMIN = ['-u', 'admin@localhost:secret'];
const post = (command: string, body: unknown, auth = ADMIN) =>
  curl([
    ...auth,
    '-X',
    'POST',
    '-H',
    'Content-Type: application/json',
    '--data-binary',
    typeof body === 'string' ? body : JSON.stringify(body),
    `${n.url}/api/${command}`,
  ]);
const json = async (command: string, body: unknown, auth = ADMIN) => {
  const r = await post(command, body, auth);
  return [r.status, JSON.parse(r.body)];
};

describe("results in the API's JSON shape, for every result type", () => {
  test.each([
    ['echo_integer', { thisinteger: 5 }, { thatinteger: 5 }],
    ['echo_string', { thisstring: 'tab\there ✓' }, { thatstring: 'tab\there ✓' }],
    ['tell_atom', { thisinteger: 1 }, { thisatom: 'one' }],
    ['tell_rescode', { thisinteger: 0 }, 0],
    ['tell_rescode', { thisinteger: 3 }, 1],
    ['tell_restuple', { thisinteger: 1 }, 'Successful result'],
    ['seq', { from: 3, to: 5 }, [3, 4, 5]],
    ['echo_list_string', { thislist: ['a', 'b'] }, ['a', 'b']],
    ['tell_tuple_3integer', {}, { first: 123, second: 456, third: 789 }],
    [
      'tell_list_3tuple',
      {},
      [
        { thisinteger: 123, thistring: 'abcdefghijkl', thisatom: 'first' },
        { thisinteger: 593, thistring: 'this string', thisatom: 'morning' },
        { thisinteger: 999, thistring: 'Sleeping dog', thisatom: 'not_seen' },
      ],
    ],
    ['tell_tuple_3list', {}, { first: [1, 23, 456], second: ['Tell', 'me'], third: ['all', 'is', 'ok'] }],
    [
      'echo_isatils',
      { thisinteger: 7, thisstring: 's', thisatom: 'a', thistuple: { listlen: 2, thislist: ['x', 'y'] } },
      { thatinteger: 7, thatstring: 's', thatatom: 'a', thattuple: { listlen: 2, thatlist: ['x', 'y'] } },
    ],
  ])('%s %j', async (command, args, expected) => {
    expect(await json(command, args)).toEqual([200, expected]);
  });

  test('replies are application/json', async () => {
    const r = await post('echo_integer', { thisinteger: 1 });
    expect(r.headers).toMatch(/^content-type: application\/json$/im);
  });

  test('GET with query arguments for commands whose arguments are all scalars', async () => {
    const r = await curl([...ADMIN, `${n.url}/api/pow?base=2&exponent=10`]);
    expect([r.status, JSON.parse(r.body)]).toEqual([200, { power: 1024 }]);
    const bad = await curl([...ADMIN, `${n.url}/api/pow?base=2&exponent=ten`]);
    expect([bad.status, JSON.parse(bad.body)]).toEqual([
      400,
      { status: 'error', code: 'bad_argument', message: "Bad value for argument 'exponent': expected a whole number, got 'ten'" },
    ]);
    const list = await curl([...ADMIN, `${n.url}/api/echo_list_string?thislist=a`]);
    expect(list.status).toBe(405);
  });

  test('GET /api lists the commands with their argument types', async () => {
    const r = await curl([`${n.url}/api`]);
    expect(r.status).toBe(200);
    const commands = JSON.parse(r.body) as { name: string; args: unknown[]; result: unknown }[];
    expect(commands).toHaveLength(159);
    expect(commands.find((c) => c.name === 'get_roster')).toMatchObject({
      policy: 'user',
      args: [
        { name: 'user', type: 'binary' },
        { name: 'server', type: 'binary' },
      ],
      result: {
        name: 'contacts',
        type: {
          list: {
            name: 'contact',
            type: {
              tuple: [
                { name: 'jid', type: 'string' },
                { name: 'nick', type: 'string' },
                { name: 'subscription', type: 'string' },
                { name: 'ask', type: 'string' },
                { name: 'group', type: 'string' },
              ],
            },
          },
        },
      },
    });
    expect((await curl([`${n.url}/api/`])).body).toBe(r.body);
  });
});

describe('errors carry a JSON body and the right status', () => {
  const error = (status: number, code: string, message: string) => [status, { status: 'error', code, message }];

  test('400 for a bad, missing or unknown argument, naming it', async () => {
    expect(await json('echo_integer', { thisinteger: '5' })).toEqual(error(400, 'bad_argument', "Bad value for argument 'thisinteger': expected an integer"));
    expect(await json('register', { user: 'a', host: 'localhost' })).toEqual(error(400, 'bad_argument', "Missing argument 'password' for register"));
    expect(await json('echo_string', { thisstring: 'x', colour: 'red' })).toEqual(error(400, 'bad_argument', "Unknown argument 'colour' for echo_string"));
    expect(await json('echo_string', '{"thisstring":')).toEqual([
      400,
      expect.objectContaining({ code: 'bad_argument', message: expect.stringMatching(/^The request body is not valid JSON/) }),
    ]);
    expect(await json('echo_string', '["x"]')).toEqual(error(400, 'bad_argument', 'The request body must be a JSON object of named arguments'));
  });

  test('404 for an unknown command or entity, 409 for a conflict', async () => {
    expect(await json('frobnicate', {})).toEqual(error(404, 'unknown_command', "Unknown command 'frobnicate'"));
    expect(await json('registerd_users', { host: 'localhost' })).toEqual(
      error(404, 'unknown_command', "Unknown command 'registerd_users'. Did you mean 'registered_users'?"),
    );
    expect(await json('change_password', { user: 'ghost', host: 'localhost', newpass: 'x' })).toEqual(
      error(404, 'not_found', 'User ghost@localhost does not exist'),
    );
    expect(await json('register', { user: 'bob', host: 'localhost', password: 'x' })).toEqual(error(409, 'conflict', 'User bob@localhost already registered'));
  });

  test('501 for what this node does not support: clustering without a Redis in ctl.yml', async () => {
    expect(await json('join_cluster', { node: 'other@host' })).toEqual(
      error(
        501,
        'not_supported',
        'ctl@localhost serves alone: a cluster keeps its sessions in Redis, so name it in ctl.yml (redis_server, redis_port, redis_db, redis_password_file), share one PostgreSQL database (default_db: sql), and restart the node',
      ),
    );
  });

  test('500 for a crashing handler, without a stack trace', async () => {
    const [status, body] = await json('this_crashes', { aninteger: 1 });
    expect(status).toBe(500);
    expect(body).toEqual({ status: 'error', code: 'internal', message: "this_crashes crashed: Cannot read properties of null (reading 'plus')" });
    expect(await json('this_wrong_return', {})).toEqual(error(500, 'internal', 'this_wrong_return returned a value that is not of its result type (integer)'));
  });

  test('413 for a body over 1 MiB; 405 for other methods', async () => {
    const big = join(n.dir, 'big.json');
    writeFileSync(big, JSON.stringify({ thisstring: 'x'.repeat(1024 * 1024) }));
    const r = await curl([...ADMIN, '-X', 'POST', '-H', 'Content-Type: application/json', '--data-binary', `@${big}`, `${n.url}/api/echo_string`]);
    expect([r.status, JSON.parse(r.body).code]).toEqual([413, 'bad_argument']);
    expect((await curl([...ADMIN, '-X', 'DELETE', `${n.url}/api/echo_string`])).status).toBe(405);
    expect((await curl([`${n.url}/elsewhere`])).status).toBe(404);
  });
});

describe('authentication and permissions', () => {
  test('401 without credentials, with wrong ones, or for an unknown account; WWW-Authenticate says basic', async () => {
    const none = await post('registered_users', { host: 'localhost' }, []);
    expect(none.status).toBe(401);
    expect(none.headers).toMatch(/^www-authenticate: Basic realm="ctl"/im);
    expect(JSON.parse(none.body)).toEqual({
      status: 'error',
      code: 'not_allowed',
      message: 'Authentication required: HTTP basic auth as an account (user@host:password) or a bearer token',
    });
    for (const auth of [
      ['-u', 'admin@localhost:wrong'],
      ['-u', 'ghost@localhost:secret'],
      ['-u', 'admin:secret'],
      ['-H', 'Authorization: Bearer nope'],
    ]) {
      expect((await post('registered_users', { host: 'localhost' }, auth)).status).toBe(401);
    }
  });

  test('403 when an account that is not an admin calls an admin command', async () => {
    expect(await json('registered_users', { host: 'localhost' }, ['-u', 'bob@localhost:pw'])).toEqual([
      403,
      { status: 'error', code: 'not_allowed', message: 'bob@localhost may not run registered_users: only administrators may' },
    ]);
  });

  test('any account may call the user-policy commands on its own data, and only its own', async () => {
    await runCli(['add_rosteritem', 'bob', 'localhost', 'carol', 'example.org', 'Carol', 'Friends', 'both', '--home', n.dir]);
    const bob = ['-u', 'bob@localhost:pw'];
    const roster = [{ jid: 'carol@example.org', nick: 'Carol', subscription: 'both', ask: 'none', group: 'Friends' }];
    expect(await json('get_roster', {}, bob)).toEqual([200, roster]);
    expect(await json('get_roster', { user: 'bob', server: 'localhost' }, bob)).toEqual([200, roster]);
    expect(await json('get_offline_count', {}, bob)).toEqual([200, { res: 0 }]);
    expect(await json('get_roster', { user: 'admin', server: 'localhost' }, bob)).toEqual([
      403,
      { status: 'error', code: 'not_allowed', message: 'bob@localhost may run get_roster on its own account only' },
    ]);
    expect(await json('get_roster', { user: 'bob', server: 'localhost' })).toEqual([200, roster]);
  });

  test('bearer tokens from api_token_create act as their account until revoked', async () => {
    const token = (await runCli(['api_token_create', 'admin', 'localhost', '30', '--home', n.dir])).stdout.trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const auth = ['-H', `Authorization: Bearer ${token}`];
    expect(await json('registered_users', { host: 'localhost' }, auth)).toEqual([200, ['admin', 'bob']]);
    const listed = (await runCli(['api_token_list', '--home', n.dir])).stdout;
    expect(listed).toMatch(/^[0-9a-f]{12}\tadmin@localhost\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);
    expect(await runCli(['api_token_revoke', listed.slice(0, 12), '--home', n.dir])).toEqual({ status: 0, stdout: '', stderr: '' });
    expect((await post('registered_users', { host: 'localhost' }, auth)).status).toBe(401);
    const bobToken = (await runCli(['api_token_create', 'bob', 'localhost', '0', '--home', n.dir])).stdout.trim();
    expect((await post('registered_users', { host: 'localhost' }, ['-H', `Authorization: Bearer ${bobToken}`])).status).toBe(403);
  });

  test('a token that served calls is refused on the very next call once revoked, or once its account is removed', async () => {
    const ids = async () =>
      new Set(
        (await runCli(['api_token_list', '--home', n.dir])).stdout
          .split('\n')
          .filter(Boolean)
          .map((l) => l.slice(0, 12)),
      );
    const before = await ids();
    const token = (await runCli(['api_token_create', 'admin', 'localhost', '1', '--home', n.dir])).stdout.trim();
    const [id] = [...(await ids())].filter((i) => !before.has(i));
    const auth = ['-H', `Authorization: Bearer ${token}`];
    for (let i = 0; i < 3; i++) expect(await json('registered_users', { host: 'localhost' }, auth)).toEqual([200, ['admin', 'bob']]);
    expect(await runCli(['api_token_revoke', id, '--home', n.dir])).toEqual({ status: 0, stdout: '', stderr: '' });
    expect((await post('registered_users', { host: 'localhost' }, auth)).status).toBe(401);

    expect((await runCli(['register', 'carol', 'localhost', 'pw', '--home', n.dir])).status).toBe(0);
    const carols = (await runCli(['api_token_create', 'carol', 'localhost', '0', '--home', n.dir])).stdout.trim();
    const carol = ['-H', `Authorization: Bearer ${carols}`];
    for (let i = 0; i < 3; i++) expect(await json('get_offline_count', {}, carol)).toEqual([200, { res: 0 }]);
    expect((await runCli(['unregister', 'carol', 'localhost', '--home', n.dir])).status).toBe(0);
    expect((await post('get_offline_count', {}, carol)).status).toBe(401);
    // Registered again, carol is another account: what was made for the first one does not serve it.
    expect((await runCli(['register', 'carol', 'localhost', 'pw', '--home', n.dir])).status).toBe(0);
    expect((await post('get_offline_count', {}, carol)).status).toBe(401);
    expect((await runCli(['unregister', 'carol', 'localhost', '--home', n.dir])).status).toBe(0);
  });

  test('a token that served calls is refused once restore puts back a database without it', async () => {
    const backup = join(n.dir, 'before-token.backup');
    expect((await runCli(['backup', backup, '--home', n.dir])).status).toBe(0);
    const token = (await runCli(['api_token_create', 'admin', 'localhost', '0', '--home', n.dir])).stdout.trim();
    const auth = ['-H', `Authorization: Bearer ${token}`];
    for (let i = 0; i < 3; i++) expect((await post('registered_users', { host: 'localhost' }, auth)).status).toBe(200);
    expect((await runCli(['restore', backup, '--home', n.dir])).status).toBe(0);
    expect((await post('registered_users', { host: 'localhost' }, auth)).status).toBe(401);
  });

  test('a token is refused once load puts back its account as one registered after the token was made', async () => {
    expect((await runCli(['register', 'dave', 'localhost', 'pw', '--home', n.dir])).status).toBe(0);
    const token = (await runCli(['api_token_create', 'dave', 'localhost', '0', '--home', n.dir])).stdout.trim();
    const dave = ['-H', `Authorization: Bearer ${token}`];
    for (let i = 0; i < 3; i++) expect(await json('get_offline_count', {}, dave)).toEqual([200, { res: 0 }]);
    // Another database's dave, registered a second later than the token was made.
    await new Promise((r) => setTimeout(r, 1100));
    const other = tempHome('ctl-load-');
    try {
      expect((await runCli(['register', 'dave', 'localhost', 'pw', '--home', other.dir])).status).toBe(0);
      const dump = join(other.dir, 'dave.dump');
      expect((await runCli(['dump', dump, '--home', other.dir])).status).toBe(0);
      expect((await runCli(['load', dump, '--home', n.dir])).status).toBe(0);
    } finally {
      other.cleanup();
    }
    expect((await post('get_offline_count', {}, dave)).status).toBe(401);
    expect((await runCli(['unregister', 'dave', 'localhost', '--home', n.dir])).status).toBe(0);
  });
});

/**
 * XML-RPC over a real socket, driven by Python's xmlrpc.client (and curl for raw documents).
 */
import { runCli } from '../../helpers/cli';
import { curl, python, startHttpNode, type HttpNode } from '../../helpers/http-node';

jest.setTimeout(60_000);
let n: HttpNode;
beforeAll(async () => (n = await startHttpNode()));
afterAll(() => n.stop());

/** Runs calls through xmlrpc.client and returns, per call, its result or its fault. */
async function calls(lines: string[]): Promise<unknown[]> {
  const script = [
    'import json, xmlrpc.client as x',
    `s = x.ServerProxy(${JSON.stringify(`${n.url}/rpc`)})`,
    "admin = {'user': 'admin', 'server': 'localhost', 'password': 'secret'}",
    'def run(f):',
    '    try: print(json.dumps({"ok": f()}))',
    '    except x.Fault as e: print(json.dumps({"fault": e.faultCode, "message": e.faultString}))',
    ...lines.map((l) => `run(lambda: ${l})`),
  ].join('\n');
  return (await python(script))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

test("every result type in ejabberd's XML-RPC shapes", async () => {
  expect(
    await calls([
      "s.echo_integer(admin, {'thisinteger': 5})",
      "s.echo_string(admin, {'thisstring': 'a & <b> ✓'})",
      "s.tell_atom(admin, {'thisinteger': 0})",
      "s.tell_rescode(admin, {'thisinteger': 0})",
      "s.tell_rescode(admin, {'thisinteger': 2})",
      "s.tell_restuple(admin, {'thisinteger': 0})",
      "s.seq(admin, {'from': 3, 'to': 4})",
      "s.splitjid(admin, {'jid': 'u@s/r'})",
      's.tell_list_3tuple(admin, {})',
    ]),
  ).toEqual([
    { ok: { thatinteger: 5 } },
    { ok: { thatstring: 'a & <b> ✓' } },
    { ok: { thisatom: 'zero' } },
    { ok: { res: 0 } },
    { ok: { res: 1 } },
    { ok: { res: 0, text: 'All OK' } },
    { ok: { sequence: [{ intermediate: 3 }, { intermediate: 4 }] } },
    { ok: { jidparts: [{ user: 'u' }, { server: 's' }, { resource: 'r' }] } },
    {
      ok: {
        thatlist: [
          { thistuple: [{ thisinteger: 123 }, { thistring: 'abcdefghijkl' }, { thisatom: 'first' }] },
          { thistuple: [{ thisinteger: 593 }, { thistring: 'this string' }, { thisatom: 'morning' }] },
          { thistuple: [{ thisinteger: 999 }, { thistring: 'Sleeping dog' }, { thisatom: 'not_seen' }] },
        ],
      },
    },
  ]);
});

test('list and tuple arguments: arrays of one-member structs, or plain arrays and structs', async () => {
  expect(
    await calls([
      "s.echo_list_integer(admin, {'thislist': [{'thisinteger': 1}, {'thisinteger': 2}]})",
      "s.echo_list_integer(admin, {'thislist': [3, 4]})",
      "s.take_tuple_2integer(admin, {'thistuple': [{'thisinteger1': 1}, {'thisinteger2': 2}]})",
      "s.take_tuple_2integer(admin, {'thistuple': {'thisinteger1': 1, 'thisinteger2': 2}})",
    ]),
  ).toEqual([
    { ok: { thatlist: [{ thatinteger: 1 }, { thatinteger: 2 }] } },
    { ok: { thatlist: [{ thatinteger: 3 }, { thatinteger: 4 }] } },
    { ok: { zero: 0 } },
    { ok: { zero: 0 } },
  ]);
});

test("faults with ejabberd's codes: missing, extra, wrong type, unknown call, command errors, authentication", async () => {
  const [missing, extra, wrongType, unknown, conflict, crash, noAuth, badAuth, user] = await calls([
    "s.register(admin, {'user': 'z', 'host': 'localhost'})",
    "s.echo_string(admin, {'thisstring': 'x', 'more': 1})",
    "s.echo_integer(admin, {'thisinteger': 'five'})",
    's.frobnicate(admin, {})',
    "s.register(admin, {'user': 'bob', 'host': 'localhost', 'password': 'x'})",
    "s.this_crashes(admin, {'aninteger': 1})",
    "s.echo_integer({'thisinteger': 1})",
    "s.echo_integer({'user': 'admin', 'server': 'localhost', 'password': 'wrong'}, {'thisinteger': 1})",
    "s.registered_users({'user': 'bob', 'server': 'localhost', 'password': 'pw'}, {'host': 'localhost'})",
  ]);
  expect(missing).toEqual({ fault: -116, message: "Missing argument 'password' for register" });
  expect(extra).toEqual({ fault: -120, message: "Unknown argument 'more' for echo_string" });
  expect(wrongType).toEqual({ fault: -122, message: "Bad value for argument 'thisinteger': expected an integer" });
  expect(unknown).toEqual({ fault: -112, message: 'Unknown call: frobnicate' });
  expect(conflict).toEqual({ fault: -118, message: 'User bob@localhost already registered' });
  expect(crash).toEqual({ fault: -118, message: "this_crashes crashed: Cannot read properties of null (reading 'plus')" });
  expect(noAuth).toEqual({ fault: -118, message: 'Authentication required: HTTP basic auth as an account (user@host:password) or a bearer token' });
  expect(badAuth).toEqual({ fault: -118, message: 'Invalid user name or password' });
  expect(user).toEqual({ fault: -118, message: 'bob@localhost may not run registered_users: only administrators may' });
});

test("<int>, <i4> and the <integer> of ejabberd's documentation are all integers", async () => {
  const call = (type: string) =>
    `<?xml version="1.0"?><methodCall><methodName>echo_integer</methodName><params><param><value><struct><member><name>user</name><value><string>admin</string></value></member><member><name>server</name><value><string>localhost</string></value></member><member><name>password</name><value><string>secret</string></value></member></struct></value></param><param><value><struct><member><name>thisinteger</name><value><${type}>42</${type}></value></member></struct></value></param></params></methodCall>`;
  for (const type of ['int', 'i4', 'integer']) {
    const r = await curl(['-H', 'Content-Type: text/xml', '--data-binary', call(type), `${n.url}/rpc`]);
    expect([r.status, r.body]).toEqual([
      200,
      '<?xml version="1.0"?><methodResponse><params><param><value><struct><member><name>thatinteger</name><value><int>42</int></value></member></struct></value></param></params></methodResponse>',
    ]);
  }
  const malformed = await curl(['-H', 'Content-Type: text/xml', '--data-binary', '<methodCall><methodName>x</methodName>', `${n.url}/rpc`]);
  expect(malformed.body).toContain('<name>faultCode</name><value><int>-118</int></value>');
  expect(malformed.body).toContain('Malformed XML in the XML-RPC request');
  expect((await curl([`${n.url}/rpc`])).status).toBe(405);
});

test('an auth struct with a token from api_token_create', async () => {
  const token = (await runCli(['api_token_create', 'admin', 'localhost', '1', '--home', n.dir])).stdout.trim();
  expect(
    await calls([
      `s.echo_integer({'user': 'admin', 'server': 'localhost', 'token': '${token}'}, {'thisinteger': 7})`,
      `s.echo_integer({'user': 'admin', 'server': 'localhost', 'token': 'x${token}'}, {'thisinteger': 7})`,
      `s.echo_integer({'user': 'bob', 'server': 'localhost', 'token': '${token}'}, {'thisinteger': 7})`,
    ]),
  ).toEqual([{ ok: { thatinteger: 7 } }, { fault: -118, message: 'Invalid or expired token' }, { fault: -118, message: 'Invalid or expired token' }]);
});

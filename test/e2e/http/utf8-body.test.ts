/**
 * Request bodies are UTF-8: bytes that are not, and JSON's lone surrogates, are refused rather
 * than read as U+FFFD (which would make two different passwords one).
 */
import { startHttpNode, type HttpNode } from '../../helpers/http-node';

jest.setTimeout(60_000);
let n: HttpNode;
beforeAll(async () => (n = await startHttpNode()));
afterAll(() => n.stop());

const AUTH = `Basic ${Buffer.from('admin@localhost:secret').toString('base64')}`;
const post = async (path: string, type: string, body: Buffer | string) => {
  const r = await fetch(`${n.url}${path}`, {
    method: 'POST',
    headers: { Authorization: AUTH, 'Content-Type': type },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  return { status: r.status, body: await r.text() };
};
const registered = async () => JSON.parse((await post('/api/registered_users', 'application/json', '{"host":"localhost"}')).body) as string[];

test('a JSON body that is not UTF-8 is a 400, and nothing is registered', async () => {
  const body = Buffer.concat([Buffer.from('{"user":"u","host":"localhost","password":"p'), Buffer.from([0xff]), Buffer.from('w"}')]);
  expect(await post('/api/register', 'application/json', body)).toEqual({
    status: 400,
    body: JSON.stringify({ status: 'error', code: 'bad_argument', message: 'The request body is not valid UTF-8' }),
  });
  expect(await registered()).toEqual(['admin', 'bob']);
});

test('a lone surrogate in a JSON body is a 400 naming the member', async () => {
  expect(await post('/api/register', 'application/json', '{"user":"u","host":"localhost","password":"p\\ud800w"}')).toEqual({
    status: 400,
    body: JSON.stringify({ status: 'error', code: 'bad_argument', message: 'The request body holds a lone surrogate in password, which is not Unicode text' }),
  });
  expect(await registered()).toEqual(['admin', 'bob']);
});

test('an XML-RPC call that is not UTF-8 is a fault, and nothing is registered', async () => {
  const call = (pw: Buffer) =>
    Buffer.concat([
      Buffer.from(
        '<?xml version="1.0"?><methodCall><methodName>register</methodName><params><param><value><struct>' +
          '<member><name>user</name><value><string>u</string></value></member>' +
          '<member><name>host</name><value><string>localhost</string></value></member>' +
          '<member><name>password</name><value><string>',
      ),
      pw,
      Buffer.from('</string></value></member></struct></value></param></params></methodCall>'),
    ]);
  const r = await post('/rpc', 'text/xml', call(Buffer.from([0x70, 0xff, 0x77])));
  expect(r.status).toBe(200);
  expect(r.body).toContain('<string>The request body is not valid UTF-8</string>');
  expect(await registered()).toEqual(['admin', 'bob']);
});

test('a JSON body nested 100 000 deep is a 400 naming the argument, not a crash', async () => {
  const deep = `${'['.repeat(100_000)}"x"${']'.repeat(100_000)}`;
  expect(await post('/api/echo_list_string', 'application/json', `{"thislist":${deep}}`)).toEqual({
    status: 400,
    body: JSON.stringify({ status: 'error', code: 'bad_argument', message: "Bad value for argument 'thislist.0': expected a string" }),
  });
});

/** A register call over XML-RPC whose password is the XML given. */
const registerCall = (password: string) =>
  '<?xml version="1.0"?><methodCall><methodName>register</methodName><params><param><value><struct>' +
  '<member><name>user</name><value><string>u</string></value></member>' +
  '<member><name>host</name><value><string>localhost</string></value></member>' +
  `<member><name>password</name><value>${password}</value></member>` +
  '</struct></value></param></params></methodCall>';
const fault = (code: number, text: string) =>
  `<?xml version="1.0"?><methodResponse><fault><value><struct><member><name>faultCode</name><value><int>${code}</int></value></member><member><name>faultString</name><value><string>${text}</string></value></member></struct></value></fault></methodResponse>`;

test('an XML-RPC string that refers to a lone surrogate is a fault naming the member, and nothing is registered', async () => {
  expect(await post('/rpc', 'text/xml', registerCall('<string>p&#xD800;w</string>'))).toEqual({
    status: 200,
    body: fault(-122, 'The argument password holds &amp;#xD800;, a character XML cannot carry'),
  });
  expect(await post('/rpc', 'text/xml', registerCall('<struct><member><name>a&#0;</name><value>x</value></member></struct>'))).toEqual({
    status: 200,
    body: fault(-122, 'The argument password.a&amp;#0; holds &amp;#0;, a character XML cannot carry'),
  });
  // The reference is named even where the call is wrong in other ways too.
  expect(await post('/rpc', 'text/xml', registerCall('<int>x</int></value></member><member><name>user</name><value><string>&#xDFFF;</string>'))).toEqual({
    status: 200,
    body: fault(-122, 'The argument user holds &amp;#xDFFF;, a character XML cannot carry'),
  });
  expect(await registered()).toEqual(['admin', 'bob']);
});

test('an XML-RPC <base64> of bytes that are not UTF-8 is a fault naming the member, and nothing is registered', async () => {
  // Python's xmlrpc.client sends bytes so: read as U+FFFD, p\xffw and p\xfew would be one password.
  expect(await post('/rpc', 'text/xml', registerCall(`<base64>${Buffer.from([0x70, 0xff, 0x77]).toString('base64')}</base64>`))).toEqual({
    status: 200,
    body: fault(-122, 'The argument password is &lt;base64&gt; of bytes that are not UTF-8'),
  });
  expect(await registered()).toEqual(['admin', 'bob']);
});

test('a query argument that is not percent-encoded UTF-8 is a 400 naming it, as a path is', async () => {
  const get = async (query: string) => {
    const r = await fetch(`${n.url}/api/check_password?${query}`, { headers: { Authorization: AUTH } });
    return { status: r.status, body: await r.text() };
  };
  const refused = (name: string) => ({
    status: 400,
    body: JSON.stringify({ status: 'error', code: 'bad_argument', message: `The query argument ${name} is not valid percent-encoded UTF-8` }),
  });
  // Read as U+FFFD, p%FFw and p%FEw would be one password.
  expect(await get('user=bob&host=localhost&password=p%FFw')).toEqual(refused("'password'"));
  expect(await get('user=bob&host=localhost&password=p%ED%A0%80w')).toEqual(refused("'password'"));
  expect(await get('user=bob&host=localhost&password=p%zzw')).toEqual(refused("'password'"));
  expect(await get('user=bob&host=localhost&pass%FFword=pw')).toEqual(refused("'pass%FFword'"));
  expect(await get('user=bob&host=localhost&password=pw&__proto__=x')).toEqual({
    status: 400,
    body: JSON.stringify({ status: 'error', code: 'bad_argument', message: "Unknown argument '__proto__' for check_password" }),
  });
  expect(await get('user=bob&host=localhost&password=p%77')).toEqual({ status: 200, body: '0' });
  expect(await get('user=b%6Fb&host=localhost&password=p+w')).toEqual({ status: 200, body: '1' });
});

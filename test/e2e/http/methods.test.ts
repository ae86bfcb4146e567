/**
 * What the HTTP API accepts before it runs anything: GET only for commands that change
 * nothing, POST bodies of the right media type, request paths that decode.
 */
import { startHttpNode, type HttpNode } from '../../helpers/http-node';

jest.setTimeout(60_000);
let n: HttpNode;
beforeAll(async () => (n = await startHttpNode()));
afterAll(() => n.stop());

const AUTH = { Authorization: `Basic ${Buffer.from('admin@localhost:secret').toString('base64')}` };

async function call(method: string, path: string, body?: string, contentType?: string) {
  const res = await fetch(`${n.url}${path}`, {
    method,
    headers: { ...AUTH, ...(contentType === undefined ? {} : { 'Content-Type': contentType }) },
    ...(body === undefined ? {} : { body }),
  });
  return { status: res.status, allow: res.headers.get('allow'), body: await res.text() };
}

const users = async () => JSON.parse((await call('POST', '/api/registered_users', '{"host":"localhost"}', 'application/json')).body) as string[];

describe('GET runs only the commands that change nothing', () => {
  test('GET of a command that changes state is 405, Allow: POST, and nothing is registered', async () => {
    const r = await call('GET', '/api/register?user=mallory&host=localhost&password=p');
    expect(r).toEqual({
      status: 405,
      allow: 'POST',
      body: JSON.stringify({ status: 'error', code: 'bad_argument', message: 'register changes state: call it with POST and a JSON body' }),
    });
    expect(await users()).toEqual(['admin', 'bob']);
  });

  test.each(['unregister?user=bob&host=localhost', 'stop', 'reload_config', 'kick_user?user=bob&host=localhost'])('GET /api/%s is 405 too', async (path) => {
    const r = await call('GET', `/api/${path}`);
    expect([r.status, r.allow]).toEqual([405, 'POST']);
  });

  test('a read-only command answers a GET', async () => {
    const r = await call('GET', '/api/registered_users?host=localhost');
    expect([r.status, JSON.parse(r.body)]).toEqual([200, ['admin', 'bob']]);
    expect(await users()).toEqual(['admin', 'bob']);
  });

  test('other methods are 405, saying which are allowed', async () => {
    expect(await call('PUT', '/api/register', '{}', 'application/json')).toMatchObject({ status: 405, allow: 'POST' });
    expect(await call('DELETE', '/api/registered_users?host=localhost')).toMatchObject({ status: 405, allow: 'GET, POST' });
  });
});

describe('POST bodies must be JSON (the JSON API) or XML (XML-RPC)', () => {
  const register = JSON.stringify({ user: 'mallory', host: 'localhost', password: 'p' });

  test.each([
    ['text/plain', 'text/plain'],
    ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded'],
    ['multipart/form-data; boundary=x', 'multipart/form-data'],
  ])('Content-Type %s is 415 and runs nothing', async (type, named) => {
    const r = await call('POST', '/api/register', register, type);
    expect([r.status, JSON.parse(r.body)]).toEqual([
      415,
      { status: 'error', code: 'bad_argument', message: `The request body must be application/json, not ${named}` },
    ]);
    expect(await users()).toEqual(['admin', 'bob']);
  });

  test('no Content-Type at all is 415 as well', async () => {
    const r = await call('POST', '/api/stop');
    expect([r.status, JSON.parse(r.body)]).toEqual([
      415,
      { status: 'error', code: 'bad_argument', message: 'The request body must be application/json (send Content-Type: application/json)' },
    ]);
    expect((await call('GET', '/api/status')).status).toBe(200);
  });

  test('application/json with a charset runs the command', async () => {
    const r = await call('POST', '/api/echo_string', '{"thisstring":"ok"}', 'application/json; charset=utf-8');
    expect([r.status, r.body]).toEqual([200, '{"thatstring":"ok"}']);
  });

  test('XML-RPC takes text/xml or application/xml, and refuses a form with 415', async () => {
    const xml =
      '<?xml version="1.0"?><methodCall><methodName>echo_string</methodName><params><param><value><struct><member><name>thisstring</name><value><string>hi</string></value></member></struct></value></param></params></methodCall>';
    for (const type of ['text/xml', 'application/xml; charset=utf-8']) {
      const r = await call('POST', '/rpc', xml, type);
      expect([r.status, r.body]).toEqual([200, expect.stringContaining('<string>hi</string>')]);
    }
    const form = await call('POST', '/rpc', xml, 'application/x-www-form-urlencoded');
    expect([form.status, form.body]).toEqual([415, 'XML-RPC calls carry text/xml, not application/x-www-form-urlencoded\n']);
  });
});

describe('request paths', () => {
  test.each(['/api/%zz', '/api/echo_string%', '/api/%E0%A4%A'])('a malformed percent-encoding (%s) is 400, not 500', async (path) => {
    const r = await call('POST', path, '{}', 'application/json');
    expect([r.status, JSON.parse(r.body)]).toEqual([
      400,
      { status: 'error', code: 'bad_argument', message: `The request path is not valid percent-encoded UTF-8: ${path}` },
    ]);
  });

  test('a well-encoded path still names its command', async () => {
    const r = await call('POST', '/api/echo%5Fstring', '{"thisstring":"x"}', 'application/json');
    expect([r.status, r.body]).toEqual([200, '{"thatstring":"x"}']);
  });
});

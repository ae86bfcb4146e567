/**
 * An ejabberd_http listener with `tls: true` speaks HTTPS with the node's certificate: the JSON
 * API, XML-RPC and WebSocket answer over TLS, plain HTTP on that port gets nothing, and a
 * reloaded configuration naming another certificate is presented to the next connections.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { allCommands } from '../../../commands';
import { resolveHome } from '../../../src/config/home';
import { createRegistry } from '../../../src/core/registry';
import { startNode, type RunningNode } from '../../../src/node/daemon';
import { runCli, tempHome } from '../../helpers/cli';
import { curl, freePort } from '../../helpers/http-node';

jest.setTimeout(60_000);

let home: ReturnType<typeof tempHome>;
let node: RunningNode;
let port: number;

function makeCertificate(name: string, cn: string): string {
  const file = join(home.dir, `${name}.pem`);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`, '-keyout', file, '-out', file],
    { stdio: 'pipe' },
  );
  return file;
}

function config(certfile: string): string {
  return [
    'acl:',
    '  admin:',
    '    user: ["admin@localhost"]',
    'listen:',
    `  - port: ${port}`,
    '    ip: "127.0.0.1"',
    '    module: ejabberd_http',
    '    tls: true',
    '    request_handlers:',
    '      /api: mod_http_api',
    '      /rpc: ejabberd_xmlrpc',
    '      /ws: ejabberd_http_ws',
    'certfiles:',
    `  - ${certfile}`,
    '',
  ].join('\n');
}

/** The SHA-256 fingerprint of the certificate the listener presents to a new connection. */
function presented(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.once('error', reject);
  });
}

const fingerprint = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256;

beforeAll(async () => {
  home = tempHome('ctl-https-');
  port = await freePort();
  writeFileSync(join(home.dir, 'ctl.yml'), config(makeCertificate('first', 'localhost')));
  await runCli(['register', 'admin', 'localhost', 'secret', '--home', home.dir]);
  node = await startNode({ home: resolveHome({ home: home.dir }), registry: createRegistry(allCommands), version: '0.0.0-test', lockTimeout: 5000 });
});

afterAll(async () => {
  await node?.control.stop();
  await node?.stopped;
  home?.cleanup();
});

const url = (path: string) => `https://localhost:${port}${path}`;
const trusting = (file: string) => ['--cacert', file, '--resolve', `localhost:${port}:127.0.0.1`];

test('the JSON API answers over HTTPS, with the configured certificate verified by curl', async () => {
  const r = await curl([
    ...trusting(join(home.dir, 'first.pem')),
    '-u',
    'admin@localhost:secret',
    '-H',
    'Content-Type: application/json',
    '-d',
    '{"host":"localhost"}',
    url('/api/registered_users'),
  ]);
  expect([r.status, r.body]).toEqual([200, '["admin"]']);
});

test('XML-RPC answers over HTTPS', async () => {
  const call =
    '<?xml version="1.0"?><methodCall><methodName>registered_users</methodName><params><param><value><struct>' +
    '<member><name>user</name><value>admin</value></member><member><name>server</name><value>localhost</value></member>' +
    '<member><name>password</name><value>secret</value></member></struct></value></param><param><value><struct>' +
    '<member><name>host</name><value>localhost</value></member></struct></value></param></params></methodCall>';
  const r = await curl([...trusting(join(home.dir, 'first.pem')), '-H', 'Content-Type: text/xml', '-d', call, url('/rpc')]);
  expect(r.status).toBe(200);
  expect(r.body).toContain('<string>admin</string>');
});

test('a WebSocket upgrade with the xmpp subprotocol is accepted over TLS', async () => {
  const reply = await new Promise<string>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      socket.write(
        'GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n',
      );
    });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      text += d;
      if (text.includes('\r\n\r\n')) {
        resolve(text.slice(0, text.indexOf('\r\n')));
        socket.destroy();
      }
    });
    socket.once('error', reject);
  });
  expect(reply).toBe('HTTP/1.1 101 Switching Protocols');
});

test('plain HTTP on the TLS port gets no answer', async () => {
  await expect(curl(['--max-time', '5', `http://127.0.0.1:${port}/api/status`])).rejects.toThrow(/curl failed/);
});

test('reload_config with another certificate: the next connections are shown it, the listener stays open', async () => {
  const before = await presented();
  expect(before).toBe(fingerprint(join(home.dir, 'first.pem')));
  const second = makeCertificate('second', 'localhost');
  writeFileSync(join(home.dir, 'ctl.yml'), config(second));
  await node.control.reloadConfig();
  expect(await presented()).toBe(fingerprint(second));
  const r = await curl([...trusting(second), '-u', 'admin@localhost:secret', url('/api/status')]);
  expect(r.status).toBe(200);
});

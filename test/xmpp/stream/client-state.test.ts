import type * as net from 'node:net';
import { clientState } from '../../../src/xmpp/c2s/client-state';
import { closeC2s, listenC2s, type C2sServer } from '../../../src/xmpp/c2s/listener';
import { makeHub, type TestHub } from '../hub/helpers';
import { AUTH, HEADER, RawClient, listenerOptions, removeCertificate, testEnv, fakeSasl } from './helpers';

let hub: TestHub;
let server: C2sServer;
let client: RawClient;

beforeEach(async () => {
  hub = makeHub();
  await hub.features.accounts.register({ user: 'alice', host: 'localhost' }, 'pw');
  server = await listenC2s(listenerOptions({ starttls: false }), testEnv(hub.hub, [], { sasl: fakeSasl, extensions: [clientState] }));
  client = await RawClient.connect((server.address() as net.AddressInfo).port);
});

afterEach(async () => {
  client.destroy();
  hub.control.shutdown();
  await closeC2s(server);
  hub.close();
});
afterAll(() => removeCertificate());

async function authenticate(): Promise<string> {
  client.send(HEADER);
  const before = await client.waitFor('</stream:features>');
  client.send(AUTH);
  await client.waitFor('<success');
  client.reset();
  client.send(HEADER);
  const after = await client.waitFor('</stream:features>');
  expect(before).not.toContain('urn:xmpp:csi:0');
  expect(before).not.toContain('urn:xmpp:features:pre-approval');
  return after;
}

test('after authentication the stream offers roster versioning, pre-approval and client state indication', async () => {
  const features = await authenticate();
  expect(features).toContain('<ver xmlns="urn:xmpp:features:rosterver"/>');
  expect(features).toContain('<sub xmlns="urn:xmpp:features:pre-approval"/>');
  expect(features).toContain('<csi xmlns="urn:xmpp:csi:0"/>');
});

test('<inactive/> and <active/> mark the bound session, and the stream goes on', async () => {
  await authenticate();
  client.send("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>");
  await client.waitFor('id="b"');
  const session = () => hub.sessions.get({ user: 'alice', host: 'localhost', resource: 'r' })!;
  client.send("<inactive xmlns='urn:xmpp:csi:0'/><iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>");
  await client.waitFor('id="p1"');
  expect(session().inactive).toBe(true);
  client.send("<active xmlns='urn:xmpp:csi:0'/><iq type='get' id='p2'><ping xmlns='urn:xmpp:ping'/></iq>");
  await client.waitFor('id="p2"');
  expect(session().inactive).toBe(false);
});

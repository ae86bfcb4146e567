import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { closeC2s, listenC2s } from '../../../../src/xmpp/c2s/listener';
import { FakeHub, listenerOptions, removeCertificate, testEnv, type Logged } from '../../../xmpp/stream/helpers';

const SCRIPT = `
import asyncio, ssl, sys, slixmpp
port = int(sys.argv[1])
class Bot(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__('alice@localhost/slix', 'secret')
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.add_event_handler('session_start', self.start)
        self.add_event_handler('failed_auth', lambda e: (print('FAILED AUTH'), self.disconnect()))
    async def start(self, event):
        print('BOUND', self.boundjid.full, flush=True)
        await self['xep_0199'].ping('localhost', timeout=5)
        print('PINGED', flush=True)
        self.disconnect()
bot = Bot()
bot.register_plugin('xep_0199')
bot.connect(address=('127.0.0.1', port), force_starttls=True)
loop = asyncio.get_event_loop()
loop.run_until_complete(asyncio.wait_for(bot.disconnected, 20))
`;

afterAll(() => removeCertificate());

test('slixmpp logs in over STARTTLS with PLAIN, binds, and gets an answer to a ping', async () => {
  const hub = new FakeHub();
  const logs: Logged[] = [];
  const server = await listenC2s(listenerOptions({ starttlsRequired: true }), testEnv(hub, logs));
  try {
    const port = (server.address() as AddressInfo).port;
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('/usr/bin/python3', ['-c', SCRIPT, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (d) => (text += d));
      child.stderr.on('data', (d) => (text += d));
      const timer = setTimeout(() => child.kill(), 25000);
      child.on('error', reject);
      child.on('close', () => {
        clearTimeout(timer);
        resolve(text);
      });
    });
    expect(out).toContain('BOUND alice@localhost/slix');
    expect(out).toContain('PINGED');
    expect(hub.sessions.map((s) => s.connection)).toEqual(['c2s_tls']);
  } finally {
    await closeC2s(server);
  }
}, 30000);

import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { closeC2s, listenC2s } from '../../../src/xmpp/c2s/listener';
import { streamManagement } from '../../../src/xmpp/c2s/stream-management';
import { makeHub } from '../../xmpp/hub/helpers';
import { listenerOptions, removeCertificate, testEnv, type Logged } from '../../xmpp/stream/helpers';

/**
 * alice enables resumption, loses her TCP connection without closing the stream, waits for a
 * line on stdin, reconnects and resumes; what she sees is printed a line each.
 */
const SCRIPT = `
import asyncio, ssl, sys, slixmpp
port = int(sys.argv[1])
loop = asyncio.get_event_loop()
class Alice(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__('alice@localhost/slix', 'secret')
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.add_event_handler('session_start', self.started)
        self.add_event_handler('sm_enabled', self.enabled)
        self.add_event_handler('sm_failed', lambda e: print('SM FAILED', flush=True))
        self.add_event_handler('session_resumed', lambda e: print('RESUMED', flush=True))
        self.add_event_handler('message', self.got)
        self.dropped = False
    def started(self, event):
        print('STARTED', flush=True)
        self.send_presence()
    def enabled(self, event):
        print('ENABLED', bool(event['id']), event['resume'], flush=True)
        if not self.dropped:
            self.dropped = True
            loop.call_later(0.3, self.drop)
    def drop(self):
        self.abort()
        print('ABORTED', flush=True)
        loop.run_in_executor(None, sys.stdin.readline).add_done_callback(lambda f: self.again())
    def again(self):
        self.connect(address=('127.0.0.1', port), force_starttls=True)
    def got(self, msg):
        print('MESSAGE', msg['from'], msg['body'], flush=True)
        self.disconnect()
        self.add_event_handler('disconnected', lambda e: done.set())
alice = Alice()
alice.register_plugin('xep_0198')
alice.connect(address=('127.0.0.1', port), force_starttls=True)
done = asyncio.Event()
loop.run_until_complete(asyncio.wait_for(done.wait(), 20))
`;

afterAll(() => removeCertificate());

test('slixmpp resumes its stream after losing the connection and gets the message sent meanwhile', async () => {
  const hub = makeHub();
  await hub.features.accounts.register({ user: 'alice', host: 'localhost' }, 'pw');
  const bob = await hub.login('bob');
  const logs: Logged[] = [];
  const sm = streamManagement({ route: (s) => hub.control.route(s) });
  const server = await listenC2s(listenerOptions({ starttlsRequired: true }), testEnv(hub.hub, logs, { extensions: [sm] }));
  const slix = () => hub.sessions.get({ user: 'alice', host: 'localhost', resource: 'slix' });
  try {
    const port = (server.address() as AddressInfo).port;
    const child = spawn('/usr/bin/python3', ['-c', SCRIPT, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    const timer = setTimeout(() => child.kill(), 25000);
    const until = async (what: string, done: () => boolean) => {
      const deadline = Date.now() + 15000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}; slixmpp said: ${out}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    try {
      await until('the connection is dropped', () => out.includes('ABORTED'));
      await until('the session is detached', () => slix()?.detached === true);
      const session = slix()!;
      const firstPort = session.port;
      expect(hub.control.userSessions({ user: 'alice', host: 'localhost' })).toHaveLength(1);
      bob.send("<message to='alice@localhost/slix' type='chat'><body>while you were away</body></message>");
      child.stdin.write('go\n');
      await until('the message arrives', () => out.includes('MESSAGE'));
      expect(out).toContain('ENABLED True True');
      expect(out).toContain('RESUMED');
      expect(out).toContain('MESSAGE bob@localhost/r while you were away');
      // One session start: the second stream took over the first one's session.
      expect(out.match(/STARTED/g)).toHaveLength(1);
      expect(out).not.toContain('SM FAILED');
      // The same session, now on the second connection.
      expect(session.port).not.toBe(firstPort);
      expect(await hub.features.offline.count({ user: 'alice', host: 'localhost' })).toBe(0);
      await exited;
    } finally {
      clearTimeout(timer);
      child.kill();
    }
  } finally {
    hub.control.shutdown();
    await closeC2s(server);
    hub.close();
  }
}, 30000);

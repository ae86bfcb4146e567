// A real @xmpp/client (xmpp.js) session driven by a JSON script, for the end-to-end tests: it
// logs in over TCP (xmpp://, STARTTLS when offered) or WebSocket (ws://), runs the steps, and
// prints one JSON line per thing it saw. Its certificate checks are off (NODE_TLS_REJECT_UNAUTHORIZED
// is set by the harness): the node's certificate is self-signed.
import { client } from '@xmpp/client';
import parse from '@xmpp/xml/lib/parse.js';
import WebSocket from 'ws';

// Node 20 has no global WebSocket, which @xmpp/websocket expects (browsers and Node 22 have one).
globalThis.WebSocket ??= WebSocket;

const script = JSON.parse(process.argv[2]);
const emit = (event, data = {}) => process.stdout.write(JSON.stringify({ event, ...data }) + '\n');
const normalize = (s) => s.replaceAll('"', "'");

const hardTimeout = setTimeout(
  () => {
    emit('error', { message: `the whole script took longer than ${script.timeout ?? 20}s` });
    process.exit(3);
  },
  (script.timeout ?? 20) * 1000,
);

const { service, domain, username, password, resource } = script.client;
const xmpp = client({ service, domain, username, password, resource });
// A test sees a closed stream as it is, never a quiet new session.
xmpp.reconnect.stop();
const received = [];
const consumed = new Set();
let changed = () => {};
let closed = false;

xmpp.on('stanza', (stanza) => {
  const xml = stanza.toString();
  received.push(xml);
  emit('recv', { xml });
  changed();
});
xmpp.on('error', (err) => emit('client_error', { message: String(err.message ?? err), condition: err.condition }));
xmpp.on('offline', () => {
  closed = true;
  emit('closed');
  changed();
});

function waitFor(needles, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`waited ${timeoutMs} ms for a stanza with ${JSON.stringify(needles)}; got ${received.length} stanzas`)),
      timeoutMs,
    );
    const check = () => {
      const i = received.findIndex((xml, j) => !consumed.has(j) && needles.every((n) => normalize(xml).includes(n)));
      if (i >= 0) {
        consumed.add(i);
        clearTimeout(timer);
        resolve(received[i]);
      } else if (closed) {
        clearTimeout(timer);
        reject(new Error(`waited for ${JSON.stringify(needles)} but the stream is closed`));
      }
    };
    changed = check;
    check();
  });
}

// The harness lets a script past a checkpoint with one line on stdin.
const lines = [];
let lineArrived = () => {};
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  lines.push(...d.split('\n').slice(0, -1));
  lineArrived();
});
const nextLine = () => (lines.length > 0 ? Promise.resolve(lines.shift()) : new Promise((r) => (lineArrived = () => r(lines.shift()))));

async function step(s, timeoutMs) {
  if (s.sleep !== undefined) return new Promise((r) => setTimeout(r, s.sleep));
  if (s.checkpoint !== undefined) {
    emit('checkpoint', { name: s.checkpoint });
    return nextLine();
  }
  // send() gives each stanza its namespace, as RFC 7395 framing needs; raw writes the bytes as they are.
  if (s.send !== undefined) return xmpp.send(parse(s.send));
  if (s.raw !== undefined) return xmpp.write(s.raw);
  if (s.iq !== undefined) {
    const id = /\bid=['"]([^'"]+)['"]/.exec(s.iq)?.[1];
    if (!id) throw new Error('an iq step needs an id');
    await xmpp.send(parse(s.iq));
    emit('reply', { id, label: s.label, xml: await waitFor([`id='${id}'`], timeoutMs) });
    return;
  }
  if (s.wait !== undefined) return emit('matched', { label: s.label, xml: await waitFor(s.wait, timeoutMs) });
  if (s.disconnect) return xmpp.stop();
  throw new Error(`a step that does nothing: ${JSON.stringify(s)}`);
}

let status = 0;
try {
  const address = await xmpp.start();
  emit('online', { jid: address.toString(), secure: xmpp.isSecure() });
  if (script.presence !== false) await xmpp.send(parse(typeof script.presence === 'string' ? script.presence : '<presence/>'));
  for (const s of script.steps ?? []) await step(s, (s.timeout ?? script.step_timeout ?? 5) * 1000);
} catch (err) {
  emit('error', { message: String(err.message ?? err), condition: err.condition });
  status = 1;
}
if (!closed) await Promise.race([xmpp.stop().catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
emit('done', { status });
clearTimeout(hardTimeout);
process.exit(status);

'use strict';
/**
 * The baseline: a bare Node relay that speaks just enough of the client protocol for the load
 * generator. Canned stream headers, features and SASL answers (no secret is checked), a bind
 * that names the socket, and each `<message to=X>` written as it came to the socket bound to X,
 * found by a regex on `to`. What a server costs beyond this is the node's own doing.
 * Runs as a child process: `{ op: 'listen', key, cert }` over IPC answers the ports and pid.
 */
const net = require('node:net');
const tls = require('node:tls');
const { readFileSync } = require('node:fs');
const { NS_BIND, NS_SASL, Splitter, attr, childText } = require('./xmpp-wire');

const SALT = Buffer.from('relay-salt-16byt').toString('base64');
const header = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='localhost' version='1.0'>`;
const saslFeatures = `<stream:features><mechanisms xmlns='${NS_SASL}'><mechanism>SCRAM-SHA-256</mechanism><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>`;
const bindFeatures = `<stream:features><bind xmlns='${NS_BIND}'/></stream:features>`;

/** Bare JID → socket. */
const bound = new Map();
const TO = /\sto=(?:'([^'/]*)|"([^"/]*))/;

function serve(socket) {
  socket.setEncoding('utf8');
  socket.setNoDelay(true);
  let user;
  let authed = false;
  const splitter = new Splitter(
    () => socket.write(header + (authed ? bindFeatures : saslFeatures)),
    (xml) => {
      if (xml.startsWith('<message')) {
        const m = TO.exec(xml);
        bound.get(m[1] ?? m[2])?.write(xml);
      } else if (xml.startsWith('<auth')) {
        const first = Buffer.from(childText(xml, 'auth'), 'base64').toString();
        user = /n=([^,]*)/.exec(first)[1];
        const nonce = /r=([^,]*)/.exec(first)[1];
        socket.write(`<challenge xmlns='${NS_SASL}'>${Buffer.from(`r=${nonce}relay,s=${SALT},i=4096`).toString('base64')}</challenge>`);
      } else if (xml.startsWith('<response')) {
        authed = true;
        splitter.reset();
        socket.write(`<success xmlns='${NS_SASL}'/>`);
      } else if (xml.startsWith('<iq')) {
        if (xml.includes('<bind')) {
          bound.set(`${user}@localhost`, socket);
          socket.write(`<iq type='result' id='${attr(xml, 'id')}'><bind xmlns='${NS_BIND}'><jid>${user}@localhost/bench</jid></bind></iq>`);
        } else {
          socket.write(`<iq type='result' id='${attr(xml, 'id')}' from='localhost'/>`);
        }
      }
    },
    () => socket.end('</stream:stream>'),
  );
  socket.on('data', (chunk) => splitter.write(chunk));
  socket.on('error', () => {});
  socket.on('close', () => {
    if (user && bound.get(`${user}@localhost`) === socket) bound.delete(`${user}@localhost`);
  });
}

const listening = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));

process.on('message', async ({ op, key, cert }) => {
  if (op !== 'listen') return;
  const plainPort = await listening(net.createServer(serve));
  const tlsPort = await listening(tls.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, serve));
  process.send({ ok: true, plainPort, tlsPort, pid: process.pid });
});
process.on('disconnect', () => process.exit(0));

'use strict';
/**
 * The load generator: a swarm of raw-socket XMPP clients in a process of its own, driven over
 * IPC by the benchmark (`xmpp.js`). Each client logs in as a real one does (stream, SCRAM, stream
 * restart, bind, initial presence) and then sends and counts messages. Replies `{ ok, ... }` or
 * `{ error }` to each request.
 */
const net = require('node:net');
const tls = require('node:tls');
const { performance } = require('node:perf_hooks');
const { NS_BIND, NS_SASL, ScramClient, Splitter, attr, childText, percentile, streamHeader } = require('./xmpp-wire');

const LOGIN_TIMEOUT_MS = 30_000;

/** One client connection: `login()` resolves once the server has answered a ping after the initial presence. */
class Client {
  constructor({ port, tls: secure, domain = 'localhost' }, user, password, mechanism) {
    this.port = port;
    this.secure = secure;
    this.domain = domain;
    this.user = user;
    this.scram = new ScramClient(mechanism, user, password);
    this.mechanism = mechanism;
    this.state = 'features';
    this.jid = undefined;
    this.onMessage = undefined;
    this.splitter = new Splitter(
      () => {},
      (xml) => this.element(xml),
      () => this.fail(new Error(`${user}: the server closed the stream`)),
    );
  }

  login() {
    return new Promise((resolve, reject) => {
      this.done = resolve;
      this.failed = reject;
      this.timer = setTimeout(() => this.fail(new Error(`${this.user}: no login within ${LOGIN_TIMEOUT_MS} ms (state ${this.state})`)), LOGIN_TIMEOUT_MS);
      const options = { host: '127.0.0.1', port: this.port };
      const socket = this.secure ? tls.connect({ ...options, rejectUnauthorized: false }) : net.connect(options);
      this.socket = socket;
      socket.setEncoding('utf8');
      socket.setNoDelay(true);
      socket.on(this.secure ? 'secureConnect' : 'connect', () => socket.write(streamHeader(this.domain)));
      socket.on('data', (chunk) => this.splitter.write(chunk));
      socket.on('error', (err) => this.fail(new Error(`${this.user}: ${err.message}`)));
      socket.on('close', () => {
        this.closed = true;
        this.fail(new Error(`${this.user}: connection closed in state ${this.state}`));
      });
    });
  }

  fail(err) {
    if (this.state === 'ready' || this.state === 'failed') return;
    this.state = 'failed';
    clearTimeout(this.timer);
    this.socket.destroy();
    this.failed(err);
  }

  element(xml) {
    if (this.state === 'ready') {
      if (xml.startsWith('<message') && this.onMessage) this.onMessage(xml);
      return;
    }
    if (this.state === 'failed') return;
    if (xml.startsWith('<stream:error')) return this.fail(new Error(`${this.user}: stream error ${xml}`));
    this[this.state](xml).catch((err) => this.fail(err));
  }

  async features(xml) {
    if (!xml.startsWith('<stream:features')) return;
    if (!xml.includes(`<mechanism>${this.mechanism}</mechanism>`)) throw new Error(`${this.user}: ${this.mechanism} is not offered: ${xml}`);
    this.state = 'sasl';
    this.socket.write(`<auth xmlns='${NS_SASL}' mechanism='${this.mechanism}'>${this.scram.initial()}</auth>`);
  }

  async sasl(xml) {
    if (xml.startsWith('<challenge')) {
      const data = childText(xml, 'challenge') ?? '';
      if (this.scram.expected) {
        // Server-final sent as a challenge: checked, then an empty response.
        if (!this.scram.verified(data)) throw new Error(`${this.user}: the server's signature is wrong`);
        this.socket.write(`<response xmlns='${NS_SASL}'/>`);
      } else {
        this.socket.write(`<response xmlns='${NS_SASL}'>${await this.scram.final(data)}</response>`);
      }
    } else if (xml.startsWith('<success')) {
      const data = childText(xml, 'success') ?? '';
      if (data && data !== '=' && !this.scram.verified(data)) throw new Error(`${this.user}: the server's signature is wrong`);
      this.state = 'bindFeatures';
      this.splitter.reset();
      this.socket.write(streamHeader(this.domain));
    } else if (xml.startsWith('<failure')) {
      throw new Error(`${this.user}: SASL failure ${xml}`);
    }
  }

  async bindFeatures(xml) {
    if (!xml.startsWith('<stream:features')) return;
    if (!xml.includes(NS_BIND)) throw new Error(`${this.user}: no bind feature after SASL: ${xml}`);
    this.state = 'bind';
    this.socket.write(`<iq type='set' id='b1'><bind xmlns='${NS_BIND}'><resource>bench</resource></bind></iq>`);
  }

  async bind(xml) {
    if (!xml.startsWith('<iq') || attr(xml, 'id') !== 'b1') return;
    if (attr(xml, 'type') !== 'result') throw new Error(`${this.user}: bind failed: ${xml}`);
    this.jid = childText(xml, 'jid');
    this.state = 'ping';
    // The ping's answer comes after the server has handled the initial presence.
    this.socket.write(`<presence/><iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`);
  }

  async ping(xml) {
    if (!xml.startsWith('<iq') || attr(xml, 'id') !== 'p1') return;
    this.state = 'ready';
    clearTimeout(this.timer);
    this.done();
  }

  /** Writes that happen in one turn of the event loop leave in one system call. */
  queue(data) {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(data);
  }

  close() {
    return new Promise((resolve) => {
      if (this.closed || !this.socket) return resolve();
      const timer = setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, 5000);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.end('</stream:stream>');
    });
  }
}

/** Sessions kept open by `login { keep: true }`, in login order. */
const sessions = [];

/** `users` ([user, password] pairs) log in, `concurrency` at a time. */
async function login({ server, users, mechanism, concurrency, keep }) {
  let next = 0;
  let failed = 0;
  const errors = [];
  const kept = new Array(users.length);
  const worker = async () => {
    while (next < users.length) {
      const i = next++;
      const client = new Client(server, users[i][0], users[i][1], mechanism);
      try {
        await client.login();
        kept[i] = client;
      } catch (err) {
        failed++;
        if (errors.length < 3) errors.push(err.message);
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, users.length) }, worker));
  const ms = performance.now() - t0;
  // Closed after the clock stops: a logout is no part of a login.
  if (keep) sessions.push(...kept.filter(Boolean));
  else await closeList(kept.filter(Boolean));
  return { ms, done: users.length - failed, failed, errors, sessions: sessions.length };
}

async function closeList(clients) {
  for (let i = 0; i < clients.length; i += 500) await Promise.all(clients.slice(i, i + 500).map((c) => c.close()));
}

async function closeAll() {
  const all = sessions.splice(0);
  await closeList(all);
  return { closed: all.length };
}

const message = (to, id, body) => `<message to='${to}' type='chat' id='${id}'><body>${body}</body></message>`;

const BODY = 'The quick brown fox jumps over the lazy dog, twice.';

/**
 * Sessions 2k and 2k+1 (k < pairs) form a pair: the first streams messages to the second,
 * keeping `window` of them in flight. Deliveries per second at the receivers over `seconds`.
 */
function messages({ pairs, seconds, window }) {
  if (sessions.length < 2 * pairs) throw new Error(`${2 * pairs} sessions needed, ${sessions.length} open`);
  return new Promise((resolve) => {
    let running = true;
    let delivered = 0;
    let sent = 0;
    let errors = 0;
    let n = 0;
    const t0 = performance.now();
    for (let k = 0; k < pairs; k++) {
      const [from, to] = [sessions[2 * k], sessions[2 * k + 1]];
      const one = () => {
        sent++;
        from.queue(message(to.jid, `m${n++}`, BODY));
      };
      from.onMessage = () => errors++;
      to.onMessage = (xml) => {
        if (attr(xml, 'type') === 'error') return errors++;
        delivered++;
        if (running) one();
      };
      for (let i = 0; i < window; i++) one();
    }
    setTimeout(() => {
      running = false;
      const ms = performance.now() - t0;
      const counted = delivered;
      // Untimed: what is still in flight arrives before the next test starts.
      const deadline = Date.now() + 15_000;
      const drained = () => {
        if (delivered + errors >= sent || Date.now() > deadline) {
          for (const s of sessions) s.onMessage = undefined;
          resolve({ perSecond: (counted / ms) * 1000, delivered: counted, lost: sent - delivered - errors, errors });
        } else setTimeout(drained, 20);
      };
      drained();
    }, seconds * 1000);
  });
}

/**
 * Session i sends `count` messages at once to session i+1 (mod users), at a random moment within
 * `spreadMs`; the latency of each from its writing to its arrival.
 */
function burst({ users, count, spreadMs }) {
  if (sessions.length < users) throw new Error(`${users} sessions needed, ${sessions.length} open`);
  return new Promise((resolve) => {
    const latencies = [];
    const total = users * count;
    let errors = 0;
    const finish = () => {
      clearTimeout(timer);
      for (const s of sessions.slice(0, users)) s.onMessage = undefined;
      latencies.sort((a, b) => a - b);
      resolve({
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: latencies.at(-1),
        received: latencies.length,
        lost: total - latencies.length,
        errors,
      });
    };
    const timer = setTimeout(finish, spreadMs + 30_000);
    for (let i = 0; i < users; i++) {
      sessions[i].onMessage = (xml) => {
        if (attr(xml, 'type') === 'error') errors++;
        else latencies.push(performance.now() - Number(childText(xml, 'body')));
        if (latencies.length + errors === total) finish();
      };
    }
    for (let i = 0; i < users; i++) {
      const from = sessions[i];
      const to = sessions[(i + 1) % users].jid;
      setTimeout(() => {
        const now = performance.now();
        let data = '';
        for (let j = 0; j < count; j++) data += message(to, `b${i}-${j}`, now);
        from.socket.write(data);
      }, Math.random() * spreadMs);
    }
  });
}

const ops = { login, closeAll, messages, burst };

/** Answers the benchmark's requests, one `ops[op](args)` each, over IPC; ends when the benchmark goes. */
function serve(handlers) {
  process.on('message', async ({ op, ...args }) => {
    try {
      process.send({ ok: true, ...(await handlers[op](args)) });
    } catch (err) {
      process.send({ error: err.stack || String(err) });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

// Other generators (muc-client.js) log their sessions in with this one's clients.
if (require.main === module) serve(ops);

module.exports = { BODY, closeAll, login, serve, sessions };

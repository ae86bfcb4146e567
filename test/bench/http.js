'use strict';
/**
 * Requests per second of `check_account` over HTTP with keep-alive, against 127.0.0.1 only:
 * through ctl's JSON API (bearer token and basic auth), through a real ejabberd's mod_http_api
 * (Debian's package, started here; loopback may call check_account without credentials), and,
 * as the baseline in the same run, a bare Node HTTP server that reads the same request and
 * answers what ctl answers. Measured with wrk (5 s per concurrency); without wrk, with a Node
 * client in this process, which says so. Each row also gives the server's CPU time per
 * request, steadier than requests per second when other work shares the machine.
 */
const http = require('node:http');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { ctl, runAlone, tempHome } = require('./lib');
const { freePort } = require('./xmpp');
const { startEjabberd } = require('./ejabberd');
const wrk = require('./wrk');
const budgets = require('./budgets');

/** `total` POSTs spread over `concurrency` keep-alive connections; requests per second. */
async function load(port, path, headers, body, concurrency, total) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let sent = 0;
  const one = () =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  const worker = async () => {
    while (sent < total) {
      sent++;
      await one();
    }
  };
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  agent.destroy();
  return { rate: total / s, requests: total };
}

/**
 * CPU time (ms) a process has used: this one's, or another's from /proc. Per request it says
 * more than requests per second on a machine shared with other work, which slows the client
 * and the server alike.
 */
function cpuMs(pid) {
  if (pid === undefined) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

/** One POST; its status and body, to check that a server answers what the bench expects. */
function once(port, path, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function bench({ quick }) {
  const seconds = quick ? 1 : 5;
  const total = quick ? 500 : 3000;
  const client = wrk.available()
    ? (port, path, headers, body, c) => wrk.wrk(port, path, headers, body, c, seconds)
    : (port, path, headers, body, c, scale) => load(port, path, headers, body, c, Math.ceil(total * scale));
  /** Requests per second, and the server's CPU time per request in µs (`pid` undefined: this process). */
  const measure = async (pid, port, path, headers, body, c, scale = 1) => {
    const cpu0 = cpuMs(pid);
    const { rate, requests } = await client(port, path, headers, body, c, scale);
    return { rate, cpu: ((cpuMs(pid) - cpu0) * 1000) / requests };
  };
  const port = await freePort();
  const home = tempHome(
    `acl:\n  admin:\n    user: ["admin@localhost"]\nlisten:\n  - port: ${port}\n    ip: "127.0.0.1"\n    module: ejabberd_http\n    request_handlers:\n      /api: mod_http_api\n`,
  );
  ctl(home, ['register', 'admin', 'localhost', 'secret']);
  const token = ctl(home, ['api_token_create', 'admin', 'localhost', '0']).stdout.trim();
  ctl(home, ['start']);
  const path = '/api/check_account';
  const body = JSON.stringify({ user: 'admin', host: 'localhost' });
  const json = { 'Content-Type': 'application/json' };
  const bearer = { ...json, Authorization: `Bearer ${token}` };
  const basic = { ...json, Authorization: `Basic ${Buffer.from('admin@localhost:secret').toString('base64')}` };
  let bare;
  let ejabberd;
  const rows = [];
  try {
    const answer = await once(port, path, bearer, body);
    if (answer.status !== 200) throw new Error(`ctl answered check_account with ${answer.status}: ${answer.body}`);
    bare = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json' }).end(answer.body));
    });
    await new Promise((r) => bare.listen(0, '127.0.0.1', r));
    try {
      ejabberd = await startEjabberd();
    } catch (err) {
      rows.push(['ejabberd could not start: no comparison with it', '-', String(err.message).split('\n')[0]]);
    }
    if (ejabberd) {
      const e = await once(ejabberd.port, path, json, body);
      if (e.status !== 200 || e.body.trim() !== answer.body.trim()) throw new Error(`ejabberd answered check_account with ${e.status}: ${e.body}`);
    }
    rows.push([
      wrk.available() ? `client: wrk, ${seconds} s per measure, at most 2 threads` : 'client: Node http in this process (wrk is not installed)',
      '',
      '',
    ]);
    const node = Number(readFileSync(join(home, 'run', 'ctl.pid'), 'utf8').trim());
    const cpu = (m) => `${Number.isFinite(m.cpu) ? m.cpu.toFixed(1) : '?'} µs CPU/request`;
    for (const c of [1, 4, 16]) {
      const base = await measure(undefined, bare.address().port, '/', json, body, c);
      const withToken = await measure(node, port, path, bearer, body, c);
      const withPassword = await measure(node, port, path, basic, body, c, 1 / 3);
      const theirs = ejabberd ? await measure(ejabberd.pid, ejabberd.port, path, json, body, c) : undefined;
      budgets.record(`http.c${c}`, { value: `${withToken.rate.toFixed(0)} req/s`, ratio: withToken.rate / base.rate });
      if (theirs) budgets.record(`http.ejabberd.c${c}`, { value: `${withToken.rate.toFixed(0)} req/s`, ratio: withToken.rate / theirs.rate });
      const vs = (m) => `${(m.rate / base.rate).toFixed(2)}x${theirs ? `, ${(m.rate / theirs.rate).toFixed(2)}x ejabberd` : ''}; ${cpu(m)}`;
      rows.push([`bare Node HTTP server, concurrency ${c} (baseline)`, `${base.rate.toFixed(0)} req/s`, `1.00x; ${cpu(base)}`]);
      rows.push([`ctl check_account, bearer token, concurrency ${c}`, `${withToken.rate.toFixed(0)} req/s`, vs(withToken)]);
      rows.push([`ctl check_account, basic auth (SCRAM check each time), concurrency ${c}`, `${withPassword.rate.toFixed(0)} req/s`, vs(withPassword)]);
      if (theirs) {
        rows.push([
          `ejabberd ${ejabberd.version} check_account, no credentials (loopback), concurrency ${c}`,
          `${theirs.rate.toFixed(0)} req/s`,
          `${(theirs.rate / base.rate).toFixed(2)}x; ${cpu(theirs)}`,
        ]);
      }
    }
  } finally {
    bare?.close();
    await ejabberd?.stop();
    ctl(home, ['stop']);
  }
  return rows;
}

module.exports = { bench };

if (require.main === module) runAlone('HTTP JSON API (keep-alive, 127.0.0.1)', bench);

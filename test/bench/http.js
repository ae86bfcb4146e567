'use strict';
/**
 * Requests per second over HTTP with keep-alive, against 127.0.0.1 only and bounded in count:
 * `check_account` through the JSON API (bearer token and basic auth), and, as the baseline in
 * the same run, a bare Node HTTP server that answers `{}`.
 */
const http = require('node:http');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { ctl, tempHome } = require('./lib');
const budgets = require('./budgets');

async function freePort() {
  const server = http.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

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
  return total / s;
}

async function bench({ quick }) {
  const total = quick ? 500 : 3000;
  const port = await freePort();
  const home = tempHome(
    `acl:\n  admin:\n    user: ["admin@localhost"]\nlisten:\n  - port: ${port}\n    ip: "127.0.0.1"\n    module: ejabberd_http\n    request_handlers:\n      /api: mod_http_api\n`,
  );
  ctl(home, ['register', 'admin', 'localhost', 'secret']);
  const token = ctl(home, ['api_token_create', 'admin', 'localhost', '0']).stdout.trim();
  ctl(home, ['start']);
  const bare = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}'));
  });
  await new Promise((r) => bare.listen(0, '127.0.0.1', r));
  const rows = [];
  try {
    const body = JSON.stringify({ user: 'admin', host: 'localhost' });
    const bearer = { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` };
    const basic = { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from('admin@localhost:secret').toString('base64')}` };
    for (const c of [1, 4, 16]) {
      const base = await load(bare.address().port, '/', {}, body, c, total);
      const withToken = await load(port, '/api/check_account', bearer, body, c, total);
      const withPassword = await load(port, '/api/check_account', basic, body, c, Math.min(total, quick ? 200 : 1000));
      budgets.record(`http.c${c}`, { value: `${withToken.toFixed(0)} req/s`, ratio: withToken / base });
      rows.push([`bare Node HTTP server, concurrency ${c} (baseline)`, `${base.toFixed(0)} req/s`, '1.00x']);
      rows.push([`check_account, bearer token, concurrency ${c}`, `${withToken.toFixed(0)} req/s`, `${(withToken / base).toFixed(2)}x`]);
      rows.push([
        `check_account, basic auth (SCRAM check each time), concurrency ${c}`,
        `${withPassword.toFixed(0)} req/s`,
        `${(withPassword / base).toFixed(2)}x`,
      ]);
    }
  } finally {
    bare.close();
    ctl(home, ['stop']);
  }
  return rows;
}

module.exports = { bench };

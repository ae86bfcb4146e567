'use strict';
/**
 * Waiting for a server started by a test or a benchmark (ejabberd takes seconds): plain
 * JavaScript, so that the benchmarks, which run without ts-jest, share it with the tests.
 */
const { request } = require('node:http');

/** Resolves to true once something answers HTTP on the loopback port, or to false after `ms`. */
async function answersHttp(port, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/api/status', method: 'GET', timeout: 1000 }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
      req.end();
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

module.exports = { answersHttp };

'use strict';
/**
 * Requests per second of keep-alive POSTs measured with wrk (Debian's /usr/bin/wrk), the
 * request described by a Lua script in a temporary file. wrk runs as a process of its own, so
 * a server in the bench's own process keeps answering while it runs.
 */
const { execFile } = require('node:child_process');
const { existsSync, mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const WRK = '/usr/bin/wrk';

const available = () => existsSync(WRK);

const lua = (s) => JSON.stringify(s); // a JSON string of ASCII is a valid Lua string literal

/**
 * `seconds` of POSTs of `body` to `path` over `concurrency` connections (at most two threads):
 * requests per second, and how many were answered. Fails when any answer is not 2xx/3xx or a socket failed.
 */
async function wrk(port, path, headers, body, concurrency, seconds) {
  const dir = mkdtempSync(join(tmpdir(), 'ctl-bench-wrk-'));
  try {
    const script = join(dir, 'post.lua');
    writeFileSync(
      script,
      ['wrk.method = "POST"', `wrk.body = ${lua(body)}`, ...Object.entries(headers).map(([k, v]) => `wrk.headers[${lua(k)}] = ${lua(v)}`), ''].join('\n'),
    );
    const args = ['-t', String(Math.min(2, concurrency)), '-c', String(concurrency), '-d', `${seconds}s`, '-s', script, `http://127.0.0.1:${port}${path}`];
    const out = await new Promise((resolve, reject) =>
      execFile(WRK, args, { timeout: (seconds + 30) * 1000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`wrk: ${err.message}${stderr}`)) : resolve(stdout),
      ),
    );
    const bad = /Non-2xx or 3xx responses: (\d+)/.exec(out);
    if (bad) throw new Error(`wrk: ${bad[1]} answers were not 2xx:\n${out}`);
    const errors = /Socket errors: (.*)/.exec(out);
    if (errors && /[1-9]/.test(errors[1])) throw new Error(`wrk: socket errors (${errors[1]}):\n${out}`);
    const rate = /Requests\/sec:\s+([\d.]+)/.exec(out);
    const requests = /(\d+) requests in/.exec(out);
    if (!rate || !requests) throw new Error(`wrk printed no rate:\n${out}`);
    return { rate: Number(rate[1]), requests: Number(requests[1]) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { available, wrk };

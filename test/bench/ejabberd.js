'use strict';
/**
 * A real ejabberd (Debian's package) for the HTTP bench, set up as test/helpers/ejabberd.ts
 * sets it up for the tests: its own config, spool and log directories, node name and cookie,
 * its Erlang distribution on a random loopback port (no epmd), mod_http_api at /api on another,
 * admin@localhost registered. check_account may be called from loopback without credentials.
 */
const { execFileSync, spawnSync } = require('node:child_process');
const { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { randomBytes } = require('node:crypto');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { freePort, started } = require('./xmpp');
const { answersHttp } = require('../helpers/http-answers');

const EJABBERDCTL = '/usr/sbin/ejabberdctl';

const config = (port) => `hosts:
  - localhost
loglevel: warning
listen:
  -
    port: ${port}
    ip: "127.0.0.1"
    module: ejabberd_http
    request_handlers:
      /api: mod_http_api
api_permissions:
  "console commands":
    from: ejabberd_ctl
    who: all
    what: "*"
  "check_account from loopback":
    from: mod_http_api
    who:
      ip: "127.0.0.1/8"
    what: check_account
modules:
  mod_admin_extra: {}
  mod_http_api: {}
`;

function version() {
  try {
    return execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'ejabberd'], { encoding: 'utf8' }).replace(/-[^-]*$/, '');
  } catch {
    return undefined;
  }
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Starts ejabberd with admin@localhost (`secret`); `{ version, port, pid, stop() }`, or undefined when it is not installed. */
async function startEjabberd() {
  if (!existsSync(EJABBERDCTL)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'ctl-bench-ejabberd-'));
  chmodSync(dir, 0o755);
  const [etc, spool, logs] = ['etc', 'spool', 'logs'].map((d) => join(dir, d));
  for (const d of [etc, spool, logs]) mkdirSync(d);
  const [port, distPort] = [await freePort(), await freePort()];
  const pidFile = join(spool, 'ejabberd.pid');
  writeFileSync(join(etc, 'ejabberd.yml'), config(port));
  writeFileSync(
    join(etc, 'ejabberdctl.cfg'),
    `ERLANG_NODE=ctlbench${randomBytes(4).toString('hex')}@localhost\nERL_DIST_PORT=${distPort}\nERL_OPTIONS="-setcookie ${randomBytes(12).toString('hex')}"\nEJABBERD_PID_PATH=${pidFile}\n`,
  );
  writeFileSync(join(etc, 'inetrc'), '');
  if (process.getuid?.() === 0) {
    const id = (flag) => Number(execFileSync('id', [flag, 'ejabberd'], { encoding: 'utf8' }).trim());
    for (const p of [dir, etc, spool, logs, ...readdirSync(etc).map((f) => join(etc, f))]) chownSync(p, id('-u'), id('-g'));
  }
  const ctl = (args, timeout = 60_000) =>
    spawnSync(EJABBERDCTL, ['--config-dir', etc, '--spool', spool, '--logs', logs, ...args], { cwd: dir, env: { ...process.env, HOME: spool }, timeout });
  let pid;
  async function stop() {
    if (pid === undefined && existsSync(pidFile)) pid = Number(readFileSync(pidFile, 'utf8').trim()) || undefined;
    if (pid !== undefined && alive(pid)) {
      ctl(['stop'], 20_000);
      for (let i = 0; i < 150 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    started.delete(pid);
    rmSync(dir, { recursive: true, force: true });
  }
  try {
    const up = ctl(['start']);
    if (up.status !== 0) throw new Error(`ejabberdctl start: ${up.stdout}${up.stderr}`);
    if (!(await answersHttp(port, 60_000))) throw new Error(`ejabberd did not answer on port ${port}`);
    pid = Number(readFileSync(pidFile, 'utf8').trim());
    // An interrupted run kills what the XMPP bench started: this server too.
    started.add(pid);
    const reg = ctl(['register', 'admin', 'localhost', 'secret']);
    if (reg.status !== 0) throw new Error(`ejabberdctl register: ${reg.stdout}${reg.stderr}`);
    return { version: version() ?? '?', port, pid, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

module.exports = { startEjabberd };

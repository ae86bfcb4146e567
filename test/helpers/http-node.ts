import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allCommands } from '../../commands';
import { createRegistry } from '../../src/core/registry';
import { startNode, type RunningNode } from '../../src/node/daemon';
import { resolveHome } from '../../src/config/home';
import { runCli, tempHome } from './cli';
import { freePort } from './ports';

export { freePort };

export interface HttpNode {
  readonly dir: string;
  readonly url: string;
  readonly node: RunningNode;
  stop(): Promise<void>;
}

/**
 * A node in this process with the JSON API at /api and XML-RPC at /rpc on a free loopback
 * port, admin@localhost (password `secret`) in the admin ACL, and bob@localhost (`pw`).
 */
export async function startHttpNode(extraConfig = ''): Promise<HttpNode> {
  const home = tempHome('ctl-http-');
  const port = await freePort();
  writeFileSync(
    join(home.dir, 'ctl.yml'),
    `acl:\n  admin:\n    user: ["admin@localhost"]\nlisten:\n  - port: ${port}\n    ip: "127.0.0.1"\n    module: ejabberd_http\n    request_handlers:\n      /api: mod_http_api\n      /rpc: ejabberd_xmlrpc\n${extraConfig}`,
  );
  await runCli(['register', 'admin', 'localhost', 'secret', '--home', home.dir]);
  await runCli(['register', 'bob', 'localhost', 'pw', '--home', home.dir]);
  const node = await startNode({ home: resolveHome({ home: home.dir }), registry: createRegistry(allCommands), version: '0.0.0-test', lockTimeout: 5000 });
  return {
    dir: home.dir,
    url: `http://127.0.0.1:${port}`,
    node,
    async stop() {
      await node.control.stop();
      await node.stopped;
      home.cleanup();
    },
  };
}

export interface Curl {
  readonly status: number;
  readonly body: string;
  readonly headers: string;
}

/** Runs the real curl; `-w` appends the status, which is split off again. */
export function curl(args: readonly string[]): Promise<Curl> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '-D', '-', '-o', '-', '-w', '\n%{http_code}', ...args], { maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`curl failed: ${stderr || err.message}`));
      const status = Number(stdout.slice(stdout.lastIndexOf('\n') + 1));
      let text = stdout.slice(0, stdout.lastIndexOf('\n'));
      let headers = '';
      // `100 Continue` and other interim responses come first, each with its own header block.
      while (text.startsWith('HTTP/')) {
        const split = text.indexOf('\r\n\r\n');
        headers = text.slice(0, split);
        text = text.slice(split + 4);
      }
      resolve({ status, headers, body: text });
    });
  });
}

/** Debian's Python, whose standard library brings xmlrpc.client. */
export const PYTHON = '/usr/bin/python3';

/** Runs a Python script with the real xmlrpc.client; it prints one JSON line per call. */
export function python(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, ['-c', script], (err, stdout, stderr) => (err ? reject(new Error(`python failed: ${stderr || err.message}`)) : resolve(stdout)));
  });
}

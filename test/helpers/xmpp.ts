/**
 * A node serving XMPP clients on loopback, and the real clients the end-to-end tests log in with:
 * slixmpp (Debian's Python), @xmpp/client (a child Node process) and go-sendxmpp. Each client run
 * is a script of steps (test/e2e/xmpp/peers/peer.py describes them); what the client saw comes
 * back as JSON events, which the tests assert on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allCommands } from '../../commands';
import { resolveHome } from '../../src/config/home';
import { createRegistry } from '../../src/core/registry';
import { startNode, type RunningNode } from '../../src/node/daemon';
import { runCli, tempHome } from './cli';
import { freePort, PYTHON } from './http-node';
import type { ProcResult } from './proc';

export const PEERS = join(__dirname, '..', 'e2e', 'xmpp', 'peers');

export interface XmppNodeOptions {
  /** user@host → password, registered with `ctl register` before the node starts. */
  readonly users?: Readonly<Record<string, string>>;
  readonly hosts?: readonly string[];
  /** More of ctl.yml, appended as it is. */
  readonly config?: string;
}

export interface XmppNode {
  readonly home: string;
  readonly node: RunningNode;
  /** STARTTLS, direct TLS, and HTTP (/ws for WebSocket, /api). */
  readonly ports: { readonly c2s: number; readonly tls: number; readonly http: number };
  /** `ctl ARGS --home HOME`, through the node's control socket. */
  ctl(args: readonly string[], stdin?: string): Promise<ProcResult>;
  /** The node's log so far. */
  log(): string;
  stop(): Promise<void>;
}

/** Resolves to undefined when `promise` takes longer than `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function startXmppNode(options: XmppNodeOptions = {}): Promise<XmppNode> {
  const home = tempHome('ctl-xmpp-e2e-');
  const [c2s, tls, http] = [await freePort(), await freePort(), await freePort()];
  const hosts = options.hosts ?? ['localhost'];
  writeFileSync(
    join(home.dir, 'ctl.yml'),
    [
      `hosts: [${hosts.map((h) => JSON.stringify(h)).join(', ')}]`,
      'acl:',
      '  admin:',
      '    user: ["admin@localhost"]',
      'listen:',
      `  - {port: ${c2s}, ip: "127.0.0.1", module: ejabberd_c2s, starttls: true}`,
      `  - {port: ${tls}, ip: "127.0.0.1", module: ejabberd_c2s, tls: true}`,
      `  - {port: ${http}, ip: "127.0.0.1", module: ejabberd_http, request_handlers: {/ws: ejabberd_http_ws, /api: mod_http_api}}`,
      options.config ?? '',
    ].join('\n'),
  );
  for (const [jid, password] of Object.entries(options.users ?? {})) {
    const [user, host] = jid.split('@');
    const r = await runCli(['register', user, host, password, '--home', home.dir]);
    if (r.status !== 0) throw new Error(`ctl register ${jid} failed: ${r.stderr}`);
  }
  let node: RunningNode;
  try {
    node = await startNode({ home: resolveHome({ home: home.dir }), registry: createRegistry(allCommands), version: '0.0.0-test', lockTimeout: 5000, env: {} });
  } catch (err) {
    home.cleanup();
    throw err;
  }
  let stopped = false;
  return {
    home: home.dir,
    node,
    ports: { c2s, tls, http },
    ctl: (args, stdin) => runCli([...args, '--home', home.dir], { stdin }),
    log: () => readFileSync(join(home.dir, 'log', 'ctl.log'), 'utf8'),
    async stop() {
      if (stopped) return;
      stopped = true;
      killPeers();
      const done = await within(
        node.control.stop().then(() => true),
        10_000,
      );
      const gone =
        done &&
        (await within(
          node.stopped.then(() => true),
          10_000,
        ));
      home.cleanup();
      if (!gone) throw new Error('the node did not stop within 10 s');
    },
  };
}

/** One JSON line a client printed: what it saw or did. */
export interface PeerEvent {
  readonly event: string;
  readonly client?: string;
  readonly xml?: string;
  readonly jid?: string;
  readonly label?: string | null;
  readonly condition?: string;
  readonly text?: string;
  readonly message?: string;
  readonly found?: readonly string[];
  readonly [key: string]: unknown;
}

export interface PeerRun {
  readonly status: number | null;
  readonly events: readonly PeerEvent[];
  readonly stderr: string;
}

/** A client process still running: wait for its events, let it past a checkpoint, wait for its end. */
export interface LivePeer {
  /** The first event (from the start) for which `match` holds; rejects after `ms`. */
  next(match: (e: PeerEvent) => boolean, ms?: number): Promise<PeerEvent>;
  /** Waits for checkpoint `name`, which the script then holds at until `resume`. */
  checkpoint(name: string, ms?: number): Promise<void>;
  resume(): void;
  readonly done: Promise<PeerRun>;
}

/** Client processes still running: a failed test must not leave one waiting at a checkpoint. */
const running = new Set<ChildProcess>();

/** Kills every client process still running (stopping a node does too). */
export function killPeers(): void {
  for (const child of running) child.kill('SIGKILL');
}

function runPeer(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): LivePeer {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  const events: PeerEvent[] = [];
  const waiters = new Set<() => void>();
  let stdout = '';
  let stderr = '';
  let exited = false;
  const wake = () => waiters.forEach((w) => w());
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
    const lines = stdout.split('\n');
    stdout = lines.pop() ?? '';
    for (const line of lines.filter((l) => l.trim() !== '')) {
      try {
        events.push(JSON.parse(line) as PeerEvent);
      } catch {
        events.push({ event: 'unparsed', message: line });
      }
    }
    wake();
  });
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.on('error', () => undefined);
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<PeerRun>((resolve) => {
    child.on('close', (status) => {
      clearTimeout(killer);
      running.delete(child);
      exited = true;
      wake();
      resolve({ status, events, stderr: status === null ? `${stderr}(killed after ${timeoutMs} ms)` : stderr });
    });
  });
  const next = (match: (e: PeerEvent) => boolean, ms = 10_000) =>
    new Promise<PeerEvent>((resolve, reject) => {
      const check = () => {
        const found = events.find(match);
        if (found || exited || Date.now() > deadline) {
          waiters.delete(check);
          clearTimeout(timer);
          if (found) resolve(found);
          else reject(new Error(`the client never printed the event waited for; it printed:\n${events.map((e) => JSON.stringify(e)).join('\n')}\n${stderr}`));
        }
      };
      const deadline = Date.now() + ms;
      const timer = setTimeout(check, ms + 1);
      waiters.add(check);
      check();
    });
  return {
    next,
    async checkpoint(name, ms) {
      await next((e) => e.event === 'checkpoint' && e.name === name, ms);
    },
    resume: () => child.stdin.write('\n'),
    done,
  };
}

export interface PeerOptions {
  readonly timeoutMs?: number;
}

/** The steps script of a slixmpp run, as peer.py reads it. */
export interface SlixmppScript {
  readonly server?: { readonly host?: string; readonly port: number };
  readonly clients: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly steps?: readonly Readonly<Record<string, unknown>>[];
  /** Seconds. */
  readonly timeout?: number;
  readonly step_timeout?: number;
  readonly serial_login?: boolean;
}

/** Runs test/e2e/xmpp/peers/SCRIPT.py with Debian's Python (which has slixmpp), still running. */
export function slixmppLive(script: string, args: SlixmppScript, options: PeerOptions = {}): LivePeer {
  const timeoutMs = options.timeoutMs ?? ((args.timeout ?? 30) + 5) * 1000;
  // No __pycache__ left in the source tree.
  const env = { PYTHONDONTWRITEBYTECODE: '1' };
  const json = JSON.stringify(args);
  // One argument may not exceed 128 KiB (MAX_ARG_STRLEN): a longer script goes in a file.
  if (json.length > 64 * 1024) {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-peer-'));
    writeFileSync(join(dir, 'script.json'), json);
    const peer = runPeer(PYTHON, [join(PEERS, `${script}.py`), `@${join(dir, 'script.json')}`], env, timeoutMs);
    void peer.done.finally(() => rmSync(dir, { recursive: true, force: true }));
    return peer;
  }
  return runPeer(PYTHON, [join(PEERS, `${script}.py`), json], env, timeoutMs);
}

/** Runs test/e2e/xmpp/peers/SCRIPT.py to its end. */
export function slixmpp(script: string, args: SlixmppScript, options: PeerOptions = {}): Promise<PeerRun> {
  return slixmppLive(script, args, options).done;
}

/** The script of an @xmpp/client run. */
export interface XmppClientScript {
  readonly client: { readonly service: string; readonly domain: string; readonly username: string; readonly password: string; readonly resource?: string };
  /** false: no initial presence; a string: this presence. */
  readonly presence?: boolean | string;
  readonly steps?: readonly Readonly<Record<string, unknown>>[];
  readonly timeout?: number;
}

/** Runs test/e2e/xmpp/peers/SCRIPT.mjs, an @xmpp/client session, still running. */
export function xmppClientLive(script: string, args: XmppClientScript, options: PeerOptions = {}): LivePeer {
  const timeoutMs = options.timeoutMs ?? ((args.timeout ?? 20) + 5) * 1000;
  // The node's certificate is self-signed.
  const env = { NODE_TLS_REJECT_UNAUTHORIZED: '0', NODE_NO_WARNINGS: '1' };
  return runPeer(process.execPath, [join(PEERS, `${script}.mjs`), JSON.stringify(args)], env, timeoutMs);
}

/** Runs test/e2e/xmpp/peers/SCRIPT.mjs to its end. */
export function xmppClient(script: string, args: XmppClientScript, options: PeerOptions = {}): Promise<PeerRun> {
  return xmppClientLive(script, args, options).done;
}

export interface SendxmppOptions {
  readonly jid: string;
  readonly password: string;
  readonly port: number;
  readonly to: string;
  readonly message: string;
  /** Direct TLS (`-t`) rather than STARTTLS. */
  readonly directTls?: boolean;
  /** `to` is a room (`-c`): go-sendxmpp joins it as `alias`, says the message, and leaves. */
  readonly chatroom?: boolean;
  readonly alias?: string;
  readonly timeoutMs?: number;
}

/** go-sendxmpp sends one message; its certificate check is off (`-n`), its home a temporary one. */
export function sendxmpp(o: SendxmppOptions): Promise<ProcResult> {
  const home = mkdtempSync(join(tmpdir(), 'ctl-sendxmpp-'));
  const args = [
    '-u',
    o.jid,
    '-p',
    o.password,
    '-j',
    `127.0.0.1:${o.port}`,
    '-n',
    '--timeout',
    '10',
    ...(o.directTls ? ['-t'] : []),
    ...(o.chatroom ? ['-c'] : []),
    ...(o.alias ? ['-a', o.alias] : []),
    o.to,
  ];
  const child = spawn('go-sendxmpp', args, { env: { PATH: process.env.PATH, HOME: home }, timeout: o.timeoutMs ?? 20_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(`${o.message}\n`);
  return new Promise((resolve) =>
    child.on('close', (status) => {
      rmSync(home, { recursive: true, force: true });
      resolve({ status, stdout, stderr });
    }),
  );
}

/** The stanzas `client` received, in order, with single quotes (as the tests write XML). */
export function received(run: PeerRun, client?: string): string[] {
  return run.events.filter((e) => e.event === 'recv' && (client === undefined || e.client === client)).map((e) => (e.xml ?? '').replaceAll('"', "'"));
}

/** The events of one kind (and of one client). */
export function eventsOf(run: PeerRun, event: string, client?: string): PeerEvent[] {
  return run.events.filter((e) => e.event === event && (client === undefined || e.client === client));
}

/** The XML of a `reply` or `matched` event with this label, single-quoted; throws when the client never got it. */
export function got(run: PeerRun, label: string): string {
  const e = run.events.find((x) => (x.event === 'reply' || x.event === 'matched') && x.label === label);
  if (!e) throw new Error(`no stanza labelled '${label}'; the client printed:\n${run.events.map((x) => JSON.stringify(x)).join('\n')}\n${run.stderr}`);
  return (e.xml ?? '').replaceAll('"', "'");
}

/** Throws, with everything the client printed, unless the script ran to its end without an error. */
export function expectClean(run: PeerRun): PeerRun {
  if (run.status !== 0 || run.events.some((e) => e.event === 'error')) {
    throw new Error(`the client script failed (status ${run.status}):\n${run.events.map((x) => JSON.stringify(x)).join('\n')}\n${run.stderr}`);
  }
  return run;
}

/**
 * `fn` again until `ok` holds of its result, for at most `ms`: what the node does after a client
 * leaves (storing last activity, ending a session) happens after the client's process is gone.
 */
export async function eventually<T>(fn: () => Promise<T>, ok: (value: T) => boolean, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A raw TCP client stream, for what no real client sends: bytes as they are, and what came back. */
export interface RawStream {
  send(data: string): void;
  /** Resolves with everything received once `pattern` matches it; rejects after `ms` or when the stream closes first. */
  until(pattern: RegExp, ms?: number): Promise<string>;
  /** Resolves once the node closed the connection, with everything received. */
  closed(ms?: number): Promise<string>;
  destroy(): void;
}

export const STREAM_HEADER = (to = 'localhost') =>
  `<?xml version='1.0'?><stream:stream to='${to}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`;

export function rawStream(port: number): RawStream {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  let ended = false;
  const waiters = new Set<() => void>();
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    received += d;
    waiters.forEach((w) => w());
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    ended = true;
    waiters.forEach((w) => w());
  });
  const wait = (done: () => boolean, what: string, ms: number) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`no ${what} within ${ms} ms; received: ${received}`)), ms);
      const finish = (err?: Error) => {
        clearTimeout(timer);
        waiters.delete(check);
        if (err) reject(err);
        else resolve(received);
      };
      const check = () => {
        if (done()) finish();
        else if (ended) finish(new Error(`the stream closed without ${what}; received: ${received}`));
      };
      waiters.add(check);
      check();
    });
  return {
    send: (data) => void socket.write(data),
    until: (pattern, ms = 5000) => wait(() => pattern.test(received), String(pattern), ms),
    closed: (ms = 5000) => wait(() => ended, 'close', ms).catch((err: Error) => (ended ? received : Promise.reject(err))),
    destroy: () => socket.destroy(),
  };
}

function run(command: string, args: readonly string[], stdin: string, timeoutMs = 15_000): Promise<ProcResult> {
  const child = spawn(command, args, { timeout: timeoutMs });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.on('error', () => undefined);
  child.stdin.end(stdin);
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

/**
 * The certificate a listener presents, as `openssl x509 -noout -subject -ext subjectAltName`
 * prints it: over direct TLS, or after `-starttls xmpp` for `xmpphost`.
 */
export async function presentedCertificate(port: number, starttls?: { xmpphost: string }): Promise<string> {
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', starttls?.xmpphost ?? 'localhost'];
  if (starttls) args.push('-starttls', 'xmpp', '-xmpphost', starttls.xmpphost);
  const hello = await run('openssl', args, '');
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/.exec(hello.stdout)?.[0];
  if (!pem) throw new Error(`openssl s_client got no certificate from port ${port}:\n${hello.stdout}${hello.stderr}`);
  const x509 = await run('openssl', ['x509', '-noout', '-subject', '-ext', 'subjectAltName'], pem);
  if (x509.status !== 0) throw new Error(`openssl x509 failed: ${x509.stderr}`);
  return x509.stdout;
}

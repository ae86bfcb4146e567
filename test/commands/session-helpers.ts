/**
 * The session commands run from the command line against a node whose XMPP server is a fake:
 * a list of sessions, and a record of what the commands asked of it.
 */
import { Readable } from 'node:stream';
import type { Element } from 'ltx';
import { allCommands } from '../../commands';
import type { NodeControl } from '../../src/core/context';
import type { MucControl } from '../../src/core/muc';
import type { ExtensionControl } from '../../src/core/extensions';
import { createContext } from '../../src/core/context';
import { execute } from '../../src/core/executor';
import { createRegistry } from '../../src/core/registry';
import type { SessionInfo, XmppControl } from '../../src/core/sessions';
import { formatJid, type BareJid, type Jid } from '../../src/lib/jid';
import { createServices, type Services } from '../../src/node/services';
import { main, type CliApp } from '../../src/transports/cli/main';
import type { CliResult } from '../helpers/cli';
import { memoryDeps, NOW } from '../helpers/features';

export interface FakeXmpp extends XmppControl {
  /** Sessions; a test removes one to make it vanish. */
  readonly list: SessionInfo[];
  /** Each call that acts on a session, as `name jid detail`. */
  readonly calls: string[];
  /** Stanzas routed or written, serialised. */
  readonly stanzas: string[];
}

export function session(jid: string, extra: Partial<SessionInfo> = {}): SessionInfo {
  const [bare, resource = ''] = jid.split('/');
  const [user, host] = bare.split('@');
  return {
    jid: { user, host, resource },
    connection: 'c2s_tls',
    ip: '127.0.0.1',
    port: 40000,
    priority: 0,
    node: 'ctl@localhost',
    uptimeSeconds: 10,
    status: 'available',
    statusText: '',
    ...extra,
  };
}

export function fakeXmpp(list: SessionInfo[]): FakeXmpp {
  const calls: string[] = [];
  const stanzas: string[] = [];
  const same = (a: Jid) => (s: SessionInfo) => formatJid(s.jid) === formatJid(a);
  const ofUser = (j: BareJid) => list.filter((s) => s.jid.user === j.user && s.jid.host === j.host);
  const remove = (s: SessionInfo) => list.splice(list.indexOf(s), 1);
  return {
    list,
    calls,
    stanzas,
    sessions: (host) => list.filter((s) => host === undefined || s.jid.host === host),
    userSessions: ofUser,
    kickUser(jid, reason) {
      const mine = ofUser(jid);
      mine.forEach(remove);
      calls.push(`kickUser ${formatJid(jid)} ${reason ?? ''}`.trim());
      return mine.length;
    },
    kickSession(jid, reason) {
      const s = list.find(same(jid));
      calls.push(`kickSession ${formatJid(jid)} ${reason}`);
      if (s) remove(s);
      return s !== undefined;
    },
    async setPresence(jid, presence) {
      calls.push(`setPresence ${formatJid(jid)} ${presence.toString()}`);
      return list.some(same(jid));
    },
    sendToSession(jid, stanza) {
      calls.push(`sendToSession ${formatJid(jid)}`);
      if (!list.some(same(jid))) return false;
      stanzas.push(stanza.toString());
      return true;
    },
    async route(stanza: Element) {
      stanzas.push(stanza.toString());
    },
    announce(text) {
      calls.push(`announce ${text}`);
      return list.length;
    },
    shutdown() {
      calls.push('shutdown');
      list.splice(0);
    },
    onlineSessions: (host) => list.filter((s) => host === undefined || s.jid.host === host).length,
    localSessions: () => list.length,
  };
}

/** A MUC service for tests that have none: any use of it fails the test. */
const NO_MUC = new Proxy({} as MucControl, {
  get: (_target, method) => () => {
    throw new Error(`this test's node has no MUC service, but ${String(method)} was asked of it`);
  },
});

/** Extension modules for tests that have none: any use of them fails the test. */
const NO_EXTENSIONS = new Proxy({} as ExtensionControl, {
  get: (_target, method) => () => {
    throw new Error(`this test's node has no extension modules, but ${String(method)} was asked of them`);
  },
});

export function fakeNode(xmpp: XmppControl, overrides: Partial<NodeControl> = {}): NodeControl {
  return {
    name: 'ctl@localhost',
    version: '9.9.9',
    cookie: 'cookie',
    uptimeSeconds: () => 42,
    activeResources: () => 7,
    stopAccepting: async () => undefined,
    xmpp,
    muc: NO_MUC,
    extensions: NO_EXTENSIONS,
    s2sConnections: () => 0,
    loglevel: () => 4,
    setLoglevel: () => undefined,
    reopenLog: async () => undefined,
    rotateLog: async () => undefined,
    reloadConfig: async () => undefined,
    restart: async () => undefined,
    stop: async () => undefined,
    ...overrides,
  };
}

export interface NodeCli {
  (argv: readonly string[]): Promise<CliResult>;
  readonly services: Services;
}

/**
 * `ctl ARGV` as a script sees it (stdout not a terminal), every command running as on `node`
 * with features over a memory store (hosts localhost and example.org).
 */
export function nodeCli(node: NodeControl | undefined, options: { isOnline?: (jid: BareJid) => boolean } = {}): NodeCli {
  const deps = { ...memoryDeps(['localhost', 'example.org']), isOnline: options.isOnline };
  const services = createServices(deps);
  const registry = createRegistry(allCommands);
  const app: CliApp = {
    registry,
    localRunner: (o) => ({
      run: (command, args) =>
        execute(
          command,
          args,
          createContext({ command: command.name, config: deps.config, registry, clock: () => NOW, services, node, progress: o.progress, working: o.working }),
        ),
      close: async () => undefined,
    }),
    foreground: async () => 1,
    nodeScript: '',
  };
  const run = async (argv: readonly string[]) => {
    let stdout = '';
    let stderr = '';
    const io = {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      stdin: Readable.from([]),
      env: {},
    };
    const status = await main([...argv, '--home', '/nonexistent/ctl-home'], io, app);
    return { status, stdout, stderr };
  };
  return Object.assign(run, { services });
}

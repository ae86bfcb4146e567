/**
 * The node's XMPP server, composed: the hub with every module, SASL, the certificate, and the
 * client listeners of the configuration. The node starts one after its database opens, hands
 * its `control` to the session commands, and stops it (streams closed with system-shutdown)
 * before the database closes.
 */
import type { Server as HttpServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSecureContext } from 'node:tls';
import { allowed, isLoopback } from '../config/access';
import type { Config } from '../config/config';
import { implicitC2s, type C2sListener } from '../config/listen';
import type { Features } from '../features';
import type { FeatureEvents } from '../features/events';
import type { EventBus } from '../lib/events';
import type { BareJid } from '../lib/jid';
import type { SessionTable, StreamError, XmppControl, XmppModule } from './api';
import { certificateLoader } from './c2s/certificate';
import { attachWebSocket, type WebSocketEndpoint } from './c2s/websocket';
import { closeC2s, listenC2s, type C2sEnv, type C2sLogger, type C2sServer, type C2sTimeouts } from './c2s/listener';
import { clientState } from './c2s/client-state';
import { streamManagement } from './c2s/stream-management';
import { raiseOpenFilesLimit } from '../lib/open-files';
import type { AuthGuard } from '../lib/auth-limiter';
import { createHub, type HubHandle, type HubLogger, type HubRemote } from './hub';
import { blocking } from './modules/blocking';
import { carbons } from './modules/carbons';
import { disco } from './modules/disco';
import { last } from './modules/last';
import { mam } from './modules/mam';
import { message } from './modules/message';
import { offline } from './modules/offline';
import { ping } from './modules/ping';
import { presence } from './modules/presence';
import { privacy } from './modules/privacy';
import { privateStorage } from './modules/private';
import { roster } from './modules/roster';
import { vcard } from './modules/vcard';
import { version } from './modules/version';
import { createSaslProvider } from './sasl';
import type { MucControl } from '../core/muc';
import { createMucService } from './muc/service';

/**
 * Every module the server runs, in the order their hooks run. Blocking and privacy come before
 * delivery, so their 'deliver' hooks drop what a user refuses before anything is delivered or
 * stored offline; last activity hears a client's unavailable presence (its status is the
 * logout's) before presence takes it.
 */
export const MODULES: readonly XmppModule[] = [
  blocking,
  privacy,
  last,
  presence,
  roster,
  message,
  offline,
  carbons,
  mam,
  disco,
  ping,
  version,
  vcard,
  privateStorage,
];

export interface XmppServerDeps {
  /** Read on every use: a reload or restart changes it. */
  readonly config: () => Config;
  /** The node's home, where the self-signed certificate is kept. */
  readonly home: string;
  readonly features: () => Features;
  readonly events: EventBus<FeatureEvents>;
  /** The feature events of the cluster's other nodes, as the cluster relays them. */
  readonly elsewhere?: EventBus<FeatureEvents>;
  readonly logger: HubLogger;
  readonly nodeName: string;
  readonly clock?: () => number;
  /** The port of the listener a configuration without `listen` gets (5222 unless given). */
  readonly implicitPort?: number;
  readonly timeouts?: C2sTimeouts;
  /** The node's count of failed logins, shared with its HTTP listeners; absent, nothing is refused. */
  readonly authGuard?: AuthGuard;
}

export interface XmppServer {
  readonly control: XmppControl;
  /** What a cluster's link uses: copies of other nodes' sessions, and what they hand this node. */
  readonly remote: HubRemote;
  /** The MUC service, for the room commands. */
  readonly muc: MucControl;
  readonly sessions: SessionTable;
  isOnline(jid: BareJid): boolean;
  /** Where each listener listens, with the port it got (port 0 picks one). */
  addresses(): { readonly ip: string; readonly port: number }[];
  /** Opens the listeners of the current configuration, closes those it no longer has, and takes a changed certificate. */
  reload(): Promise<void>;
  /** Stops accepting clients; the open streams stay. */
  stopAccepting(): Promise<void>;
  /** Closes every stream (system-shutdown unless told otherwise) and every listener. */
  stop(error?: StreamError): Promise<void>;
  /** Serves RFC 7395 on `urlPath` of an HTTP listener listening on `ip`. */
  attachWebSocket(server: HttpServer, urlPath: string, ip: string): void;
  /** Registers an extension module's handlers with the hub; resolves to what removes them. */
  extend(module: XmppModule): () => void;
}

/** How long stopping waits for the streams to say goodbye and the hub to finish with them. */
const STOP_WAIT = 3000;

const key = (l: C2sListener) => JSON.stringify([l.ip, l.port, l.tls, l.starttls, l.starttlsRequired, l.maxStanzaSize, l.access ?? null]);

/** Starts the hub and the configured listeners; fails with a plain sentence when an explicit listener cannot listen. */
export async function startXmppServer(deps: XmppServerDeps): Promise<XmppServer> {
  const { logger } = deps;
  const clock = deps.clock ?? Date.now;
  const muc = createMucService();
  const handle: HubHandle = createHub({
    features: deps.features,
    config: deps.config,
    clock,
    nodeName: deps.nodeName,
    events: deps.events,
    ...(deps.elsewhere && { elsewhere: deps.elsewhere }),
    logger,
    modules: [...MODULES, muc.module],
  });
  const certificate = certificateLoader(deps.config, deps.home);
  let secure = createSecureContext(certificate.load());
  const servers = new Map<string, C2sServer>();
  const endpoints: WebSocketEndpoint[] = [];
  const c2sLogger: C2sLogger = logger;
  // One for every listener: a client may resume on another listener than the one it lost.
  const sm = streamManagement({ route: (stanza) => handle.control.route(stanza), logger, clock });

  const envOf = (l: C2sListener): C2sEnv => ({
    hub: handle.hub,
    sasl: createSaslProvider({ accounts: () => deps.features().accounts, config: deps.config, loopback: l.ip === 'localhost' || isLoopback(l.ip) }),
    secureContext: () => secure,
    logger: c2sLogger,
    timeouts: deps.timeouts,
    extensions: [clientState, sm],
    allowed: (rule, who) => allowed(deps.config(), rule, who),
    authGuard: deps.authGuard,
  });

  const wanted = (): C2sListener[] => deps.config().c2s.map((l) => (l.implicit && deps.implicitPort !== undefined ? { ...l, port: deps.implicitPort } : l));

  async function open(l: C2sListener): Promise<void> {
    let server: C2sServer;
    try {
      server = await listenC2s(l, envOf(l));
    } catch (err) {
      if (!l.implicit) throw err;
      logger.warning(`${(err as Error).message}; the node runs without a client listener (configure one under 'listen' to choose the port)`);
      return;
    }
    servers.set(key(l), server);
    const { port } = server.address() as { port: number };
    const tls = l.tls ? 'direct TLS' : l.starttlsRequired ? 'STARTTLS required' : l.starttls ? 'STARTTLS' : 'no TLS';
    logger.info(`listening for XMPP clients on ${l.ip} port ${port} (${tls})`);
  }

  async function closeAll(error: StreamError | undefined): Promise<void> {
    await Promise.all([...servers.values()].map((s) => closeC2s(s, error)));
    servers.clear();
  }

  try {
    logOpenFiles(logger);
    for (const l of wanted()) await open(l);
  } catch (err) {
    await closeAll(undefined);
    handle.close();
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    control: handle.control,
    remote: handle.remote,
    muc: muc.control,
    sessions: handle.sessions,
    isOnline: (jid) => handle.sessions.ofUser(jid).length > 0,
    addresses: () => [...servers.values()].map((s) => ({ ip: s.listener.ip, port: (s.address() as { port: number }).port })),
    async reload() {
      if (certificate.changed()) secure = createSecureContext(certificate.load());
      const next = new Map(wanted().map((l) => [key(l), l]));
      for (const [k, server] of servers) {
        if (next.has(k)) continue;
        servers.delete(k);
        // Closing a listener does not end the streams it accepted: their clients stay connected.
        await stopListening(server);
        logger.info(`stopped listening for XMPP clients on ${server.listener.ip} port ${server.listener.port}`);
      }
      for (const [k, l] of next) if (!servers.has(k)) await open(l);
    },
    async stopAccepting() {
      await Promise.all([...servers.values()].map(stopListening));
    },
    stop(error = { condition: 'system-shutdown' }) {
      stopping ??= (async () => {
        const closed = closeAll(error);
        for (const e of endpoints.splice(0)) e.close(error);
        // Streams a listener closed by a reload left open are the hub's to close.
        handle.control.shutdown();
        await Promise.race([closed, sleep(STOP_WAIT, undefined, { ref: false })]);
        await waitFor(() => handle.sessions.count() === 0, STOP_WAIT);
        // The rooms' last activity, kept back to spare writes, is stored before the database closes.
        await muc.flush().catch((err: unknown) => logger.error(`storing the rooms: ${(err as Error).message}`));
        handle.close();
      })();
      return stopping;
    },
    extend: (module) => handle.extend(module),
    attachWebSocket(server, urlPath, ip) {
      endpoints.push(attachWebSocket(server, urlPath, envOf({ ...implicitC2s(), ip, implicit: false })));
    },
  };
}

/** Each client holds a descriptor: the node takes what the hard limit allows, and says what it has. */
function logOpenFiles(logger: HubLogger): void {
  const limits = raiseOpenFilesLimit();
  if (limits === undefined) return;
  const { soft, hard, failure } = limits;
  const few =
    soft < 10_000 ? `; each client holds one: raise the hard limit (LimitNOFILE= under systemd, ulimit -Hn) for more than about ${soft - 100} clients` : '';
  if (failure) logger.warning(`open files limit ${soft} (hard ${hard}), not raised: ${failure}${few}`);
  else logger.info(`open files limit ${soft}${few}`);
}

/** Stops accepting: the port is released at once; the streams it accepted go on. */
function stopListening(server: C2sServer): Promise<void> {
  // close's callback waits for every accepted stream to end: stop_kindly would wait for its users.
  if (server.listening) server.close();
  return Promise.resolve();
}

async function waitFor(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await sleep(20, undefined, { ref: false });
}

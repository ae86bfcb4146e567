import type { Element } from 'ltx';
import type { Config } from '../../../src/config/config';
import { defaultMucConfig, type MucConfig } from '../../../src/config/muc';
import { createFeatures, type Features } from '../../../src/features';
import type { Muc } from '../../../src/features/muc/types';
import { featureDeps } from '../../../src/features/deps';
import { createMemoryStore } from '../../../src/storage/memory';
import type { Store } from '../../../src/storage/types';
import type { Session, XmppModule } from '../../../src/xmpp/api';
import { createHub, type HubHandle } from '../../../src/xmpp/hub';
import { disco } from '../../../src/xmpp/modules/disco';
import { message } from '../../../src/xmpp/modules/message';
import { offline } from '../../../src/xmpp/modules/offline';
import { presence } from '../../../src/xmpp/modules/presence';
import { roster } from '../../../src/xmpp/modules/roster';
import { createRoom } from '../../../src/xmpp/muc/room';
import { createMucService, type MucServer } from '../../../src/xmpp/muc/service';
import { defaultConfig } from '../../../src/config/config';
import { settle, x } from '../hub/helpers';

export { settle, x };

export const START = 1_700_000_000_000;

export interface Client {
  readonly session: Session;
  /** Sends a stanza written as XML; the hub has done with it when this resolves. */
  send(xml: string): Promise<void>;
  /** What it received since the last call, as XML text. */
  take(): string[];
  /** What it received since the last call, parsed back. */
  stanzas(): Element[];
  drop(): Promise<void>;
}

export interface MucHub {
  readonly handle: HubHandle;
  readonly service: MucServer;
  readonly muc: Muc;
  /** The rooms written, in order: `name@service`. */
  readonly saves: string[];
  readonly store: Store;
  readonly features: Features;
  readonly config: Config;
  readonly errors: string[];
  at(ms: number): void;
  login(user: string, resource?: string): Promise<Client>;
  /** Logs in, sends initial presence, and forgets what that brought. */
  online(user: string, resource?: string): Promise<Client>;
}

export interface MucHubOptions {
  readonly muc?: Partial<MucConfig>;
  /** Another hub's store: a restart over the same database. */
  readonly store?: Store;
  readonly hosts?: readonly string[];
  readonly config?: Partial<Config>;
  readonly activityDelay?: number;
  /** Modules that run before the others. */
  readonly modules?: readonly XmppModule[];
}

/** The real hub with its delivery modules, disco and the MUC service over real rooms. */
export function mucHub(options: MucHubOptions = {}): MucHub {
  let now = START;
  const clock = () => now;
  const hosts = options.hosts ?? ['localhost'];
  const config: Config = {
    ...defaultConfig('/dev/null'),
    hosts: [...hosts],
    authPasswordFormat: 'plain',
    ...options.config,
    muc: { ...defaultMucConfig(), ...options.muc },
  };
  const store = options.store ?? createMemoryStore();
  const deps = featureDeps({ store, config, clock });
  const real = createFeatures(deps);
  const saves: string[] = [];
  const storage: Muc = {
    ...real.muc,
    saveRoom(service, name, record) {
      saves.push(`${name}@${service}`);
      return real.muc.saveRoom(service, name, record);
    },
  };
  // The features as they are, but for the rooms' writes, which the tests count.
  const features = Object.defineProperty(Object.create(real) as Features, 'muc', { value: storage });
  const errors: string[] = [];
  const logger = { info: () => undefined, warning: (m: string) => errors.push(m), error: (m: string) => errors.push(m), debug: () => undefined };
  const service = createMucService({ factory: createRoom, activityDelay: options.activityDelay });
  const handle = createHub({
    features: () => features,
    config: () => config,
    clock,
    nodeName: 'ctl@localhost',
    events: deps.events,
    logger,
    modules: [...(options.modules ?? []), presence, roster, message, offline, disco, service.module],
  });

  async function login(user: string, resource = 'r'): Promise<Client> {
    const bare = { user, host: hosts[0] };
    if (!(await features.accounts.exists(bare))) await features.accounts.register(bare, 'pw');
    const sent: Element[] = [];
    let gone = false;
    const session = handle.hub.bind(
      {
        bare,
        connection: 'c2s',
        ip: '127.0.0.1',
        port: 40000,
        send: (el) => void sent.push(el),
        close: () => drop(),
      },
      resource,
    );
    function drop() {
      if (gone) return;
      gone = true;
      handle.hub.unbind(session, undefined);
    }
    await settle();
    return {
      session,
      async send(xml) {
        handle.hub.receive(session, x(xml));
        await settle();
      },
      take: () => sent.splice(0).map((e) => e.toString()),
      stanzas: () => sent.splice(0),
      async drop() {
        drop();
        await settle();
      },
    };
  }

  return {
    handle,
    service,
    muc: storage,
    saves,
    store,
    features,
    config,
    errors,
    at: (ms) => (now = ms),
    login,
    async online(user, resource = 'r') {
      const c = await login(user, resource);
      await c.send('<presence/>');
      c.take();
      return c;
    },
  };
}

/** Joins `room@conference.localhost` as `nick` and returns what the joiner got. */
export async function join(c: Client, room: string, nick: string, extra = ''): Promise<string[]> {
  await c.send(`<presence to='${room}@conference.localhost/${nick}'><x xmlns='http://jabber.org/protocol/muc'>${extra}</x></presence>`);
  return c.take();
}

/** The owner accepts the instant room (XEP-0045 §10.1.2). */
export async function instant(c: Client, room: string): Promise<string[]> {
  await c.send(
    `<iq type='set' id='inst' to='${room}@conference.localhost'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`,
  );
  return c.take();
}

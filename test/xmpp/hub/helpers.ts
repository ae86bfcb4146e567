import type { Element } from 'ltx';
import { createFeatures, type Features } from '../../../src/features';
import type { FeatureDeps } from '../../../src/features/deps';
import { parseXml } from '../../../src/lib/xml';
import type { Session, StreamError, XmppModule } from '../../../src/xmpp/api';
import { createHub, type HubHandle } from '../../../src/xmpp/hub';
import { message } from '../../../src/xmpp/modules/message';
import { offline } from '../../../src/xmpp/modules/offline';
import { presence } from '../../../src/xmpp/modules/presence';
import { roster } from '../../../src/xmpp/modules/roster';
import { memoryDeps, NOW } from '../../helpers/features';

/** A client stream that records what it was sent and how it was closed. */
export interface FakeClient {
  readonly sent: Element[];
  readonly closes: (StreamError | undefined)[];
  session: Session;
  /** The client sends a stanza written as XML. */
  send(xml: string): void;
  /** What it received since the last call, as XML text. */
  take(): string[];
  /** The stream goes away (the socket closed). */
  drop(): void;
}

export interface TestHub extends HubHandle {
  readonly deps: FeatureDeps;
  readonly features: Features;
  readonly errors: string[];
  login(user: string, resource?: string, ip?: string): Promise<FakeClient>;
}

export async function settle(): Promise<void> {
  for (let i = 0; i < 40; i++) await new Promise((r) => setImmediate(r));
}

export function x(xml: string): Element {
  return parseXml(xml, 'test stanza');
}

export interface HubOptions {
  /** Run `extra` before the delivery modules (their hooks see stanzas first), as the node does. */
  readonly first?: boolean;
  /** What the hub and the features read as the time. */
  readonly clock?: () => number;
}

/** The real hub with its delivery modules and `extra`, over the features on a memory store. */
export function makeHub(extra: readonly XmppModule[] = [], hosts = ['localhost'], options: HubOptions = {}): TestHub {
  const clock = options.clock ?? (() => NOW);
  const deps = { ...memoryDeps(hosts), clock };
  const features = createFeatures(deps);
  const errors: string[] = [];
  const logger = { info: () => undefined, warning: (m: string) => errors.push(m), error: (m: string) => errors.push(m), debug: () => undefined };
  const delivery = [presence, roster, message, offline];
  const handle = createHub({
    features: () => features,
    config: () => deps.config,
    clock,
    nodeName: 'ctl@localhost',
    events: deps.events,
    logger,
    modules: options.first ? [...extra, ...delivery] : [...delivery, ...extra],
  });
  async function login(user: string, resource = 'r', ip = '127.0.0.1'): Promise<FakeClient> {
    const bare = { user, host: hosts[0] };
    if (!(await features.accounts.exists(bare))) await features.accounts.register(bare, 'pw');
    let gone = false;
    const client: FakeClient = {
      sent: [],
      closes: [],
      session: undefined as unknown as Session,
      send: (xml) => handle.hub.receive(client.session, x(xml)),
      take: () => client.sent.splice(0).map((e) => e.toString()),
      drop() {
        if (gone) return;
        gone = true;
        handle.hub.unbind(client.session, undefined);
      },
    };
    client.session = handle.hub.bind(
      {
        bare,
        connection: 'c2s',
        ip,
        port: 40000,
        send: (el) => void client.sent.push(el),
        close(error) {
          client.closes.push(error);
          client.drop();
        },
      },
      resource,
    );
    return client;
  }
  return { ...handle, deps, features, errors, login };
}

/** Logs in and sends initial presence. */
export async function online(hub: TestHub, user: string, resource = 'r', presenceXml = '<presence/>'): Promise<FakeClient> {
  const c = await hub.login(user, resource);
  c.send(presenceXml);
  await settle();
  return c;
}

import type { Element } from 'ltx';
import { createFeatures, type Features } from '../../../src/features';
import type { FeatureDeps } from '../../../src/features/deps';
import { featureDeps } from '../../../src/features/deps';
import { defaultConfig } from '../../../src/config/config';
import { parseXml } from '../../../src/lib/xml';
import { createMemoryStore } from '../../../src/storage/memory';
import type { Session, XmppModule } from '../../../src/xmpp/api';
import { createHub, type HubHandle } from '../../../src/xmpp/hub';
import { message } from '../../../src/xmpp/modules/message';
import { offline } from '../../../src/xmpp/modules/offline';
import { presence } from '../../../src/xmpp/modules/presence';
import { roster } from '../../../src/xmpp/modules/roster';

export const START = 1_700_000_000_000;

/** A client stream that records what it was sent. */
export interface Client {
  readonly session: Session;
  readonly sent: Element[];
  /** The client sends a stanza written as XML, and the hub has done with it. */
  send(xml: string): Promise<void>;
  /** What it received since the last call, as XML text. */
  take(): string[];
  /** The stream goes away. */
  drop(): Promise<void>;
}

export interface ModuleHub extends HubHandle {
  readonly deps: FeatureDeps;
  readonly features: Features;
  readonly errors: string[];
  /** Moves the clock the hub and the features read. */
  at(ms: number): void;
  login(user: string, resource?: string): Promise<Client>;
  /** Logs in and sends initial presence. */
  online(user: string, resource?: string): Promise<Client>;
}

export async function settle(): Promise<void> {
  for (let i = 0; i < 40; i++) await new Promise((r) => setImmediate(r));
}

export const x = (xml: string): Element => parseXml(xml, 'test stanza');

/** The real hub with its delivery modules, then `modules`, over the features on a memory store. */
export function moduleHub(modules: readonly XmppModule[], hosts = ['localhost']): ModuleHub {
  let now = START;
  const config = { ...defaultConfig('/dev/null'), hosts, authPasswordFormat: 'plain' as const };
  const deps = featureDeps({ store: createMemoryStore(), config, clock: () => now });
  const features = createFeatures(deps);
  const errors: string[] = [];
  const logger = { info: () => undefined, warning: (m: string) => errors.push(m), error: (m: string) => errors.push(m), debug: () => undefined };
  const handle = createHub({
    features: () => features,
    config: () => deps.config,
    clock: () => now,
    nodeName: 'ctl@localhost',
    events: deps.events,
    logger,
    modules: [...modules, presence, roster, message, offline],
  });

  async function login(user: string, resource = 'r'): Promise<Client> {
    const bare = { user, host: hosts[0] };
    if (!(await features.accounts.exists(bare))) await features.accounts.register(bare, 'pw');
    const sent: Element[] = [];
    let gone = false;
    const client: Client = {
      sent,
      session: undefined as unknown as Session,
      async send(xml) {
        handle.hub.receive(client.session, x(xml));
        await settle();
      },
      take: () => sent.splice(0).map((e) => e.toString()),
      async drop() {
        if (gone) return;
        gone = true;
        handle.hub.unbind(client.session, undefined);
        await settle();
      },
    };
    (client as { session: Session }).session = handle.hub.bind(
      { bare, connection: 'c2s', ip: '127.0.0.1', port: 40000, send: (el) => void sent.push(el), close: () => void client.drop() },
      resource,
    );
    await settle();
    return client;
  }

  return {
    ...handle,
    deps,
    features,
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

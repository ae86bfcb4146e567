import type { Element } from 'ltx';
import type { Session, XmppModule } from '../../../src/xmpp/api';
import { makeHub, settle, x, type TestHub } from '../hub/helpers';

export { settle, x };

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

export interface ModuleHub extends Omit<TestHub, 'login'> {
  /** Moves the clock the hub and the features read. */
  at(ms: number): void;
  login(user: string, resource?: string): Promise<Client>;
  /** Logs in and sends initial presence. */
  online(user: string, resource?: string): Promise<Client>;
}

/** The real hub, `modules` before its delivery modules, over the features on a memory store, with a clock the test moves. */
export function moduleHub(modules: readonly XmppModule[], hosts = ['localhost']): ModuleHub {
  let now = START;
  const hub = makeHub(modules, hosts, { first: true, clock: () => now });

  async function login(user: string, resource = 'r'): Promise<Client> {
    const fake = await hub.login(user, resource);
    await settle();
    return {
      sent: fake.sent,
      session: fake.session,
      async send(xml) {
        fake.send(xml);
        await settle();
      },
      take: () => fake.take(),
      async drop() {
        fake.drop();
        await settle();
      },
    };
  }

  return {
    ...hub,
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

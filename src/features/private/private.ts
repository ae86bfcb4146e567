import { CommandError, fieldError } from '../../lib/errors';
import { bareText, type BareJid } from '../../lib/jid';
import { Element, isXmlName, parseXml } from '../../lib/xml';
import type { Accounts } from '../accounts/accounts';
import { accountLockKey, type FeatureDeps } from '../deps';
import { isReservedPrivateNamespace, PRIVATE, privateKey, readPrivate, RESERVED_PRIVATE_NAMESPACES, type PrivateRecord } from './records';

export interface Private {
  /**
   * The element stored under `ns`, or the empty `<name xmlns='ns'/>` a server answers when
   * nothing is: the namespace is the key, as in ejabberd, `name` does not select. Errors name
   * `name` and `ns`.
   */
  get(jid: BareJid, name: string, ns: string): Promise<Element>;
  /** What `get` finds, serialised as it is stored, so that it goes out unchanged. */
  getXml(jid: BareJid, name: string, ns: string): Promise<string>;
  /** Stores `element` under its namespace, replacing what was stored there; errors name `element`. */
  set(jid: BareJid, element: Element): Promise<void>;
}

const refusing = `private storage refuses ${RESERVED_PRIVATE_NAMESPACES.join(', ')}`;

/**
 * Private XML storage (XEP-0049): one element per user and namespace, kept serialised so that
 * the XMPP server can return it unchanged.
 */
export function createPrivate(deps: FeatureDeps, accounts: Accounts): Private {
  const { store, locks } = deps;

  async function getXml(jid: BareJid, name: string, ns: string): Promise<string> {
    if (!isXmlName(name)) {
      throw fieldError('bad_argument', 'name', (n) => `Invalid element name '${name}' (${n}): give the local name of an XML element, e.g. storage`);
    }
    if (ns === '') throw fieldError('bad_argument', 'ns', (n) => `The namespace (${n}) must not be empty`);
    if (isReservedPrivateNamespace(ns)) throw fieldError('bad_argument', 'ns', (n) => `The namespace ${ns} (${n}) is reserved: ${refusing}`);
    await accounts.requireUser(jid);
    const rec = await readPrivate(store, jid, ns);
    return rec ? rec.xml : new Element(name, { xmlns: ns }).toString();
  }

  return {
    getXml,

    async get(jid, name, ns) {
      const xml = await getXml(jid, name, ns);
      try {
        return parseXml(xml, `the stored private element ${ns} of ${bareText(jid)}`);
      } catch (err) {
        // The request was fine, the database is not: not a usage error.
        throw new CommandError('failed', (err as Error).message, { cause: err });
      }
    },

    async set(jid, element) {
      const ns = element.getNS();
      if (!ns) {
        throw fieldError(
          'bad_argument',
          'element',
          (n) =>
            `The element <${element.name}> (${n}) has no namespace: private storage keeps each element under its xmlns, e.g. <storage xmlns='storage:bookmarks'/>`,
        );
      }
      if (isReservedPrivateNamespace(ns)) {
        throw fieldError('bad_argument', 'element', (n) => `The element <${element.name}> (${n}) is in the reserved namespace ${ns}: ${refusing}`);
      }
      const rec: PrivateRecord = { xml: element.toString() };
      await locks.run(accountLockKey(jid), async () => {
        await accounts.requireUser(jid);
        await store.put(PRIVATE, privateKey(jid, ns), rec);
      });
    },
  };
}

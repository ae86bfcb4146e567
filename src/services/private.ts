import { CommandError } from '../lib/errors';
import { key } from '../storage/keys';
import { TABLES } from '../storage/tables';
import type { AccountsService, ServiceDeps } from './accounts';
import { Element, isXmlName, parseXml } from '../lib/xml';

/** What TABLES.private holds: one element per namespace, serialised. */
export interface PrivateRecord {
  readonly xml: string;
}

/** XEP-0049: these namespaces are the protocol itself, never data a client may store. */
const RESERVED = new Set(['jabber:client', 'jabber:server', 'jabber:iq:private']);

const refusing = `private storage refuses ${[...RESERVED].join(', ')}`;

function bad(message: string, argName: string): CommandError {
  return new CommandError('bad_argument', message, { details: { arg: argName } });
}

/**
 * Private XML storage (XEP-0049): one element per user and namespace, kept as serialised XML
 * under TABLES.private so the XMPP server can return it unchanged.
 */
export function createPrivateService(deps: ServiceDeps, accounts: AccountsService) {
  const { store } = deps;

  async function known(j: { user: string; host: string; id: string }) {
    if (!(await accounts.exists(j.user, j.host))) throw new CommandError('not_found', `User ${j.id} does not exist`);
  }

  return {
    /** Stores `element` under its namespace, replacing what was stored there. */
    async set(user: string, host: string, element: string): Promise<boolean> {
      const j = accounts.jid(user, host);
      const el = parseXml(element, "argument 'element'");
      const ns = el.getNS();
      if (!ns) throw bad(`The element <${el.name}> (element) has no namespace: private storage keeps each element under its xmlns, e.g. <storage xmlns='storage:bookmarks'/>`, 'element');
      if (RESERVED.has(ns)) throw bad(`The element <${el.name}> (element) is in the reserved namespace ${ns}: ${refusing}`, 'element');
      await known(j);
      const rec: PrivateRecord = { xml: el.toString() };
      await store.put(TABLES.private, key(j.host, j.user, ns), rec);
      return true;
    },

    /**
     * The element stored under `ns`, alone (what private_set takes back), or the empty
     * `<element xmlns='ns'/>` a server answers when nothing is stored.
     */
    async get(user: string, host: string, element: string, ns: string): Promise<string> {
      const j = accounts.jid(user, host);
      if (!isXmlName(element)) throw bad(`Invalid element name '${element}' (element): give the local name of an XML element, e.g. storage`, 'element');
      if (ns === '') throw bad('The namespace (ns) must not be empty', 'ns');
      if (RESERVED.has(ns)) throw bad(`The namespace ${ns} (ns) is reserved: ${refusing}`, 'ns');
      await known(j);
      const rec = await store.get<PrivateRecord>(TABLES.private, key(j.host, j.user, ns));
      return rec ? rec.xml : new Element(element, { xmlns: ns }).toString();
    },
  };
}

export type PrivateService = ReturnType<typeof createPrivateService>;

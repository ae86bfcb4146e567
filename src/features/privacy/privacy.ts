import { checkField, CommandError, fieldError } from '../../lib/errors';
import { bareText, formatJid, parseJid, type BareJid } from '../../lib/jid';
import type { Element } from '../../lib/xml';
import type { BatchOp } from '../../storage/types';
import type { Accounts } from '../accounts/accounts';
import { accountLockKey, type FeatureDeps } from '../deps';
import { isBlockItem } from './match';
import {
  MAX_PRIVACY_ORDER,
  NS_PRIVACY,
  PRIVACY,
  PRIVACY_STANZAS,
  PRIVACY_SUBSCRIPTIONS,
  privacyDefaultOps,
  privacyListKey,
  privacyListOps,
  privacyListRemovalOps,
  readPrivacyDefault,
  readPrivacyList,
  readPrivacyLists,
  type PrivacyItem,
  type PrivacyList,
  type PrivacyStanza,
} from './records';

/** What a `<query xmlns='jabber:iq:privacy'>` of an IQ set asks for. */
export interface PrivacyQuery {
  /** Name → items sorted by order; no items means remove the list. */
  readonly lists: ReadonlyMap<string, readonly PrivacyItem[]>;
  /** undefined: unchanged; null: clear the default; else the name of the new default. */
  readonly default?: string | null;
  /** Checked to name a list ('' declines the active list), not stored: it belongs to a session. */
  readonly active?: string;
}

export interface PrivacySettings {
  readonly lists: PrivacyList[];
  readonly default?: string;
}

export interface Privacy {
  /** The user's lists by name, and the name of the default list. */
  lists(jid: BareJid): Promise<PrivacySettings>;
  list(jid: BareJid, name: string): Promise<PrivacyList | undefined>;
  /**
   * Stores a list, its items sorted by order (errors name `items`); no items removes it,
   * unless it is the default list.
   */
  setList(jid: BareJid, name: string, items: readonly PrivacyItem[]): Promise<void>;
  /** Makes an existing list the default, or clears the default (null). */
  setDefault(jid: BareJid, name: string | null): Promise<void>;
  /**
   * Applies a query as an IQ set from the user would: lists first, then the default list, all
   * in one atomic step. Several children are accepted (XEP-0016 asks clients for one), so a
   * list and its use as default go together.
   */
  apply(jid: BareJid, query: PrivacyQuery): Promise<void>;
  /** The blocklist (XEP-0191): the JIDs the default list denies everything, in its order. */
  blocklist(jid: BareJid): Promise<string[]>;
  /**
   * Adds JIDs (prepared, each once) to the blocklist, before the default list's other items;
   * without a default list, makes one named `BLOCKLIST_NAME`. Resolves to the JIDs newly blocked.
   */
  block(jid: BareJid, jids: readonly string[]): Promise<string[]>;
  /** Removes JIDs from the blocklist, or all of them; resolves to the JIDs it removed. */
  unblock(jid: BareJid, jids: readonly string[] | 'all'): Promise<string[]>;
  /** Hears of every committed change of a user's lists (the XMPP server keeps them in memory); returns the unsubscribe. */
  onChange(listener: (jid: BareJid) => void): () => void;
}

/** The list a blocklist is kept in when the user had no default list (ejabberd's name). */
export const BLOCKLIST_NAME = 'Blocked contacts';

/** Privacy lists (XEP-0016). */
export function createPrivacy(deps: FeatureDeps, accounts: Accounts): Privacy {
  const { store, locks } = deps;
  const listeners = new Set<(jid: BareJid) => void>();

  /** Applies the query `make` builds from the stored lists, under the account's lock; resolves to what `make` gave back. */
  async function modify<T>(jid: BareJid, make: () => Promise<{ query: PrivacyQuery; result: T }>): Promise<T> {
    const result = await locks.run(accountLockKey(jid), async () => {
      await accounts.requireUser(jid);
      const made = await make();
      // A read that began before this change is shared with nobody from now on.
      reading.delete(bareText(jid));
      await store.batch(await changes(jid, made.query));
      return made.result;
    });
    for (const listener of listeners) listener(jid);
    return result;
  }

  /**
   * Reads of a user's lists under way, shared by the asks that come meanwhile: a login asks for
   * the lists and the blocklist at once. A change takes the user's read out before it writes.
   */
  const reading = new Map<string, Promise<PrivacySettings>>();

  function settings(jid: BareJid): Promise<PrivacySettings> {
    const key = bareText(jid);
    const pending = reading.get(key);
    if (pending) return pending;
    const read = Promise.all([readPrivacyLists(store, jid), readPrivacyDefault(store, jid)]).then(([lists, dflt]): PrivacySettings =>
      dflt === undefined ? { lists } : { lists, default: dflt },
    );
    reading.set(key, read);
    const done = () => void (reading.get(key) === read && reading.delete(key));
    read.then(done, done);
    return read;
  }

  const apply = (jid: BareJid, query: PrivacyQuery): Promise<void> => modify(jid, async () => ({ query, result: undefined }));

  async function defaultList(jid: BareJid): Promise<PrivacyList | undefined> {
    const name = await readPrivacyDefault(store, jid);
    return name === undefined ? undefined : readPrivacyList(store, jid, name);
  }

  async function changes(jid: BareJid, query: PrivacyQuery): Promise<BatchOp[]> {
    const missing = (name: string) => new CommandError('not_found', `Privacy list '${name}' of ${bareText(jid)} does not exist`);
    const names = [...query.lists.keys()];
    const existing = await store.getMany<PrivacyList>(
      PRIVACY,
      names.map((n) => privacyListKey(jid, n)),
    );
    const exists = async (name: string) => {
      const items = query.lists.get(name);
      return items ? items.length > 0 : (await readPrivacyList(store, jid, name)) !== undefined;
    };
    const ops: BatchOp[] = [];
    names.forEach((name, i) => {
      const items = query.lists.get(name)!;
      if (items.length > 0) ops.push(...privacyListOps(jid, { name, items }));
      else if (existing[i] === undefined) throw missing(name);
      else ops.push(...privacyListRemovalOps(jid, name));
    });
    for (const name of [query.default, query.active]) {
      if (typeof name === 'string' && name !== '' && !(await exists(name))) throw missing(name);
    }
    if (query.default !== undefined) {
      ops.push(...privacyDefaultOps(jid, query.default));
    } else {
      const current = await readPrivacyDefault(store, jid);
      if (current !== undefined && query.lists.get(current)?.length === 0) {
        throw new CommandError(
          'conflict',
          `Privacy list '${current}' of ${bareText(jid)} is the default list: make another list the default, or clear it with <default/>, before removing it`,
        );
      }
    }
    return ops;
  }

  return {
    async lists(jid) {
      await accounts.requireUser(jid);
      const { lists, default: dflt } = await settings(jid);
      return dflt === undefined ? { lists: [...lists] } : { lists: [...lists], default: dflt };
    },

    async list(jid, name) {
      await accounts.requireUser(jid);
      return readPrivacyList(store, jid, name);
    },

    async setList(jid, name, items) {
      const sorted = sortItems(items, (order) =>
        fieldError('bad_argument', 'items', (n) => `The items (${n}) of privacy list '${name}' have two of order ${order}`),
      );
      return apply(jid, { lists: new Map([[name, sorted]]) });
    },

    async setDefault(jid, name) {
      return apply(jid, { lists: new Map(), default: name });
    },

    apply,

    async blocklist(jid) {
      await accounts.requireUser(jid);
      const { lists, default: dflt } = await settings(jid);
      const list = dflt === undefined ? undefined : lists.find((l) => l.name === dflt);
      return (list?.items ?? []).filter(isBlockItem).map((item) => item.value!);
    },

    block(jid, jids) {
      return modify(jid, async () => {
        const list = (await defaultList(jid)) ?? { name: BLOCKLIST_NAME, items: [] };
        const blocked = new Set(list.items.filter(isBlockItem).map((item) => item.value));
        const added = [...new Set(jids)].filter((j) => !blocked.has(j));
        const fresh: PrivacyItem[] = added.map((value) => ({ type: 'jid', value, action: 'deny', order: 0, stanzas: [] }));
        // Orders are renumbered so that the new entries come first and the others keep their order.
        const items = [...fresh, ...list.items].map((item, order) => ({ ...item, order }));
        return { query: { lists: new Map([[list.name, items]]), default: list.name }, result: added };
      });
    },

    unblock(jid, jids) {
      return modify(jid, async () => {
        const list = await defaultList(jid);
        if (!list) return { query: { lists: new Map() }, result: [] };
        const drop = (item: PrivacyItem) => isBlockItem(item) && (jids === 'all' || jids.includes(item.value!));
        const removed = list.items.filter(drop).map((item) => item.value!);
        const items = list.items.filter((item) => !drop(item));
        // A list cannot be empty: once the last entry goes, so do the list and its use as default.
        const query: PrivacyQuery = items.length > 0 ? { lists: new Map([[list.name, items]]) } : { lists: new Map([[list.name, []]]), default: null };
        return { query, result: removed };
      });
    },

    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** The items in ascending order; two of one order are refused. */
function sortItems(items: readonly PrivacyItem[], twice: (order: number) => CommandError): PrivacyItem[] {
  const orders = new Set<number>();
  for (const item of items) {
    if (orders.has(item.order)) throw twice(item.order);
    orders.add(item.order);
  }
  return [...items].sort((a, b) => a.order - b.order);
}

/** An error about the query; its text names the field `query`. */
function bad(message: string): CommandError {
  return fieldError('bad_argument', 'query', (n) => `Invalid privacy query (${n}): ${message}`);
}

/**
 * Reads a `<query xmlns='jabber:iq:privacy'>` (prefixed or not) as an IQ set carries it;
 * errors name the field `query`.
 */
export function parsePrivacyQuery(query: Element): PrivacyQuery {
  if (query.getName() !== 'query' || query.getNS() !== NS_PRIVACY) {
    throw bad(`expected <query xmlns='${NS_PRIVACY}'>, got <${query.getName()}${query.getNS() ? ` xmlns='${query.getNS()}'` : ''}>`);
  }
  const lists = new Map<string, PrivacyItem[]>();
  let dflt: string | null | undefined;
  let active: string | undefined;
  for (const el of query.getChildElements()) {
    const kind = el.getName();
    if (kind === 'list') {
      const name = listName(el);
      if (lists.has(name)) throw bad(`list '${name}' is given twice`);
      const items = el.getChildElements().map((item) => parseItem(item, name));
      lists.set(
        name,
        sortItems(items, (order) => bad(`list '${name}' has two items of order ${order}`)),
      );
    } else if (kind === 'default' || kind === 'active') {
      if ((kind === 'default' ? dflt : active) !== undefined) throw bad(`more than one <${kind}/>`);
      const name = el.attrs.name === undefined ? null : listName(el);
      if (kind === 'default') dflt = name;
      else active = name ?? '';
    } else {
      throw bad(`unknown <${kind}/>: use list, default or active`);
    }
  }
  return { lists, default: dflt, active };
}

function listName(el: Element): string {
  const name = el.attrs.name as string | undefined;
  if (name === undefined || name === '') throw bad(`a <${el.getName()}/> needs a name`);
  return name;
}

function parseItem(item: Element, list: string): PrivacyItem {
  const where = `list '${list}'`;
  if (item.getName() !== 'item') throw bad(`${where} has a <${item.getName()}/> where only <item/> may be`);
  const { type, value, action, order } = item.attrs as Record<string, string | undefined>;
  if (action !== 'allow' && action !== 'deny') throw bad(`${where}: an item's action must be allow or deny, not '${action ?? ''}'`);
  if (order === undefined || !/^\d+$/.test(order) || Number(order) > MAX_PRIVACY_ORDER) {
    throw bad(`${where}: an item's order must be a whole number from 0 to ${MAX_PRIVACY_ORDER}, not '${order ?? ''}'`);
  }
  const stanzas: PrivacyStanza[] = [];
  for (const child of item.getChildElements()) {
    const kind = child.getName() as PrivacyStanza;
    if (!PRIVACY_STANZAS.includes(kind)) throw bad(`${where}: unknown <${kind}/> in an item: use message, iq, presence-in or presence-out`);
    if (!stanzas.includes(kind)) stanzas.push(kind);
  }
  const base = { action, order: Number(order), stanzas } as const;
  if (type === undefined) {
    if (value !== undefined) throw bad(`${where}: the item of order ${order} has a value but no type`);
    return base;
  }
  if (value === undefined) throw bad(`${where}: the item of order ${order} has a type but no value`);
  switch (type) {
    case 'jid':
      return { type, value: formatJid(checkField('query', (n) => parseJid(value, n))), ...base };
    case 'group':
      if (value === '') throw bad(`${where}: the item of order ${order} names an empty group`);
      return { type, value, ...base };
    case 'subscription':
      if (!(PRIVACY_SUBSCRIPTIONS as readonly string[]).includes(value)) throw bad(`${where}: unknown subscription '${value}': use none, to, from or both`);
      return { type, value, ...base };
    default:
      throw bad(`${where}: unknown item type '${type}': use jid, group or subscription`);
  }
}

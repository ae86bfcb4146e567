import { CommandError } from '../lib/errors';
import { key, prefix, splitKey } from '../storage/keys';
import { TABLES } from '../storage/tables';
import type { BatchOp } from '../storage/types';
import type { AccountsService, ServiceDeps } from './accounts';
import { formatJid, parseJid } from '../lib/jid';
import { parseXml, type Element } from '../lib/xml';

/** What a privacy item blocks or allows; no element in the item means every kind. */
export type PrivacyStanza = 'message' | 'iq' | 'presence-in' | 'presence-out';

/** One `<item/>` of a XEP-0016 list, as stored. */
export interface PrivacyItem {
  /** Absent: the fall-through item, which matches everyone. */
  readonly type?: 'jid' | 'group' | 'subscription';
  /** A normalised JID for `jid`; a group name; none, to, from or both for `subscription`. */
  readonly value?: string;
  readonly action: 'allow' | 'deny';
  /** Items are applied in ascending order; unique within a list. */
  readonly order: number;
  /** The stanza kinds the item applies to; empty means all of them. */
  readonly stanzas: readonly PrivacyStanza[];
}

/**
 * A privacy list, stored in TABLES.privacy under `host␀user␀list␀NAME`, its items sorted by
 * order. The user's default list's name is stored under `host␀user␀default` as `{ name }`.
 * Active lists belong to sessions and are not stored.
 */
export interface PrivacyList {
  readonly name: string;
  readonly items: readonly PrivacyItem[];
}

const NS = 'jabber:iq:privacy';
const STANZAS: readonly string[] = ['message', 'iq', 'presence-in', 'presence-out'];
const SUBSCRIPTIONS: readonly string[] = ['none', 'to', 'from', 'both'];
const MAX_ORDER = 4294967295;

function bad(message: string): CommandError {
  return new CommandError('bad_argument', `Invalid privacy query (xmlquery): ${message}`, { details: { arg: 'xmlquery' } });
}

function parseItem(item: Element, list: string): PrivacyItem {
  const where = `list '${list}'`;
  if (item.getName() !== 'item') throw bad(`${where} has a <${item.getName()}/> where only <item/> may be`);
  const { type, value, action, order } = item.attrs as Record<string, string | undefined>;
  if (action !== 'allow' && action !== 'deny') throw bad(`${where}: an item's action must be allow or deny, not '${action ?? ''}'`);
  if (order === undefined || !/^\d+$/.test(order) || Number(order) > MAX_ORDER) {
    throw bad(`${where}: an item's order must be a whole number from 0 to ${MAX_ORDER}, not '${order ?? ''}'`);
  }
  const stanzas: PrivacyStanza[] = [];
  for (const child of item.getChildElements()) {
    if (!STANZAS.includes(child.getName())) throw bad(`${where}: unknown <${child.getName()}/> in an item: use message, iq, presence-in or presence-out`);
    if (!stanzas.includes(child.getName() as PrivacyStanza)) stanzas.push(child.getName() as PrivacyStanza);
  }
  const base = { action, order: Number(order), stanzas } as const;
  if (type === undefined) {
    if (value !== undefined) throw bad(`${where}: the item of order ${order} has a value but no type`);
    return base;
  }
  if (value === undefined) throw bad(`${where}: the item of order ${order} has a type but no value`);
  switch (type) {
    case 'jid': {
      const jid = parseJid(value, 'xmlquery');
      return { type, value: formatJid(jid), ...base };
    }
    case 'group':
      if (value === '') throw bad(`${where}: the item of order ${order} names an empty group`);
      return { type, value, ...base };
    case 'subscription':
      if (!SUBSCRIPTIONS.includes(value)) throw bad(`${where}: unknown subscription '${value}': use none, to, from or both`);
      return { type, value, ...base };
    default:
      throw bad(`${where}: unknown item type '${type}': use jid, group or subscription`);
  }
}

function listName(el: Element): string {
  const name = el.attrs.name as string | undefined;
  if (name === undefined || name === '') throw bad(`a <${el.getName()}/> needs a name`);
  return name;
}

interface Query {
  /** Name → items; no items means remove the list. */
  readonly lists: Map<string, PrivacyItem[]>;
  /** undefined: unchanged; null: clear the default; else its name. */
  readonly default?: string | null;
  readonly active?: string;
}

function parseQuery(xml: string): Query {
  const query = parseXml(xml, "argument 'xmlquery'");
  if (query.getName() !== 'query' || query.getNS() !== NS) {
    throw bad(`expected <query xmlns='${NS}'>, got <${query.getName()}${query.getNS() ? ` xmlns='${query.getNS()}'` : ''}>`);
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
      const orders = new Set<number>();
      for (const item of items) {
        if (orders.has(item.order)) throw bad(`list '${name}' has two items of order ${item.order}`);
        orders.add(item.order);
      }
      lists.set(name, items.sort((a, b) => a.order - b.order));
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

/** Privacy lists (XEP-0016). */
export function createPrivacyService(deps: ServiceDeps, accounts: AccountsService) {
  const { store } = deps;

  async function known(user: string, host: string) {
    const j = accounts.jid(user, host);
    if (!(await accounts.exists(j.user, j.host))) throw new CommandError('not_found', `User ${j.id} does not exist`);
    return j;
  }

  const listKey = (host: string, user: string, name: string) => key(host, user, 'list', name);
  const defaultKey = (host: string, user: string) => key(host, user, 'default');

  return {
    /**
     * privacy_set: applies a `<query xmlns='jabber:iq:privacy'>` as an IQ set from the user
     * would: lists first, then the default list, all in one batch. Several children are
     * accepted (XEP-0016 asks clients for one), so a list and its use as default go together.
     */
    async set(user: string, host: string, xmlquery: string): Promise<boolean> {
      const query = parseQuery(xmlquery);
      const j = await known(user, host);
      const names = [...query.lists.keys()];
      const existing = await store.getMany<PrivacyList>(TABLES.privacy, names.map((n) => listKey(j.host, j.user, n)));
      const stored = await store.get<{ name: string }>(TABLES.privacy, defaultKey(j.host, j.user));
      const exists = async (name: string) =>
        query.lists.has(name) ? query.lists.get(name)!.length > 0 : (await store.get(TABLES.privacy, listKey(j.host, j.user, name))) !== undefined;
      const ops: BatchOp[] = [];
      names.forEach((name, i) => {
        const items = query.lists.get(name)!;
        if (items.length > 0) {
          ops.push({ type: 'put', table: TABLES.privacy, key: listKey(j.host, j.user, name), value: { name, items } satisfies PrivacyList });
        } else if (existing[i] === undefined) {
          throw new CommandError('not_found', `Privacy list '${name}' of ${j.id} does not exist`);
        } else {
          ops.push({ type: 'del', table: TABLES.privacy, key: listKey(j.host, j.user, name) });
        }
      });
      for (const name of [query.default, query.active]) {
        if (typeof name === 'string' && name !== '' && !(await exists(name))) {
          throw new CommandError('not_found', `Privacy list '${name}' of ${j.id} does not exist`);
        }
      }
      if (query.default === null) ops.push({ type: 'del', table: TABLES.privacy, key: defaultKey(j.host, j.user) });
      else if (query.default !== undefined) ops.push({ type: 'put', table: TABLES.privacy, key: defaultKey(j.host, j.user), value: { name: query.default } });
      else if (stored && query.lists.get(stored.name)?.length === 0) {
        throw new CommandError(
          'conflict',
          `Privacy list '${stored.name}' of ${j.id} is the default list: make another list the default, or clear it with <default/>, before removing it`,
        );
      }
      await store.batch(ops);
      return true;
    },

    /** The user's lists by name, and the name of the default list. */
    async get(user: string, host: string): Promise<{ lists: PrivacyList[]; default?: string }> {
      const j = await known(user, host);
      const lists: PrivacyList[] = [];
      for await (const [k, v] of store.entries<PrivacyList>(TABLES.privacy, { prefix: prefix(j.host, j.user, 'list') })) {
        if (splitKey(k).length === 4) lists.push(v);
      }
      const dflt = await store.get<{ name: string }>(TABLES.privacy, defaultKey(j.host, j.user));
      return dflt ? { lists, default: dflt.name } : { lists };
    },
  };
}

export type PrivacyService = ReturnType<typeof createPrivacyService>;

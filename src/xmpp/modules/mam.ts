import { Element } from 'ltx';
import type { ChatToArchive, MamQuery } from '../../features/mam/mam';
import type { ArchivedMessage } from '../../features/mam/records';
import { bareText, formatJid, parseJid, tryParseJid, type BareJid, type Jid } from '../../lib/jid';
import { parseXml } from '../../lib/xml';
import type { ModuleApi, Session, XmppModule } from '../api';
import { NS, StanzaError, asStanzaErrors } from '../stanza';

const DEFAULT_PAGE = 50;
const MAX_PAGE = 250;
const FORM_FIELDS = ['with', 'start', 'end'];

/**
 * Message Archive Management (XEP-0313, urn:xmpp:mam:2) over the mam feature, the archive the
 * admin mam commands purge: each one-to-one message with a body goes into the archive of the
 * local user who sent it and of the local user it is for (also when it is stored offline),
 * written in order without holding up delivery; a user queries their own archive by `with`,
 * `start` and `end`, paging with RSM (XEP-0059).
 */
export const mam: XmppModule = (api) => {
  const archiving = archiver(api);
  api.discoFeature(NS.mam);

  api.iq({ xmlns: NS.mam, to: ['host', 'self', 'bare'] }, async (iq, from, session) => {
    const owner = ownArchive(iq, from);
    const prefs = iq.getChild('prefs', NS.mam);
    if (prefs) return defaultPrefs();
    const query = iq.getChild('query', NS.mam);
    if (!query) throw new StanzaError('bad-request', `Expected <query xmlns='${NS.mam}'/> or <prefs/>`);
    if (iq.attrs.type === 'get') return formOf();
    if (!session) throw new StanzaError('not-allowed', 'The archive is queried from a client session');
    // What was delivered before the query is in the archive the query reads.
    await archiving.settled();
    const page = await asStanzaErrors(api.features().mam.query(owner, readQuery(query)), { not_found: 'item-not-found' });
    const queryid = query.attrs.queryid as string | undefined;
    for (const m of page.messages) {
      const result = resultMessage(m, owner, session, queryid);
      if (result) session.send(result);
    }
    return fin(page);
  });

  api.hook('client-stanza', (stanza, session) => {
    const to = archivable(stanza, 'to');
    if (to) archiving.add(session.jid, bareText(to), stanza);
  });

  api.hook('deliver', (stanza, to) => {
    const from = archivable(stanza, 'from');
    if (from && !redelivered(api, stanza)) archiving.add(to, bareText(from), stanza);
  });
};

/** Messages one write takes at most: a larger backlog goes in several, one after another. */
const MAX_BATCH = 2000;

/**
 * Writes to each owner's archive in the order asked, without making anyone wait: what is asked
 * in one turn of the event loop goes in one write, after the writes asked before it (the next
 * batch gathers while one is written). Failures are logged.
 */
interface Archiver {
  add(owner: BareJid, withJid: string, stanza: Element): void;
  /** Resolves once everything added so far is written. */
  settled(): Promise<void>;
}

function archiver(api: ModuleApi): Archiver {
  let pending: ChatToArchive[] = [];
  let scheduled = false;
  let writing: Promise<void> = Promise.resolve();

  const write = async (batch: ChatToArchive[]) => {
    try {
      const ids = await api.features().mam.archiveChats(batch);
      ids.forEach((id, i) => {
        if (id === undefined) api.logger.error(`Could not archive a message of ${bareText(batch[i].owner)}: User ${bareText(batch[i].owner)} does not exist`);
      });
    } catch (err) {
      api.logger.error(`Could not archive ${batch.length} message(s) of ${owners(batch)}: ${(err as Error).message}`);
    }
  };
  const flush = () => {
    scheduled = false;
    const all = pending;
    pending = [];
    for (let i = 0; i < all.length; i += MAX_BATCH) {
      const batch = all.slice(i, i + MAX_BATCH);
      writing = writing.then(() => write(batch));
    }
  };
  return {
    add(owner, withJid, stanza) {
      pending.push({ owner: { user: owner.user, host: owner.host }, withJid, xml: stanza.toString(), timestamp: api.clock() });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    settled() {
      if (scheduled) flush();
      return writing;
    },
  };
}

/**
 * A message this server delivers a second time (stream management sends what a lost session
 * never acknowledged to the user's other resources or offline) carries the delay the server
 * gave it; it was archived when it first came.
 */
function redelivered(api: ModuleApi, stanza: Element): boolean {
  const hosts = api.config().hosts;
  return stanza.getChildren('delay', NS.delay).some((d) => hosts.includes(d.attrs.from as string));
}

function owners(batch: readonly ChatToArchive[]): string {
  const names = [...new Set(batch.map((m) => bareText(m.owner)))];
  return names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ');
}

/** The other party of a message worth archiving: chat or normal, with a body, not asking not to be stored. */
function archivable(stanza: Element, side: 'from' | 'to'): Jid | undefined {
  if (stanza.name !== 'message') return undefined;
  const type = (stanza.attrs.type as string | undefined) ?? 'normal';
  if ((type !== 'chat' && type !== 'normal') || stanza.getChild('body') === undefined) return undefined;
  if (stanza.getChild('no-store', NS.hints) || stanza.getChild('no-permanent-store', NS.hints)) return undefined;
  return tryParseJid(stanza.attrs[side]);
}

/** A user queries only their own archive. */
function ownArchive(iq: Element, from: Jid): BareJid {
  const owner = { user: from.user, host: from.host };
  const to = iq.attrs.to as string | undefined;
  if (to !== undefined && to !== bareText(owner) && to !== owner.host) throw new StanzaError('forbidden', 'Only its owner may query an archive');
  return owner;
}

/** The query a `<query/>` asks for: its form (with, start, end) and its RSM set (max, after, before). */
function readQuery(query: Element): MamQuery {
  const fields = formFields(query.getChild('x', NS.dataForms));
  const set = query.getChild('set', NS.rsm);
  if (set?.getChild('index')) throw new StanzaError('feature-not-implemented', 'Paging by index is not supported: use after and before');
  const maxText = set?.getChildText('max');
  if (maxText != null && !/^\d+$/.test(maxText.trim())) throw new StanzaError('bad-request', `RSM max must be a whole number, not '${maxText}'`);
  const after = set?.getChildText('after') ?? undefined;
  const before = set?.getChild('before') ? (set.getChildText('before') ?? '') : undefined;
  if (after === '') throw new StanzaError('bad-request', 'RSM after needs an id');
  return {
    max: maxText == null ? DEFAULT_PAGE : Math.min(MAX_PAGE, Number(maxText.trim())),
    ...(fields.with === undefined ? {} : { with: bareOf(fields.with) }),
    ...(fields.start === undefined ? {} : { startMs: timeOf(fields.start, 'start') }),
    ...(fields.end === undefined ? {} : { endMs: timeOf(fields.end, 'end') }),
    ...(after === undefined ? {} : { after }),
    ...(before === undefined ? {} : { before }),
  };
}

function formFields(form: Element | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of form?.getChildren('field') ?? []) {
    const name = field.attrs.var as string | undefined;
    const value = field.getChildText('value') ?? '';
    if (name === 'FORM_TYPE') {
      if (value !== NS.mam) throw new StanzaError('bad-request', `The form is not a ${NS.mam} query`);
    } else if (name !== undefined && FORM_FIELDS.includes(name)) {
      out[name] = value;
    } else {
      throw new StanzaError('bad-request', `Unknown field '${name ?? ''}': use with, start or end`);
    }
  }
  return out;
}

function bareOf(text: string): string {
  try {
    const jid = parseJid(text);
    return bareText(jid);
  } catch {
    throw new StanzaError('jid-malformed', `Invalid JID '${text}' in the with field`);
  }
}

/** An XEP-0082 date and time. */
function timeOf(text: string, field: string): number {
  const ms = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) throw new StanzaError('bad-request', `The ${field} field must be a date and time such as 2024-01-31T12:00:00Z, not '${text}'`);
  return ms;
}

function resultMessage(m: ArchivedMessage, owner: BareJid, session: Session, queryid: string | undefined): Element | undefined {
  let inner: Element;
  try {
    inner = parseXml(m.xml, 'an archived message');
  } catch {
    return undefined;
  }
  if (inner.attrs.xmlns === undefined) inner.attrs.xmlns = NS.client;
  const out = new Element('message', { from: bareText(owner), to: formatJid(session.jid) });
  const result = out.c('result', { xmlns: NS.mam, id: m.id, ...(queryid === undefined ? {} : { queryid }) });
  const forwarded = result.c('forwarded', { xmlns: NS.forward });
  forwarded.c('delay', { xmlns: NS.delay, stamp: new Date(m.timestamp).toISOString() });
  forwarded.cnode(inner);
  return out;
}

function fin(page: { messages: readonly ArchivedMessage[]; count: number; complete: boolean; index: number }): Element {
  const el = new Element('fin', { xmlns: NS.mam, complete: String(page.complete) });
  const set = el.c('set', { xmlns: NS.rsm });
  if (page.messages.length > 0) {
    set.c('first', { index: String(page.index) }).t(page.messages[0].id);
    set.c('last').t(page.messages[page.messages.length - 1].id);
  }
  set.c('count').t(String(page.count));
  return el;
}

function formOf(): Element {
  const query = new Element('query', { xmlns: NS.mam });
  const form = query.c('x', { xmlns: NS.dataForms, type: 'form' });
  form.c('field', { var: 'FORM_TYPE', type: 'hidden' }).c('value').t(NS.mam);
  form.c('field', { var: 'with', type: 'jid-single' });
  form.c('field', { var: 'start', type: 'text-single' });
  form.c('field', { var: 'end', type: 'text-single' });
  return query;
}

/** Every message is archived; preferences are not stored. */
function defaultPrefs(): Element {
  const prefs = new Element('prefs', { xmlns: NS.mam, default: 'always' });
  prefs.c('always');
  prefs.c('never');
  return prefs;
}

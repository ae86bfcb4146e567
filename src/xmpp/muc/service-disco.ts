/**
 * Service discovery of the MUC service and its rooms (XEP-0045 §6): the service's identity and
 * its public rooms, paged with RSM (XEP-0059); a room's identity, the features its options
 * make it (muc_public/muc_hidden, ...), its muc#roominfo form, and its occupants when they may
 * be listed.
 */
import { randomBytes } from 'node:crypto';
import { Element } from 'ltx';
import type { MucConfig, RoomOptions } from '../../config/muc';
import type { Jid } from '../../lib/jid';
import { NS, StanzaError } from '../stanza';
import { NS_ROOMINFO } from './form';
import { NS_REGISTER } from './register';
import type { Registry } from './service';
import type { LiveRoom } from './types';

const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_UNIQUE = 'http://jabber.org/protocol/muc#unique';

/** ejabberd's max_rooms_discoitems: the most rooms one disco#items answer lists. */
export const MAX_ROOMS_DISCO_ITEMS = 100;

function query(iq: Element, xmlns: string): Element {
  const q = iq.getChild('query', xmlns);
  if (!q) throw new StanzaError('bad-request', `Expected <query xmlns='${xmlns}'/>`);
  if (q.attrs.node !== undefined && q.attrs.node !== '') throw new StanzaError('item-not-found', 'Node not found');
  return q;
}

export function serviceInfo(iq: Element, mc: MucConfig): Element {
  query(iq, NS.discoInfo);
  const reply = new Element('query', { xmlns: NS.discoInfo });
  reply.c('identity', { category: 'conference', type: 'text', name: mc.name });
  for (const ns of [NS.discoInfo, NS.discoItems, NS_MUC, NS_MUC_UNIQUE, NS_REGISTER, NS.rsm, NS.vcard]) reply.c('feature', { var: ns });
  return reply;
}

/** The service's public rooms, by name, `max` (at most 100) after the RSM `after` name. */
export async function serviceItems(iq: Element, service: string, registry: Registry): Promise<Element> {
  const q = query(iq, NS.discoItems);
  const set = q.getChild('set', NS.rsm);
  const maxText = set?.getChildText('max');
  if (maxText != null && !/^\d+$/.test(maxText.trim())) throw new StanzaError('bad-request', `RSM max must be a whole number, not '${maxText}'`);
  const max = Math.min(maxText == null ? MAX_ROOMS_DISCO_ITEMS : Number(maxText.trim()), MAX_ROOMS_DISCO_ITEMS);
  const after = set?.getChildText('after') ?? undefined;
  const live = registry.liveRooms(service).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const found: { name: string; title: string }[] = [];
  const consider = (name: string, options: RoomOptions) => {
    if (after !== undefined && name <= after) return;
    if (options.public) found.push({ name, title: options.title });
  };
  let i = 0;
  // Stored and live rooms, both by name, merged: a live room's options are the newer.
  for await (const stored of registry.muc().rooms(service)) {
    while (i < live.length && live[i].name < stored.name) consider(live[i].name, live[i++].options);
    if (i < live.length && live[i].name === stored.name) consider(stored.name, live[i++].options);
    else consider(stored.name, stored.record.options);
    if (found.length > max) break;
  }
  while (found.length <= max && i < live.length) consider(live[i].name, live[i++].options);
  const items = found.slice(0, max);
  const reply = new Element('query', { xmlns: NS.discoItems });
  for (const item of items) reply.c('item', { jid: `${item.name}@${service}`, name: item.title === '' ? item.name : item.title });
  if (set || found.length > max) {
    const out = reply.c('set', { xmlns: NS.rsm });
    if (items.length > 0) {
      out.c('first').t(items[0].name);
      out.c('last').t(items[items.length - 1].name);
    }
  }
  return reply;
}

export function serviceVcard(): Element {
  const vcard = new Element('vCard', { xmlns: NS.vcard });
  vcard.c('FN').t('ctl/mod_muc');
  vcard.c('DESC').t('ctl MUC service');
  return vcard;
}

/** XEP-0045 §10.1.4: a room name nobody has. */
export function uniqueName(): Element {
  return new Element('unique', { xmlns: NS_MUC_UNIQUE }).t(randomBytes(16).toString('hex'));
}

const feature = (on: boolean, yes: string, no: string) => (on ? yes : no);

export function roomInfo(iq: Element, room: LiveRoom): Element {
  if (iq.attrs.type !== 'get') throw new StanzaError('not-allowed', "Value 'set' of 'type' attribute is not allowed");
  query(iq, NS.discoInfo);
  const o = room.options;
  const reply = new Element('query', { xmlns: NS.discoInfo });
  reply.c('identity', { category: 'conference', type: 'text', name: o.title === '' ? room.name : o.title });
  for (const ns of [
    NS_MUC,
    NS.discoInfo,
    NS.discoItems,
    NS_REGISTER,
    NS.vcard,
    feature(o.public, 'muc_public', 'muc_hidden'),
    feature(o.persistent, 'muc_persistent', 'muc_temporary'),
    feature(o.members_only, 'muc_membersonly', 'muc_open'),
    feature(o.anonymous, 'muc_semianonymous', 'muc_nonanonymous'),
    feature(o.moderated, 'muc_moderated', 'muc_unmoderated'),
    feature(o.password_protected, 'muc_passwordprotected', 'muc_unsecured'),
  ]) {
    reply.c('feature', { var: ns });
  }
  const record = room.record();
  const x = reply.c('x', { xmlns: NS.dataForms, type: 'result' });
  const field = (name: string, value: string, label?: string) => {
    const f = x.c('field', label === undefined ? { var: name } : { var: name, label });
    f.c('value').t(value);
  };
  x.c('field', { var: 'FORM_TYPE', type: 'hidden' }).c('value').t(NS_ROOMINFO);
  field('muc#roominfo_description', o.description, 'Room description');
  field('muc#roominfo_occupants', String(room.occupantCount), 'Number of occupants');
  field('muc#roominfo_subject', record.subject, 'Current subject');
  field('muc#roominfo_lang', o.lang, 'Natural Language for Room Discussions');
  field('muc#roomconfig_roomname', o.title, 'Room title');
  field('muc#roomconfig_changesubject', o.allow_change_subj ? '1' : '0', 'Occupants May Change the Subject');
  field('muc#roomconfig_allowinvites', o.allow_user_invites ? '1' : '0', 'Occupants are allowed to invite others');
  field('muc#roomconfig_allowpm', o.allow_private_messages ? 'anyone' : 'none', 'Roles that May Send Private Messages');
  if (o.pubsub !== '') field('muc#roominfo_pubsub', o.pubsub, 'Associated pubsub node');
  return reply;
}

/** XEP-0045 §6.5: occupants are listed when the list is public, or to an occupant or an admin; otherwise none. */
export function roomItems(iq: Element, room: LiveRoom, from: Jid): Element {
  if (iq.attrs.type !== 'get') throw new StanzaError('not-allowed', "Value 'set' of 'type' attribute is not allowed");
  query(iq, NS.discoItems);
  const reply = new Element('query', { xmlns: NS.discoItems });
  const bare = { user: from.user, host: from.host };
  const affiliation = room.affiliation(bare);
  if (room.options.public_list || room.hasUser(bare) || affiliation === 'owner' || affiliation === 'admin') {
    const nicks = [...new Set(room.occupants().map((o) => o.nick))].sort();
    for (const nick of nicks) reply.c('item', { jid: `${room.jid}/${nick}`, name: nick });
  }
  return reply;
}

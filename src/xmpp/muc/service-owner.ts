/**
 * A room owner's requests at the room's bare JID (XEP-0045 §10): the configuration form, a
 * submitted form (an empty one accepts the instant room), cancelling a new room's
 * configuration (which destroys it), destroying the room, and the owner's affiliation lists;
 * and the room's vCard.
 */
import { Element } from 'ltx';
import type { Affiliation } from '../../config/muc';
import { parseXml } from '../../lib/xml';
import { parseJid, type BareJid, type Jid } from '../../lib/jid';
import { NS, StanzaError } from '../stanza';
import { configForm, readConfigForm, type FormContext } from './form';
import type { Registry } from './service';
import type { LiveRoom } from './types';

const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
const AFFILIATIONS: readonly Affiliation[] = ['owner', 'admin', 'member', 'outcast', 'none'];

const bareOf = (jid: Jid): BareJid => ({ user: jid.user, host: jid.host });

export function formContext(room: LiveRoom, owner: BareJid, registry: Registry): FormContext {
  const mc = registry.config();
  return {
    room: room.jid,
    maxUsers: mc.maxUsers,
    defaultMaxUsers: mc.defaultRoomOptions.max_users,
    mayPersist: registry.mayPersist(owner),
    maxRoomName: mc.maxRoomName,
    maxRoomDesc: mc.maxRoomDesc,
  };
}

export async function ownerIq(iq: Element, room: LiveRoom, from: Jid, registry: Registry): Promise<Element | undefined> {
  const query = iq.getChild('query', NS_MUC_OWNER);
  if (!query) throw new StanzaError('bad-request', `Expected <query xmlns='${NS_MUC_OWNER}'/>`);
  const bare = bareOf(from);
  if (room.affiliation(bare) !== 'owner') throw new StanzaError('forbidden', 'Owner privileges required');
  const destroy = query.getChild('destroy');
  const x = query.getChild('x', NS.dataForms);
  const items = query.getChildren('item');
  const given = [destroy, x, items.length > 0 ? items : undefined].filter((v) => v !== undefined).length;
  if (given > 1) throw new StanzaError('bad-request', 'Give one of <destroy/>, a form or items');

  if (iq.attrs.type === 'get') {
    if (destroy || x) throw new StanzaError('bad-request');
    if (items.length === 0) {
      const reply = new Element('query', { xmlns: NS_MUC_OWNER });
      reply.cnode(configForm(room.options, formContext(room, bare, registry)));
      return reply;
    }
    if (items.length > 1) throw new StanzaError('bad-request', 'Too many <item/> elements');
    const wanted = items[0].attrs.affiliation as string | undefined;
    if (wanted === undefined) throw new StanzaError('bad-request', "No 'affiliation' attribute found");
    const reply = new Element('query', { xmlns: NS_MUC_OWNER });
    for (const a of room.record().affiliations) {
      if (a.affiliation !== wanted) continue;
      const item = reply.c('item', { affiliation: a.affiliation, jid: a.jid });
      if (a.reason !== '') item.c('reason').t(a.reason);
    }
    return reply;
  }

  if (destroy) {
    const alternate = destroy.attrs.jid as string | undefined;
    await registry.destroy(room, destroy.getChildText('reason') ?? undefined, alternate, destroy.getChildText('password') ?? undefined);
    return undefined;
  }
  if (x) {
    if (x.attrs.type === 'cancel') {
      // §10.1.3: cancelling the initial configuration destroys the new room.
      if (room.locked) await registry.destroy(room);
      return undefined;
    }
    if (x.attrs.type !== 'submit') throw new StanzaError('bad-request', 'Incorrect data form');
    const options = readConfigForm(x, room.options, formContext(room, bare, registry));
    room.configure(options, from);
    registry.changed(room);
    return undefined;
  }
  if (items.length > 0) {
    const changes = items.map((item) => {
      const affiliation = item.attrs.affiliation as string | undefined;
      const jidText = item.attrs.jid as string | undefined;
      if (affiliation === undefined || !(AFFILIATIONS as readonly string[]).includes(affiliation)) throw new StanzaError('bad-request', 'Invalid affiliation');
      if (jidText === undefined) throw new StanzaError('bad-request', "No 'jid' attribute found");
      let jid: Jid;
      try {
        jid = parseJid(jidText);
      } catch {
        throw new StanzaError('jid-malformed', `Invalid JID '${jidText}'`);
      }
      return { jid: bareOf(jid), affiliation: affiliation as Affiliation, reason: item.getChildText('reason') ?? '' };
    });
    for (const c of changes) room.setAffiliation(c.jid, c.affiliation, c.reason, from);
    registry.changed(room);
    return undefined;
  }
  throw new StanzaError('bad-request');
}

/** The room's vCard (vcard-temp): anyone reads it, an owner sets it. */
export function roomVcard(iq: Element, room: LiveRoom, from: Jid, registry: Registry): Element | undefined {
  const given = iq.getChild('vCard', NS.vcard);
  if (!given) throw new StanzaError('bad-request', `Expected <vCard xmlns='${NS.vcard}'/>`);
  if (iq.attrs.type === 'get') {
    if (room.options.vcard === '') return new Element('vCard', { xmlns: NS.vcard });
    try {
      return parseXml(room.options.vcard, 'room vCard');
    } catch {
      return new Element('vCard', { xmlns: NS.vcard });
    }
  }
  if (room.affiliation(bareOf(from)) !== 'owner') throw new StanzaError('forbidden', 'Owner privileges required');
  room.configure({ ...room.options, vcard: given.toString() }, from);
  registry.changed(room);
  return undefined;
}

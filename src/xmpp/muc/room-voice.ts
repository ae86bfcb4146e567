/**
 * Voice requests (XEP-0045 §7.13, §8.6): a visitor asks for the participant role with a
 * muc#request form; each moderator gets the form to approve; an approved form gives voice.
 */
import { Element } from 'ltx';
import { formatJid, type Jid } from '../../lib/jid';
import { NS, StanzaError } from '../stanza';
import { NS_MUC_REQUEST, type Occupant, type RoomState } from './room-core';

function fields(form: Element): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of form.getChildren('field')) if (f.attrs.var) out.set(f.attrs.var, f.getChildText('value') ?? '');
  return out;
}

/** A normal message to the room that is neither an invitation nor a decline. */
export function voiceMessage(room: RoomState, stanza: Element, from: Jid, occupant: Occupant): void {
  const form = stanza.getChild('x', NS.dataForms);
  if (!form || form.attrs.type !== 'submit') return;
  const values = fields(form);
  if (values.get('FORM_TYPE') !== NS_MUC_REQUEST) return;
  if (values.has('muc#request_allow')) return approve(room, stanza, from, occupant, values);
  if (values.get('muc#role') !== 'participant') return room.reject(stanza, from, new StanzaError('bad-request', 'Only the participant role may be requested'));
  request(room, stanza, from, occupant);
}

function request(room: RoomState, stanza: Element, from: Jid, occupant: Occupant): void {
  if (!room.options.allow_voice_requests) return room.reject(stanza, from, new StanzaError('forbidden', 'Voice requests are disabled in this conference'));
  if (occupant.role !== 'visitor') return;
  const now = room.env.clock();
  const last = room.voiceRequests.get(occupant.bareText);
  if (last !== undefined && now - last < room.options.voice_request_min_interval * 1000) {
    const wait = Math.ceil((room.options.voice_request_min_interval * 1000 - (now - last)) / 1000);
    return room.reject(stanza, from, new StanzaError('resource-constraint', `Please, wait for a while before sending new voice request (${wait} s)`));
  }
  room.voiceRequests.set(occupant.bareText, now);
  for (const moderator of room.nicks.values()) {
    if (moderator.role !== 'moderator') continue;
    room.sendTo(moderator, (to) => requestForm(room, formatJid(from), occupant.nick, to));
  }
}

function field(form: Element, v: string, type: string, label: string, value: string): void {
  form.c('field', { var: v, type, label }).c('value').t(value);
}

function requestForm(room: RoomState, jid: string, nick: string, to: string): Element {
  const m = new Element('message', { from: room.jid, to, type: 'normal', id: room.nextId('voice-') });
  const form = m.c('x', { xmlns: NS.dataForms, type: 'form' });
  form.c('title').t('Voice request');
  form.c('instructions').t('Either approve or decline the voice request.');
  form.c('field', { var: 'FORM_TYPE', type: 'hidden' }).c('value').t(NS_MUC_REQUEST);
  field(form, 'muc#role', 'list-single', 'Requested role', 'participant');
  field(form, 'muc#jid', 'jid-single', 'User JID', jid);
  field(form, 'muc#roomnick', 'text-single', 'Nickname', nick);
  field(form, 'muc#request_allow', 'boolean', 'Grant voice to this person?', 'false');
  return m;
}

function approve(room: RoomState, stanza: Element, from: Jid, occupant: Occupant, values: Map<string, string>): void {
  if (occupant.role !== 'moderator') return room.reject(stanza, from, new StanzaError('forbidden', 'Only moderators can approve voice requests'));
  const allow = values.get('muc#request_allow');
  if (allow !== 'true' && allow !== '1') return;
  const nick = values.get('muc#roomnick');
  const target = nick === undefined ? undefined : room.nicks.get(nick);
  if (!target) return room.reject(stanza, from, new StanzaError('item-not-found', 'The voice request names no occupant'));
  if (target.role !== 'visitor') return;
  target.role = 'participant';
  room.broadcastPresence(target);
}

/**
 * A live MUC room (XEP-0045) as the service runs it: stanzas in, stanzas out through its env.
 * Each concern lives in its own file: presence (join, nick, leave), messages (groupchat,
 * subject, private messages, invitations, relayed IQs), voice requests, history, admin
 * (roles and affiliations). This file routes stanzas to them and does configure and destroy.
 */
import { Element } from 'ltx';
import type { Affiliation, RoomOptions } from '../../config/muc';
import type { OccupantInfo } from '../../core/muc';
import type { RoomRecord } from '../../features/muc/types';
import { bareText, resourceprep, type BareJid, type Jid } from '../../lib/jid';
import { StanzaError } from '../stanza';
import { apply, onRoomIq, removeNonMembers } from './room-admin';
import { mucUserItem, mucUserX, RoomState } from './room-core';
import { onOccupantIq, onPrivateMessage, onRoomMessage } from './room-messages';
import { onPresence } from './room-presence';
import type { LiveRoom, RoomEnv, RoomFactory, RoomStart } from './types';

export { mucUserItem, mucUserX, NS_MUC, NS_MUC_ADMIN, NS_MUC_USER } from './room-core';
export type { ItemFields } from './room-core';

/** The status codes occupants get when options change (ejabberd's send_config_change_info). */
function configCodes(old: RoomOptions, next: RoomOptions): number[] {
  const codes: number[] = [];
  if (old.logging !== next.logging) codes.push(next.logging ? 170 : 171);
  if (old.anonymous !== next.anonymous) codes.push(next.anonymous ? 173 : 172);
  const rest = (o: RoomOptions) => JSON.stringify({ ...o, logging: undefined, anonymous: undefined });
  if (rest(old) !== rest(next)) codes.push(104);
  return codes;
}

class Room implements LiveRoom {
  private readonly s: RoomState;

  constructor(start: RoomStart, env: RoomEnv) {
    this.s = new RoomState(start, env, this);
  }

  get name(): string {
    return this.s.start.name;
  }
  get service(): string {
    return this.s.start.service;
  }
  get jid(): string {
    return this.s.jid;
  }
  get locked(): boolean {
    return this.s.locked;
  }
  get destroyed(): boolean {
    return this.s.destroyed;
  }
  get options(): RoomOptions {
    return this.s.options;
  }
  get occupantCount(): number {
    return this.s.sessionCount();
  }
  get historyLength(): number {
    return this.s.history.length;
  }
  get lastActivity(): number {
    return this.s.lastActivity;
  }

  record(): RoomRecord {
    const s = this.s;
    return {
      options: s.options,
      affiliations: s.storedAffiliations(),
      subject: s.subject,
      subjectAuthor: s.subjectAuthor,
      createdAt: s.createdAt,
      lastActivity: s.lastActivity,
    };
  }

  occupants(): OccupantInfo[] {
    const out: OccupantInfo[] = [];
    for (const o of this.s.nicks.values()) {
      const affiliation = this.s.affiliationOf(o.bare);
      for (const jid of o.sessions.values()) out.push({ jid, nick: o.nick, role: o.role, affiliation });
    }
    return out;
  }

  hasUser(jid: BareJid): boolean {
    const text = bareText(jid);
    for (const o of this.s.nicks.values()) if (o.bareText === text) return true;
    return false;
  }

  affiliation(jid: BareJid): Affiliation {
    return this.s.affiliationOf(jid);
  }

  handle(stanza: Element, from: Jid): void | Promise<void> {
    const s = this.s;
    if (s.destroyed) {
      if (stanza.name === 'presence' && stanza.attrs.type === 'unavailable') return;
      return s.reject(stanza, from, new StanzaError('item-not-found', 'The room does not exist'));
    }
    const to = typeof stanza.attrs.to === 'string' ? stanza.attrs.to : '';
    const slash = to.indexOf('/');
    const rawNick = slash < 0 ? '' : to.slice(slash + 1);
    const nick = resourceprep(rawNick);
    if (stanza.name === 'presence') return onPresence(s, stanza, from, nick, rawNick);
    if (stanza.name === 'message') return nick === '' ? onRoomMessage(s, stanza, from) : onPrivateMessage(s, stanza, from, nick);
    if (stanza.name === 'iq') return nick === '' ? onRoomIq(s, stanza, from) : onOccupantIq(s, stanza, from, nick);
  }

  configure(options: RoomOptions, _actor?: Jid): void {
    const s = this.s;
    const old = s.options;
    const codes = configCodes(old, options);
    s.options = options;
    s.locked = false;
    s.creating = false;
    if (codes.length > 0) {
      for (const o of s.nicks.values()) {
        s.sendTo(o, (to) => {
          const m = new Element('message', { type: 'groupchat', from: s.jid, to, id: s.nextId('config-') });
          m.cnode(mucUserX([], codes));
          return m;
        });
      }
    }
    if (options.members_only && !old.members_only) removeNonMembers(s);
    s.changed();
  }

  setAffiliation(jid: BareJid, affiliation: Affiliation, reason: string, actor?: Jid): void {
    if (this.s.destroyed) return;
    apply(this.s, { kind: 'affiliation', jid, value: affiliation, reason }, actor && this.s.occupantOf(actor)?.nick);
  }

  destroy(reason?: string, alternate?: string, password?: string): void {
    const s = this.s;
    if (s.destroyed) return;
    s.destroyed = true;
    for (const o of s.nicks.values()) {
      s.sendTo(o, (to) => {
        const p = new Element('presence', { type: 'unavailable', from: s.occupantJid(o.nick), to });
        const destroy = new Element('destroy', alternate ? { jid: alternate } : {});
        if (reason) destroy.c('reason').t(reason);
        if (password) destroy.c('password').t(password);
        p.cnode(mucUserX([mucUserItem({ affiliation: 'none', role: 'none' }), destroy]));
        return p;
      });
    }
    s.nicks.clear();
    s.bySession.clear();
    s.history = [];
    s.pendingIqs.clear();
  }
}

export const createRoom: RoomFactory = (start, env) => new Room(start, env);

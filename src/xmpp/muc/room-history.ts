/**
 * Discussion history (XEP-0045 §7.2.15): the last messages a joiner gets, each with its XEP-0203
 * delay, trimmed by the service's history_size and by the joiner's `<history/>` request.
 */
import type { Element } from 'ltx';
import { NS } from '../stanza';
import { readdressed, type HistoryEntry, type RoomState } from './room-core';

/** Keeps a reflected groupchat message for later joiners. */
export function remember(room: RoomState, nick: string, message: Element): void {
  const max = Math.max(0, room.env.historySize());
  if (max === 0) {
    room.history = [];
    return;
  }
  const at = room.env.clock();
  const kept = readdressed(message, room.occupantJid(nick));
  for (const old of kept.getChildren('delay', NS.delay)) kept.remove(old);
  kept.c('delay', { xmlns: NS.delay, from: room.jid, stamp: new Date(at).toISOString() });
  room.history.push({ nick, message: kept, at, size: kept.toString().length });
  if (room.history.length > max) room.history.splice(0, room.history.length - max);
}

interface Limits {
  maxchars: number;
  maxstanzas: number;
  seconds: number;
  since: number;
}

/** A count of the request, or none when it is missing, negative or not a number. */
function count(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Number(value);
}

function limits(request: Element | undefined): Limits {
  const all: Limits = { maxchars: Infinity, maxstanzas: Infinity, seconds: Infinity, since: -Infinity };
  if (!request) return all;
  const since = typeof request.attrs.since === 'string' ? Date.parse(request.attrs.since) : NaN;
  return {
    maxchars: count(request.attrs.maxchars) ?? all.maxchars,
    maxstanzas: count(request.attrs.maxstanzas) ?? all.maxstanzas,
    seconds: count(request.attrs.seconds) ?? all.seconds,
    since: Number.isNaN(since) ? all.since : since,
  };
}

/** The messages a joiner asked for (all that are kept when it asked for nothing), oldest first. */
export function historyFor(room: RoomState, request: Element | undefined): HistoryEntry[] {
  const { maxchars, maxstanzas, seconds, since } = limits(request);
  const now = room.env.clock();
  const picked: HistoryEntry[] = [];
  let chars = 0;
  for (let i = room.history.length - 1; i >= 0 && picked.length < maxstanzas; i--) {
    const entry = room.history[i];
    if (entry.at <= since || (now - entry.at) / 1000 > seconds || chars + entry.size > maxchars) break;
    chars += entry.size;
    picked.push(entry);
  }
  return picked.reverse();
}

/** Sends the history a join asked for to the joining session. */
export function sendHistory(room: RoomState, to: string, request: Element | undefined): void {
  for (const entry of historyFor(room, request)) {
    room.send(readdressed(entry.message, entry.message.attrs.from, to));
  }
}

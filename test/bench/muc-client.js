'use strict';
/**
 * The load generator of the MUC benchmark (`muc.js`): the sessions of `xmpp-client.js` join a
 * room, then messages flow either as groupchat through the room or one to one between the same
 * sessions, and each delivery is timed from its writing to its arrival. Driven over IPC.
 */
const { performance } = require('node:perf_hooks');
const { attr, childText, percentile } = require('./xmpp-wire');
const { closeAll, login, serve, sessions } = require('./xmpp-client');

const JOIN_TIMEOUT_MS = 60_000;
/** After the last send, what is still in flight has this long to arrive before it counts as lost. */
const DRAIN_MS = 30_000;

const NS_MUC = 'http://jabber.org/protocol/muc';

function needSessions(n) {
  if (sessions.length < n) throw new Error(`${n} sessions needed, ${sessions.length} open`);
  return sessions.slice(0, n);
}

/**
 * Sessions 0..count-1 join `room` as n0, n1, ..., `concurrency` at a time. A join is complete
 * when the room's subject arrives: XEP-0045 sends it last, after the occupants' presence.
 */
async function join({ room, count, concurrency }) {
  const joiners = needSessions(count);
  let next = 0;
  const one = (s, i) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${s.jid}: not in ${room} within ${JOIN_TIMEOUT_MS} ms`)), JOIN_TIMEOUT_MS);
      s.onMessage = (xml) => {
        if (attr(xml, 'type') === 'error') return reject(new Error(`${s.jid}: joining ${room} failed: ${xml}`));
        if (childText(xml, 'subject') === undefined) return;
        clearTimeout(timer);
        s.onMessage = undefined;
        resolve();
      };
      s.queue(`<presence to='${room}/n${i}'><x xmlns='${NS_MUC}'/></presence>`);
    });
  const worker = async () => {
    while (next < joiners.length) {
      const i = next++;
      await one(joiners[i], i);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { ms: performance.now() - t0, joined: count };
}

/**
 * What both kinds of flow share: message `id` is written at `sentAt[id]`, carries `id` and that
 * time in its body, and is complete once `fanout` receivers have it. Each delivery's latency,
 * and each message's until its last receiver, are kept.
 */
function tracker(receivers, fanout, onComplete) {
  const sentAt = [];
  const got = [];
  const deliveries = [];
  const complete = [];
  let errors = 0;
  for (const r of receivers) {
    r.onMessage = (xml) => {
      if (attr(xml, 'type') === 'error') {
        errors++;
        return;
      }
      const body = childText(xml, 'body');
      if (body === undefined) return;
      const now = performance.now();
      const id = Number(body.slice(0, body.indexOf(' ')));
      deliveries.push(now - sentAt[id]);
      if (++got[id] === fanout) {
        complete.push(now - sentAt[id]);
        onComplete(id);
      }
    };
  }
  return {
    sent: () => sentAt.length,
    completed: () => complete.length,
    errors: () => errors,
    /** Records message `id` as written now; the body to write. */
    stamp(id) {
      const t = performance.now();
      sentAt[id] = t;
      got[id] = 0;
      return `${id} ${t.toFixed(3)}`;
    },
    result(ms) {
      for (const r of receivers) r.onMessage = undefined;
      deliveries.sort((a, b) => a - b);
      complete.sort((a, b) => a - b);
      return {
        ms,
        messages: sentAt.length,
        deliveries: deliveries.length,
        perSecond: (deliveries.length / ms) * 1000,
        p50: percentile(deliveries, 50),
        p99: percentile(deliveries, 99),
        allP99: percentile(complete, 99),
        lost: sentAt.length * fanout - deliveries.length,
        errors,
      };
    },
  };
}

/**
 * How messages go: groupchat from each sender to `room`, received by all `occupants`; or chat
 * from session i to session i+1 (mod users), the same sessions, received once.
 */
function route({ kind, room, senders, occupants, users }) {
  if (kind === 'groupchat') {
    return {
      senders: needSessions(senders),
      receivers: needSessions(occupants),
      fanout: occupants,
      write: (i, id, body) => sessions[i].queue(`<message to='${room}' type='groupchat' id='g${id}'><body>${body}</body></message>`),
    };
  }
  const all = needSessions(users);
  return {
    senders: all,
    receivers: all,
    fanout: 1,
    write: (i, id, body) => all[i].queue(`<message to='${all[(i + 1) % users].jid}' type='chat' id='c${id}'><body>${body}</body></message>`),
  };
}

/** Waits until every message written is complete or `DRAIN_MS` passes; the time when the last one completed. */
function drained(track, lastAt) {
  return new Promise((resolve) => {
    const deadline = performance.now() + DRAIN_MS;
    const check = () => {
      if (track.completed() + track.errors() >= track.sent() || performance.now() > deadline) resolve(lastAt());
      else setTimeout(check, 5);
    };
    check();
  });
}

/**
 * Closed loop: `messages` in all, each sender keeping `window` of its own incomplete at a
 * time, the next written when one completes. Deliveries per second over the whole run.
 */
async function closed({ messages, window, ...how }) {
  const r = route(how);
  const senderOf = [];
  let last = 0;
  let track;
  const send = (i) => {
    const id = track.sent();
    if (id >= messages) return;
    senderOf[id] = i;
    r.write(i, id, track.stamp(id));
  };
  track = tracker(r.receivers, r.fanout, (id) => {
    last = performance.now();
    send(senderOf[id]);
  });
  const t0 = performance.now();
  for (let i = 0; i < r.senders.length; i++) for (let k = 0; k < window; k++) send(i);
  await drained(track, () => last || performance.now());
  return track.result(last - t0);
}

/**
 * Open loop: `rate` messages per second for `seconds`, written every few milliseconds as they
 * fall due, the senders taking turns; the latency of each delivery at a load the server meets.
 */
async function paced({ rate, seconds, ...how }) {
  const r = route(how);
  const track = tracker(r.receivers, r.fanout, () => {});
  const t0 = performance.now();
  await new Promise((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - t0;
      const due = Math.min(Math.floor((elapsed / 1000) * rate), rate * seconds);
      for (let id = track.sent(); id < due; id++) r.write(id % r.senders.length, id, track.stamp(id));
      if (track.sent() >= rate * seconds) resolve();
      else setTimeout(tick, 2);
    };
    tick();
  });
  await drained(track, () => 0);
  return track.result(seconds * 1000);
}

serve({ login, closeAll, join, closed, paced });

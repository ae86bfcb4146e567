'use strict';
/**
 * vCard and private storage keep XML: every get parses the stored document and every set
 * parses and re-serialises it. This measures that cost per call, through the admin commands'
 * calls (`commands/support`, raw arguments in, as the old services took them), against a bare
 * store read or write of the same record, for a small vCard and for one with a photo (where
 * parsing the whole document for one field is the worst case).
 */
const { dist, interleaved, openServices, ratio, runAlone, tempHome } = require('./lib');

/** Microseconds per call of each candidate: `calls` calls a round, in interleaved rounds. */
async function perCall(rounds, calls, candidates) {
  const ms = await interleaved(
    rounds,
    candidates.map((fn) => async () => {
      for (let i = 0; i < calls; i++) await fn(i);
    }),
  );
  return ms.map((x) => (x * 1000) / calls);
}

const us = (x) => `${x.toFixed(1)} µs/call`;

async function bench({ quick }) {
  const { accountOps } = dist('src/features/accounts/records');
  const { VCARD, vcardKey, readVcard } = dist('src/features/vcard/records');
  const { readPrivate } = dist('src/features/private/records');
  const { getVcard, setVcard, setVcard2 } = dist('commands/support/vcard');
  const { privateGet, privateSet } = dist('commands/support/private');
  const small = { host: 'localhost', user: 'small' };
  const photo = { host: 'localhost', user: 'photo' };
  const other = { host: 'localhost', user: 'other' };
  // Writes not synced: this measures the CPU cost of the XML, not the disk's fsync.
  const { store, services: s } = await openServices(tempHome());
  try {
    await store.batch([small, photo].flatMap((jid) => accountOps(jid, { secret: { format: 'plain', password: 'x' }, created: 0 })));
    for (const [f, v] of [
      ['FN', 'Alice Liddell'],
      ['NICKNAME', 'Ally'],
      ['BDAY', '1852-05-04'],
      ['TITLE', 'Dreamer'],
      ['URL', 'https://example.org/alice'],
    ]) {
      await setVcard(s, 'small', 'localhost', f, v);
      await setVcard(s, 'photo', 'localhost', f, v);
    }
    await setVcard2(s, 'small', 'localhost', 'N', 'FAMILY', 'Liddell');
    // A 48 KB JPEG is 64 KB of base64, about what clients send as an avatar.
    await setVcard2(s, 'photo', 'localhost', 'PHOTO', 'BINVAL', Buffer.alloc(48 * 1024, 7).toString('base64'));
    await privateSet(
      s,
      'small',
      'localhost',
      `<storage xmlns='storage:bookmarks'>${'<conference jid="room@conf.example" autojoin="true"><nick>alice</nick></conference>'.repeat(20)}</storage>`,
    );

    const rounds = quick ? 3 : 7;
    const calls = quick ? 200 : 2000;
    const otherKey = vcardKey(other);
    const smallRec = await readVcard(store, small);
    const [bareSmall, getSmall, barePhoto, getPhoto, bareGetPrivate, getPrivate] = await perCall(rounds, calls, [
      () => readVcard(store, small),
      () => getVcard(s, 'small', 'localhost', 'FN'),
      () => readVcard(store, photo),
      () => getVcard(s, 'photo', 'localhost', 'FN'),
      () => readPrivate(store, small, 'storage:bookmarks'),
      () => privateGet(s, 'small', 'localhost', 'storage', 'storage:bookmarks'),
    ]);
    const [barePut, setSmall, setPhoto] = await perCall(rounds, Math.ceil(calls / 4), [
      () => store.put(VCARD, otherKey, smallRec),
      (i) => setVcard(s, 'small', 'localhost', 'NICKNAME', `Ally ${i}`),
      (i) => setVcard(s, 'photo', 'localhost', 'NICKNAME', `Ally ${i}`),
    ]);
    return [
      ['store.get of a 6-field vCard record (baseline)', us(bareSmall), '1.00x'],
      ['get_vcard FN, 6-field vCard (user check + parse)', us(getSmall), ratio(getSmall, bareSmall)],
      ['store.get of a vCard with a 64 KB photo (baseline)', us(barePhoto), '1.00x'],
      ['get_vcard FN, vCard with a 64 KB photo', us(getPhoto), ratio(getPhoto, barePhoto)],
      ['store.put of a 6-field vCard record, unsynced (baseline)', us(barePut), '1.00x'],
      ['set_vcard NICKNAME, 6-field vCard, unsynced', us(setSmall), ratio(setSmall, barePut)],
      ['set_vcard NICKNAME, vCard with a 64 KB photo, unsynced', us(setPhoto), ratio(setPhoto, barePut)],
      ['store.get of 20 bookmarks (baseline)', us(bareGetPrivate), '1.00x'],
      ['private_get of 20 bookmarks (user check, no parse)', us(getPrivate), ratio(getPrivate, bareGetPrivate)],
    ];
  } finally {
    await store.close();
  }
}

module.exports = { bench };

if (require.main === module) runAlone('vCards and private storage', bench);

import { A, B, ROOM, START, roomFixture, type Fixture } from './room-fixture';

/** Alice says `count` messages, one a minute from START. */
async function talk(fx: Fixture, count: number): Promise<void> {
  await fx.join(A, 'Alice');
  for (let i = 1; i <= count; i++) {
    fx.at(START + i * 60_000);
    await fx.send(A, `<message type='groupchat' to='${ROOM}' id='m${i}'><body>message ${i}</body></message>`);
  }
  fx.take();
}

/** The bodies of the history a join with `<history …/>` gets. */
async function historyOf(fx: Fixture, history: string): Promise<string[]> {
  const got = await fx.join(B, 'Bob', history);
  await fx.send(B, `<presence type='unavailable' to='${ROOM}/Bob'/>`);
  fx.take();
  return got.filter((s) => s.includes('<delay')).map((s) => /<body>([^<]*)<\/body>/.exec(s)?.[1] ?? '?');
}

describe('history on join', () => {
  test('each message comes from its author with a delay stamped by the room, before the subject', async () => {
    const fx = roomFixture();
    await talk(fx, 2);
    fx.at(START + 3_600_000);
    const got = await fx.join(B, 'Bob');
    expect(got.slice(2)).toEqual([
      `<message from="${ROOM}/Alice" to="${B}" type="groupchat" id="m1"><body>message 1</body><delay xmlns="urn:xmpp:delay" from="${ROOM}" stamp="2023-11-14T22:14:20.000Z"/></message>`,
      `<message from="${ROOM}/Alice" to="${B}" type="groupchat" id="m2"><body>message 2</body><delay xmlns="urn:xmpp:delay" from="${ROOM}" stamp="2023-11-14T22:15:20.000Z"/></message>`,
      `<message from="${ROOM}" to="${B}" type="groupchat"><subject></subject></message>`,
    ]);
    expect(fx.room.historyLength).toBe(2);
  });

  test("the service's history_size bounds what is kept; zero keeps nothing", async () => {
    const fx = roomFixture({ historySize: 3 });
    await talk(fx, 5);
    expect(fx.room.historyLength).toBe(3);
    expect(await historyOf(fx, '')).toEqual(['message 3', 'message 4', 'message 5']);
    const none = roomFixture({ historySize: 0 });
    await talk(none, 2);
    expect(none.room.historyLength).toBe(0);
  });

  test('maxstanzas takes the newest; a huge one is capped by what is kept', async () => {
    const fx = roomFixture();
    await talk(fx, 4);
    expect(await historyOf(fx, "<history maxstanzas='2'/>")).toEqual(['message 3', 'message 4']);
    expect(await historyOf(fx, "<history maxstanzas='0'/>")).toEqual([]);
    expect(await historyOf(fx, "<history maxstanzas='99999999999999999999999'/>")).toHaveLength(4);
  });

  test('negative or non-numeric limits are ignored', async () => {
    const fx = roomFixture();
    await talk(fx, 3);
    expect(await historyOf(fx, "<history maxstanzas='-1' maxchars='lots' seconds='soon' since='yesterday'/>")).toHaveLength(3);
  });

  test('maxchars counts whole stanzas; 0 asks for none', async () => {
    const fx = roomFixture();
    await talk(fx, 3);
    expect(await historyOf(fx, "<history maxchars='0'/>")).toEqual([]);
    const one = `<message from="${ROOM}/Alice" type="groupchat" id="m3"><body>message 3</body><delay xmlns="urn:xmpp:delay" from="${ROOM}" stamp="2023-11-14T22:16:20.000Z"/></message>`;
    expect(await historyOf(fx, `<history maxchars='${one.length}'/>`)).toEqual(['message 3']);
    expect(await historyOf(fx, `<history maxchars='${one.length - 1}'/>`)).toEqual([]);
  });

  test('seconds and since keep the recent ones', async () => {
    const fx = roomFixture();
    await talk(fx, 4);
    fx.at(START + 5 * 60_000);
    expect(await historyOf(fx, "<history seconds='150'/>")).toEqual(['message 3', 'message 4']);
    expect(await historyOf(fx, `<history since='${new Date(START + 60_000).toISOString()}'/>`)).toEqual(['message 2', 'message 3', 'message 4']);
  });

  test('subject changes and messages without a body are not history', async () => {
    const fx = roomFixture();
    await fx.join(A, 'Alice');
    await fx.send(A, `<message type='groupchat' to='${ROOM}'><subject>Topic</subject></message>`);
    await fx.send(A, `<message type='groupchat' to='${ROOM}'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`);
    expect(fx.room.historyLength).toBe(0);
  });
});

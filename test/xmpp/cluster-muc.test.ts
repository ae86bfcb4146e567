/**
 * The room commands of a cluster, over three nodes whose MUC services are fakes and whose bus
 * is a JSON round trip: a command about one room runs on the node that holds it, a listing
 * merges what every node knows, and errors come back as they were raised.
 */
import type { Answer, ClusterLink } from '../../src/xmpp/cluster-link';
import { clusterMuc } from '../../src/xmpp/cluster-muc';
import { DEFAULT_ROOM_OPTIONS } from '../../src/config/muc';
import { CommandError } from '../../src/lib/errors';
import type { MucControl } from '../../src/core/muc';
import { fakeMuc, occupant, type FakeMuc } from '../commands/muc-helpers';

const NODES = ['n1', 'n2', 'n3'];
const room = (name: string) => ({ name, service: 'conference.localhost' });

interface Cluster {
  readonly muc: Record<string, MucControl>;
  readonly local: Record<string, FakeMuc>;
  /** Who holds which room. */
  readonly holders: Map<string, string>;
  /** The nodes a call no longer reaches. */
  readonly gone: Set<string>;
  /** Each call, as `from→to method`. */
  readonly calls: string[];
}

function cluster(): Cluster {
  const holders = new Map<string, string>();
  const gone = new Set<string>();
  const calls: string[] = [];
  const answers: Record<string, Answer> = {};
  const local: Record<string, FakeMuc> = {};
  const muc: Record<string, MucControl> = {};
  const json = (x: unknown) => (x === undefined ? undefined : (JSON.parse(JSON.stringify(x)) as unknown));
  for (const me of NODES) {
    const link: Pick<ClusterLink, 'node' | 'others' | 'roomNode' | 'call' | 'answer'> = {
      node: me,
      others: async () => NODES.filter((n) => n !== me),
      async roomNode(jid, claim) {
        if (!holders.has(jid) && claim) holders.set(jid, me);
        return holders.get(jid);
      },
      async call(node, method, args) {
        calls.push(`${me}→${node} ${method}`);
        if (gone.has(node)) throw new CommandError('unavailable', `Node ${node} does not answer`, { details: { unreached: true } });
        try {
          return json(
            await answers[node](
              method,
              (json(args) as unknown[]).map((a) => a ?? undefined),
            ),
          );
        } catch (err) {
          const e = err as CommandError;
          throw new CommandError(e.code, e.message);
        }
      },
      answer(fn) {
        answers[me] = fn;
      },
    };
    local[me] = fakeMuc();
    muc[me] = clusterMuc(local[me], link as ClusterLink);
  }
  return { muc, local, holders, gone, calls };
}

test('a command about a room runs on the node that holds it, from any node', async () => {
  const c = cluster();
  c.local.n2.state.set('lounge@conference.localhost', {
    options: DEFAULT_ROOM_OPTIONS,
    affiliations: [],
    occupants: [occupant('ann@localhost/a', 'Ann')],
    idleDays: 0,
  });
  c.holders.set('lounge@conference.localhost', 'n2');
  for (const n of NODES)
    expect(await c.muc[n].occupants(room('lounge'))).toEqual([
      { jid: { user: 'ann', host: 'localhost', resource: 'a' }, nick: 'Ann', role: 'participant', affiliation: 'none' },
    ]);
  // The holder's error, as it raised it.
  c.holders.set('gone@conference.localhost', 'n2');
  const err = (await c.muc.n3.options(room('gone')).catch((e: unknown) => e)) as CommandError;
  expect(err).toBeInstanceOf(CommandError);
  expect([err.code, err.message]).toEqual(['not_found', 'The room gone@conference.localhost does not exist']);
  expect(c.calls).toEqual(['n1→n2 occupants', 'n3→n2 occupants', 'n3→n2 options']);
});

test('a room nobody holds: a command that makes it live claims it for its node, one that reads does not', async () => {
  const c = cluster();
  expect(await c.muc.n3.exists(room('new'))).toBe(false);
  expect(c.holders.size).toBe(0);
  await c.muc.n3.createRoom(room('new'));
  expect(c.holders.get('new@conference.localhost')).toBe('n3');
  expect(c.local.n3.calls).toEqual(['createRoom new@conference.localhost']);
  const again = (await c.muc.n1.createRoom(room('new')).catch((e: unknown) => e)) as CommandError;
  expect([again.code, again.message]).toEqual(['conflict', 'The room new@conference.localhost already exists']);
  expect(c.local.n1.state.size).toBe(0);
  // A name that is no room's is refused where it was given.
  await expect(c.muc.n1.options({ name: 'a b', service: 'conference.localhost' })).rejects.toThrow(/does not exist/);
  expect(c.calls).toEqual(['n1→n3 createRoom']);
});

test('listings merge every node; a room is unused only if every node that knows it says so', async () => {
  const c = cluster();
  const stored = { options: DEFAULT_ROOM_OPTIONS, affiliations: [], occupants: [], idleDays: 30 };
  // "stale" is stored (every node knows it) but n2 serves it live, with an occupant.
  for (const n of NODES) c.local[n].state.set('stale@conference.localhost', { ...stored });
  c.local.n2.state.set('stale@conference.localhost', { ...stored, occupants: [occupant('ben@localhost/b', 'Ben')] });
  // "idle" is stored and idle everywhere; "temp" lives on n3 only, empty and idle.
  for (const n of NODES) c.local[n].state.set('idle@conference.localhost', { ...stored });
  c.local.n3.state.set('temp@conference.localhost', { ...stored });
  expect(await c.muc.n1.rooms(undefined)).toEqual([room('idle'), room('stale'), room('temp')]);
  expect(await c.muc.n1.unusedRooms(undefined, 7)).toEqual({ rooms: [room('idle'), room('temp')], total: 3 });
  expect(await c.muc.n2.userRooms({ user: 'ben', host: 'localhost' })).toEqual([room('stale')]);
  // A node gone meanwhile has nothing to say.
  c.gone.add('n3');
  expect(await c.muc.n1.rooms(undefined)).toEqual([room('idle'), room('stale')]);
});

test('destroyRooms hands each room to its holder and answers in the order asked', async () => {
  const c = cluster();
  const r = { options: DEFAULT_ROOM_OPTIONS, affiliations: [], occupants: [], idleDays: 0 };
  c.local.n1.state.set('a@conference.localhost', { ...r });
  c.local.n2.state.set('b@conference.localhost', { ...r });
  c.local.n1.state.set('c@conference.localhost', { ...r });
  c.holders.set('b@conference.localhost', 'n2');
  expect(await c.muc.n1.destroyRooms([room('c'), room('b'), room('x'), room('a')], 'bye')).toEqual([room('c'), room('b'), room('a')]);
  expect([...c.local.n1.state.keys(), ...c.local.n2.state.keys()]).toEqual([]);
});

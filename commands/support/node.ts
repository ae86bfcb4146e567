import type { NodeControl } from '../../src/core/context';
import { CommandError } from '../../src/lib/errors';
import { LOG_LEVEL_NAMES, LOG_LEVELS } from '../../src/config/config';
import type { Accounts } from '../../src/features/accounts/accounts';
import { HOST_STATS, NODE_STATS } from './values';

/** What `status` says, in ejabberdctl's words. */
export function statusText(node: NodeControl): string {
  const cluster = node.cluster ? `\n${node.cluster.status()}` : '';
  return `The node ${node.name} is started with status: started\nctl ${node.version} is running in that node${cluster}`;
}

export function loglevelTuple(level: number) {
  return { levelnumber: level, levelatom: LOG_LEVELS[level], leveldesc: LOG_LEVEL_NAMES[level] };
}

/** Sets the level (0–5; the command line also takes its name) and answers its name. */
export function setLoglevel(node: NodeControl, level: number): string {
  if (!Number.isInteger(level) || level < 0 || level > 5) {
    throw new CommandError('bad_argument', `The log level (loglevel) must be 0 to 5 or one of ${LOG_LEVELS.join(', ')}, got ${level}`, {
      details: { arg: 'loglevel' },
    });
  }
  node.setLoglevel(level);
  return LOG_LEVELS[level];
}

export { NODE_STATS, HOST_STATS } from './values';

/**
 * ejabberd's statistics, for the whole node or one host. The registered users are in the
 * database, counted with or without a node; what only a running node knows needs one.
 */
export async function statistic(running: NodeControl | undefined, accounts: Accounts, name: string, host?: string): Promise<number> {
  const allowed: readonly string[] = host === undefined ? NODE_STATS : HOST_STATS;
  if (!allowed.includes(name)) {
    throw new CommandError('bad_argument', `Unknown statistic '${name}' (name): use ${allowed.join(', ')}`, { details: { arg: 'name' } });
  }
  const served = host === undefined ? undefined : accounts.host(host);
  if (name === 'registeredusers') return accounts.countUsers(served);
  if (running === undefined) {
    throw new CommandError(
      'unavailable',
      `The statistic ${name} needs a running node, and none is running: start it with 'ctl start' (registeredusers needs none)`,
    );
  }
  const node = running;
  switch (name) {
    case 'onlineusers':
      return node.xmpp.onlineSessions(served);
    case 'onlineusersnode':
      return node.xmpp.localSessions();
    case 'uptimeseconds':
      return node.uptimeSeconds();
    default:
      return node.activeResources();
  }
}

/** The longest stop_kindly waits. */
export const MAX_STOP_DELAY_S = 86_400;

/**
 * stop_kindly: tell users, wait, stop. Each step is reported as ejabberd reports it,
 * `[2/5 0s] Sending announcement to connected users... 0 sessions`.
 */
export async function stopKindly(
  node: NodeControl,
  delay: number,
  announcement: string,
  progress: (text: string) => void,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<boolean> {
  if (delay < 0) throw new CommandError('bad_argument', `The delay (delay) must not be negative, got ${delay}`, { details: { arg: 'delay' } });
  // A timer longer than about 24.8 days fires at once: stop_kindly 3000000 would stop now.
  if (delay > MAX_STOP_DELAY_S) {
    throw new CommandError('bad_argument', `The delay (delay) must be at most ${MAX_STOP_DELAY_S} seconds (one day), got ${delay}`, {
      details: { arg: 'delay' },
    });
  }
  const started = Date.now();
  const steps: [string, () => Promise<string>][] = [
    ['Stopping new client connections', async () => (await node.stopAccepting(), 'ok')],
    [`Sending announcement to connected users: ${announcement}`, async () => `${node.xmpp.announce(announcement)} sessions`],
    ['Sending service message to MUC rooms', async () => '0 rooms'],
    [`Waiting ${delay} seconds`, async () => (await sleep(delay * 1000), 'ok')],
    ['Stopping the node', async () => (await node.stop(), 'ok')],
  ];
  for (const [i, [what, step]] of steps.entries()) {
    const elapsed = Math.floor((Date.now() - started) / 1000);
    progress(`[${i + 1}/${steps.length} ${elapsed}s] ${what}... ${await step()}`);
  }
  return true;
}

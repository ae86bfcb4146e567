import { CommandError } from '../../src/lib/errors';
import { bareText } from '../../src/lib/jid';
import type { Accounts } from '../../src/features/accounts/accounts';
import { checkTimestamp, type Last } from '../../src/features/last/last';

/** `Online`, `Never`, or `YYYY-MM-DD HH:MM:SS status` in UTC. */
export async function getLast(accounts: Accounts, last: Last, user: string, host: string): Promise<string> {
  const jid = accounts.jid(user, host);
  const rec = await last.get(jid);
  if (last.online(jid)) return 'Online';
  if (!rec) return 'Never';
  const date = new Date(rec.timestamp * 1000);
  if (Number.isNaN(date.getTime())) {
    throw new CommandError('failed', `The last activity of ${bareText(jid)} holds ${JSON.stringify(rec.timestamp)}, which is not a time`);
  }
  const when = date.toISOString().replace('T', ' ').slice(0, 19);
  return rec.status ? `${when} ${rec.status}` : when;
}

export async function setLast(accounts: Accounts, last: Last, user: string, host: string, timestamp: number, status: string): Promise<boolean> {
  checkTimestamp(timestamp);
  await last.set(accounts.jid(user, host), timestamp, status);
  return true;
}

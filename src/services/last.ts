import { CommandError } from '../lib/errors';
import { TABLES } from '../storage/tables';
import type { AccountsService, LastRecord, ServiceDeps } from './accounts';

/** Last activity (XEP-0012): when a user was last seen and with which status. */
export function createLastService(deps: ServiceDeps, accounts: AccountsService) {
  const online = deps.isOnline ?? (() => false);

  async function known(user: string, host: string) {
    const j = accounts.jid(user, host);
    if (!(await accounts.exists(j.user, j.host))) throw new CommandError('not_found', `User ${j.id} does not exist`);
    return j;
  }

  return {
    /** `Online`, `Never`, or `YYYY-MM-DD HH:MM:SS status` in UTC. */
    async get(user: string, host: string): Promise<string> {
      const j = await known(user, host);
      if (online(j.user, j.host)) return 'Online';
      const last = await deps.store.get<LastRecord>(TABLES.last, j.k);
      if (!last) return 'Never';
      const when = new Date(last.timestamp * 1000).toISOString().replace('T', ' ').slice(0, 19);
      return last.status ? `${when} ${last.status}` : when;
    },

    async set(user: string, host: string, timestamp: number, status: string): Promise<boolean> {
      if (timestamp < 0) {
        throw new CommandError('bad_argument', `The timestamp (timestamp) must be seconds since 1970, got ${timestamp}`, { details: { arg: 'timestamp' } });
      }
      const j = await known(user, host);
      const rec: LastRecord = { timestamp, status };
      await deps.store.put(TABLES.last, j.k, rec);
      return true;
    },
  };
}

export type LastService = ReturnType<typeof createLastService>;

import { createAccountsService, type RemovalHook, type ServiceDeps } from './accounts';
import { createLastService } from './last';

// Each service module is loaded on first use: a call such as check_account must not pay for
// the XML parser and the other services at start-up.
const load = {
  roster: () => (require('./roster') as typeof import('./roster')).createRosterService,
  vcard: () => (require('./vcard') as typeof import('./vcard')).createVcardService,
  private: () => (require('./private') as typeof import('./private')).createPrivateService,
  privacy: () => (require('./privacy') as typeof import('./privacy')).createPrivacyService,
  offline: () => (require('./offline') as typeof import('./offline')).createOfflineService,
  mam: () => (require('./mam') as typeof import('./mam')).createMamService,
  srg: () => (require('./srg') as typeof import('./srg')).createSrgService,
  database: () => (require('../migrate/database') as typeof import('../migrate/database')).createDatabaseService,
  tokens: () => (require('./tokens') as typeof import('./tokens')).createTokensService,
  piefxis: () => (require('../migrate/piefxis') as typeof import('../migrate/piefxis')).createPiefxisService,
  jabberd14: () => (require('../migrate/jabberd14') as typeof import('../migrate/jabberd14')).createJabberd14Service,
  sqlExport: () => (require('../migrate/sql-export') as typeof import('../migrate/sql-export')).createSqlExportService,
};

type Lazy = { readonly [K in keyof typeof load]: ReturnType<ReturnType<(typeof load)[K]>> };

/** The domain services over one store; transports never see the store itself. */
export function createServices(deps: ServiceDeps) {
  const made = new Map<string, unknown>();
  const lazy = {} as Lazy;
  for (const name of Object.keys(load) as (keyof typeof load)[]) {
    Object.defineProperty(lazy, name, {
      enumerable: true,
      get: () => {
        if (!made.has(name)) made.set(name, load[name]()(deps, accounts));
        return made.get(name);
      },
    });
  }
  // Removing a user asks every service for its index rows, so all of them are loaded then.
  const removalHooks = (): RemovalHook[] =>
    Object.values(lazy).flatMap((s) => {
      const hook = (s as { removalOps?: RemovalHook }).removalOps;
      return hook ? [hook] : [];
    });
  const accounts = createAccountsService(deps, removalHooks);
  return Object.assign(lazy, { accounts, last: createLastService(deps, accounts) }) as Lazy & {
    readonly accounts: typeof accounts;
    readonly last: ReturnType<typeof createLastService>;
  };
}

export type Services = ReturnType<typeof createServices>;
export type { ServiceDeps };

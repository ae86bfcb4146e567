import { createAccountsService, type RemovalHook, type ServiceDeps } from './accounts';
import { createLastService } from './last';
import { createMamService } from './mam';
import { createOfflineService } from './offline';
import { createPrivacyService } from './privacy';
import { createPrivateService } from './private';
import { createRosterService } from './roster';
import { createSrgService } from './srg';
import { createVcardService } from './vcard';

/** The domain services over one store; transports never see the store itself. */
export function createServices(deps: ServiceDeps) {
  // Filled below: the services that keep index rows need the accounts service themselves.
  const removalHooks: RemovalHook[] = [];
  const accounts = createAccountsService(deps, removalHooks);
  const services = {
    accounts,
    last: createLastService(deps, accounts),
    roster: createRosterService(deps, accounts),
    vcard: createVcardService(deps, accounts),
    private: createPrivateService(deps, accounts),
    privacy: createPrivacyService(deps, accounts),
    offline: createOfflineService(deps, accounts),
    mam: createMamService(deps, accounts),
    srg: createSrgService(deps, accounts),
  };
  for (const s of Object.values(services)) {
    const hook = (s as { removalOps?: RemovalHook }).removalOps;
    if (hook) removalHooks.push(hook);
  }
  return services;
}

export type Services = ReturnType<typeof createServices>;
export type { ServiceDeps };

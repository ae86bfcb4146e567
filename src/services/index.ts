import { createAccountsService, type ServiceDeps } from './accounts';
import { createLastService } from './last';

/** The domain services over one store; transports never see the store itself. */
export function createServices(deps: ServiceDeps) {
  const accounts = createAccountsService(deps);
  return {
    accounts,
    last: createLastService(deps, accounts),
  };
}

export type Services = ReturnType<typeof createServices>;
export type { ServiceDeps };

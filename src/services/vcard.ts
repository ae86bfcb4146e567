import type { AccountsService, ServiceDeps } from './accounts';

/** Placeholder: to be implemented. */
export function createVcardService(_deps: ServiceDeps, _accounts: AccountsService) {
  return {};
}

import type { AccountsService, ServiceDeps } from './accounts';

/** Placeholder: to be implemented. */
export function createPrivacyService(_deps: ServiceDeps, _accounts: AccountsService) {
  return {};
}

import type { AccountsService, ServiceDeps } from '../../services/accounts';
import type { Report } from './export';

/**
 * XEP-0227 (PIEFXIS): portable export and import of users with their credentials, rosters,
 * vCards, private storage and offline messages. The parts load only when used.
 */
export function createPiefxisService(deps: ServiceDeps, accounts: AccountsService) {
  const exporter = () => require('./export') as typeof import('./export');
  return {
    /** export_piefxis: every configured host. */
    exportAll(dir: string, report: Report): Promise<boolean> {
      return exporter().exportPiefxis(deps.store, dir, deps.config.hosts, deps.clock(), report);
    },

    /** export_piefxis_host: one host, which must be configured. */
    exportHost(dir: string, host: string, report: Report): Promise<boolean> {
      const h = accounts.host(host);
      return exporter().exportPiefxis(deps.store, dir, [h], deps.clock(), report);
    },

    /** import_piefxis: the file and the files it includes. */
    importFile(file: string, report: Report): Promise<boolean> {
      return (require('./import') as typeof import('./import')).importPiefxis(deps, file, report);
    },
  };
}

export type PiefxisService = ReturnType<typeof createPiefxisService>;

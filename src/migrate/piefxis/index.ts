import type { FeatureDeps } from '../../features/deps';
import type { Features } from '../../features';
import type { Report } from './export';

export type { Report };

/** export_piefxis, export_piefxis_host and import_piefxis. */
export interface Piefxis {
  /** Writes every configured host to `dir`. */
  exportAll(dir: string, report: Report): Promise<boolean>;
  /** Writes one host, which must be configured (errors name `host`). */
  exportHost(dir: string, host: string, report: Report): Promise<boolean>;
  /** Imports `file` and the files it includes; `strict` fails on any warning before writing. */
  importFile(file: string, report: Report, options?: { readonly strict?: boolean }): Promise<boolean>;
}

/**
 * XEP-0227 (PIEFXIS): portable export and import of users with their credentials, rosters,
 * vCards, private storage and offline messages. The parts load only when used.
 */
export function createPiefxis(deps: FeatureDeps, features: Features): Piefxis {
  const exporter = () => require('./export') as typeof import('./export');
  return {
    exportAll(dir, report) {
      return exporter().exportPiefxis(deps.store, dir, deps.config.hosts, deps.clock(), report);
    },

    exportHost(dir, host, report) {
      const h = features.accounts.host(host);
      return exporter().exportPiefxis(deps.store, dir, [h], deps.clock(), report);
    },

    importFile(file, report, options) {
      return (require('./import') as typeof import('./import')).importPiefxis(deps, file, report, options);
    },
  };
}

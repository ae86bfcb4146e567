import type { FeatureDeps } from '../features/deps';
import { createFeatures, type Features } from '../features';
import { defineLazy } from '../lib/lazy';

// The migration formats are loaded on first use, like the features: a call such as
// check_account must not pay for the XEP-0227 reader.
const migrations = {
  database: () => (require('../migrate/database') as typeof import('../migrate/database')).createDatabase,
  piefxis: () => (require('../migrate/piefxis') as typeof import('../migrate/piefxis')).createPiefxis,
  jabberd14: () => (require('../migrate/jabberd14') as typeof import('../migrate/jabberd14')).createJabberd14,
  sqlExport: () => (require('../migrate/sql-export') as typeof import('../migrate/sql-export')).createSqlExport,
};

type Migrations = { readonly [K in keyof typeof migrations]: ReturnType<ReturnType<(typeof migrations)[K]>> };

/** What admin commands work with: the features, and the whole-database and foreign formats. */
export type Services = Features & Migrations;

/** The services over one store: built once per node (and per local `ctl` run). */
export function createServices(deps: FeatureDeps): Services {
  const features = createFeatures(deps);
  const services = Object.create(features) as Services;
  defineLazy(
    services,
    Object.fromEntries((Object.keys(migrations) as (keyof typeof migrations)[]).map((name) => [name, () => migrations[name]()(deps, features)])),
  );
  return services;
}

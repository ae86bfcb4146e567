import type { Config } from '../node/config';
import type { Services } from '../services';
import type { Registry } from './registry';

/** Everything a handler may use, passed explicitly: there are no module-level singletons. */
export interface Context {
  readonly config: Config;
  readonly registry: Registry;
  /** Milliseconds since the epoch. */
  readonly clock: () => number;
  /** The domain services; only commands that declared `needs: 'store'` get them. */
  readonly services: Services;
}

import { defineLazy } from '../lib/lazy';
import { createAccounts, type Accounts, type UsersRows } from './accounts/accounts';
import type { FeatureDeps } from './deps';
import type { Last } from './last/last';
import type { Mam } from './mam/mam';
import type { Muc } from './muc/types';
import type { Offline } from './offline/offline';
import type { Privacy } from './privacy/privacy';
import type { Private } from './private/private';
import type { Roster } from './roster/roster';
import type { Srg } from './srg/srg';
import type { Tokens } from './tokens/tokens';
import type { Vcard } from './vcard/vcard';

export interface Features {
  readonly accounts: Accounts;
  readonly last: Last;
  readonly tokens: Tokens;
  readonly roster: Roster;
  readonly srg: Srg;
  readonly vcard: Vcard;
  readonly private: Private;
  readonly privacy: Privacy;
  readonly offline: Offline;
  readonly mam: Mam;
  readonly muc: Muc;
}

type Built = Exclude<keyof Features, 'accounts'>;

// Each feature is loaded on first use: a call such as check_account must not pay for the XML
// parser and the other features at start-up.
const load: { readonly [K in Built]: () => (deps: FeatureDeps, accounts: Accounts) => Features[K] } = {
  last: () => (require('./last/last') as typeof import('./last/last')).createLast,
  tokens: () => (require('./tokens/tokens') as typeof import('./tokens/tokens')).createTokens,
  roster: () => (require('./roster/roster') as typeof import('./roster/roster')).createRoster,
  srg: () => (require('./srg/srg') as typeof import('./srg/srg')).createSrg,
  vcard: () => (require('./vcard/vcard') as typeof import('./vcard/vcard')).createVcard,
  private: () => (require('./private/private') as typeof import('./private/private')).createPrivate,
  privacy: () => (require('./privacy/privacy') as typeof import('./privacy/privacy')).createPrivacy,
  offline: () => (require('./offline/offline') as typeof import('./offline/offline')).createOffline,
  mam: () => (require('./mam/mam') as typeof import('./mam/mam')).createMam,
  muc: () => (require('./muc/muc') as typeof import('./muc/muc')).createMuc,
};

/**
 * The features that keep records for accounts, besides the account itself: removing accounts
 * deletes all of it in one batch. A feature with per-user records belongs in this list.
 */
const USERS_ROWS: readonly (() => UsersRows)[] = [
  () => (require('./last/records') as typeof import('./last/records')).usersRows,
  () => (require('./tokens/records') as typeof import('./tokens/records')).usersRows,
  () => (require('./roster/records') as typeof import('./roster/records')).usersRows,
  () => (require('./srg/records') as typeof import('./srg/records')).usersRows,
  () => (require('./vcard/records') as typeof import('./vcard/records')).usersRows,
  () => (require('./private/records') as typeof import('./private/records')).usersRows,
  () => (require('./privacy/records') as typeof import('./privacy/records')).usersRows,
  () => (require('./offline/records') as typeof import('./offline/records')).usersRows,
  () => (require('./mam/records') as typeof import('./mam/records')).usersRows,
  () => (require('./muc/records') as typeof import('./muc/records')).usersRows,
];

/** The features over one store, each built on first use. */
export function createFeatures(deps: FeatureDeps): Features {
  const accounts = createAccounts(deps, () => USERS_ROWS.map((load) => load()));
  const features = { accounts } as Features;
  defineLazy(features, Object.fromEntries((Object.keys(load) as Built[]).map((name) => [name, () => load[name]()(deps, accounts)])));
  return features;
}

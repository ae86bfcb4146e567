import { naming } from '../../src/lib/errors';
import { parseXml } from '../../src/lib/xml';
import type { Accounts } from '../../src/features/accounts/accounts';
import { parsePrivacyQuery, type Privacy } from '../../src/features/privacy/privacy';

/** What privacy_set uses of the node's features. */
export interface PrivacyFeatures {
  readonly privacy: Privacy;
  readonly accounts: Accounts;
}

/** privacy_set: the query is checked before the user, as it always was. */
export function privacySet(f: PrivacyFeatures, user: string, host: string, xmlquery: string): Promise<boolean> {
  return naming({ query: 'xmlquery' }, async () => {
    const query = parsePrivacyQuery(parseXml(xmlquery, "argument 'xmlquery'"));
    await f.privacy.apply(f.accounts.jid(user, host), query);
    return true;
  });
}

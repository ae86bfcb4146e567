import { naming } from '../../src/lib/errors';
import { parseXml } from '../../src/lib/xml';
import type { Accounts } from '../../src/features/accounts/accounts';
import type { Private } from '../../src/features/private/private';

/** What the private storage commands use of the node's features. */
export interface PrivateFeatures {
  readonly private: Private;
  readonly accounts: Accounts;
}

/** private_get: the stored element as text, which private_set takes back. */
export async function privateGet(f: PrivateFeatures, user: string, host: string, element: string, ns: string): Promise<string> {
  const jid = f.accounts.jid(user, host);
  return naming({ name: 'element' }, () => f.private.getXml(jid, element, ns));
}

export async function privateSet(f: PrivateFeatures, user: string, host: string, element: string): Promise<boolean> {
  const jid = f.accounts.jid(user, host);
  await f.private.set(jid, parseXml(element, "argument 'element'"));
  return true;
}

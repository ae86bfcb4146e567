import { naming, unlessNotFound } from '../../src/lib/errors';
import { bareText, nameprep, nodeprep } from '../../src/lib/jid';
import { checkDays } from '../../src/lib/days';
import { hashAlgorithm, type Accounts } from '../../src/features/accounts/accounts';
import { checkPasswordSize } from '../../src/features/accounts/secret';

export { prepareSecret } from '../../src/features/accounts/secret';

/** The admin commands' side of accounts: raw arguments in, ejabberdctl's words out. */

/** The account `user` and `host` name, as the commands that touch that account alone declare their scope; undefined for what names none. */
export function accountScope(user: unknown, host: unknown): string | undefined {
  if (typeof user !== 'string' || typeof host !== 'string') return undefined;
  // A name that does not prep throws: scopeOf takes that for no scope, and the command refuses it.
  return bareText({ user: nodeprep(user), host: nameprep(host) });
}

export async function register(accounts: Accounts, user: string, host: string, password: string): Promise<string> {
  const jid = accounts.jid(user, host);
  await accounts.register(jid, password);
  return `User ${bareText(jid)} successfully registered`;
}

/** An account that does not exist is already gone (as in ejabberd); an unknown host is still an error. */
export async function unregister(accounts: Accounts, user: string, host: string): Promise<string> {
  const jid = accounts.jid(user, host);
  await accounts.remove(jid).catch(unlessNotFound);
  return '';
}

export function checkAccount(accounts: Accounts, user: string, host: string): Promise<boolean> {
  return accounts.exists(accounts.jid(user, host));
}

export async function changePassword(accounts: Accounts, user: string, host: string, newpass: string): Promise<boolean> {
  checkPasswordSize(newpass, 'newpass');
  await naming({ password: 'newpass' }, () => accounts.changePassword(accounts.jid(user, host), newpass));
  return true;
}

export function checkPassword(accounts: Accounts, user: string, host: string, password: string): Promise<boolean> {
  return accounts.checkPassword(accounts.jid(user, host), password);
}

export function checkPasswordHash(accounts: Accounts, user: string, host: string, hash: string, method: string): Promise<boolean> {
  hashAlgorithm(method, 'hashmethod');
  return naming({ method: 'hashmethod' }, () => accounts.checkPasswordHash(accounts.jid(user, host), hash, method));
}

export async function ban(accounts: Accounts, user: string, host: string, reason: string): Promise<boolean> {
  await accounts.ban(accounts.jid(user, host), reason);
  return true;
}

export function registeredUsers(accounts: Accounts, host: string): Promise<string[]> {
  return accounts.registeredUsers(accounts.host(host));
}

export async function convertToScram(accounts: Accounts, host: string): Promise<boolean> {
  await accounts.convertToScram(accounts.host(host));
  return true;
}

/** `Deleted 2 users: a@b, c@d`; `working` shows how far it got. */
export async function deleteOldUsers(accounts: Accounts, days: number, host: string | undefined, working: (text: string) => void): Promise<string> {
  checkDays(days);
  const only = host === undefined ? undefined : accounts.host(host);
  const removed = await accounts.deleteOldUsers(days, only, (n) => working(`Deleted ${n} users so far`));
  return removed.length === 0 ? 'Deleted 0 users' : `Deleted ${removed.length} users: ${removed.map(bareText).join(', ')}`;
}

export function numActiveUsers(accounts: Accounts, host: string, days: number): Promise<number> {
  checkDays(days);
  return accounts.numActiveUsers(accounts.host(host), days);
}

import { checkDays } from '../../src/lib/days';
import type { Accounts } from '../../src/features/accounts/accounts';
import { bareText } from '../../src/lib/jid';
import type { Tokens } from '../../src/features/tokens/tokens';

const iso = (s: number) => new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function createToken(accounts: Accounts, tokens: Tokens, user: string, host: string, days: number): Promise<string> {
  checkDays(days);
  return tokens.create(accounts.jid(user, host), days);
}

/** One row per token: id, account, creation and expiry in ISO 8601 (`never`). */
export async function listTokens(tokens: Tokens): Promise<{ id: string; jid: string; created: string; expires: string }[]> {
  return (await tokens.list()).map((t) => ({
    id: t.id,
    jid: bareText(t.jid),
    created: iso(t.createdS),
    expires: t.expiresS === undefined ? 'never' : iso(t.expiresS),
  }));
}

export async function revokeToken(tokens: Tokens, id: string): Promise<boolean> {
  await tokens.revoke(id);
  return true;
}

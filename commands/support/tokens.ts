import { checkDays } from '../../src/lib/days';
import type { Accounts } from '../../src/features/accounts/accounts';
import { bareText } from '../../src/lib/jid';
import type { Tokens } from '../../src/features/tokens/tokens';

/** ISO 8601 of seconds since 1970, or undefined when no date is that far. */
const iso = (s: number): string | undefined => {
  const d = new Date(s * 1000);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
};

export function createToken(accounts: Accounts, tokens: Tokens, user: string, host: string, days: number): Promise<string> {
  checkDays(days);
  return tokens.create(accounts.jid(user, host), days);
}

/**
 * One row per token: id, account, creation and expiry in ISO 8601 (`never`). A stored time no
 * date can hold skips that token with a warning, so that the others are still listed.
 */
export async function listTokens(tokens: Tokens, warn: (text: string) => void): Promise<{ id: string; jid: string; created: string; expires: string }[]> {
  const rows = [];
  for (const t of await tokens.list()) {
    const jid = bareText(t.jid);
    const created = iso(t.createdS);
    const expires = t.expiresS === undefined ? 'never' : iso(t.expiresS);
    if (created === undefined || expires === undefined) {
      const [what, value] = created === undefined ? ['creation time', t.createdS] : ['expiry', t.expiresS];
      warn(`Warning: the API token ${t.id} of ${jid} is skipped: its ${what} (${value}) is not a time`);
      continue;
    }
    rows.push({ id: t.id, jid, created, expires });
  }
  return rows;
}

export async function revokeToken(tokens: Tokens, id: string): Promise<boolean> {
  await tokens.revoke(id);
  return true;
}

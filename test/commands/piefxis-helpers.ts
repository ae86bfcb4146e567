/** What the XEP-0227 tests share: fixtures, configuration, and the stored rows of a home. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openLevelStore } from '../../src/storage/level';
import type { BatchOp } from '../../src/storage/types';
import { accountOps, PASSWD, type AccountRecord } from '../../src/features/accounts/records';
import { OFFLINE, writeOffline, type OfflineMessage } from '../../src/features/offline/records';
import { PRIVATE } from '../../src/features/private/records';
import { ROSTER, rosterItemOps, type RosterItem } from '../../src/features/roster/records';
import { VCARD, vcardOps, type VcardRecord } from '../../src/features/vcard/records';

export const FIXTURES = join(__dirname, '..', 'fixtures', 'piefxis');

/** 2024-01-02T03:04:05.678Z: export files are named 20240102-030405. */
export const NOW = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
export const clock = () => NOW;

export const HOSTS = ['capulet.com', 'montague.net', 'shakespeare.lit'];

export function configure(homeDir: string, format: 'plain' | 'scram' = 'plain', hosts: readonly string[] = HOSTS): void {
  writeFileSync(join(homeDir, 'ctl.yml'), `hosts: [${hosts.join(', ')}]\nauth_password_format: ${format}\n`);
}

/**
 * Every row of the tables XEP-0227 carries, key parts joined by `|`: the features' tables and
 * the records the LevelDB driver keeps for the offline archive (the messages and their time
 * and expiry indexes), which is what a backup of the database holds.
 */
export const TABLES = [PASSWD, ROSTER, VCARD, PRIVATE, OFFLINE, `${OFFLINE}_by_time`, `${OFFLINE}_by_expiry`] as const;

export type Dump = Record<'passwd' | 'roster' | 'vcard' | 'private' | 'offline' | 'offline_by_time' | 'offline_by_expiry', Record<string, unknown>>;

export async function dump(homeDir: string): Promise<Dump> {
  const store = await openLevelStore(join(homeDir, 'db'));
  try {
    const out: Record<string, Record<string, unknown>> = {};
    for (const table of TABLES) {
      out[table] = {};
      for await (const [k, v] of store.entries(table)) out[table][k.join('|')] = v;
    }
    return out as Dump;
  } finally {
    await store.close();
  }
}

/** A record for `put`: the table, the key parts that name its owner (and contact), the value. */
export type Row =
  | readonly ['passwd', readonly [string, string], AccountRecord]
  | readonly ['roster', readonly [string, string, string], RosterItem]
  | readonly ['vcard', readonly [string, string], VcardRecord]
  | readonly ['offline', readonly [string, string], OfflineMessage];

/** Puts records straight into a home's store, for data the commands cannot make (SCRAM with a known salt). */
export async function put(homeDir: string, rows: readonly Row[]): Promise<void> {
  const store = await openLevelStore(join(homeDir, 'db'));
  try {
    const ops: BatchOp[] = [];
    for (const row of rows) {
      const jid = { host: row[1][0], user: row[1][1] };
      if (row[0] === 'passwd') ops.push(...accountOps(jid, row[2]));
      else if (row[0] === 'roster') ops.push(...rosterItemOps(jid, row[1][2], row[2]));
      else if (row[0] === 'vcard') ops.push(...vcardOps(jid, row[2]));
      else await writeOffline(store, jid, [row[2]]);
    }
    await store.batch(ops);
  } finally {
    await store.close();
  }
}

export const ok = (stderr = '') => ({ status: 0, stdout: '', stderr });

/** What the XEP-0227 tests share: fixtures, configuration, and the stored rows of a home. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openLevelStore } from '../../src/storage/level';
import { SEP } from '../../src/storage/keys';

export const FIXTURES = join(__dirname, '..', 'fixtures', 'piefxis');

/** 2024-01-02T03:04:05.678Z: export files are named 20240102-030405. */
export const NOW = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
export const clock = () => NOW;

export const HOSTS = ['capulet.com', 'montague.net', 'shakespeare.lit'];

export function configure(homeDir: string, format: 'plain' | 'scram' = 'plain', hosts: readonly string[] = HOSTS): void {
  writeFileSync(join(homeDir, 'ctl.yml'), `hosts: [${hosts.join(', ')}]\nauth_password_format: ${format}\n`);
}

/** Every row of the tables XEP-0227 carries, keys with NUL shown as `|`. */
export const TABLES = ['passwd', 'roster', 'vcard', 'private', 'offline', 'offline_by_time', 'offline_by_expiry'] as const;

export type Dump = Record<(typeof TABLES)[number], Record<string, unknown>>;

export async function dump(homeDir: string): Promise<Dump> {
  const store = await openLevelStore(join(homeDir, 'db'));
  try {
    const out = {} as Dump;
    for (const table of TABLES) {
      out[table] = {};
      for await (const [k, v] of store.entries(table)) out[table][k.split(SEP).join('|')] = v;
    }
    return out;
  } finally {
    await store.close();
  }
}

/** Puts rows straight into a home's store, for data the commands cannot make (SCRAM with a known salt). */
export async function put(homeDir: string, rows: readonly [string, string[], unknown][]): Promise<void> {
  const store = await openLevelStore(join(homeDir, 'db'));
  try {
    await store.batch(rows.map(([table, parts, value]) => ({ type: 'put' as const, table, key: parts.join(SEP), value })));
  } finally {
    await store.close();
  }
}

export const ok = (stderr = '') => ({ status: 0, stdout: '', stderr });

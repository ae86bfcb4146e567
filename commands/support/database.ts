import type { Config } from '../../src/config/config';
import type { Database } from '../../src/migrate/database';
import type { SqlExport } from '../../src/migrate/sql-export';

type Working = (text: string) => void;

type Summary = (text: string) => void;

// Their result is what ejabberdctl prints for these ({ok, ""}: nothing); what they did is a
// summary for people, which the command line shows on a terminal or with --verbose.

export async function backup(db: Database, file: string, working: Working, summary: Summary): Promise<string> {
  const { path, records } = await db.backup(file, working);
  summary(`Backed up ${records} records to ${path}`);
  return '';
}

/** A backup made by another node restores too; the caller hears of it on standard error. */
export async function restore(db: Database, config: Config, file: string, working: Working, progress: Working, summary: Summary): Promise<string> {
  const { path, records, node } = await db.restore(file, working);
  if (node !== config.nodeName) progress(`Note: the backup was made by node ${node}, this node is ${config.nodeName}`);
  summary(`Restored ${records} records from ${path}`);
  return '';
}

export async function installFallback(db: Database, file: string, working: Working, summary: Summary): Promise<string> {
  const { path, records, staged } = await db.installFallback(file, working);
  summary(`Installed ${path} (${records} records) as ${staged}: the node restores it at its next start`);
  return '';
}

export async function changeNodename(
  db: Database,
  oldName: string,
  newName: string,
  oldFile: string,
  newFile: string,
  working: Working,
  summary: Summary,
): Promise<string> {
  const { path, records, written } = await db.changeNodename(oldName, newName, oldFile, newFile, working);
  summary(`Wrote ${written}: the backup ${path} (${records} records) with node name ${newName} instead of ${oldName}`);
  return '';
}

export function setMaster(db: Database, nodename: string): string {
  db.setMaster(nodename);
  return '';
}

export async function dump(db: Database, file: string, table: string | undefined, working: Working, summary: Summary): Promise<string> {
  const { path, records } = await db.dump(file, table, working);
  summary(table === undefined ? `Dumped ${records} records to ${path}` : `Dumped ${records} records of table ${table} to ${path}`);
  return '';
}

export async function load(db: Database, file: string, working: Working, summary: Summary): Promise<string> {
  const { path, records } = await db.load(file, working);
  summary(`Loaded ${records} records from ${path}`);
  return '';
}

export async function exportSql(sql: SqlExport, host: string, file: string, working: Working, summary: Summary, schema?: string): Promise<boolean> {
  const { path, users } = await sql.exportHost(host, file, working, schema);
  summary(`Exported ${host} (${users} ${users === 1 ? 'user' : 'users'}) as SQL to ${path}`);
  return true;
}

/** jabberd14 imports: what they imported is a summary, their result ejabberd's empty text. */
export async function imported(run: Promise<string>, summary: Summary): Promise<string> {
  summary(await run);
  return '';
}

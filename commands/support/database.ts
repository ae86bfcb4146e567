import type { Config } from '../../src/config/config';
import type { Database } from '../../src/migrate/database';
import type { SqlExport } from '../../src/migrate/sql-export';

type Working = (text: string) => void;

export async function backup(db: Database, file: string, working: Working): Promise<string> {
  const { path, records } = await db.backup(file, working);
  return `Backed up ${records} records to ${path}`;
}

/** A backup made by another node restores too; the caller hears of it on standard error. */
export async function restore(db: Database, config: Config, file: string, working: Working, progress: Working): Promise<string> {
  const { path, records, node } = await db.restore(file, working);
  if (node !== config.nodeName) progress(`Note: the backup was made by node ${node}, this node is ${config.nodeName}`);
  return `Restored ${records} records from ${path}`;
}

export async function installFallback(db: Database, file: string, working: Working): Promise<string> {
  const { path, records, staged } = await db.installFallback(file, working);
  return `Installed ${path} (${records} records) as ${staged}: the node restores it at its next start`;
}

export async function changeNodename(db: Database, oldName: string, newName: string, oldFile: string, newFile: string, working: Working): Promise<string> {
  const { path, records, written } = await db.changeNodename(oldName, newName, oldFile, newFile, working);
  return `Wrote ${written}: the backup ${path} (${records} records) with node name ${newName} instead of ${oldName}`;
}

export function setMaster(db: Database, nodename: string): string {
  db.setMaster(nodename);
  return '';
}

export async function dump(db: Database, file: string, table: string | undefined, working: Working): Promise<string> {
  const { path, records } = await db.dump(file, table, working);
  return table === undefined ? `Dumped ${records} records to ${path}` : `Dumped ${records} records of table ${table} to ${path}`;
}

export async function load(db: Database, file: string, working: Working): Promise<string> {
  const { path, records } = await db.load(file, working);
  return `Loaded ${records} records from ${path}`;
}

export async function exportSql(sql: SqlExport, host: string, file: string, working: Working): Promise<boolean> {
  await sql.exportHost(host, file, working);
  return true;
}

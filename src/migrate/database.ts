import { resolve } from 'node:path';
import { CommandError } from '../lib/errors';
import type { AccountsService, ServiceDeps } from '../services/accounts';

type Working = (text: string) => void;
const quiet: Working = () => undefined;

// Loaded on first use: unregister instantiates every service to ask for removal hooks.
const backupModule = () => require('./backup') as typeof import('./backup');
const dumpModule = () => require('./dump') as typeof import('./dump');

/**
 * The whole database at once: backups (restore, fallback), text dumps, and the Mnesia-era
 * commands that go with them (DESIGN.md §7). Paths are resolved against the current directory;
 * a caller on another directory has its relative paths made absolute before they reach a node.
 */
export function createDatabaseService(deps: ServiceDeps, _accounts: AccountsService) {
  const { store, config, clock } = deps;
  return {
    async backup(file: string, working: Working = quiet): Promise<string> {
      const path = resolve(file);
      const records = await backupModule().writeBackup(store, path, config.nodeName, clock(), working);
      return `Backed up ${records} records to ${path}`;
    },

    /** Replaces the whole database with the backup; a faulty backup changes nothing. */
    async restore(file: string, working: Working = quiet, progress: Working = quiet): Promise<string> {
      const path = resolve(file);
      const summary = await backupModule().restoreBackup(store, path, working);
      if (summary.header.node !== config.nodeName) progress(`Note: the backup was made by node ${summary.header.node}, this node is ${config.nodeName}`);
      return `Restored ${summary.records} records from ${path}`;
    },

    /** Checks the backup and stages it: the node restores it the next time it starts. */
    async installFallback(file: string, working: Working = quiet): Promise<string> {
      const path = resolve(file);
      if (store.location === undefined) throw new CommandError('not_supported', 'This database is kept in memory: it has no next start to install a fallback for');
      const { stageFallback, fallbackFile } = backupModule();
      const summary = await stageFallback(path, store.location, working);
      return `Installed ${path} (${summary.records} records) as ${fallbackFile(store.location)}: the node restores it at its next start`;
    },

    async changeNodename(oldName: string, newName: string, oldFile: string, newFile: string, working: Working = quiet): Promise<string> {
      const [oldPath, newPath] = [resolve(oldFile), resolve(newFile)];
      const summary = await backupModule().changeNodename(oldName, newName, oldPath, newPath, working);
      return `Wrote ${newPath}: the backup ${oldPath} (${summary.records} records) with node name ${newName} instead of ${oldName}`;
    },

    setMaster(nodename: string): string {
      return backupModule().setMaster(nodename, config.nodeName);
    },

    async dump(file: string, table?: string, working: Working = quiet): Promise<string> {
      const path = resolve(file);
      const records = await dumpModule().writeDump(store, path, table, config.nodeName, clock(), working);
      return table === undefined ? `Dumped ${records} records to ${path}` : `Dumped ${records} records of table ${table} to ${path}`;
    },

    /** Merges a dump into the database: its records overwrite the same keys, others stay. */
    async load(file: string, working: Working = quiet): Promise<string> {
      const path = resolve(file);
      const records = await dumpModule().loadDump(store, path, working);
      return `Loaded ${records} records from ${path}`;
    },
  };
}

import { resolve } from 'node:path';
import { CommandError } from '../lib/errors';
import type { FeatureDeps } from '../features/deps';
import type { Features } from '../features';
import { changeNodename, fallbackFile, restoreBackup, setMaster, stageFallback, writeBackup } from './backup';
import { loadDump, writeDump } from './dump';

type Working = (text: string) => void;
const quiet: Working = () => undefined;

/** A file written or read, by its absolute path, and how many records it holds. */
export interface FileSummary {
  readonly path: string;
  readonly records: number;
}

export interface RestoreSummary extends FileSummary {
  /** The node the backup names as its maker. */
  readonly node: string;
}

export interface FallbackSummary extends FileSummary {
  /** Where the copy waits for the node's next start. */
  readonly staged: string;
}

export interface RenameSummary extends FileSummary {
  /** The backup written; `path` is the one read. */
  readonly written: string;
}

export interface Database {
  backup(file: string, working?: Working): Promise<FileSummary>;
  /** Replaces the whole database with the backup; a faulty backup changes nothing. */
  restore(file: string, working?: Working): Promise<RestoreSummary>;
  /** Checks the backup and stages it: the node restores it the next time it starts. */
  installFallback(file: string, working?: Working): Promise<FallbackSummary>;
  /** Writes `newFile`: the backup `oldFile` of node `oldName` with the node name `newName`. */
  changeNodename(oldName: string, newName: string, oldFile: string, newFile: string, working?: Working): Promise<RenameSummary>;
  /** Succeeds for `self` or this node's own name, the only master a node that shares nothing has. */
  setMaster(nodename: string): void;
  /** The records of `table`, or of every table holding records. */
  dump(file: string, table?: string, working?: Working): Promise<FileSummary>;
  /** Merges a dump into the database: its records overwrite the same keys, others stay. */
  load(file: string, working?: Working): Promise<FileSummary>;
}

/**
 * The whole database at once: backups (restore, fallback), text dumps, and the Mnesia-era
 * commands that go with them (DESIGN.md §7). They copy every table as it is, knowing no
 * feature's records. Paths are resolved against the current directory; a caller on another
 * directory has its relative paths made absolute before they reach a node.
 */
export function createDatabase(deps: FeatureDeps, _features: Features): Database {
  const { store, config, clock } = deps;
  return {
    async backup(file, working = quiet) {
      const path = resolve(file);
      return { path, records: await writeBackup(store, path, config.nodeName, clock(), working) };
    },

    async restore(file, working = quiet) {
      const path = resolve(file);
      const summary = await restoreBackup(store, path, working);
      return { path, records: summary.records, node: summary.header.node };
    },

    async installFallback(file, working = quiet) {
      const path = resolve(file);
      if (store.location === undefined)
        throw new CommandError('not_supported', 'This database is kept in memory: it has no next start to install a fallback for');
      const summary = await stageFallback(path, store.location, working);
      return { path, records: summary.records, staged: fallbackFile(store.location) };
    },

    async changeNodename(oldName, newName, oldFile, newFile, working = quiet) {
      const [path, written] = [resolve(oldFile), resolve(newFile)];
      const summary = await changeNodename(oldName, newName, path, written, working);
      return { path, records: summary.records, written };
    },

    setMaster(nodename) {
      setMaster(nodename, config.nodeName);
    },

    async dump(file, table, working = quiet) {
      const path = resolve(file);
      return { path, records: await writeDump(store, path, table, config.nodeName, clock(), working) };
    },

    async load(file, working = quiet) {
      const path = resolve(file);
      return { path, records: await loadDump(store, path, { hosts: config.hosts, file: config.file }, working) };
    },
  };
}

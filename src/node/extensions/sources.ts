/**
 * Where extension modules come from: the sources of `ext_modules: sources`, each a directory of
 * module folders or a git repository of them (as ejabberd-contrib is), cloned under the home.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ModuleSource } from '../../config/config';
import { CommandError } from '../../lib/errors';
import { MANIFEST, NAME } from './build';

/** How long a clone or pull may take before it is given up. */
const GIT_TIMEOUT = 120_000;

/** A source as the commands name it, and the directory its module folders are in. */
export interface SourceDir {
  readonly label: string;
  readonly dir: string;
  readonly source: ModuleSource;
}

export const sourceLabel = (s: ModuleSource): string => (s.kind === 'dir' ? s.path : `${s.url}${s.branch ? ` (${s.branch})` : ''}`);

/** Where a git source is cloned: HOME/module_sources/NAME-HASH, one per URL and branch. */
export function cloneDir(homeDir: string, s: Extract<ModuleSource, { kind: 'git' }>): string {
  const id = createHash('sha256')
    .update(`${s.url}\0${s.branch ?? ''}`)
    .digest('hex')
    .slice(0, 10);
  const name =
    basename(s.url.replace(/\/+$/, ''))
      .replace(/\.git$/, '')
      .replace(/[^\w.-]/g, '_') || 'repo';
  return join(homeDir, 'module_sources', `${name}-${id}`);
}

function git(args: readonly string[], cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, timeout: GIT_TIMEOUT, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'git is not installed' : (stderr.trim().split('\n').pop() ?? err.message);
      reject(new CommandError('failed', `git ${args[0]} failed: ${why}`));
    });
  });
}

/** Clones a git source that is not there yet; `update` pulls one that is. Resolves to what it did. */
async function fetchGit(homeDir: string, s: Extract<ModuleSource, { kind: 'git' }>, update: boolean): Promise<string> {
  const dir = cloneDir(homeDir, s);
  if (existsSync(join(dir, '.git'))) {
    if (!update) return '';
    try {
      await git(['pull', '--ff-only', '--quiet'], dir);
    } catch (err) {
      throw new CommandError('failed', `Cannot update the module source ${sourceLabel(s)}: ${(err as Error).message}`);
    }
    return `Updated ${sourceLabel(s)}`;
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(homeDir, 'module_sources'), { recursive: true, mode: 0o700 });
  try {
    await git(['clone', '--quiet', '--depth', '1', ...(s.branch ? ['--branch', s.branch] : []), '--', s.url, dir]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new CommandError('failed', `Cannot fetch the module source ${sourceLabel(s)}: ${(err as Error).message}`);
  }
  return `Fetched ${sourceLabel(s)}`;
}

/** The sources' directories, cloning what is not there yet (`update`: pulling what is). */
export async function sourceDirs(homeDir: string, sources: readonly ModuleSource[], update = false): Promise<{ dirs: SourceDir[]; done: string[] }> {
  const dirs: SourceDir[] = [];
  const done: string[] = [];
  for (const s of sources) {
    if (s.kind === 'git') {
      const did = await fetchGit(homeDir, s, update);
      if (did) done.push(did);
      dirs.push({ label: sourceLabel(s), dir: cloneDir(homeDir, s), source: s });
      continue;
    }
    if (!isDir(s.path)) throw new CommandError('failed', `The module source ${s.path} is not a directory (ext_modules: sources in ctl.yml)`);
    if (update) done.push(`Read ${s.path}`);
    dirs.push({ label: s.path, dir: s.path, source: s });
  }
  return { dirs, done };
}

/** The module folders of a source directory: those with a manifest, by name. */
export function moduleFolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && NAME.test(e.name) && existsSync(join(dir, e.name, MANIFEST)))
    .map((e) => e.name)
    .sort();
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

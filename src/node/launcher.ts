import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

type Launch = typeof import('./launch');

/**
 * The command line and all it runs in its process, in one file written by `npm run build`
 * (write-bundle.ts), with V8's code cache for it beside it. A call that opens the
 * database loads about a hundred modules, a call through a node about twenty-five: finding,
 * reading and compiling them one by one takes longer than their work, and longer than
 * reading the one file whose compiled code is cached. What a call does not use is in the
 * file but never run, as it would never be loaded.
 */
export const BUNDLE = join(__dirname, 'cli-bundle.js');
/** The code cache is V8's for one version of Node, and for no V8 flags. */
export const BUNDLE_CACHE = join(__dirname, `cli-bundle-${process.version}.cache`);

/**
 * Runs the command line of `argv`: from the bundle when its code cache fits this process, else
 * from the modules. Compiled without its cache, the bundle would load slower than they do; a
 * process given options of its own (NODE_OPTIONS, or node's command line) may have V8 flags
 * the cache was not made with.
 */
export function launcher(argv: readonly string[]): Promise<void> {
  const plain = process.execArgv.length === 0 && !process.env.NODE_OPTIONS;
  return ((plain ? loadBundle() : undefined)?.exports ?? (require('./launch') as Launch)).launch(argv);
}

/**
 * The bundle's exports, compiled with its code cache: undefined without the bundle or the cache
 * (a build by tsc alone, another version of Node), or when the bundle is older than `modules`
 * (this file by default): tsc writes every module anew, so a bundle older than them predates
 * the last compile and would run code that has changed since.
 */
export function loadBundle(file = BUNDLE, cacheFile = BUNDLE_CACHE, modules = __filename): Compiled | undefined {
  let source: string;
  let cachedData: Buffer;
  try {
    if (statSync(file).mtimeMs < statSync(modules).mtimeMs) return undefined;
    cachedData = readFileSync(cacheFile);
    // ASCII, as write-bundle checks: read as Latin-1, the text needs no decoding.
    source = readFileSync(file, 'latin1');
  } catch {
    return undefined;
  }
  return compileBundle(file, source, cachedData);
}

export interface Compiled {
  readonly exports: Launch;
  /** What V8 compiled: whether it took the cache, and the cache of what it compiled since. */
  readonly script: Script;
}

/**
 * Compiles and runs the bundle as Node runs a CommonJS module. A cache that V8 refuses even so
 * is ignored: the bundle is compiled from its source, only slower.
 */
export function compileBundle(file: string, source: string, cachedData?: Buffer): Compiled {
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  const run = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dir: string) => void;
  const module = { exports: {} };
  run.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return { exports: module.exports as Launch, script };
}

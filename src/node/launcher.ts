import { readFileSync } from 'node:fs';
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
export const BUNDLE_CACHE = join(__dirname, 'cli-bundle.cache');

/** Runs the command line of `argv`: from the bundle when there is one, else from the modules. */
export function launcher(argv: readonly string[]): Promise<void> {
  return (loadBundle()?.exports ?? (require('./launch') as Launch)).launch(argv);
}

/**
 * The bundle's exports, compiled with its code cache: undefined when there is no bundle (a build
 * by tsc alone). A cache that V8 refuses (another version of Node, other V8 flags) is ignored:
 * the bundle is compiled from its source, only slower.
 */
export function loadBundle(file = BUNDLE, cacheFile = BUNDLE_CACHE): { exports: Launch; script: Script } | undefined {
  let source: string;
  try {
    // ASCII, as write-bundle checks: read as Latin-1, the text needs no decoding.
    source = readFileSync(file, 'latin1');
  } catch {
    return undefined;
  }
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  const run = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dir: string) => void;
  const module = { exports: {} };
  run.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return { exports: module.exports as Launch, script };
}

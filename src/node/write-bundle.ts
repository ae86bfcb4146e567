import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Plugin } from 'esbuild';
import { BUNDLE, BUNDLE_CACHE, compileBundle } from './launcher';

/**
 * `npm run build` ends with this: the command line in one file (see `BUNDLE`), then V8's code
 * cache of what a call compiles, taken from a call of the bundle in a process of its own.
 *
 * Left out, and loaded from node_modules when used: what only a node's work needs (PostgreSQL,
 * Redis, WebSocket) and the compiler of extension modules, which together outweigh the rest.
 */
const EXTERNAL = ['pg', 'ioredis', 'ws', 'typescript', '*.node', 'classic-level/package.json'];

/** classic-level finds its prebuilt addon from its own directory, which a bundle does not have. */
const nativeAddon: Plugin = {
  name: 'classic-level-addon',
  setup(build) {
    build.onLoad({ filter: /[\\/]classic-level[\\/]binding\.js$/ }, () => ({
      contents: "module.exports = require('node-gyp-build')(require('path').dirname(require.resolve('classic-level/package.json')))",
      loader: 'js',
    }));
  },
};

async function writeBundle(): Promise<void> {
  // A cache left by another build, or another version of Node, is not this bundle's.
  for (const f of readdirSync(dirname(BUNDLE))) if (/^cli-bundle-.*\.cache$/.test(f)) rmSync(join(dirname(BUNDLE), f));
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(__dirname, 'launch.js')],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: EXTERNAL,
    plugins: [nativeAddon],
    minifyWhitespace: true,
    logLevel: 'warning',
  });
  // Escaped by esbuild but in regular expressions: the launcher reads it as Latin-1.
  const outside = /[^\x00-\x7f]/.exec(readFileSync(BUNDLE, 'utf8'));
  if (outside)
    throw new Error(
      `${BUNDLE} holds a character outside ASCII (U+${outside[0].codePointAt(0)!.toString(16).padStart(4, '0')}): write it as an escape in the source`,
    );
  // With no V8 flags, as the launcher uses it.
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const r = spawnSync(process.execPath, [__filename, 'cache'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (r.status !== 0) throw new Error(`making the code cache of ${BUNDLE} failed (${r.status ?? r.signal})`);
}

/** A call that opens a database, as most calls without a node do; it answers false, as it should. */
async function writeCache(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'ctl-bundle-'));
  try {
    const bundle = compileBundle(BUNDLE, readFileSync(BUNDLE, 'latin1'));
    await bundle.exports.launch(['check_account', 'nobody', 'localhost', '--home', home]);
    if (process.exitCode !== 1) throw new Error(`check_account in an empty home exited ${process.exitCode}`);
    process.exitCode = 0;
    writeFileSync(BUNDLE_CACHE, bundle.script.createCachedData());
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

(process.argv[2] === 'cache' ? writeCache() : writeBundle()).catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exitCode = 1;
});

import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { compileBundle, loadBundle } from '../../src/node/launcher';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ctl-launcher-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A bundle as write-bundle makes one: CommonJS, whose exports include `launch`. */
const SOURCE = "const beside = require('./beside.js'); exports.launch = () => beside.word + ' ' + __filename + ' ' + __dirname;";

/** `tag` makes each test's source its own: V8 keeps what it compiled in memory, by source. */
function bundle(tag: string): string {
  writeFileSync(join(dir, 'beside.js'), "exports.word = 'next-to-it';");
  const file = join(dir, 'bundle.js');
  writeFileSync(file, `${SOURCE} // ${tag}`);
  return file;
}

/** What the launcher would compile for the bundle, so that a test can make a cache V8 accepts. */
const cacheOf = (file: string, tag: string) =>
  new Script(`(function (exports, require, module, __filename, __dirname) {${SOURCE} // ${tag}\n})`, { filename: file }).createCachedData();

test('without the bundle or its code cache nothing is loaded: the launcher runs the modules, which load faster than the bundle compiled anew', () => {
  writeFileSync(join(dir, 'some.cache'), Buffer.from('a cache'));
  expect(loadBundle(join(dir, 'missing.js'), join(dir, 'some.cache'))).toBeUndefined();
  expect(loadBundle(bundle('no cache'), join(dir, 'missing.cache'))).toBeUndefined();
});

test("the bundle's requires, __filename and __dirname are its own file's", () => {
  const file = bundle('paths');
  const loaded = compileBundle(file, readFileSync(file, 'latin1'));
  expect((loaded.exports.launch as unknown as () => string)()).toBe(`next-to-it ${file} ${dir}`);
});

test('its code cache is used; a cache V8 refuses leaves the bundle running, compiled from its source', () => {
  let file = bundle('cached');
  writeFileSync(join(dir, 'good.cache'), cacheOf(file, 'cached'));
  const good = loadBundle(file, join(dir, 'good.cache'))!;
  expect(good.script.cachedDataRejected).toBe(false);
  file = bundle('refused');
  writeFileSync(join(dir, 'bad.cache'), Buffer.from('not a code cache'));
  const bad = loadBundle(file, join(dir, 'bad.cache'))!;
  expect(bad.script.cachedDataRejected).toBe(true);
  expect((bad.exports.launch as unknown as () => string)()).toBe(`next-to-it ${file} ${dir}`);
});

test('a bundle older than the modules is not run: tsc alone was run since the build', () => {
  const file = bundle('stale');
  writeFileSync(join(dir, 'stale.cache'), cacheOf(file, 'stale'));
  const modules = join(dir, 'launcher.js');
  writeFileSync(modules, '');
  const ago = (s: number) => new Date(Date.now() - s * 1000);
  utimesSync(modules, ago(60), ago(60));
  expect(loadBundle(file, join(dir, 'stale.cache'), modules)).toBeDefined();
  utimesSync(file, ago(120), ago(120));
  expect(loadBundle(file, join(dir, 'stale.cache'), modules)).toBeUndefined();
});

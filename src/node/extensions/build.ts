/**
 * An extension module's folder, read and built: its manifest checked, its files hashed (what
 * update_list compares), its TypeScript compiled to CommonJS with the project's own compiler,
 * and its code loaded from memory, so that each load is a fresh copy with no cache to clear.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { join, posix, relative } from 'node:path';
import { compileFunction } from 'node:vm';
import type { ModuleManifest } from '../../xmpp/extension';

/** The name of a module, and of its folder; a command or table name has the same shape. */
export const NAME = /^[a-z][a-z0-9_]{0,63}$/;
export const MANIFEST = 'module.yml';

/** Bounds on what a module may hold: it is code to read, not a data set. */
const MAX_FILES = 500;
const MAX_BYTES = 5 * 1024 * 1024;

/** A module's files, by path relative to its folder (with `/`), as bytes. */
export type Files = ReadonlyMap<string, Buffer>;

/** A problem found while reading or building a module; its message names the file. */
export class ModuleProblem extends Error {}

/** The files of a module folder: everything but dot files and node_modules, in path order. */
export function readFolder(dir: string): Files {
  const out = new Map<string, Buffer>();
  let bytes = 0;
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        const rel = relative(dir, path).split('\\').join('/');
        const size = statSync(path).size;
        bytes += size;
        if (out.size >= MAX_FILES || bytes > MAX_BYTES)
          throw new ModuleProblem(`${dir} holds more than ${MAX_FILES} files or ${MAX_BYTES / 1024 / 1024} MiB: a module is code, not data`);
        out.set(rel, readFileSync(path));
      }
    }
  };
  walk(dir);
  return out;
}

/** What update_list compares: every path and its bytes. */
export function hashFiles(files: Files): string {
  const h = createHash('sha256');
  for (const [path, data] of files) h.update(`${path}\0${data.length}\0`).update(data);
  return h.digest('hex').slice(0, 16);
}

/** The manifest of `files`, or the list of what is wrong with it. */
export function readManifest(files: Files, folder: string, ctlVersion: string): { manifest?: ModuleManifest; problems: string[] } {
  const text = files.get(MANIFEST);
  if (text === undefined) return { problems: [`${folder} has no ${MANIFEST} (name, version, summary, author, ctl)`] };
  const YAML = require('yaml') as typeof import('yaml');
  let data: unknown;
  try {
    data = YAML.parse(text.toString('utf8'));
  } catch (err) {
    return { problems: [`${MANIFEST}: ${(err as Error).message.split('\n')[0]}`] };
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    return { problems: [`${MANIFEST} must be a mapping of name, version, summary, author and ctl`] };
  const m = data as Record<string, unknown>;
  const problems: string[] = [];
  const text1 = (key: string) => {
    const v = m[key];
    if (typeof v !== 'string' || v.trim() === '' || v.includes('\n')) {
      problems.push(`${MANIFEST}: '${key}' must be one line of text${v === undefined ? ', and is missing' : ''}`);
      return '';
    }
    return v.trim();
  };
  const name = text1('name');
  if (name && !NAME.test(name)) problems.push(`${MANIFEST}: 'name' must be lower-case letters, digits and _ (as mod_motd), got '${name}'`);
  else if (name && name !== folder) problems.push(`${MANIFEST}: 'name' is '${name}', but the folder is '${folder}': they must be the same`);
  const version = typeof m.version === 'number' ? String(m.version) : text1('version');
  if (version && !/^\d+(\.\d+){0,2}$/.test(version)) problems.push(`${MANIFEST}: 'version' must be MAJOR.MINOR.PATCH, got '${version}'`);
  const summary = text1('summary');
  const author = text1('author');
  const ctl = text1('ctl');
  if (ctl) {
    const works = versionMatches(ctlVersion, ctl);
    if (works === undefined) problems.push(`${MANIFEST}: 'ctl' must be version comparators such as '>=0.1.0 <1.0.0', '^0.1' or '*', got '${ctl}'`);
    else if (!works) problems.push(`${MANIFEST}: the module works with ctl ${ctl}, and this is ctl ${ctlVersion}`);
  }
  const main = m.main === undefined ? undefined : text1('main');
  if (main && (main.startsWith('/') || main.split('/').includes('..')))
    problems.push(`${MANIFEST}: 'main' must be a file of the module's folder, got '${main}'`);
  for (const key of Object.keys(m)) {
    if (!['name', 'version', 'summary', 'author', 'ctl', 'main', 'url', 'home'].includes(key)) {
      problems.push(`${MANIFEST}: unknown key '${key}' (it takes name, version, summary, author, ctl, main, url, home)`);
    }
  }
  if (problems.length > 0) return { problems };
  return { manifest: { name, version, summary, author, ctl, ...(main ? { main } : {}) }, problems };
}

/** -1, 0 or 1; missing parts count as 0 (`1.2` is `1.2.0`). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** Whether `version` satisfies every comparator of `range`; undefined when the range cannot be read. */
export function versionMatches(version: string, range: string): boolean | undefined {
  const words = range.trim().split(/\s+/);
  let all = true;
  for (const word of words) {
    if (word === '*' || word === 'x') continue;
    const m = /^(>=|<=|>|<|=|\^|~)?v?(\d+|x|\*)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?$/.exec(word);
    if (!m) return undefined;
    const [, op = '', ...parts] = m;
    const given = parts.filter((p) => p !== undefined);
    const wild = given.findIndex((p) => p === 'x' || p === '*');
    const fixed = (wild < 0 ? given : given.slice(0, wild)).map(Number);
    const base = fixed.join('.') || '0';
    const c = compareVersions(version, base);
    const samePrefix = (n: number) => version.split('.').slice(0, n).map(Number).join('.') === fixed.slice(0, n).join('.');
    let ok: boolean;
    if (op === '>=') ok = c >= 0;
    else if (op === '>') ok = c > 0;
    else if (op === '<=') ok = c <= 0;
    else if (op === '<') ok = c < 0;
    else if (op === '^') ok = c >= 0 && samePrefix(fixed[0] === 0 && fixed.length > 1 ? 2 : 1);
    else if (op === '~') ok = c >= 0 && samePrefix(Math.min(2, fixed.length));
    else ok = wild >= 0 || given.length < 3 ? samePrefix(fixed.length) : c === 0;
    all &&= ok;
  }
  return all;
}

/** The module's main file, as its manifest says or by default. */
export function mainFile(files: Files, manifest: ModuleManifest): string {
  if (manifest.main !== undefined) {
    if (!files.has(manifest.main)) throw new ModuleProblem(`${MANIFEST}: 'main' names ${manifest.main}, which the module does not have`);
    return manifest.main;
  }
  for (const candidate of ['index.ts', 'index.js', 'index.cjs']) if (files.has(candidate)) return candidate;
  throw new ModuleProblem(`the module has no index.ts or index.js (or 'main' in ${MANIFEST}) exporting setup(api)`);
}

/** The built module: CommonJS code by path (`.ts` paths become `.js`), and the main file's built path. */
export interface Built {
  readonly code: ReadonlyMap<string, string>;
  readonly main: string;
  /** The main file as the module's author named it (index.ts, say). */
  readonly source: string;
}

const jsPath = (path: string) => path.replace(/\.(ts|mts|cts)$/, '.js');
const isTs = (path: string) => /\.(ts|mts|cts)$/.test(path) && !path.endsWith('.d.ts');

/** Compiles the TypeScript files (syntax errors are problems, naming file and line); JavaScript and JSON are kept. */
export function build(files: Files, main: string): Built {
  const code = new Map<string, string>();
  const problems: string[] = [];
  const sources = [...files].filter(([path]) => isTs(path) || /\.(js|cjs|json)$/.test(path));
  let ts: typeof import('typescript') | undefined;
  for (const [path, data] of sources) {
    const text = data.toString('utf8');
    if (!isTs(path)) {
      code.set(path, text);
      continue;
    }
    ts ??= typescript();
    const out = ts.transpileModule(text, {
      fileName: path,
      reportDiagnostics: true,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, isolatedModules: true, sourceMap: false },
    });
    for (const d of out.diagnostics ?? []) {
      const where = d.file && d.start !== undefined ? ` line ${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : '';
      problems.push(`${path}${where}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ').replace(/\.$/, '')}`);
    }
    code.set(jsPath(path), out.outputText);
  }
  if (problems.length > 0) throw new ModuleProblem(`the build failed: ${problems.join('; ')}`);
  return { code, main: jsPath(main), source: main };
}

function typescript(): typeof import('typescript') {
  try {
    return require('typescript') as typeof import('typescript');
  } catch {
    throw new ModuleProblem("the module is written in TypeScript, and the typescript package is not installed with ctl (run 'npm ci' in ctl's folder)");
  }
}

/**
 * Runs the built code, from memory, and returns the main file's exports. A module's files
 * require each other by relative path; anything else must be one of Node's own modules.
 */
export function load(built: Built, folder: string): Record<string, unknown> {
  const loaded = new Map<string, { exports: Record<string, unknown> }>();
  const resolveLocal = (from: string, spec: string): string | undefined => {
    const base = posix.normalize(posix.join(posix.dirname(from), spec));
    return [base, `${base}.js`, `${base}.json`, `${base}/index.js`].find((p) => built.code.has(p));
  };
  const nodeRequire = createRequire(join(folder, 'index.js'));
  const run = (path: string): Record<string, unknown> => {
    const cached = loaded.get(path);
    if (cached) return cached.exports;
    const mod = { exports: {} as Record<string, unknown> };
    loaded.set(path, mod);
    const text = built.code.get(path)!;
    if (path.endsWith('.json')) {
      mod.exports = JSON.parse(text) as Record<string, unknown>;
      return mod.exports;
    }
    const filename = join(folder, path);
    const fn = compileFunction(text, ['exports', 'require', 'module', '__filename', '__dirname'], { filename });
    const req = (spec: string) => {
      if (spec.startsWith('./') || spec.startsWith('../')) {
        const found = resolveLocal(path, spec);
        if (found === undefined) throw new ModuleProblem(`${path} requires '${spec}', which the module does not have`);
        return run(found);
      }
      const bare = spec.replace(/^node:/, '');
      if (!builtinModules.includes(bare)) throw new ModuleProblem(`${path} requires '${spec}': a module may require its own files and Node's modules only`);
      return nodeRequire(spec) as unknown;
    };
    fn.call(mod.exports, mod.exports, req, mod, filename, join(folder, posix.dirname(path)));
    return mod.exports;
  };
  return run(built.main);
}

/**
 * The extension system: the module commands over the home's files (`ctl` without a node) and,
 * in a node, the modules it runs. A module's setup is given an api that records what it
 * declares; only once setup succeeded are its commands and handlers put in place, in one step,
 * so a module that fails to load leaves what ran before it running.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Element } from 'ltx';
import type { Config } from '../../config/config';
import type { Command, Policy } from '../../core/command';
import type { ExtensionCheck, ExtensionControl, ExtensionInfo } from '../../core/extensions';
import type { ExtensibleRegistry, Registry } from '../../core/registry';
import { CommandError } from '../../lib/errors';
import { createSerial } from '../../lib/keyed-lock';
import * as schema from '../../schema/types';
import type { Field, Type } from '../../schema/types';
import { createMemoryStore } from '../../storage/memory';
import type { Key, Store } from '../../storage/types';
import type { IqRoute, ModuleApi, SessionTable, XmppLogger } from '../../xmpp/api';
import type { ExtensionApi, ExtensionHooks, ExtensionModule, ExtensionTable, ModuleManifest, TableKey } from '../../xmpp/extension';
import type { XmppServer } from '../../xmpp/server';
import { StanzaError } from '../../xmpp/stanza';
import { extensionTable } from '../../migrate/tables';
import { build, hashFiles, load, mainFile, MANIFEST, ModuleProblem, NAME, readFolder, readManifest, compareVersions, type Built, type Files } from './build';
import { declaration, STATE_FILE, type ModuleState } from './declared';
import { moduleFolders, sourceDirs, type SourceDir } from './sources';

/** How long setup and teardown may take. */
const SETUP_TIMEOUT = 10_000;

export interface ExtensionsDeps {
  readonly homeDir: string;
  readonly config: () => Config;
  /** ctl's version, which the manifests' `ctl` must admit: the package's unless given. */
  readonly version?: string;
  /** The commands there are, to refuse a module's command of the same name. */
  readonly registry: Registry;
  readonly logger?: XmppLogger;
}

/** What a node adds: where the modules' commands, handlers and tables go. */
export interface NodeExtensionsDeps extends ExtensionsDeps {
  readonly registry: ExtensibleRegistry;
  readonly store: () => Store;
  readonly xmpp: () => XmppServer | undefined;
}

export interface NodeExtensions extends ExtensionControl {
  /** Loads every installed module; one that fails is logged and left out. */
  loadInstalled(): Promise<void>;
  /** Registers the running modules' handlers with a (new) XMPP server. */
  attachXmpp(): void;
  /** Tears every module down, removing its commands. */
  stopAll(): Promise<void>;
}

/** A module folder read, its manifest checked and its code built. */
interface Prepared {
  readonly manifest: ModuleManifest;
  readonly files: Files;
  readonly built: Built;
  readonly hash: string;
  readonly dir: string;
}

/** What a module's setup declared, ready to be put in place. */
interface Recorded {
  readonly commands: Command[];
  readonly xmpp: ((api: ModuleApi) => void)[];
  readonly declares: string[];
  readonly module: ExtensionModule;
  readonly api: ExtensionApi;
}

interface Running {
  readonly prepared: Prepared;
  readonly recorded: Recorded;
  detach?: () => void;
}

interface RecordEnv {
  readonly store: () => Store;
  readonly sessions: () => SessionTable;
  readonly route: (stanza: Element) => Promise<void>;
  readonly config: () => Config;
  readonly logger: XmppLogger;
  /** Who has a command of this name: `ctl`, a module, or nobody. */
  readonly owner: (name: string) => string | undefined;
}

const NO_SESSIONS: SessionTable = { get: () => undefined, ofUser: () => [], all: () => [], count: () => 0, users: () => 0 };
const QUIET: XmppLogger = { info: () => undefined, warning: () => undefined, error: () => undefined, debug: () => undefined };
const HOOKS: readonly (keyof ExtensionHooks)[] = ['client-stanza', 'deliver', 'message-delivered', 'session-bound', 'session-available', 'session-closed'];
const POLICIES: readonly Policy[] = ['admin', 'user', 'open', 'restricted'];

const failed = (text: string) => new CommandError('failed', text);

/** The module commands over the home's files alone: what `ctl` does without a node. */
export function createFileExtensions(deps: ExtensionsDeps): ExtensionControl {
  return createExtensions(deps);
}

/** The module commands in a node, which loads, runs and reloads the modules. */
export function createNodeExtensions(deps: NodeExtensionsDeps): NodeExtensions {
  return createExtensions(deps, deps) as NodeExtensions;
}

function createExtensions(deps: ExtensionsDeps, node?: NodeExtensionsDeps): ExtensionControl | NodeExtensions {
  const ctlVersion = deps.version ?? packageVersion();
  const modulesDir = join(deps.homeDir, 'modules');
  const installedDir = (name: string) => join(modulesDir, name);
  const logger = deps.logger ?? QUIET;
  const running = new Map<string, Running>();
  // One module operation at a time: two installs of one name must not interleave their files.
  const serial = createSerial();
  const one = <T>(fn: () => Promise<T>) => serial.run(fn);
  const owner = (name: string) => {
    const c = deps.registry.get(name);
    return c === undefined ? undefined : (c.extension ?? 'ctl');
  };

  async function sources(update = false): Promise<{ dirs: SourceDir[]; done: string[] }> {
    const list = deps.config().extModules.sources;
    if (list.length === 0) {
      throw failed(`No module sources are configured: list directories or git repositories under 'ext_modules: sources' in ${deps.config().file}`);
    }
    return sourceDirs(deps.homeDir, list, update);
  }

  /** The folder of NAME in the first source that offers it. */
  async function findInSources(name: string): Promise<string> {
    checkName(name);
    const { dirs } = await sources();
    for (const s of dirs) if (moduleFolders(s.dir).includes(name)) return join(s.dir, name);
    throw new CommandError('not_found', `No module named '${name}' in the module sources (${dirs.map((d) => d.label).join(', ')}): see modules_available`);
  }

  function prepare(dir: string, name: string): Prepared {
    let files: Files;
    try {
      files = readFolder(dir);
    } catch (err) {
      throw failed(`${name}: ${err instanceof ModuleProblem ? err.message : `cannot read ${dir}: ${(err as Error).message}`}`);
    }
    const { manifest, problems } = readManifest(files, name, ctlVersion);
    if (!manifest) throw failed(`${name}: ${problems.join('; ')}`);
    try {
      return { manifest, files, built: build(files, mainFile(files, manifest)), hash: hashFiles(files), dir };
    } catch (err) {
      if (err instanceof ModuleProblem) throw failed(`${name}: ${err.message}`);
      throw err;
    }
  }

  /** Runs setup in a sandbox (tables in memory, no sessions), then teardown: what module_check does. */
  async function checkIsolated(p: Prepared): Promise<Recorded> {
    const memory = createMemoryStore();
    const env: RecordEnv = { store: () => memory, sessions: () => NO_SESSIONS, route: async () => undefined, config: deps.config, logger: QUIET, owner };
    const recorded = await record(p, env);
    await teardown(p.manifest.name, recorded, false);
    await memory.close();
    return recorded;
  }

  async function writeState(p: Prepared, commands: readonly Command[]): Promise<void> {
    const state: ModuleState = { version: p.manifest.version, hash: p.hash, commands: commands.map(declaration) };
    writeFileSync(join(installedDir(p.manifest.name), STATE_FILE), `${JSON.stringify(state)}\n`);
  }

  /**
   * Places the module's files and runs them (without a node, records what they declare); if
   * that fails, the folder they replaced is back, since it is what runs. Resolves to that
   * replaced folder, for the caller to remove.
   */
  async function putInPlace(p: Prepared, commands: readonly Command[]): Promise<string | undefined> {
    const old = placeFiles(p);
    const installed = { ...p, dir: installedDir(p.manifest.name) };
    try {
      if (node) await activate(installed);
      else await writeState(installed, commands);
    } catch (err) {
      rmSync(installed.dir, { recursive: true, force: true });
      if (old) renameSync(old, installed.dir);
      throw err;
    }
    return old;
  }

  /** Writes the module's files as its installed folder, in one rename; resolves to the folder it replaced, if any. */
  function placeFiles(p: Prepared): string | undefined {
    const name = p.manifest.name;
    mkdirSync(modulesDir, { recursive: true, mode: 0o700 });
    const tmp = join(modulesDir, `.new-${name}-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    for (const [path, data] of p.files) {
      mkdirSync(dirname(join(tmp, path)), { recursive: true });
      writeFileSync(join(tmp, path), data);
    }
    const target = installedDir(name);
    let old: string | undefined;
    if (existsSync(target)) {
      old = join(modulesDir, `.old-${name}-${process.pid}`);
      rmSync(old, { recursive: true, force: true });
      renameSync(target, old);
    }
    renameSync(tmp, target);
    return old;
  }

  function installedManifest(name: string): ModuleManifest | undefined {
    const dir = installedDir(name);
    if (!existsSync(join(dir, MANIFEST))) return undefined;
    try {
      return readManifest(readFolder(dir), name, ctlVersion).manifest ?? { name, version: '?', summary: '', author: '', ctl: '*' };
    } catch {
      return { name, version: '?', summary: '', author: '', ctl: '*' };
    }
  }

  function installedNames(): string[] {
    try {
      return moduleFolders(modulesDir);
    } catch {
      return [];
    }
  }

  function requireInstalled(name: string): ModuleManifest {
    checkName(name);
    const m = installedManifest(name);
    if (!m) throw new CommandError('not_found', `The module '${name}' is not installed: see modules_installed`);
    return m;
  }

  // ---- in a node ----

  const liveEnv = (): RecordEnv => ({
    store: node!.store,
    sessions: () => node!.xmpp()?.sessions ?? NO_SESSIONS,
    route: async (stanza) => node!.xmpp()?.control.route(stanza),
    config: deps.config,
    logger,
    owner,
  });

  const handlersOf = (r: Recorded) => (api: ModuleApi) => {
    for (const register of r.xmpp) register(api);
  };

  /** Puts a prepared module in place of its running version; on any failure the old one keeps running. */
  async function activate(p: Prepared): Promise<void> {
    const name = p.manifest.name;
    const old = running.get(name);
    const keeps = old ? `; version ${old.prepared.manifest.version} keeps running` : '';
    let recorded: Recorded;
    try {
      recorded = await record(p, liveEnv());
    } catch (err) {
      throw failed(`${(err as Error).message}${keeps}`);
    }
    try {
      node!.registry.replace(name, recorded.commands);
    } catch (err) {
      await teardown(name, recorded, true);
      throw failed(`${name}: ${(err as Error).message}${keeps}`);
    }
    const entry: Running = { prepared: p, recorded };
    const xmpp = node!.xmpp();
    if (xmpp) {
      old?.detach?.();
      try {
        entry.detach = xmpp.extend(handlersOf(recorded));
      } catch (err) {
        if (old) {
          node!.registry.replace(name, old.recorded.commands);
          old.detach = xmpp.extend(handlersOf(old.recorded));
        } else node!.registry.remove(name);
        await teardown(name, recorded, true);
        throw failed(`${name}: ${(err as Error).message}${keeps}`);
      }
    }
    running.set(name, entry);
    if (old) await teardown(name, old.recorded, true);
    await writeState(p, recorded.commands);
    logger.info(`extension module ${name} ${p.manifest.version} ${old ? `reloaded (was ${old.prepared.manifest.version})` : 'loaded'}`);
  }

  async function deactivate(name: string): Promise<void> {
    const r = running.get(name);
    if (!r) return;
    running.delete(name);
    node!.registry.remove(name);
    r.detach?.();
    await teardown(name, r.recorded, true);
    logger.info(`extension module ${name} unloaded`);
  }

  async function teardown(name: string, r: Recorded, log: boolean): Promise<void> {
    if (!r.module.teardown) return;
    try {
      await withTimeout(Promise.resolve(r.module.teardown(r.api)), `${name}: teardown`);
    } catch (err) {
      if (!log) throw failed(`${name}: teardown failed: ${messageOf(err)}`);
      logger.error(`extension module ${name}: teardown failed: ${messageOf(err)}`);
    }
  }

  function changedNames(): string[] {
    return installedNames().filter((name) => {
      const r = running.get(name);
      if (!r) return true;
      try {
        return hashFiles(readFolder(installedDir(name))) !== r.prepared.hash;
      } catch {
        return true;
      }
    });
  }

  async function reloadOne(name: string): Promise<void> {
    requireInstalled(name);
    await activate(prepareRunning(name));
  }

  /** The installed files of a module built again; when they cannot be, the running version is said to stay. */
  function prepareRunning(name: string): Prepared {
    try {
      return prepare(installedDir(name), name);
    } catch (err) {
      const old = running.get(name);
      throw old ? failed(`${(err as Error).message}; version ${old.prepared.manifest.version} keeps running`) : err;
    }
  }

  const needsNode = (what: string) =>
    new CommandError('unavailable', `${what} acts on the modules a running node has loaded, and none is running: start it with 'ctl start'`);

  const control: ExtensionControl = {
    live: node !== undefined,
    updateSources: () => one(async () => (await sources(true)).done),
    available: () =>
      one(async () => {
        const { dirs } = await sources();
        const seen = new Map<string, ExtensionInfo>();
        for (const s of dirs) {
          for (const name of moduleFolders(s.dir)) {
            if (seen.has(name)) continue;
            let info: ExtensionInfo;
            try {
              const { manifest, problems } = readManifest(readFolder(join(s.dir, name)), name, ctlVersion);
              info = manifest
                ? { name, summary: manifest.summary, version: manifest.version }
                : { name, summary: `(cannot be installed: ${problems[0]})`, version: '' };
            } catch (err) {
              info = { name, summary: `(cannot be installed: ${(err as Error).message})`, version: '' };
            }
            seen.set(name, info);
          }
        }
        return [...seen.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
      }),
    installed: () =>
      one(async () =>
        installedNames().map((name) => {
          const m = installedManifest(name)!;
          return { name, summary: m.summary, version: m.version };
        }),
      ),
    check: (name) =>
      one(async () => {
        const dir = await findInSources(name);
        const problems: string[] = [];
        let p: Prepared | undefined;
        try {
          p = prepare(dir, name);
          const r = await checkIsolated(p);
          return { name, version: p.manifest.version, problems, declares: r.declares };
        } catch (err) {
          if (!(err instanceof CommandError)) throw err;
          problems.push(err.message);
          return { name, version: p?.manifest.version ?? '', problems, declares: [] } satisfies ExtensionCheck;
        }
      }),
    install: (name) =>
      one(async () => {
        const dir = await findInSources(name);
        const have = installedManifest(name);
        if (have)
          throw new CommandError('conflict', `The module ${name} is installed already (version ${have.version}): module_upgrade installs the sources' version`);
        const p = prepare(dir, name);
        const checked = await checkIsolated(p);
        await putInPlace(p, checked.commands).catch((err: Error) => Promise.reject(failed(`${err.message}; it is not installed`)));
        return { name, summary: p.manifest.summary, version: p.manifest.version };
      }),
    uninstall: (name) =>
      one(async () => {
        const m = requireInstalled(name);
        if (node) await deactivate(name);
        rmSync(installedDir(name), { recursive: true, force: true });
        return { name, summary: m.summary, version: m.version };
      }),
    upgrade: (name) =>
      one(async () => {
        const have = requireInstalled(name);
        const p = prepare(await findInSources(name), name);
        if (compareVersions(p.manifest.version, have.version) <= 0) {
          throw failed(`The sources offer ${name} ${p.manifest.version}, and ${have.version} is installed: nothing newer to upgrade to`);
        }
        const checked = await checkIsolated(p);
        const old = await putInPlace(p, checked.commands).catch((err: Error) =>
          Promise.reject(failed(`${err.message}; ${name} ${have.version} stays installed`)),
        );
        if (old) rmSync(old, { recursive: true, force: true });
        return { from: have.version, to: p.manifest.version };
      }),
    changed: () =>
      one(async () => {
        if (!node) throw needsNode('update_list');
        return changedNames();
      }),
    reload: (name) =>
      one(async () => {
        if (!node) throw needsNode('update');
        if (name !== 'all') {
          await reloadOne(name);
          return [name];
        }
        const done: string[] = [];
        const errors: string[] = [];
        for (const n of changedNames()) {
          try {
            await reloadOne(n);
            done.push(n);
          } catch (err) {
            errors.push((err as Error).message);
          }
        }
        if (errors.length > 0) throw failed(`${done.length > 0 ? `Reloaded ${done.join(', ')}; ` : ''}${errors.join('; ')}`);
        return done;
      }),
    compile: (file) =>
      one(async () => {
        if (!node) throw needsNode('compile');
        const name = owningModule(modulesDir, file);
        await activate(prepareRunning(name));
        return name;
      }),
  };
  if (!node) return control;
  return {
    ...control,
    loadInstalled: () =>
      one(async () => {
        for (const name of installedNames()) {
          try {
            await activate(prepare(installedDir(name), name));
          } catch (err) {
            logger.error(`extension module ${name} not loaded: ${(err as Error).message}`);
          }
        }
      }),
    attachXmpp() {
      const xmpp = node.xmpp();
      if (!xmpp) return;
      for (const [name, r] of running) {
        try {
          r.detach = xmpp.extend(handlersOf(r.recorded));
        } catch (err) {
          logger.error(`extension module ${name}: its XMPP handlers could not be registered: ${(err as Error).message}`);
        }
      }
    },
    stopAll: () =>
      one(async () => {
        for (const name of [...running.keys()].reverse()) await deactivate(name);
      }),
  } satisfies NodeExtensions;
}

/** The version of ctl's package.json, found from here in the sources and in the build alike. */
function packageVersion(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'ctl' && pkg.version) return pkg.version;
  }
  return '0.0.0';
}

function checkName(name: string): void {
  if (!NAME.test(name)) throw new CommandError('bad_argument', `'${name}' is not a module name: lower-case letters, digits and _ (as mod_motd)`);
}

/** The installed module a file belongs to: HOME/modules/NAME/... */
function owningModule(modulesDir: string, given: string): string {
  // Named absolute, as a caller in another directory sends it, whoever called.
  const file = resolve(given);
  let path: string;
  let base: string;
  try {
    path = realpathSync(file);
  } catch {
    throw new CommandError('not_found', `${file}: no such file`);
  }
  try {
    base = realpathSync(modulesDir);
  } catch {
    throw failed(`${file} is not a file of an installed module: no module is installed (they live in ${modulesDir})`);
  }
  const rel = relative(base, path);
  const name = rel.split(sep)[0];
  if (rel.startsWith('..') || rel === '' || !rel.includes(sep) || !NAME.test(name)) {
    throw failed(`${file} is not a file of an installed module (they live in ${modulesDir}/NAME)`);
  }
  return name;
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${SETUP_TIMEOUT / 1000} s`)), SETUP_TIMEOUT);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Loads the built code and runs its setup with an api that records; fails naming what is wrong. */
async function record(p: Prepared, env: RecordEnv): Promise<Recorded> {
  const name = p.manifest.name;
  const problem = (text: string) => new DeclarationError(`${name}: ${text}`);
  let exports: Record<string, unknown>;
  try {
    exports = load(p.built, p.dir);
  } catch (err) {
    throw problem(`loading ${p.built.source} failed: ${messageOf(err)}`);
  }
  const module = (typeof exports.setup === 'function' ? exports : (exports.default as Record<string, unknown> | undefined)) as ExtensionModule | undefined;
  if (!module || typeof module.setup !== 'function') throw problem(`${p.built.source} does not export setup(api)`);
  if (module.teardown !== undefined && typeof module.teardown !== 'function') throw problem(`${p.built.source} exports a teardown that is not a function`);

  const commands: Command[] = [];
  const xmpp: ((api: ModuleApi) => void)[] = [];
  const declares: string[] = [];
  let open = true;
  const during = (what: string) => {
    if (!open) throw problem(`${what} was called after setup: declare commands and handlers in setup`);
  };
  const tables = new Map<string, ExtensionTable>();
  const api: ExtensionApi = {
    name,
    version: p.manifest.version,
    get options() {
      const o = env.config().modules[name];
      return o !== null && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>) : {};
    },
    logger: prefixed(env.logger, name),
    clock: Date.now,
    types: {
      f: schema.f,
      list: schema.list,
      tuple: schema.tuple,
      integer: schema.integer,
      string: schema.string,
      binary: schema.binary,
      atom: schema.atom,
      rescode: schema.rescode,
      restuple: schema.restuple,
    },
    defineCommand(spec) {
      during('defineCommand');
      const command = toCommand(spec as unknown as Record<string, unknown>, name, env.owner, commands);
      commands.push(command);
      declares.push(`command ${command.name}`);
    },
    table<T>(table: string): ExtensionTable<T> {
      if (typeof table !== 'string' || !NAME.test(table)) throw problem(`table(${JSON.stringify(table)}): a table name is lower-case letters, digits and _`);
      const made = tables.get(table) ?? tableOf(env.store, extensionTable(name, table));
      if (!tables.has(table)) declares.push(`table ${table}`);
      tables.set(table, made);
      return made as ExtensionTable<T>;
    },
    xmpp: {
      iq(route: IqRoute, handler) {
        during('xmpp.iq');
        const to = route?.to;
        if (
          typeof route?.xmlns !== 'string' ||
          route.xmlns === '' ||
          !Array.isArray(to) ||
          to.length === 0 ||
          !to.every((t) => t === 'host' || t === 'self' || t === 'bare')
        ) {
          throw problem("xmpp.iq: the route is {xmlns: 'namespace', to: ['host' | 'self' | 'bare', ...]}");
        }
        if (typeof handler !== 'function') throw problem(`xmpp.iq(${route.xmlns}): the handler must be a function`);
        xmpp.push((m) => m.iq({ xmlns: route.xmlns, to: [...to] }, handler));
        declares.push(`IQ ${route.xmlns}`);
      },
      hook(hook, handler) {
        during('xmpp.hook');
        if (!HOOKS.includes(hook)) throw problem(`xmpp.hook: '${String(hook)}' is not a hook (they are ${HOOKS.join(', ')})`);
        if (typeof handler !== 'function') throw problem(`xmpp.hook(${hook}): the handler must be a function`);
        xmpp.push((m) => (m.hook as (hookName: string, fn: unknown) => void)(hook, handler));
        declares.push(`hook ${hook}`);
      },
      discoFeature(ns) {
        during('xmpp.discoFeature');
        if (typeof ns !== 'string' || ns === '') throw problem('xmpp.discoFeature: the feature is a non-empty text');
        xmpp.push((m) => m.discoFeature(ns));
        declares.push(`disco feature ${ns}`);
      },
      get sessions() {
        return env.sessions();
      },
      route: (stanza) => env.route(stanza),
      element: (elementName, attrs) => new Element(elementName, attrs === undefined ? undefined : { ...attrs }),
      StanzaError,
    },
    CommandError,
  };
  try {
    await withTimeout(Promise.resolve(module.setup(api)), 'setup');
  } catch (err) {
    if (err instanceof DeclarationError) throw err;
    throw problem(`setup failed: ${messageOf(err)}`);
  } finally {
    open = false;
  }
  return { commands, xmpp, declares, module, api };
}

/** What a module declared wrongly: its message names the module and says what is wrong. */
class DeclarationError extends CommandError {
  constructor(message: string) {
    super('failed', message);
  }
}

/** The message of what a module threw: its code runs in another realm (a test's), so no instanceof. */
const messageOf = (err: unknown): string =>
  err !== null && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string' ? (err as { message: string }).message : String(err);

function prefixed(logger: XmppLogger, name: string): XmppLogger {
  return {
    info: (m) => logger.info(`${name}: ${m}`),
    warning: (m) => logger.warning(`${name}: ${m}`),
    error: (m) => logger.error(`${name}: ${m}`),
    debug: (m) => logger.debug(`${name}: ${m}`),
  };
}

const keyOf = (key: TableKey): Key => {
  const parts = typeof key === 'string' ? [key] : [...key];
  if (parts.length === 0 || !parts.every((k) => typeof k === 'string')) throw new TypeError('a table key is a text or a list of texts');
  return parts;
};

function tableOf<T>(store: () => Store, table: string): ExtensionTable<T> {
  return {
    get: (key) => store().get<T>(table, keyOf(key)),
    put: (key, value) => store().put(table, keyOf(key), value),
    delete: (key) => store().del(table, keyOf(key)),
    update: (key, fn) => store().update<T>(table, keyOf(key), fn),
    async *entries(prefix) {
      for await (const entry of store().entries<T>(table, prefix === undefined ? undefined : { prefix: keyOf(prefix) })) yield entry;
    },
  };
}

const SCALARS = new Set(['integer', 'string', 'binary', 'atom']);

/** Why a field is not of the schema, or undefined. */
function fieldProblem(field: unknown, where: string, result: boolean): string | undefined {
  const f = field as Field | undefined;
  if (!f || typeof f !== 'object' || typeof f.name !== 'string' || !/^[A-Za-z_][\w]*$/.test(f.name) || !f.type || typeof f.type !== 'object') {
    return `${where} must be a field made with types.f(NAME, TYPE)`;
  }
  const t = f.type as Type;
  if (SCALARS.has(t.kind)) return undefined;
  if (t.kind === 'rescode' || t.kind === 'restuple') return result ? undefined : `${where} (${f.name}): ${t.kind} is a result type only`;
  if (t.kind === 'list') return fieldProblem(t.elem, `${where} (${f.name}) element`, false);
  if (t.kind === 'tuple') {
    if (!Array.isArray(t.fields) || t.fields.length === 0) return `${where} (${f.name}): a tuple has fields`;
    for (const [i, sub] of t.fields.entries()) {
      const why = fieldProblem(sub, `${where} (${f.name}) field ${i + 1}`, false);
      if (why) return why;
    }
    return undefined;
  }
  return `${where} (${f.name}): '${String((t as { kind?: unknown }).kind)}' is not a type (integer, string, binary, atom, list, tuple, rescode, restuple)`;
}

/** A module's command declaration checked and completed: it runs in the node, under the module's name. */
function toCommand(spec: Record<string, unknown>, module: string, owner: (name: string) => string | undefined, earlier: readonly Command[]): Command {
  const bad = (text: string) => new DeclarationError(`${module}: ${text}`);
  if (!spec || typeof spec !== 'object') throw bad('defineCommand takes a command declaration');
  const name = spec.name;
  if (typeof name !== 'string' || !NAME.test(name)) throw bad(`defineCommand: 'name' must be lower-case letters, digits and _, got ${JSON.stringify(name)}`);
  const other = owner(name);
  if ((other !== undefined && other !== module) || earlier.some((c) => c.name === name)) {
    throw bad(
      `the command '${name}' already exists (${other === 'ctl' ? 'a command of ctl' : other && other !== module ? `a command of the module ${other}` : 'declared twice'})`,
    );
  }
  const what = `command ${name}`;
  if (typeof spec.desc !== 'string') throw bad(`${what}: 'desc' must be a text`);
  const tags = spec.tags ?? [module];
  if (!Array.isArray(tags) || tags.length === 0 || !tags.every((t) => typeof t === 'string' && NAME.test(t)))
    throw bad(`${what}: 'tags' must be a list of tag names`);
  if (!Array.isArray(spec.args)) throw bad(`${what}: 'args' must be a list of fields`);
  for (const [i, a] of spec.args.entries()) {
    const why = fieldProblem(a, `${what}: argument ${i + 1}`, false);
    if (why) throw bad(why);
  }
  const why = fieldProblem(spec.result, `${what}: 'result'`, true);
  if (why) throw bad(why);
  if (typeof spec.handler !== 'function') throw bad(`${what}: 'handler' must be a function`);
  const policy = spec.policy ?? 'restricted';
  if (!POLICIES.includes(policy as Policy)) throw bad(`${what}: 'policy' must be one of ${POLICIES.join(', ')}`);
  // What only ctl's own commands may say is not taken from a module.
  const { needs: _n, module: _m, origin: _o, extension: _e, managesCode: _c, exclusive: _x, lifecycle: _l, paths: _p, ...rest } = spec;
  return { ...(rest as unknown as Command), tags: tags as string[], policy: policy as Policy, needs: 'node', module, extension: module };
}

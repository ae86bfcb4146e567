/**
 * What the module commands (ext_mod's module_*, modules_*, and update, update_list, compile) ask
 * of the extension system, in terms the core can name: the node implements it over its home and
 * its running modules; a `ctl` without a node implements the part that works on files alone.
 */

/** One extension module of a source, or installed: what modules_available and modules_installed print. */
export interface ExtensionInfo {
  readonly name: string;
  readonly summary: string;
  readonly version: string;
}

/** What a check found: nothing when the module is sound. */
export interface ExtensionCheck {
  readonly name: string;
  readonly version: string;
  /** One sentence per problem, naming the file, the field or the command at fault. */
  readonly problems: readonly string[];
  /** What the module declares, for the summary of a sound one. */
  readonly declares: readonly string[];
}

export interface ExtensionControl {
  /** Whether the modules run in this process (a node), or only their files are handled (a local `ctl`). */
  readonly live: boolean;
  /** Refreshes every source (a git pull, or a re-read of a directory); resolves to what each did. */
  updateSources(): Promise<readonly string[]>;
  /** The modules the sources offer, by name; the first source that offers a name wins. */
  available(): Promise<readonly ExtensionInfo[]>;
  installed(): Promise<readonly ExtensionInfo[]>;
  /** Builds and checks a module of the sources without installing it. */
  check(name: string): Promise<ExtensionCheck>;
  /** Copies, builds, checks and (on a node) loads a module; fails with the problems of its check. */
  install(name: string): Promise<ExtensionInfo>;
  /** Unloads (on a node) and removes an installed module; its tables stay. */
  uninstall(name: string): Promise<ExtensionInfo>;
  /** Installs the sources' version over the installed one and reloads it; resolves to the old and new versions. */
  upgrade(name: string): Promise<{ readonly from: string; readonly to: string }>;
  /** Installed modules whose files changed since they were loaded. */
  changed(): Promise<readonly string[]>;
  /** Reloads a module (or every changed one, for `all`) from its installed files; resolves to those reloaded. */
  reload(name: string): Promise<readonly string[]>;
  /** Builds the module that owns `file` (a file of an installed module) and reloads it; resolves to its name. */
  compile(file: string): Promise<string>;
}

import { isDestructive, type Command } from './command';

/** The commands by name, by tag, and the nearest name to a misspelt one. */
export interface Registry {
  get(name: string): Command | undefined;
  /** All commands sorted by name. */
  list(): readonly Command[];
  tags(): ReadonlyMap<string, readonly Command[]>;
  /** The nearest name to a misspelt one; never a destructive command (see `isDestructive`). */
  suggest(name: string): string | undefined;
}

/** A registry that extension modules add commands to, and take theirs from, while it serves. */
export interface ExtensibleRegistry extends Registry {
  /**
   * Adds the commands of `owner` in place of those it had; fails, adding nothing, when a name is
   * a command of the base or of another owner.
   */
  replace(owner: string, commands: readonly Command[]): void;
  remove(owner: string): void;
  /** Who declared a command: an owner's name, or undefined for the base's commands. */
  ownerOf(name: string): string | undefined;
}

/** `base`, plus the commands extension modules declare; lookups of the base stay as fast. */
export function createExtensibleRegistry(base: Registry): ExtensibleRegistry {
  const owned = new Map<string, readonly Command[]>();
  const owners = new Map<string, string>();
  let merged: Registry = base;
  const rebuild = () => {
    const extra = [...owned.values()].flat();
    merged = extra.length === 0 ? base : createRegistry([...base.list(), ...extra]);
  };
  return {
    get: (name) => base.get(name) ?? (owners.has(name) ? merged.get(name) : undefined),
    list: () => merged.list(),
    tags: () => merged.tags(),
    suggest: (name) => merged.suggest(name),
    replace(owner, commands) {
      const seen = new Set<string>();
      for (const c of commands) {
        const other = base.get(c.name) ? 'ctl' : owners.get(c.name);
        if (other !== undefined && other !== owner) {
          throw new Error(`the command '${c.name}' already exists (${other === 'ctl' ? 'a command of ctl' : `a command of the module ${other}`})`);
        }
        if (seen.has(c.name)) throw new Error(`the command '${c.name}' is declared twice`);
        seen.add(c.name);
      }
      for (const c of owned.get(owner) ?? []) owners.delete(c.name);
      owned.set(owner, commands);
      for (const c of commands) owners.set(c.name, owner);
      rebuild();
    },
    remove(owner) {
      for (const c of owned.get(owner) ?? []) owners.delete(c.name);
      if (owned.delete(owner)) rebuild();
    },
    ownerOf: (name) => owners.get(name),
  };
}

export function createRegistry(commands: readonly Command[]): Registry {
  const byName = new Map<string, Command>();
  for (const c of commands) {
    if (byName.has(c.name)) throw new Error(`command ${c.name} is declared twice`);
    byName.set(c.name, c);
  }
  const sorted = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let tagMap: Map<string, Command[]> | undefined;

  return {
    get: (name) => byName.get(name),
    list: () => sorted,
    tags() {
      if (!tagMap) {
        tagMap = new Map();
        for (const c of sorted) for (const t of c.tags) (tagMap.get(t) ?? tagMap.set(t, []).get(t)!).push(c);
        tagMap = new Map([...tagMap.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
      }
      return tagMap;
    },
    suggest(name) {
      let best: string | undefined;
      let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
      for (const candidate of byName.keys()) {
        if (isDestructive(candidate)) continue;
        const d = distance(name, candidate);
        if (d < bestDistance) [best, bestDistance] = [candidate, d];
      }
      return best;
    },
  };
}

/** Damerau–Levenshtein (optimal string alignment) distance. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * Adds to `target` one property per factory of `make`, each built on first read and kept: a
 * module behind it is then loaded only by the calls that need it.
 */
export function defineLazy<T extends object, K extends string>(target: T, make: Readonly<Record<K, () => unknown>>): void {
  const made = new Map<K, unknown>();
  for (const name of Object.keys(make) as K[]) {
    Object.defineProperty(target, name, {
      enumerable: true,
      get: () => {
        if (!made.has(name)) made.set(name, make[name]());
        return made.get(name);
      },
    });
  }
}

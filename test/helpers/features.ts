import { defaultConfig } from '../../src/config/config';
import { featureDeps, type FeatureDeps } from '../../src/features/deps';
import { CommandError } from '../../src/lib/errors';
import { createMemoryStore } from '../../src/storage/memory';

export const NOW = 1_700_000_000_000;

/** Deps over a fresh memory store, plain passwords (fast), and a clock that stands at NOW. */
export function memoryDeps(hosts: readonly string[] = ['localhost']): FeatureDeps {
  const config = { ...defaultConfig('/dev/null'), hosts: [...hosts], authPasswordFormat: 'plain' as const };
  return featureDeps({ store: createMemoryStore(), config, clock: () => NOW });
}

/** The CommandError a call fails with; the test fails if it succeeds or throws anything else. */
export async function rejection(p: Promise<unknown>): Promise<CommandError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CommandError);
  return err as CommandError;
}

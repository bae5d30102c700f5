import { InvalidArgumentError, type Command } from 'commander';
import { openCatalogStore, resolveStoreLocation, type StoreLocation } from '../catalog/store/open.js';
import type { CatalogStore } from '../catalog/store/store.js';

/** `--store` shared by every catalog command. */
export function withStoreOption(command: Command): Command {
  return command.option(
    '--store <path-or-url>',
    'catalog store: a SQLite file path or a postgres:// URL (default: $FALCON_ORG_STORE, else catalog.sqlite in the user data directory)',
  );
}

/** Opens the store named by `--store` / FALCON_ORG_STORE / the default, runs `work`, and closes it. */
export async function withStore<T>(
  option: string | StoreLocation | undefined,
  work: (store: CatalogStore) => Promise<T>,
): Promise<T> {
  const location = typeof option === 'object' ? option : resolveStoreLocation(option);
  const store = await openCatalogStore(location);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** Commander parser for a whole number within bounds. */
export function integerOption(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

/** Commander collector for a repeatable option. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

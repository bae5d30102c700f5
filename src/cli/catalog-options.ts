import { InvalidArgumentError, Option, type Command } from 'commander';
import type { ListenerLog } from '../catalog/events/listener.js';
import type { DedupeScope } from '../catalog/model.js';
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

/** What --include, --exclude and --dedupe give. */
export interface RepositoryOptions {
  include?: string[];
  exclude?: string[];
  dedupe: DedupeScope;
}

/** `--include`, `--exclude` and `--dedupe`, shared by scan, listen and follow. */
export function withRepositoryOptions(command: Command): Command {
  return command
    .option('--include <glob>', 'only repositories matching this glob (repeatable)', collect)
    .option(
      '--exclude <glob>',
      'skip repositories matching this glob (repeatable; wins over --include)',
      collect,
    )
    .addOption(
      new Option(
        '--dedupe <scope>',
        "'registry': a digest is new once per registry; 'global': once across all",
      )
        .choices(['registry', 'global'])
        .default('registry'),
    );
}

/** The engine's options from them. */
export function repositoryOptions(opts: RepositoryOptions): {
  include?: string[];
  exclude?: string[];
  dedupe: DedupeScope;
} {
  return {
    dedupe: opts.dedupe,
    ...(opts.include ? { include: opts.include } : {}),
    ...(opts.exclude ? { exclude: opts.exclude } : {}),
  };
}

/** Log lines of a long-running command: text on stderr, or with --json one JSON object per line on stdout. */
export function commandLog(
  output: { out(t: string): void; err(t: string): void },
  json: boolean,
): (entry: ListenerLog) => void {
  return (entry) => {
    if (json) output.out(JSON.stringify({ at: new Date().toISOString(), ...entry }));
    else output.err(`${new Date().toISOString()} ${entry.level} ${entry.message}`);
  };
}

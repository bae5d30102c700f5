import { join, resolve } from 'node:path';
import envPaths from 'env-paths';
import { CatalogInputError, CatalogStoreError } from '../errors.js';
import { SqliteDriver } from './sqlite.js';
import { SqlCatalogStore } from './sql-store.js';
import type { SqlDriver } from './sql.js';
import type { CatalogStore } from './store.js';

/** Environment variable naming the store when `--store` is not given. */
export const STORE_ENV = 'FALCON_ORG_STORE';

export type StoreLocation =
  { readonly kind: 'sqlite'; readonly file: string } | { readonly kind: 'postgres'; readonly url: string };

/** The default embedded store: catalog.sqlite in the user's data directory for falcon-org. */
export function defaultStoreFile(): string {
  return join(envPaths('falcon-org', { suffix: '' }).data, 'catalog.sqlite');
}

/**
 * Where the catalog lives: `--store`, else FALCON_ORG_STORE, else the default file. A value starting
 * with postgres:// or postgresql:// is a PostgreSQL connection URL; anything else is a SQLite file path.
 */
export function resolveStoreLocation(option?: string, env: NodeJS.ProcessEnv = process.env): StoreLocation {
  const value = (option ?? env[STORE_ENV] ?? '').trim();
  if (value === '') return { kind: 'sqlite', file: defaultStoreFile() };
  if (/^postgres(ql)?:\/\//i.test(value)) {
    try {
      new URL(value);
    } catch {
      throw new CatalogInputError('the catalog store URL is not a valid postgres:// URL');
    }
    return { kind: 'postgres', url: value };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new CatalogInputError(
      'the catalog store must be a file path or a postgres:// URL (other URL schemes are not supported)',
    );
  }
  return { kind: 'sqlite', file: resolve(value) };
}

/** A location safe to print: the password of a URL is masked. */
export function describeStoreLocation(location: StoreLocation): string {
  if (location.kind === 'sqlite') return location.file;
  const url = new URL(location.url);
  if (url.password) url.password = '***';
  return url.toString();
}

/** Opens (creating if needed) the catalog store at a location. */
export async function openCatalogStore(location: StoreLocation): Promise<CatalogStore> {
  const where = describeStoreLocation(location);
  let driver;
  try {
    driver = await openDriver(location);
  } catch (error) {
    throw new CatalogStoreError(`could not open the catalog store at ${where}`, { cause: error });
  }
  return SqlCatalogStore.open(driver, where);
}

async function openDriver(location: StoreLocation): Promise<SqlDriver> {
  if (location.kind === 'sqlite') return new SqliteDriver(location.file);
  // pg is loaded only for a PostgreSQL store, so no other command pays for importing it.
  const { PostgresDriver } = await import('./postgres.js');
  return new PostgresDriver(location.url);
}

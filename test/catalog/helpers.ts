import { SqliteDriver } from '../../src/catalog/store/sqlite.js';
import { SqlCatalogStore } from '../../src/catalog/store/sql-store.js';
import type { CatalogChange } from '../../src/catalog/model.js';
import type { CatalogStore } from '../../src/catalog/store/store.js';

/** A real embedded store held in memory: fast, and nothing to clean up. */
export function memoryStore(): Promise<CatalogStore> {
  return SqlCatalogStore.open(new SqliteDriver(':memory:'), ':memory:');
}

/** Changes as short strings, sorted, so a test reads like the diff it expects. */
export function describeChanges(changes: readonly CatalogChange[]): string[] {
  return changes
    .map((c) => {
      const short = (d: string): string => d.slice(7, 13);
      if (c.kind === 'tag-moved')
        return `${c.kind} ${c.repository}:${c.tag} ${short(c.fromDigest ?? '')}->${short(c.digest)}`;
      return c.tag === undefined
        ? `${c.kind} ${c.repository}@${short(c.digest)}`
        : `${c.kind} ${c.repository}:${c.tag}`;
    })
    .sort();
}

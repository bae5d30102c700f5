import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanRegistry } from '../../src/catalog/scan.js';
import { SqlCatalogStore } from '../../src/catalog/store/sql-store.js';
import type { SqlDriver } from '../../src/catalog/store/sql.js';
import { SqliteDriver } from '../../src/catalog/store/sqlite.js';
import { digest, FakeRegistry } from './fake-source.js';

const A = digest('a1');
const B = digest('b2');

describe('loading the catalog while another process commits', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'falcon-org-snapshot-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('never mixes two generations: rows and generation come from the same committed run', async () => {
    const file = join(dir, 'catalog.sqlite');
    const registry = new FakeRegistry('http://r.test').tag('app', 'v1', A);
    const other = await SqlCatalogStore.open(new SqliteDriver(file), file);
    await scanRegistry(registry, other);

    // A driver whose first read of the image rows lets another process commit a run first, as
    // PostgreSQL (one snapshot per statement) allows between two statements of a load.
    const inner = new SqliteDriver(file);
    let interleaved = false;
    const driver: SqlDriver = Object.assign(Object.create(inner) as SqlDriver, {
      all: async (sql: string, params?: readonly (string | number | null)[]) => {
        if (!interleaved && sql.includes('FROM catalog_images')) {
          interleaved = true;
          registry.tag('app', 'v2', B);
          await scanRegistry(registry, other);
        }
        return inner.all(sql, params);
      },
    });
    const store = await SqlCatalogStore.open(driver, file);
    try {
      const loaded = await store.load('http://r.test');
      expect(interleaved).toBe(true);
      // The load read one snapshot: the generation and the rows of the run committed before it began.
      expect(loaded.generation).toBe(1);
      expect([...(loaded.state.get('app')?.images.keys() ?? [])]).toEqual([A]);

      // A scan planned on that load commits cleanly and sees nothing new.
      const next = await scanRegistry(registry, store);
      expect(next.changes).toEqual([]);
    } finally {
      await store.close();
      await other.close();
    }
  });
});

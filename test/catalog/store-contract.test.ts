import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { mkdirSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalogStoreError, ConcurrentScanError } from '../../src/catalog/errors.js';
import { applyEvents } from '../../src/catalog/events/apply.js';
import { planRun, type PlanInput } from '../../src/catalog/plan.js';
import { SCHEMA } from '../../src/catalog/store/schema.js';
import { scanRegistry } from '../../src/catalog/scan.js';
import { openCatalogStore, type StoreLocation } from '../../src/catalog/store/open.js';
import type { CatalogStore } from '../../src/catalog/store/store.js';
import { startPostgres, type PostgresService } from '../services/postgres.js';
import { digest, FakeRegistry } from './fake-source.js';

const A = digest('a1');
const B = digest('b2');
const C = digest('c3');

interface Backend {
  /** A location for a fresh, empty store. */
  fresh(): Promise<StoreLocation>;
}

let postgres: PostgresService | undefined;
let dir = '';
let counter = 0;

const backends: [string, Backend][] = [
  [
    'embedded SQLite',
    { fresh: () => Promise.resolve({ kind: 'sqlite', file: join(dir, `s${++counter}`, 'catalog.sqlite') }) },
  ],
  [
    'PostgreSQL',
    {
      fresh: async () => {
        if (!postgres) throw new Error('PostgreSQL did not start');
        return { kind: 'postgres', url: await postgres.createDatabase(`contract_${++counter}`) };
      },
    },
  ],
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'falcon-org-store-'));
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
  await rm(dir, { recursive: true, force: true });
});

function emptyPlan(registry: string, runId: string, baseGeneration: number): PlanInput {
  return {
    registry,
    runId,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: `2026-01-01T00:00:0${runId.length % 10}.000Z`,
    dedupe: 'registry',
    previous: new Map(),
    baseGeneration,
    listed: [],
    excluded: 0,
    collected: new Map(),
    failures: [],
    inventoried: new Set(),
  };
}

describe.each(backends)('catalog store contract: %s', (_name, backend) => {
  async function withStore<T>(
    work: (store: CatalogStore, location: StoreLocation) => Promise<T>,
  ): Promise<T> {
    const location = await backend.fresh();
    const store = await openCatalogStore(location);
    try {
      return await work(store, location);
    } finally {
      await store.close();
    }
  }

  it('starts empty', () =>
    withStore(async (store) => {
      const loaded = await store.load('http://r.test');
      expect(loaded.generation).toBe(0);
      expect(loaded.state.size).toBe(0);
      expect(await store.lastRun()).toBeUndefined();
      expect(await store.inventory()).toEqual([]);
    }));

  it('round-trips images with every detail, tags, changes and the run record, and keeps them after reopening', () =>
    withStore(async (store, location) => {
      const registry = new FakeRegistry('http://r.test');
      registry.tag('app', 'v1', A).tag('app', 'latest', A).tag('team/tool', 'v1', B);
      registry.details.set(A, {
        mediaType: 'application/vnd.oci.image.index.v1+json',
        platforms: ['linux/amd64', 'linux/arm64/v8'],
        pushedAt: '2026-01-02T03:04:05.000Z',
        sizeBytes: 5_000_000_000,
      });
      const result = await scanRegistry(registry, store);
      await store.close();

      const reopened = await openCatalogStore(location);
      try {
        const loaded = await reopened.load('http://r.test');
        expect(loaded.generation).toBe(1);
        expect(loaded.state.get('app')?.images.get(A)).toEqual({
          digest: A,
          tags: ['latest', 'v1'],
          mediaType: 'application/vnd.oci.image.index.v1+json',
          platforms: ['linux/amd64', 'linux/arm64/v8'],
          pushedAt: '2026-01-02T03:04:05.000Z',
          sizeBytes: 5_000_000_000,
        });
        expect(loaded.state.get('team/tool')?.images.get(B)).toEqual({ digest: B, tags: ['v1'] });
        const last = await reopened.lastRun('http://r.test');
        expect(last?.run).toEqual(result.run);
        expect(last?.changes).toEqual(result.changes);
      } finally {
        await reopened.close();
      }
    }));

  it('applies moved, removed and changed rows so the next load matches the registry', () =>
    withStore(async (store) => {
      const registry = new FakeRegistry('http://r.test');
      registry.tag('app', 'v1', A).tag('app', 'latest', A).tag('app', 'old', C);
      await scanRegistry(registry, store);
      registry.tag('app', 'latest', B).untag('app', 'old');
      registry.details.set(A, { sizeBytes: 42 });
      await scanRegistry(registry, store);

      const images = (await store.load('http://r.test')).state.get('app')?.images;
      expect([...(images?.values() ?? [])].sort((x, y) => x.digest.localeCompare(y.digest))).toEqual([
        { digest: A, tags: ['v1'], sizeBytes: 42 },
        { digest: B, tags: ['latest'] },
      ]);
    }));

  it('commits a run atomically: a failure part-way leaves the previous state, generation and inventory', () =>
    withStore(async (store) => {
      const registry = new FakeRegistry('http://r.test');
      registry.tag('app', 'v1', A);
      await scanRegistry(registry, store);
      const before = await store.load('http://r.test');

      const plan = planRun({
        ...emptyPlan('http://r.test', 'broken-run', before.generation),
        previous: before.state,
        listed: ['app'],
        collected: new Map([['app', [{ digest: B, tags: ['v1'] }]]]),
      });
      // The inventory statement fails (a NOT NULL column left empty), after the state rows were written.
      const broken = {
        ...plan,
        inventory: plan.inventory.map((e) => ({ ...e, inventoriedAt: null as unknown as string })),
      };
      await expect(store.commit(broken)).rejects.toBeInstanceOf(CatalogStoreError);

      const after = await store.load('http://r.test');
      expect(after.generation).toBe(before.generation);
      expect(after.state.get('app')?.images.get(A)?.tags).toEqual(['v1']);
      expect(after.state.get('app')?.images.has(B)).toBe(false);
      expect((await store.lastRun())?.run.id).not.toBe('broken-run');
      expect((await store.inventory()).map((e) => e.digest)).toEqual([A]);
    }));

  it('refuses a second commit made against the same generation', () =>
    withStore(async (store) => {
      await store.commit(planRun(emptyPlan('http://r.test', 'first', 0)));
      await expect(store.commit(planRun(emptyPlan('http://r.test', 'second', 0)))).rejects.toBeInstanceOf(
        ConcurrentScanError,
      );
      await store.commit(planRun(emptyPlan('http://r.test', 'third', 1)));
      await expect(store.commit(planRun(emptyPlan('http://r.test', 'fourth', 1)))).rejects.toBeInstanceOf(
        ConcurrentScanError,
      );
      expect((await store.lastRun('http://r.test'))?.run.id).toBe('third');
    }));

  it('reports inventoried digests per registry or across registries', () =>
    withStore(async (store) => {
      await scanRegistry(new FakeRegistry('http://one.test').tag('a', 'v1', A), store);
      await scanRegistry(new FakeRegistry('http://two.test').tag('b', 'v1', B), store);
      expect([...(await store.inventoriedDigests('http://one.test', 'registry'))]).toEqual([A]);
      expect([...(await store.inventoriedDigests('http://one.test', 'global'))].sort()).toEqual(
        [A, B].sort(),
      );
    }));

  it('gives the last run of a registry, or the last of all', () =>
    withStore(async (store) => {
      let t = 0;
      const now = (): Date => new Date(Date.UTC(2026, 0, 1, 0, 0, ++t));
      const one = await scanRegistry(new FakeRegistry('http://one.test').tag('a', 'v1', A), store, { now });
      const two = await scanRegistry(new FakeRegistry('http://two.test').tag('b', 'v1', B), store, { now });
      expect((await store.lastRun('http://one.test'))?.run.id).toBe(one.run.id);
      expect((await store.lastRun())?.run.id).toBe(two.run.id);
      expect(await store.lastRun('http://none.test')).toBeUndefined();
    }));

  it('lists the inventory awaiting assessment and marks digests assessed, all or nothing', () =>
    withStore(async (store) => {
      await scanRegistry(new FakeRegistry('http://one.test').tag('a', 'v1', A).tag('a', 'v2', B), store);
      await scanRegistry(new FakeRegistry('http://two.test').tag('c', 'v1', A).tag('c', 'v3', C), store);
      expect(await store.inventory()).toHaveLength(4);

      const rejected = await store.markAssessed({
        digests: [A, digest('ff')],
        at: '2026-02-01T00:00:00.000Z',
      });
      expect(rejected).toEqual({ marked: 0, unknown: [digest('ff')] });
      expect(await store.inventory()).toHaveLength(4);

      const one = await store.markAssessed({
        registry: 'http://one.test',
        digests: [A],
        at: '2026-02-01T00:00:00.000Z',
      });
      expect(one).toEqual({ marked: 1, unknown: [] });
      expect((await store.inventory()).map((e) => [e.registry, e.digest])).toEqual([
        ['http://one.test', B],
        ['http://two.test', A],
        ['http://two.test', C],
      ]);
      const assessed = (await store.inventory({ includeAssessed: true })).find(
        (e) => e.registry === 'http://one.test' && e.digest === A,
      );
      expect(assessed?.assessedAt).toBe('2026-02-01T00:00:00.000Z');

      expect(
        (await store.markAssessed({ registry: 'http://two.test', digests: 'all', at: 'x' })).marked,
      ).toBe(2);
      expect((await store.inventory()).map((e) => e.digest)).toEqual([B]);
    }));

  it('upgrades a version 1 store in place: old scans stay readable, events can then be applied', async () => {
    const location = await backend.fresh();
    const v1 = [
      ...SCHEMA,
      'INSERT INTO catalog_schema (id, version) VALUES (1, 1)',
      "INSERT INTO catalog_registries (registry, generation, last_run_id) VALUES ('http://r.test', 1, 'old')",
      `INSERT INTO catalog_runs (id, registry, started_at, finished_at, dedupe, summary, failures) VALUES ('old', 'http://r.test', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z', 'registry', '${JSON.stringify({ repositories: 1, images: 1, tags: 1, added: 1, removed: 0, moved: 0, tagsAdded: 1, tagsRemoved: 0, inventoried: 0, excluded: 0, failed: 0 })}', '[]')`,
      `INSERT INTO catalog_images (registry, repository, digest) VALUES ('http://r.test', 'app', '${A}')`,
      `INSERT INTO catalog_tags (registry, repository, tag, digest) VALUES ('http://r.test', 'app', 'v1', '${A}')`,
    ];
    if (location.kind === 'sqlite') {
      mkdirSync(dirname(location.file), { recursive: true });
      const { default: Database } = await import('better-sqlite3');
      const db = new Database(location.file);
      for (const statement of v1) db.exec(statement);
      db.close();
    } else {
      const client = new pg.Client({ connectionString: location.url });
      await client.connect();
      for (const statement of v1) await client.query(statement);
      await client.end();
    }
    const store = await openCatalogStore(location);
    try {
      expect((await store.lastRun('http://r.test'))?.run).toMatchObject({
        id: 'old',
        registry: 'http://r.test',
      });
      expect((await store.lastRun('http://r.test'))?.run.origin).toBeUndefined();
      const registry = new FakeRegistry('http://r.test').tag('app', 'v1', A);
      const { commit } = await applyEvents([registry.push('app', 'v2', B)], registry, store);
      expect(commit.changes.map((c) => c.kind).sort()).toEqual(['image-added', 'tag-added']);
      expect((await store.status())[0]).toMatchObject({
        lastScan: { runId: 'old' },
        eventsSinceScan: { applied: 1 },
      });
    } finally {
      await store.close();
    }
    // Opening it again changes nothing (the upgrade ran once).
    const again = await openCatalogStore(location);
    await again.close();
  });

  it('keeps accepted events in the inbox across reopening, per registry, until they are released', () =>
    withStore(async (store, location) => {
      const registry = new FakeRegistry('http://r.test');
      const other = new FakeRegistry('http://other.test');
      const pushed = registry.push('app', 'v1', A);
      const removed = { ...registry.removeTag('app', 'old'), checkImage: true };
      const elsewhere = other.push('app', 'v1', B);
      await store.holdEvents('http://r.test', [pushed, removed], '2026-01-01T00:00:01.000Z');
      await store.holdEvents('http://other.test', [elsewhere], '2026-01-01T00:00:02.000Z');
      // The same event again (a registry retrying its delivery) is held once.
      await store.holdEvents('http://r.test', [pushed], '2026-01-01T00:00:03.000Z');
      await store.close();

      const reopened = await openCatalogStore(location);
      try {
        expect(await reopened.heldEvents('http://r.test')).toEqual([pushed, removed]);
        expect(await reopened.heldEvents('http://other.test')).toEqual([elsewhere]);
        await reopened.releaseEvents('http://r.test', [pushed.id, 'never-held']);
        expect(await reopened.heldEvents('http://r.test')).toEqual([removed]);
        // Releasing is per registry: the other registry's event of the same id stays.
        await reopened.releaseEvents('http://r.test', [elsewhere.id, removed.id]);
        expect(await reopened.heldEvents('http://r.test')).toEqual([]);
        expect(await reopened.heldEvents('http://other.test')).toEqual([elsewhere]);
      } finally {
        await reopened.close();
      }
    }));

  it('refuses a store written by a newer schema version', () =>
    withStore(async (store, location) => {
      await store.close();
      if (location.kind === 'sqlite') {
        const { default: Database } = await import('better-sqlite3');
        const db = new Database(location.file);
        db.prepare('UPDATE catalog_schema SET version = 99').run();
        db.close();
      } else {
        const client = new pg.Client({ connectionString: location.url });
        await client.connect();
        await client.query('UPDATE catalog_schema SET version = 99');
        await client.end();
      }
      await expect(openCatalogStore(location)).rejects.toThrow(/schema version 99/);
    }));
});

// PostgreSQL only: two connections in one process can interleave their transactions there. Two
// SQLite connections in one process cannot (a busy write lock blocks the whole thread); SQLite's
// BEGIN IMMEDIATE already serialises commits across processes.
describe('catalog store on PostgreSQL, two processes racing', () => {
  it('lets only one of two concurrent first scans of a registry commit; the other gets ConcurrentScanError', async () => {
    if (!postgres) throw new Error('PostgreSQL did not start');
    const location: StoreLocation = {
      kind: 'postgres',
      url: await postgres.createDatabase(`race_${++counter}`),
    };
    const [left, right] = [await openCatalogStore(location), await openCatalogStore(location)];
    try {
      const outcomes = await Promise.allSettled([
        left.commit(planRun(emptyPlan('http://race.test', 'left', 0))),
        right.commit(planRun(emptyPlan('http://race.test', 'right', 0))),
      ]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const rejected = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(rejected?.reason).toBeInstanceOf(ConcurrentScanError);
      expect((await left.load('http://race.test')).generation).toBe(1);
    } finally {
      await left.close();
      await right.close();
    }
  });
});

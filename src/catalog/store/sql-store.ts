import { ConcurrentScanError, CatalogStoreError } from '../errors.js';
import type { RegistryEvent, Rejection, RejectReason } from '../events/model.js';
import type { EventPlan, EventView } from '../events/plan-events.js';
import type { CatalogChange, DedupeScope, InventoryEntry, RunRecord } from '../model.js';
import { rebaseOnEvents, type RunCommit } from '../plan.js';
import {
  lockEventState,
  readEventStates,
  readEventView,
  readRepositories,
  readSeq,
  recordRejections,
  recordScan,
  touchedSince,
  writeEventBookkeeping,
  type EventViewRequest,
} from './event-tables.js';
import { heldEvents, holdEvents, releaseEvents } from './inbox.js';
import { compareKeys, str, toChange, toInventory, toRun, toState } from './rows.js';
import { MIGRATIONS, SCHEMA, SCHEMA_VERSION } from './schema.js';
import type { SqlDriver, SqlExecutor, SqlValue } from './sql.js';
import type { CatalogStore, InventoryQuery, MarkAssessed, RegistryStatus, StoredRegistry } from './store.js';
import { splitKey } from '../events/plan-events.js';
import { deleteRepositories, writeInventory, writeRepositories, writeRun } from './write-catalog.js';

/** Thrown inside the events transaction to roll it back when the plan still needs lookups. */
class NeedsLookups extends Error {
  constructor(readonly plan: EventPlan) {
    super('the plan needs registry lookups first');
  }
}

/** The catalog's queries, written once; the driver decides whether they run on SQLite or PostgreSQL. */
export class SqlCatalogStore implements CatalogStore {
  private constructor(
    private readonly driver: SqlDriver,
    readonly location: string,
  ) {}

  /** Opens the store on a driver, creating or checking the schema. */
  static async open(driver: SqlDriver, location: string): Promise<SqlCatalogStore> {
    try {
      await driver.migrate(async (tx) => {
        for (const statement of SCHEMA) await tx.run(statement);
        const rows = await tx.all('SELECT version FROM catalog_schema WHERE id = 1');
        // A new store starts at version 1 and is brought up to date by the same steps as an old one.
        const version = rows[0] ? Number(rows[0].version) : 1;
        if (version > SCHEMA_VERSION) {
          throw new CatalogStoreError(
            `the catalog store at ${location} has schema version ${version}, newer than this falcon-org understands (${SCHEMA_VERSION}); upgrade falcon-org`,
          );
        }
        for (const migration of MIGRATIONS) {
          if (migration.version <= version) continue;
          for (const statement of migration.statements) await tx.run(statement);
        }
        await tx.run(
          'INSERT INTO catalog_schema (id, version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version',
          [Math.max(version, SCHEMA_VERSION)],
        );
      });
    } catch (error) {
      await driver.close();
      if (error instanceof CatalogStoreError) throw error;
      throw new CatalogStoreError(`could not prepare the catalog store at ${location}`, { cause: error });
    }
    return new SqlCatalogStore(driver, location);
  }

  async load(registry: string): Promise<StoredRegistry> {
    // One snapshot: the rows, the generation and the event sequence of one committed state, even
    // while events or another scan commit.
    return this.driver.snapshot(async (tx) => {
      const generation = await this.generation(tx, registry);
      const eventSeq = await readSeq(tx, registry);
      const imageRows = await tx.all(
        'SELECT repository, digest, media_type, platforms, pushed_at, size_bytes FROM catalog_images WHERE registry = ?',
        [registry],
      );
      const tagRows = await tx.all('SELECT repository, tag, digest FROM catalog_tags WHERE registry = ?', [
        registry,
      ]);
      return { state: toState(imageRows, tagRows), generation, eventSeq };
    });
  }

  private async generation(tx: SqlExecutor, registry: string): Promise<number> {
    const rows = await tx.all('SELECT generation FROM catalog_registries WHERE registry = ?', [registry]);
    return rows[0] ? Number(rows[0].generation) : 0;
  }

  async inventoriedDigests(registry: string, scope: DedupeScope): Promise<Set<string>> {
    const rows =
      scope === 'global'
        ? await this.driver.all('SELECT DISTINCT digest FROM catalog_inventory')
        : await this.driver.all('SELECT digest FROM catalog_inventory WHERE registry = ?', [registry]);
    return new Set(rows.map((r) => str(r.digest)));
  }

  async commit(commit: RunCommit): Promise<RunCommit> {
    const registry = commit.run.registry;
    try {
      return await this.driver.transaction(async (tx) => {
        await this.claimGeneration(tx, registry, commit.baseGeneration, commit.run.id);
        // Batches of events take turns with this commit; those applied while the scan ran win.
        const seq = await lockEventState(tx, registry);
        let rebased = commit;
        if (seq > commit.eventSeq) {
          const touched = await touchedSince(tx, registry, commit.eventSeq);
          const repositories = [...touched].map((key) => splitKey(key)[0]);
          rebased = rebaseOnEvents(commit, touched, await readRepositories(tx, registry, repositories));
        }
        await writeRun(tx, rebased.run, rebased.changes);
        await deleteRepositories(tx, registry, rebased.deleteRepositories);
        await writeRepositories(tx, registry, rebased.writes);
        await writeInventory(tx, rebased.inventory);
        await recordScan(tx, registry, rebased.observed, commit.eventSeq);
        return rebased;
      });
    } catch (error) {
      if (error instanceof ConcurrentScanError) throw error;
      throw new CatalogStoreError(
        `could not commit the scan of ${registry} to ${this.location}; the stored catalog is unchanged`,
        { cause: error },
      );
    }
  }

  async eventView(request: EventViewRequest): Promise<EventView> {
    try {
      return await this.driver.snapshot((tx) => readEventView(tx, request));
    } catch (error) {
      throw new CatalogStoreError(`could not read the catalog of ${request.registry} from ${this.location}`, {
        cause: error,
      });
    }
  }

  async commitEvents(
    request: EventViewRequest,
    plan: (view: EventView) => EventPlan,
    at: string,
  ): Promise<EventPlan> {
    try {
      return await this.driver.transaction(async (tx) => {
        const seq = (await lockEventState(tx, request.registry)) + 1;
        const result = plan(await readEventView(tx, request));
        if (result.kind === 'needs') throw new NeedsLookups(result);
        const { commit } = result;
        if (commit.run) await writeRun(tx, commit.run, commit.changes, seq);
        await writeRepositories(tx, commit.registry, commit.writes);
        await writeInventory(tx, commit.inventory);
        await writeEventBookkeeping(tx, commit, seq, at);
        return result;
      });
    } catch (error) {
      if (error instanceof NeedsLookups) return error.plan;
      throw new CatalogStoreError(
        `could not apply events of ${request.registry} to ${this.location}; nothing of the batch was kept`,
        { cause: error },
      );
    }
  }

  async holdEvents(registry: string, events: readonly RegistryEvent[], at: string): Promise<void> {
    if (events.length === 0) return;
    try {
      await this.driver.transaction((tx) => holdEvents(tx, registry, events, at));
    } catch (error) {
      throw new CatalogStoreError(`could not keep accepted events in ${this.location}`, { cause: error });
    }
  }

  async heldEvents(registry: string): Promise<RegistryEvent[]> {
    try {
      return await this.driver.snapshot((tx) => heldEvents(tx, registry));
    } catch (error) {
      throw new CatalogStoreError(`could not read the accepted events in ${this.location}`, { cause: error });
    }
  }

  async releaseEvents(registry: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      await this.driver.transaction((tx) => releaseEvents(tx, registry, ids));
    } catch (error) {
      throw new CatalogStoreError(`could not forget applied events in ${this.location}`, { cause: error });
    }
  }

  async recordRejections(source: string, rejections: readonly Rejection[], at: string): Promise<void> {
    if (rejections.length === 0) return;
    try {
      await this.driver.transaction((tx) => recordRejections(tx, source, rejections, at));
    } catch (error) {
      throw new CatalogStoreError(`could not record rejected events in ${this.location}`, { cause: error });
    }
  }

  async status(): Promise<RegistryStatus[]> {
    return this.driver.snapshot(async (tx) => {
      const scans = await tx.all(
        'SELECT g.registry, r.id, r.finished_at FROM catalog_registries g JOIN catalog_runs r ON r.id = g.last_run_id',
      );
      const events = await readEventStates(tx);
      const rejections = await tx.all(
        'SELECT source, reason, count, last_at, detail FROM catalog_event_rejections',
      );
      const held = await tx.all('SELECT registry, COUNT(*) AS n FROM catalog_event_inbox GROUP BY registry');
      const byRegistry = new Map<
        string,
        RegistryStatus & { rejections: RegistryStatus['rejections'][number][] }
      >();
      const entry = (registry: string) => {
        let e = byRegistry.get(registry);
        if (!e) byRegistry.set(registry, (e = { registry, eventsSinceScan: {}, rejections: [] }));
        return e;
      };
      for (const row of scans) {
        const e = entry(str(row.registry));
        byRegistry.set(e.registry, {
          ...e,
          lastScan: { runId: str(row.id), finishedAt: str(row.finished_at) },
        });
      }
      for (const row of events) {
        const e = entry(row.registry);
        byRegistry.set(e.registry, {
          ...e,
          eventsSinceScan: row.sinceScan,
          ...(row.lastEventAt ? { lastEventAt: row.lastEventAt } : {}),
        });
      }
      for (const row of held) {
        const e = entry(str(row.registry));
        byRegistry.set(e.registry, { ...e, heldEvents: Number(row.n) });
      }
      for (const row of rejections) {
        entry(str(row.source)).rejections.push({
          reason: str(row.reason) as RejectReason,
          count: Number(row.count),
          lastAt: str(row.last_at),
          detail: str(row.detail),
        });
      }
      return [...byRegistry.values()].sort((a, b) => compareKeys([a.registry], [b.registry]));
    });
  }

  async eventChanges(registry: string): Promise<{ runs: RunRecord[]; changes: CatalogChange[] }> {
    return this.driver.snapshot(async (tx) => {
      const state = await tx.all('SELECT scan_seq FROM catalog_event_state WHERE registry = ?', [registry]);
      const since = state[0] ? Number(state[0].scan_seq) : 0;
      const rows = await tx.all(
        "SELECT * FROM catalog_runs WHERE registry = ? AND origin = 'events' AND seq > ? ORDER BY seq",
        [registry, since],
      );
      const runs = rows.map(toRun);
      const changes: CatalogChange[] = [];
      for (const run of runs) {
        const rows = await tx.all(
          'SELECT kind, repository, digest, tag, from_digest FROM catalog_changes WHERE run_id = ? ORDER BY ordinal',
          [run.id],
        );
        changes.push(...rows.map(toChange));
      }
      return { runs, changes };
    });
  }

  /** Optimistic concurrency: only one run may move a registry from a given generation to the next. */
  private async claimGeneration(
    tx: SqlExecutor,
    registry: string,
    base: number,
    runId: string,
  ): Promise<void> {
    if (base === 0) {
      // ON CONFLICT rather than SELECT-then-INSERT: two first scans racing on PostgreSQL must end in
      // ConcurrentScanError for the loser, not in a primary-key violation.
      const inserted = await tx.run(
        'INSERT INTO catalog_registries (registry, generation, last_run_id) VALUES (?, 1, ?) ON CONFLICT (registry) DO NOTHING',
        [registry, runId],
      );
      if (inserted !== 1) throw new ConcurrentScanError(registry);
      return;
    }
    const updated = await tx.run(
      'UPDATE catalog_registries SET generation = generation + 1, last_run_id = ? WHERE registry = ? AND generation = ?',
      [runId, registry, base],
    );
    if (updated !== 1) throw new ConcurrentScanError(registry);
  }

  async lastRun(registry?: string): Promise<{ run: RunRecord; changes: CatalogChange[] } | undefined> {
    const rows =
      registry === undefined
        ? await this.driver.all(
            // Only each registry's latest run can be the latest of all (exact even within one millisecond).
            'SELECT r.* FROM catalog_runs r JOIN catalog_registries g ON g.last_run_id = r.id ORDER BY r.finished_at DESC, r.registry LIMIT 1',
          )
        : await this.driver.all(
            'SELECT r.* FROM catalog_runs r JOIN catalog_registries g ON g.last_run_id = r.id WHERE g.registry = ?',
            [registry],
          );
    const row = rows[0];
    if (!row) return undefined;
    const run = toRun(row);
    const changes = await this.driver.all(
      'SELECT kind, repository, digest, tag, from_digest FROM catalog_changes WHERE run_id = ? ORDER BY ordinal',
      [run.id],
    );
    return { run, changes: changes.map(toChange) };
  }

  async inventory(query: InventoryQuery = {}): Promise<InventoryEntry[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (query.registry !== undefined) {
      where.push('registry = ?');
      params.push(query.registry);
    }
    if (!query.includeAssessed) where.push('assessed_at IS NULL');
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const rows = await this.driver.all(`SELECT * FROM catalog_inventory ${clause}`, params);
    // Sorted here rather than with ORDER BY, so both engines give the same order whatever the collation.
    const key = (e: InventoryEntry): string[] => [e.inventoriedAt, e.registry, e.repository, e.digest];
    return rows.map(toInventory).sort((a, b) => compareKeys(key(a), key(b)));
  }

  async markAssessed(request: MarkAssessed): Promise<{ marked: number; unknown: string[] }> {
    const scope = request.registry === undefined ? '' : ' AND registry = ?';
    const scopeParams: SqlValue[] = request.registry === undefined ? [] : [request.registry];
    return this.driver.transaction(async (tx) => {
      if (request.digests === 'all') {
        const marked = await tx.run(
          `UPDATE catalog_inventory SET assessed_at = ? WHERE assessed_at IS NULL${scope}`,
          [request.at, ...scopeParams],
        );
        return { marked, unknown: [] };
      }
      const digests = [...new Set(request.digests)];
      const unknown: string[] = [];
      for (const digest of digests) {
        const known = await tx.all(`SELECT digest FROM catalog_inventory WHERE digest = ?${scope}`, [
          digest,
          ...scopeParams,
        ]);
        if (known.length === 0) unknown.push(digest);
      }
      // All or nothing: a mistyped digest marks none, so the user can correct it and run again.
      if (unknown.length > 0) return { marked: 0, unknown };
      let marked = 0;
      for (const digest of digests) {
        marked += await tx.run(
          `UPDATE catalog_inventory SET assessed_at = ? WHERE digest = ? AND assessed_at IS NULL${scope}`,
          [request.at, digest, ...scopeParams],
        );
      }
      return { marked, unknown };
    });
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}

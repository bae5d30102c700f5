import { ConcurrentScanError, CatalogStoreError } from '../errors.js';
import type {
  CatalogChange,
  ChangeKind,
  DedupeScope,
  InventoryEntry,
  RegistryState,
  RepositoryState,
  RunRecord,
  ScanSummary,
  RepositoryFailure,
} from '../model.js';
import type { RunCommit } from '../plan.js';
import type { ImageRecord } from '../source.js';
import { SCHEMA, SCHEMA_VERSION } from './schema.js';
import type { SqlDriver, SqlExecutor, SqlRow, SqlValue } from './sql.js';
import type { CatalogStore, InventoryQuery, MarkAssessed, StoredRegistry } from './store.js';

/** Rows per multi-row INSERT: well under both engines' parameter limits. */
const BATCH_ROWS = 250;

async function insertMany(
  tx: SqlExecutor,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly SqlValue[])[],
): Promise<void> {
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += BATCH_ROWS) {
    const chunk = rows.slice(i, i + BATCH_ROWS);
    const sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${chunk.map(() => tuple).join(', ')}`;
    await tx.run(sql, chunk.flat());
  }
}

const str = (v: unknown): string => (typeof v === 'string' ? v : String(v));
const optStr = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : str(v));
const optNum = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));
const json = (v: unknown): unknown => JSON.parse(str(v));
const optList = (v: unknown): string[] | undefined =>
  v === null || v === undefined ? undefined : (json(v) as string[]);
const listOrNull = (v: readonly string[] | undefined): string | null =>
  v === undefined ? null : JSON.stringify(v);

function imageValues(registry: string, repository: string, image: ImageRecord): SqlValue[] {
  return [
    registry,
    repository,
    image.digest,
    image.mediaType ?? null,
    listOrNull(image.platforms),
    image.pushedAt ?? null,
    image.sizeBytes ?? null,
  ];
}

function toRun(row: SqlRow): RunRecord {
  return {
    id: str(row.id),
    registry: str(row.registry),
    startedAt: str(row.started_at),
    finishedAt: str(row.finished_at),
    dedupe: str(row.dedupe) as DedupeScope,
    summary: json(row.summary) as ScanSummary,
    failures: json(row.failures) as RepositoryFailure[],
  };
}

function toChange(row: SqlRow): CatalogChange {
  const tag = optStr(row.tag);
  const fromDigest = optStr(row.from_digest);
  return {
    kind: str(row.kind) as ChangeKind,
    repository: str(row.repository),
    digest: str(row.digest),
    ...(tag === undefined ? {} : { tag }),
    ...(fromDigest === undefined ? {} : { fromDigest }),
  };
}

function toInventory(row: SqlRow): InventoryEntry {
  const assessedAt = optStr(row.assessed_at);
  const mediaType = optStr(row.media_type);
  const platforms = optList(row.platforms);
  return {
    registry: str(row.registry),
    digest: str(row.digest),
    repository: str(row.repository),
    tags: json(row.tags) as string[],
    ...(mediaType === undefined ? {} : { mediaType }),
    ...(platforms === undefined ? {} : { platforms }),
    runId: str(row.run_id),
    inventoriedAt: str(row.inventoried_at),
    ...(assessedAt === undefined ? {} : { assessedAt }),
  };
}

function compareKeys(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return (a[i] ?? '') < (b[i] ?? '') ? -1 : 1;
  }
  return 0;
}

/**
 * The catalog of one registry from its image and tag rows. Tags are sorted here, not with ORDER BY:
 * PostgreSQL sorts text by the database's collation (e.g. en_US ignores punctuation), SQLite by code
 * point; JavaScript's sort gives the same order on both, and the one sources use.
 */
function toState(imageRows: readonly SqlRow[], tagRows: readonly SqlRow[]): RegistryState {
  const tags = new Map<string, string[]>();
  for (const row of tagRows) {
    const key = `${str(row.repository)}\n${str(row.digest)}`;
    const list = tags.get(key);
    if (list) list.push(str(row.tag));
    else tags.set(key, [str(row.tag)]);
  }
  for (const list of tags.values()) list.sort();
  const state = new Map<string, RepositoryState & { images: Map<string, ImageRecord> }>();
  for (const row of imageRows) {
    const repository = str(row.repository);
    const digest = str(row.digest);
    const mediaType = optStr(row.media_type);
    const platforms = optList(row.platforms);
    const pushedAt = optStr(row.pushed_at);
    const sizeBytes = optNum(row.size_bytes);
    const image: ImageRecord = {
      digest,
      tags: tags.get(`${repository}\n${digest}`) ?? [],
      ...(mediaType === undefined ? {} : { mediaType }),
      ...(platforms === undefined ? {} : { platforms }),
      ...(pushedAt === undefined ? {} : { pushedAt }),
      ...(sizeBytes === undefined ? {} : { sizeBytes }),
    };
    let repo = state.get(repository);
    if (!repo) state.set(repository, (repo = { images: new Map() }));
    repo.images.set(digest, image);
  }
  return state;
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
      await driver.migrate(SCHEMA);
      const rows = await driver.all('SELECT version FROM catalog_schema WHERE id = 1');
      const version = rows[0] ? Number(rows[0].version) : undefined;
      if (version === undefined) {
        await driver.run(
          'INSERT INTO catalog_schema (id, version) VALUES (1, ?) ON CONFLICT (id) DO NOTHING',
          [SCHEMA_VERSION],
        );
      } else if (version > SCHEMA_VERSION) {
        throw new CatalogStoreError(
          `the catalog store at ${location} has schema version ${version}, newer than this falcon-org understands (${SCHEMA_VERSION}); upgrade falcon-org`,
        );
      }
    } catch (error) {
      await driver.close();
      if (error instanceof CatalogStoreError) throw error;
      throw new CatalogStoreError(`could not prepare the catalog store at ${location}`, { cause: error });
    }
    return new SqlCatalogStore(driver, location);
  }

  async load(registry: string): Promise<StoredRegistry> {
    // The rows must all come from one committed generation, or a run would plan against a mix of
    // two runs' states. Each statement sees its own snapshot (PostgreSQL's READ COMMITTED), so read
    // the generation before and after the rows: every commit bumps it, so equal means no commit
    // landed in between. Portable, and it never holds a transaction open while reading.
    for (let attempt = 0; ; attempt++) {
      const before = await this.generation(registry);
      const [imageRows, tagRows] = await Promise.all([
        this.driver.all(
          'SELECT repository, digest, media_type, platforms, pushed_at, size_bytes FROM catalog_images WHERE registry = ?',
          [registry],
        ),
        this.driver.all('SELECT repository, tag, digest FROM catalog_tags WHERE registry = ?', [registry]),
      ]);
      if ((await this.generation(registry)) === before) {
        return { state: toState(imageRows, tagRows), generation: before };
      }
      if (attempt >= 4) {
        throw new CatalogStoreError(
          `the catalog of ${registry} kept changing while it was read; another scan may be running`,
        );
      }
    }
  }

  private async generation(registry: string): Promise<number> {
    const rows = await this.driver.all('SELECT generation FROM catalog_registries WHERE registry = ?', [
      registry,
    ]);
    return rows[0] ? Number(rows[0].generation) : 0;
  }

  async inventoriedDigests(registry: string, scope: DedupeScope): Promise<Set<string>> {
    const rows =
      scope === 'global'
        ? await this.driver.all('SELECT DISTINCT digest FROM catalog_inventory')
        : await this.driver.all('SELECT digest FROM catalog_inventory WHERE registry = ?', [registry]);
    return new Set(rows.map((r) => str(r.digest)));
  }

  async commit(commit: RunCommit): Promise<void> {
    const { run } = commit;
    const registry = run.registry;
    try {
      await this.driver.transaction(async (tx) => {
        await this.claimGeneration(tx, registry, commit.baseGeneration, run.id);
        await insertMany(
          tx,
          'catalog_runs',
          ['id', 'registry', 'started_at', 'finished_at', 'dedupe', 'summary', 'failures'],
          [
            [
              run.id,
              registry,
              run.startedAt,
              run.finishedAt,
              run.dedupe,
              JSON.stringify(run.summary),
              JSON.stringify(run.failures),
            ],
          ],
        );
        for (const repository of commit.deleteRepositories) {
          await tx.run('DELETE FROM catalog_tags WHERE registry = ? AND repository = ?', [
            registry,
            repository,
          ]);
          await tx.run('DELETE FROM catalog_images WHERE registry = ? AND repository = ?', [
            registry,
            repository,
          ]);
        }
        const newImages: SqlValue[][] = [];
        const newTags: SqlValue[][] = [];
        for (const w of commit.writes) {
          for (const tag of w.deleteTags) {
            await tx.run('DELETE FROM catalog_tags WHERE registry = ? AND repository = ? AND tag = ?', [
              registry,
              w.repository,
              tag,
            ]);
          }
          for (const digest of w.deleteDigests) {
            await tx.run('DELETE FROM catalog_images WHERE registry = ? AND repository = ? AND digest = ?', [
              registry,
              w.repository,
              digest,
            ]);
          }
          for (const [tag, digest] of w.moveTags) {
            await tx.run(
              'UPDATE catalog_tags SET digest = ? WHERE registry = ? AND repository = ? AND tag = ?',
              [digest, registry, w.repository, tag],
            );
          }
          for (const image of w.updateImages) {
            const [, , digest, mediaType, platforms, pushedAt, sizeBytes] = imageValues(
              registry,
              w.repository,
              image,
            );
            await tx.run(
              'UPDATE catalog_images SET media_type = ?, platforms = ?, pushed_at = ?, size_bytes = ? WHERE registry = ? AND repository = ? AND digest = ?',
              [
                mediaType ?? null,
                platforms ?? null,
                pushedAt ?? null,
                sizeBytes ?? null,
                registry,
                w.repository,
                digest ?? null,
              ],
            );
          }
          for (const image of w.insertImages) newImages.push(imageValues(registry, w.repository, image));
          for (const [tag, digest] of w.insertTags) newTags.push([registry, w.repository, tag, digest]);
        }
        await insertMany(
          tx,
          'catalog_images',
          ['registry', 'repository', 'digest', 'media_type', 'platforms', 'pushed_at', 'size_bytes'],
          newImages,
        );
        await insertMany(tx, 'catalog_tags', ['registry', 'repository', 'tag', 'digest'], newTags);
        await insertMany(
          tx,
          'catalog_changes',
          ['run_id', 'ordinal', 'kind', 'repository', 'digest', 'tag', 'from_digest'],
          commit.changes.map((c, i) => [
            run.id,
            i,
            c.kind,
            c.repository,
            c.digest,
            c.tag ?? null,
            c.fromDigest ?? null,
          ]),
        );
        await insertMany(
          tx,
          'catalog_inventory',
          ['registry', 'digest', 'repository', 'tags', 'media_type', 'platforms', 'run_id', 'inventoried_at'],
          commit.inventory.map((e) => [
            e.registry,
            e.digest,
            e.repository,
            JSON.stringify(e.tags),
            e.mediaType ?? null,
            listOrNull(e.platforms),
            e.runId,
            e.inventoriedAt,
          ]),
        );
      });
    } catch (error) {
      if (error instanceof ConcurrentScanError) throw error;
      throw new CatalogStoreError(
        `could not commit the scan of ${registry} to ${this.location}; the stored catalog is unchanged`,
        {
          cause: error,
        },
      );
    }
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

/** The writes a scan and a batch of events share: rows of images and tags, a run with its changes, inventory. */
import type { RepositoryWrite } from '../compare.js';
import type { CatalogChange, InventoryEntry, RunRecord } from '../model.js';
import { imageValues, insertMany, listOrNull } from './rows.js';
import type { SqlExecutor, SqlValue } from './sql.js';

/** Removes every row of whole repositories. */
export async function deleteRepositories(
  tx: SqlExecutor,
  registry: string,
  repositories: readonly string[],
): Promise<void> {
  for (const repository of repositories) {
    await tx.run('DELETE FROM catalog_tags WHERE registry = ? AND repository = ?', [registry, repository]);
    await tx.run('DELETE FROM catalog_images WHERE registry = ? AND repository = ?', [registry, repository]);
  }
}

/** Applies each repository's rows: deletes first, then moves and updates, then inserts. */
export async function writeRepositories(
  tx: SqlExecutor,
  registry: string,
  writes: readonly RepositoryWrite[],
): Promise<void> {
  const newImages: SqlValue[][] = [];
  const newTags: SqlValue[][] = [];
  for (const w of writes) {
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
      await tx.run('UPDATE catalog_tags SET digest = ? WHERE registry = ? AND repository = ? AND tag = ?', [
        digest,
        registry,
        w.repository,
        tag,
      ]);
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
}

/** The run record and its changes, in order. */
export async function writeRun(
  tx: SqlExecutor,
  run: RunRecord,
  changes: readonly CatalogChange[],
  seq: number | null = null,
): Promise<void> {
  await insertMany(
    tx,
    'catalog_runs',
    ['id', 'registry', 'started_at', 'finished_at', 'dedupe', 'summary', 'failures', 'origin', 'seq'],
    [
      [
        run.id,
        run.registry,
        run.startedAt,
        run.finishedAt,
        run.dedupe,
        JSON.stringify(run.summary),
        JSON.stringify(run.failures),
        run.origin ?? 'scan',
        seq,
      ],
    ],
  );
  await insertMany(
    tx,
    'catalog_changes',
    ['run_id', 'ordinal', 'kind', 'repository', 'digest', 'tag', 'from_digest'],
    changes.map((c, i) => [run.id, i, c.kind, c.repository, c.digest, c.tag ?? null, c.fromDigest ?? null]),
  );
}

/**
 * New inventory entries. A digest already inventoried (by events while a scan ran, or by another
 * follower) keeps its first entry.
 */
export async function writeInventory(tx: SqlExecutor, entries: readonly InventoryEntry[]): Promise<void> {
  await insertMany(
    tx,
    'catalog_inventory',
    ['registry', 'digest', 'repository', 'tags', 'media_type', 'platforms', 'run_id', 'inventoried_at'],
    entries.map((e) => [
      e.registry,
      e.digest,
      e.repository,
      JSON.stringify(e.tags),
      e.mediaType ?? null,
      listOrNull(e.platforms),
      e.runId,
      e.inventoriedAt,
    ]),
    'ON CONFLICT (registry, digest) DO NOTHING',
  );
}

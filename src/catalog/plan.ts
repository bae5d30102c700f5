import { compareRepository, countChanges, removedRepository, type RepositoryWrite } from './compare.js';
import type { Span } from './events/instant.js';
import { deletedSubject, markKey, splitKey, tagSubject } from './events/plan-events.js';
import type {
  CatalogChange,
  DedupeScope,
  InventoryEntry,
  RegistryState,
  RepositoryFailure,
  RepositoryState,
  RunRecord,
  ScanSummary,
} from './model.js';
import type { ImageRecord } from './source.js';

/** Everything one scan commits, in one transaction. */
export interface RunCommit {
  readonly run: RunRecord;
  /** The store's generation of this registry the plan was made against (optimistic concurrency). */
  readonly baseGeneration: number;
  readonly writes: readonly RepositoryWrite[];
  /** Repositories no longer in the registry: every row of theirs goes. */
  readonly deleteRepositories: readonly string[];
  readonly changes: readonly CatalogChange[];
  /** Digests new to the catalog within the dedupe scope. */
  readonly inventory: readonly InventoryEntry[];
  /** The registry's event sequence when the scan read the store (events applied later are kept). */
  readonly eventSeq: number;
  /** What the scan collected per repository (for rebasing on events applied while it ran). */
  readonly collected: ReadonlyMap<string, readonly ImageRecord[]>;
  /** Repositories the scan observed (collected, or found gone) and when, on the registry's clock. */
  readonly observed?: { readonly repositories: readonly string[]; readonly span: Span };
}

export interface PlanInput {
  readonly registry: string;
  readonly runId: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly dedupe: DedupeScope;
  readonly previous: RegistryState;
  readonly baseGeneration: number;
  /** Every repository the registry listed, before filtering. */
  readonly listed: readonly string[];
  /** Listed repositories left out by the include/exclude globs. */
  readonly excluded: number;
  /** Images of each repository collected successfully. */
  readonly collected: ReadonlyMap<string, readonly ImageRecord[]>;
  /** Repositories whose collection failed: their stored state is kept as it is. */
  readonly failures: readonly RepositoryFailure[];
  /** Digests already inventoried within the dedupe scope. */
  readonly inventoried: ReadonlySet<string>;
  /** See RunCommit.eventSeq. @default 0 */
  readonly eventSeq?: number;
  /** When the scan observed the registry (its own clock); absent: nothing is recorded. */
  readonly span?: Span;
}

/**
 * Works out what a scan changes. Pure: the same input gives the same commit.
 *
 * - A repository whose collection failed is left as stored (reported, never taken as removed).
 * - A repository excluded by the globs but still listed is left as stored (not observed this time).
 * - A stored repository the registry no longer lists is removed.
 * - A digest is inventoried once per scope, however many repositories or tags point at it.
 */
export function planRun(input: PlanInput): RunCommit {
  const changes: CatalogChange[] = [];
  const writes: RepositoryWrite[] = [];
  const listed = new Set(input.listed);
  const deleteRepositories = [...input.previous.keys()].filter((r) => !listed.has(r)).sort();
  for (const repository of deleteRepositories) {
    const state = input.previous.get(repository);
    if (state) changes.push(...removedRepository(repository, state));
  }
  const repositories = [...input.collected.keys()].sort();
  const inventory: InventoryEntry[] = [];
  const inventoriedNow = new Set<string>();
  let images = 0;
  let tags = 0;
  for (const repository of repositories) {
    const current = input.collected.get(repository) ?? [];
    const result = compareRepository(repository, input.previous.get(repository), current);
    changes.push(...result.changes);
    if (result.write) writes.push(result.write);
    for (const image of current) {
      images += 1;
      tags += image.tags.length;
      if (input.inventoried.has(image.digest) || inventoriedNow.has(image.digest)) continue;
      inventoriedNow.add(image.digest);
      inventory.push({
        registry: input.registry,
        digest: image.digest,
        repository,
        tags: [...image.tags].sort(),
        mediaType: image.mediaType,
        platforms: image.platforms,
        runId: input.runId,
        inventoriedAt: input.finishedAt,
      });
    }
  }
  const summary: ScanSummary = {
    repositories: repositories.length + input.failures.length,
    images,
    tags,
    ...countChanges(changes),
    inventoried: inventory.length,
    excluded: input.excluded,
    failed: input.failures.length,
  };
  return {
    run: {
      id: input.runId,
      registry: input.registry,
      startedAt: input.startedAt,
      finishedAt: input.finishedAt,
      dedupe: input.dedupe,
      summary,
      failures: input.failures,
    },
    baseGeneration: input.baseGeneration,
    writes,
    deleteRepositories,
    changes,
    inventory,
    eventSeq: input.eventSeq ?? 0,
    collected: input.collected,
    ...(input.span
      ? { observed: { repositories: [...repositories, ...deleteRepositories].sort(), span: input.span } }
      : {}),
  };
}

function summaryOf(commit: RunCommit, changes: readonly CatalogChange[]): ScanSummary {
  return { ...commit.run.summary, ...countChanges(changes) };
}

/**
 * What a scan saw of one repository, with every tag or image an event wrote while the scan ran
 * (`touched`, as markKeys) taken from the store instead: the scan may have looked before the event
 * happened. An image an event deleted keeps none of the tags the scan saw on it.
 */
function mergeWithEvents(
  repository: string,
  scanned: readonly ImageRecord[],
  current: RepositoryState | undefined,
  touched: ReadonlySet<string>,
): ImageRecord[] {
  const tagTouched = (tag: string): boolean => touched.has(markKey(repository, tagSubject(tag)));
  const tags = new Map<string, string>();
  const details = new Map<string, ImageRecord>();
  for (const image of scanned) {
    details.set(image.digest, image);
    for (const tag of image.tags) if (!tagTouched(tag)) tags.set(tag, image.digest);
  }
  for (const image of current?.images.values() ?? []) {
    if (!details.has(image.digest)) details.set(image.digest, image);
    for (const tag of image.tags) if (tagTouched(tag)) tags.set(tag, image.digest);
  }
  for (const [tag, digest] of [...tags]) {
    const deletedByEvent =
      touched.has(markKey(repository, deletedSubject(digest))) && !current?.images.has(digest);
    if (deletedByEvent) tags.delete(tag);
  }
  const byDigest = new Map<string, string[]>();
  for (const [tag, digest] of tags) byDigest.set(digest, [...(byDigest.get(digest) ?? []), tag]);
  return [...byDigest].map(([digest, list]) => ({
    ...(details.get(digest) ?? { digest }),
    digest,
    tags: list.sort(),
  }));
}

/**
 * A scan commit rebased on batches of events applied while the scan ran. Each repository such a
 * batch wrote is compared again, from what the store holds now (`current`) to what the scan saw
 * merged with what the events wrote (see mergeWithEvents), so the scan reports only what the events
 * did not, and never overwrites an event newer than its own look. Other repositories are as planned.
 * Pure.
 */
export function rebaseOnEvents(
  commit: RunCommit,
  touched: ReadonlySet<string>,
  current: RegistryState,
): RunCommit {
  const deleted = new Set(commit.deleteRepositories);
  const rebased = new Set<string>();
  for (const key of touched) {
    const repository = splitKey(key)[0];
    // Repositories the scan did not read (failed, excluded) it leaves alone anyway.
    if (commit.collected.has(repository) || deleted.has(repository)) rebased.add(repository);
  }
  if (rebased.size === 0) return commit;
  const changes = commit.changes.filter((c) => !rebased.has(c.repository));
  const writes = commit.writes.filter((w) => !rebased.has(w.repository));
  for (const repository of [...rebased].sort()) {
    const merged = mergeWithEvents(
      repository,
      commit.collected.get(repository) ?? [],
      current.get(repository),
      touched,
    );
    const result = compareRepository(repository, current.get(repository), merged);
    changes.push(...result.changes);
    if (result.write) writes.push(result.write);
  }
  return {
    ...commit,
    run: { ...commit.run, summary: summaryOf(commit, changes) },
    writes,
    deleteRepositories: commit.deleteRepositories.filter((r) => !rebased.has(r)),
    changes,
  };
}

import { compareRepository, removedRepository, type RepositoryWrite } from './compare.js';
import type { Span } from './events/instant.js';
import { imageSubject, markKey, tagSubject } from './events/plan-events.js';
import type {
  CatalogChange,
  DedupeScope,
  InventoryEntry,
  RegistryState,
  RepositoryFailure,
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
  const count = (kind: CatalogChange['kind']): number => changes.filter((c) => c.kind === kind).length;
  const summary: ScanSummary = {
    repositories: repositories.length + input.failures.length,
    images,
    tags,
    added: count('image-added'),
    removed: count('image-removed'),
    moved: count('tag-moved'),
    tagsAdded: count('tag-added'),
    tagsRemoved: count('tag-removed'),
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
    ...(input.span
      ? { observed: { repositories: [...repositories, ...deleteRepositories].sort(), span: input.span } }
      : {}),
  };
}

function summaryOf(commit: RunCommit, changes: readonly CatalogChange[]): ScanSummary {
  const count = (kind: CatalogChange['kind']): number => changes.filter((c) => c.kind === kind).length;
  return {
    ...commit.run.summary,
    added: count('image-added'),
    removed: count('image-removed'),
    moved: count('tag-moved'),
    tagsAdded: count('tag-added'),
    tagsRemoved: count('tag-removed'),
  };
}

/**
 * A scan commit rebased on events applied while the scan ran: every tag or image an event wrote
 * (`touched`, as markKeys) keeps what the event wrote, since the scan may have looked before the
 * event happened; the scan's other writes stand. Whole repositories the scan found gone lose only
 * their untouched rows. The store then drops images left without tags. Pure.
 */
export function rebaseOnEvents(commit: RunCommit, touched: ReadonlySet<string>): RunCommit {
  if (touched.size === 0) return commit;
  const tagTouched = (repository: string, tag: string): boolean =>
    touched.has(markKey(repository, tagSubject(tag)));
  const imageTouched = (repository: string, digest: string): boolean =>
    touched.has(markKey(repository, imageSubject(digest)));
  const affected = (repository: string): boolean =>
    [...touched].some((key) => key.startsWith(`${repository}\n`));

  const changes = commit.changes.filter((c) =>
    c.tag === undefined
      ? !imageTouched(c.repository, c.digest)
      : !tagTouched(c.repository, c.tag) && !imageTouched(c.repository, c.digest),
  );
  const writes: RepositoryWrite[] = [];
  const deleteRepositories: string[] = [];
  for (const repository of commit.deleteRepositories) {
    if (!affected(repository)) {
      deleteRepositories.push(repository);
      continue;
    }
    // Gone from the listing, yet events wrote some of it since: remove only the rest.
    const removed = commit.changes.filter((c) => c.repository === repository);
    writes.push({
      repository,
      insertImages: [],
      updateImages: [],
      deleteDigests: removed
        .filter((c) => c.kind === 'image-removed' && !imageTouched(repository, c.digest))
        .map((c) => c.digest),
      insertTags: [],
      moveTags: [],
      deleteTags: removed
        .filter((c) => c.kind === 'tag-removed' && c.tag !== undefined && !tagTouched(repository, c.tag))
        .map((c) => c.tag ?? ''),
    });
  }
  for (const w of commit.writes) {
    const r = w.repository;
    const tagOk = ([tag, digest]: readonly [string, string]): boolean =>
      !tagTouched(r, tag) && !imageTouched(r, digest);
    writes.push({
      repository: r,
      insertImages: w.insertImages.filter((i) => !imageTouched(r, i.digest)),
      updateImages: w.updateImages.filter((i) => !imageTouched(r, i.digest)),
      deleteDigests: w.deleteDigests.filter((d) => !imageTouched(r, d)),
      insertTags: w.insertTags.filter(tagOk),
      moveTags: w.moveTags.filter(tagOk),
      deleteTags: w.deleteTags.filter((t) => !tagTouched(r, t)),
    });
  }
  return {
    ...commit,
    run: { ...commit.run, summary: summaryOf(commit, changes) },
    writes,
    deleteRepositories,
    changes,
  };
}

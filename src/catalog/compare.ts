import type { CatalogChange, RepositoryState, ScanSummary } from './model.js';
import type { ImageRecord } from './source.js';

/** The rows to write for one repository so the store matches what the registry shows now. */
export interface RepositoryWrite {
  readonly repository: string;
  /** Images new to this repository. */
  readonly insertImages: readonly ImageRecord[];
  /** Images still present whose details (media type, platforms, push time, size) changed. */
  readonly updateImages: readonly ImageRecord[];
  readonly deleteDigests: readonly string[];
  /** Tags new to this repository, with their digest. */
  readonly insertTags: readonly (readonly [tag: string, digest: string])[];
  /** Tags that now point at another digest, with the new digest. */
  readonly moveTags: readonly (readonly [tag: string, digest: string])[];
  readonly deleteTags: readonly string[];
}

export interface RepositoryComparison {
  readonly changes: readonly CatalogChange[];
  /** Undefined when nothing needs writing (the common case of a warm scan). */
  readonly write?: RepositoryWrite;
}

const EMPTY: RepositoryState = { images: new Map() };

function tagIndex(images: Iterable<ImageRecord>): Map<string, string> {
  const tags = new Map<string, string>();
  for (const image of images) for (const tag of image.tags) tags.set(tag, image.digest);
  return tags;
}

function sameDetails(a: ImageRecord, b: ImageRecord): boolean {
  return (
    a.mediaType === b.mediaType &&
    a.pushedAt === b.pushedAt &&
    a.sizeBytes === b.sizeBytes &&
    (a.platforms ?? []).join('\n') === (b.platforms ?? []).join('\n')
  );
}

/**
 * Compares what the store holds for one repository with what the registry shows now: images added and
 * removed, tags added and removed, and tags moved from one digest to another.
 */
export function compareRepository(
  repository: string,
  previous: RepositoryState | undefined,
  current: readonly ImageRecord[],
): RepositoryComparison {
  const before = previous ?? EMPTY;
  const now = new Map<string, ImageRecord>();
  for (const image of current) {
    const seen = now.get(image.digest);
    // A source should give one record per digest; merge tags defensively if it does not.
    now.set(image.digest, seen ? { ...seen, tags: [...new Set([...seen.tags, ...image.tags])] } : image);
  }
  const changes: CatalogChange[] = [];
  const insertImages: ImageRecord[] = [];
  const updateImages: ImageRecord[] = [];
  const deleteDigests: string[] = [];
  for (const [digest, image] of now) {
    const old = before.images.get(digest);
    if (!old) {
      insertImages.push(image);
      changes.push({ kind: 'image-added', repository, digest });
    } else if (!sameDetails(old, image)) {
      updateImages.push(image);
    }
  }
  for (const digest of before.images.keys()) {
    if (!now.has(digest)) {
      deleteDigests.push(digest);
      changes.push({ kind: 'image-removed', repository, digest });
    }
  }
  const oldTags = tagIndex(before.images.values());
  const newTags = tagIndex(now.values());
  const insertTags: [string, string][] = [];
  const moveTags: [string, string][] = [];
  const deleteTags: string[] = [];
  for (const [tag, digest] of newTags) {
    const was = oldTags.get(tag);
    if (was === undefined) {
      insertTags.push([tag, digest]);
      changes.push({ kind: 'tag-added', repository, digest, tag });
    } else if (was !== digest) {
      moveTags.push([tag, digest]);
      changes.push({ kind: 'tag-moved', repository, digest, tag, fromDigest: was });
    }
  }
  for (const [tag, digest] of oldTags) {
    if (!newTags.has(tag)) {
      deleteTags.push(tag);
      changes.push({ kind: 'tag-removed', repository, digest, tag });
    }
  }
  const dirty =
    insertImages.length +
      updateImages.length +
      deleteDigests.length +
      insertTags.length +
      moveTags.length +
      deleteTags.length >
    0;
  return {
    changes,
    write: dirty
      ? { repository, insertImages, updateImages, deleteDigests, insertTags, moveTags, deleteTags }
      : undefined,
  };
}

/** Every change of a repository that disappeared from the registry: all its images and tags removed. */
export function removedRepository(repository: string, previous: RepositoryState): CatalogChange[] {
  const changes: CatalogChange[] = [];
  for (const image of previous.images.values()) {
    changes.push({ kind: 'image-removed', repository, digest: image.digest });
    for (const tag of image.tags)
      changes.push({ kind: 'tag-removed', repository, digest: image.digest, tag });
  }
  return changes;
}

/** The counts of a summary that come from the changes themselves. */
export function countChanges(
  changes: readonly CatalogChange[],
): Pick<ScanSummary, 'added' | 'removed' | 'moved' | 'tagsAdded' | 'tagsRemoved'> {
  const count = (kind: CatalogChange['kind']): number => changes.filter((c) => c.kind === kind).length;
  return {
    added: count('image-added'),
    removed: count('image-removed'),
    moved: count('tag-moved'),
    tagsAdded: count('tag-added'),
    tagsRemoved: count('tag-removed'),
  };
}

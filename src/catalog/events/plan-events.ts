/**
 * Turns a batch of registry events into the catalog change a scan would make. Pure: the caller
 * hands it what the store holds for the repositories concerned (`EventView`) and what it already
 * looked up in the registry (`Lookups`); the plan either names the lookups it still needs, or is a
 * commit. The caller looks those up and plans again (see ./apply.ts).
 *
 * How an event is judged, per subject (a tag, or an image by digest, of one repository):
 * - its *mark* is when the catalog last learnt about the subject, on the registry's clock: the
 *   instant of the last event applied to it, the span of a registry lookup, or else the span of the
 *   last scan that observed the repository;
 * - an event after the mark is applied; before it, it is stale and kept out; within it (the scan or
 *   lookup may or may not have seen it), one lookup of the tag (or image) settles the state.
 * Duplicates (same event id) and repositories excluded by the globs change nothing.
 */
import { compareRepository, countChanges, type RepositoryWrite } from '../compare.js';
import type { RepositoryFilter } from '../filter.js';
import type { CatalogChange, DedupeScope, InventoryEntry, RegistryState, RunRecord } from '../model.js';
import type { ImageRecord } from '../source.js';
import { orderOf, type Instant, type Span } from './instant.js';
import {
  EventOutcome,
  RejectReason,
  type OutcomeCounts,
  type RegistryEvent,
  type Rejection,
} from './model.js';

/** Media type, platforms, size and push time of an image, without digest and tags. */
export type ImageDetails = Omit<ImageRecord, 'digest' | 'tags'>;

/** A details lookup that found no usable image: gone since the event, or unreadable. */
export type DetailsFailure = { readonly gone: true } | { readonly unreadable: string };

/** What the store holds that a batch of events concerns. */
export interface EventView {
  readonly registry: string;
  /** The stored state of each repository the batch names (absent: empty). */
  readonly repositories: RegistryState;
  /** Explicit marks by `markKey(repository, subject)`. */
  readonly marks: ReadonlyMap<string, Span>;
  /** Span of the last scan that observed each repository. */
  readonly observed: ReadonlyMap<string, Span>;
  /** Ids of the batch already applied. */
  readonly seen: ReadonlySet<string>;
  /** Stored details of the batch's digests, from any repository of the registry. */
  readonly known: ReadonlyMap<string, ImageRecord>;
  /** The batch's digests already inventoried within the dedupe scope. */
  readonly inventoried: ReadonlySet<string>;
}

/** What the caller looked up in the registry, keyed by `lookupKey(repository, tag-or-digest)`. */
export interface Lookups {
  /** When the lookups were made, on the registry's clock. */
  readonly span?: Span;
  /** Where a tag points now (null: no such tag). */
  readonly tags: ReadonlyMap<string, string | null>;
  /** Whether an image exists now. */
  readonly images: ReadonlyMap<string, boolean>;
  readonly details: ReadonlyMap<string, ImageDetails | DetailsFailure>;
}

export interface LookupNeeds {
  readonly tags: ReadonlySet<string>;
  readonly images: ReadonlySet<string>;
  readonly details: ReadonlySet<string>;
}

/** Everything one batch commits, in one transaction. */
export interface EventCommit {
  readonly registry: string;
  /** The run record of the batch; absent when it changed nothing. */
  readonly run?: RunRecord;
  readonly writes: readonly RepositoryWrite[];
  readonly changes: readonly CatalogChange[];
  readonly inventory: readonly InventoryEntry[];
  readonly marks: readonly (readonly [repository: string, subject: string, span: Span])[];
  readonly eventIds: readonly string[];
  readonly counts: OutcomeCounts;
  readonly rejections: readonly Rejection[];
  /** Each event's outcome by id (a rejected event is absent). */
  readonly outcomes: ReadonlyMap<string, EventOutcome>;
}

export interface EventPlanInput {
  readonly view: EventView;
  readonly events: readonly RegistryEvent[];
  readonly lookups: Lookups;
  /**
   * 'registry': details are content-addressed and valid in every repository (OCI registries);
   * 'repository': they are per repository (ECR gives each repository its own push time).
   */
  readonly detailsScope: 'registry' | 'repository';
  readonly filter: RepositoryFilter;
  readonly dedupe: DedupeScope;
  readonly runId: string;
  /** ISO time of the commit, on the local clock (run record and inventory). */
  readonly now: string;
}

export type EventPlan =
  | { readonly kind: 'needs'; readonly needs: LookupNeeds }
  | { readonly kind: 'commit'; readonly commit: EventCommit };

export const EMPTY_LOOKUPS: Lookups = { tags: new Map(), images: new Map(), details: new Map() };

export function markKey(repository: string, subject: string): string {
  return `${repository}\n${subject}`;
}

export function lookupKey(repository: string, reference: string): string {
  return `${repository}\n${reference}`;
}

/** Splits a markKey or lookupKey. */
export function splitKey(key: string): [repository: string, rest: string] {
  const at = key.indexOf('\n');
  return [key.slice(0, at), key.slice(at + 1)];
}

/** Mark of a tag: when the catalog last learnt where it points (or that it is gone). */
export const tagSubject = (tag: string): string => `t:${tag}`;
/** Mark of an image: when it was last deleted (a push older than that lost its tag to it). */
export const deletedSubject = (digest: string): string => `x:${digest}`;

const point = (at: Instant): Span => ({ lo: at, hi: at });

interface Working {
  readonly tags: Map<string, string>;
  readonly details: Map<string, ImageDetails>;
}

/** Result of one event: an outcome, a rejection, or waiting for lookups. */
type Step = EventOutcome | Rejection | 'pending';

function detailsOf(image: ImageRecord): ImageDetails {
  return {
    ...(image.mediaType !== undefined ? { mediaType: image.mediaType } : {}),
    ...(image.platforms !== undefined ? { platforms: image.platforms } : {}),
    ...(image.pushedAt !== undefined ? { pushedAt: image.pushedAt } : {}),
    ...(image.sizeBytes !== undefined ? { sizeBytes: image.sizeBytes } : {}),
  };
}

function isFailure(value: ImageDetails | DetailsFailure): value is DetailsFailure {
  return 'gone' in value || 'unreadable' in value;
}

/** Plans a batch; see the module comment. */
export function planEvents(input: EventPlanInput): EventPlan {
  const { view, lookups } = input;
  const work = new Map<string, Working>();
  const newMarks = new Map<string, Span>();
  const needs = { tags: new Set<string>(), images: new Set<string>(), details: new Set<string>() };
  const seen = new Set(view.seen);

  const working = (repository: string): Working => {
    let w = work.get(repository);
    if (!w) {
      const tags = new Map<string, string>();
      const details = new Map<string, ImageDetails>();
      for (const image of view.repositories.get(repository)?.images.values() ?? []) {
        details.set(image.digest, detailsOf(image));
        for (const tag of image.tags) tags.set(tag, image.digest);
      }
      w = { tags, details };
      work.set(repository, w);
    }
    return w;
  };
  const explicitMark = (repository: string, subject: string): Span | undefined => {
    const key = markKey(repository, subject);
    return newMarks.get(key) ?? view.marks.get(key);
  };
  const markOf = (repository: string, subject: string): Span | undefined =>
    explicitMark(repository, subject) ?? view.observed.get(repository);
  const setMark = (repository: string, subject: string, span: Span): void => {
    newMarks.set(markKey(repository, subject), span);
  };
  const orderAgainst = (at: Instant, repository: string, subject: string) => {
    const mark = markOf(repository, subject);
    return mark ? orderOf(at, mark) : 'after';
  };

  // Content-addressed details are looked up once per digest, in whichever repository asked first.
  const shared = input.detailsScope === 'registry';
  const detailKeys = new Map<string, string>();
  if (shared) for (const key of lookups.details.keys()) detailKeys.set(splitKey(key)[1], key);

  /** Details of a digest for a repository: stored, looked up, or needed. */
  const detailsFor = (repository: string, digest: string): ImageDetails | DetailsFailure | 'pending' => {
    const kept = working(repository).details.get(digest);
    if (kept) return kept;
    const stored = shared ? view.known.get(digest) : undefined;
    if (stored) return detailsOf(stored);
    const own = lookupKey(repository, digest);
    const sharedKey = shared ? detailKeys.get(digest) : undefined;
    const borrowed = sharedKey === undefined ? undefined : lookups.details.get(sharedKey);
    // Details read in another repository serve here; that it was gone there says nothing of this one.
    if (borrowed && !(isFailure(borrowed) && 'gone' in borrowed)) return borrowed;
    const looked = lookups.details.get(own);
    if (looked) return looked;
    const key = sharedKey !== undefined && borrowed === undefined ? sharedKey : own;
    needs.details.add(key);
    if (shared && sharedKey === undefined) detailKeys.set(digest, key);
    return 'pending';
  };

  /** Records that an image was deleted at `span` (the latest deletion known is kept). */
  const markDeleted = (repository: string, digest: string, span: Span): void => {
    const known = explicitMark(repository, deletedSubject(digest));
    if (!known || known.hi < span.hi) setMark(repository, deletedSubject(digest), span);
  };

  /**
   * An image deleted at `span`: the registry removed every tag that pointed at it then. A tag the
   * catalog last learnt of before goes, its mark unchanged (it may have moved elsewhere in between,
   * and that event, when it comes, still counts); one learnt of after stays (pushed again since); one
   * whose mark overlaps, or any tag when the deletion is only known from a lookup, is looked up.
   * Returns whether the catalog changed, or 'pending'.
   */
  const deleteImageAt = (repository: string, digest: string, span: Span): boolean | 'pending' => {
    const w = working(repository);
    markDeleted(repository, digest, span);
    let changed = false;
    let pending = false;
    for (const [tag, target] of [...w.tags]) {
      if (target !== digest) continue;
      const mark = markOf(repository, tagSubject(tag));
      const order = mark ? orderOf(span.hi, mark) : 'after';
      if (order === 'before') continue; // pointed at it again after the deletion
      if (order === 'overlaps' || span.lo !== span.hi) {
        // Either side is uncertain: ask where the tag points now.
        const settled = settleTag(repository, tag);
        if (settled === 'pending') pending = true;
        else changed = true;
        continue;
      }
      w.tags.delete(tag);
      changed = true;
    }
    if (![...w.tags.values()].includes(digest)) w.details.delete(digest);
    return pending ? 'pending' : changed;
  };

  /** Points a tag at a digest (or removes it, for null); 'pending' until the digest's details are known. */
  const setTag = (
    repository: string,
    tag: string,
    digest: string | null,
    span: Span,
  ): boolean | Rejection | 'gone' | 'pending' => {
    const w = working(repository);
    const before = w.tags.get(tag);
    if (digest === null) {
      w.tags.delete(tag);
      setMark(repository, tagSubject(tag), span);
      return before !== undefined;
    }
    const details = detailsFor(repository, digest);
    if (details === 'pending') return 'pending';
    if (isFailure(details)) {
      if ('gone' in details) return 'gone';
      return {
        reason: RejectReason.UnreadableImage,
        detail: `${repository}@${digest}: ${details.unreadable}`,
      };
    }
    w.tags.set(tag, digest);
    w.details.set(digest, details);
    setMark(repository, tagSubject(tag), span);
    return before !== digest;
  };

  /** Settles a tag with the registry's answer: where it points now. */
  function settleTag(repository: string, tag: string): Step {
    const key = lookupKey(repository, tag);
    if (!lookups.tags.has(key) || !lookups.span) {
      needs.tags.add(key);
      return 'pending';
    }
    const result = setTag(repository, tag, lookups.tags.get(key) ?? null, lookups.span);
    if (result === 'pending') return 'pending';
    if (result === 'gone') {
      // Deleted between the tag lookup and the manifest read: the tag went with it.
      setTag(repository, tag, null, lookups.span);
      return EventOutcome.Settled;
    }
    if (typeof result === 'object') return result;
    return EventOutcome.Settled;
  }

  /** Settles an image with the registry's answer: whether it exists now. */
  const settleImage = (repository: string, digest: string): Step => {
    const key = lookupKey(repository, digest);
    if (!lookups.images.has(key) || !lookups.span) {
      needs.images.add(key);
      return 'pending';
    }
    if (lookups.images.get(key)) return EventOutcome.Settled;
    return deleteImageAt(repository, digest, lookups.span) === 'pending' ? 'pending' : EventOutcome.Settled;
  };

  const push = (e: RegistryEvent & { digest: string; tag: string }): Step => {
    const w = working(e.repository);
    const order = orderAgainst(e.at, e.repository, tagSubject(e.tag));
    if (order === 'before') return EventOutcome.Stale;
    if (order === 'overlaps') {
      return w.tags.get(e.tag) === e.digest ? EventOutcome.Unchanged : settleTag(e.repository, e.tag);
    }
    // Newer than what the catalog knows of the tag; but was the image deleted after this push?
    const deleted = explicitMark(e.repository, deletedSubject(e.digest));
    const sinceDeleted = deleted ? orderOf(e.at, deleted) : 'after';
    if (sinceDeleted === 'overlaps') return settleTag(e.repository, e.tag);
    if (sinceDeleted === 'before') {
      // The deletion took this tag with it (unless it moved on in between: that event still counts).
      const had = w.tags.has(e.tag);
      setTag(e.repository, e.tag, null, point(e.at));
      return had ? EventOutcome.Applied : EventOutcome.Unchanged;
    }
    const result = setTag(e.repository, e.tag, e.digest, point(e.at));
    if (result === 'pending') return 'pending';
    if (result === 'gone') return settleTag(e.repository, e.tag);
    if (typeof result === 'object') return result;
    return result ? EventOutcome.Applied : EventOutcome.Unchanged;
  };

  const deleteTag = (e: RegistryEvent & { tag: string }): Step => {
    const w = working(e.repository);
    const order = orderAgainst(e.at, e.repository, tagSubject(e.tag));
    if (order === 'before') return EventOutcome.Stale;
    if (order === 'overlaps') {
      return w.tags.has(e.tag) ? settleTag(e.repository, e.tag) : EventOutcome.Unchanged;
    }
    const was = w.tags.get(e.tag);
    setTag(e.repository, e.tag, null, point(e.at));
    // ECR: deleting by digest may announce one tag; if the image keeps others, ask whether it survived.
    const digest = e.checkImage ? (e.digest ?? was) : undefined;
    if (digest && [...w.tags.values()].includes(digest)) {
      if (settleImage(e.repository, digest) === 'pending') return 'pending';
    }
    return was === undefined ? EventOutcome.Unchanged : EventOutcome.Applied;
  };

  const deleteImage = (e: RegistryEvent & { digest: string }): Step => {
    const result = deleteImageAt(e.repository, e.digest, point(e.at));
    if (result === 'pending') return 'pending';
    return result ? EventOutcome.Applied : EventOutcome.Unchanged;
  };

  const step = (e: RegistryEvent): Step => {
    if (!input.filter(e.repository)) return EventOutcome.Excluded;
    if (seen.has(e.id)) return EventOutcome.Duplicate;
    if (e.action === 'push' && e.tag !== undefined && e.digest !== undefined) {
      return push({ ...e, tag: e.tag, digest: e.digest });
    }
    if (e.action === 'delete' && e.tag !== undefined) return deleteTag({ ...e, tag: e.tag });
    if (e.action === 'delete' && e.digest !== undefined) return deleteImage({ ...e, digest: e.digest });
    return EventOutcome.Ignored;
  };

  // Oldest first (stable for equal instants), so a batch holding a tag's whole history ends right.
  const ordered = input.events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => (a.e.at < b.e.at ? -1 : a.e.at > b.e.at ? 1 : a.i - b.i));
  const outcomes = new Map<string, EventOutcome>();
  const rejections: Rejection[] = [];
  const counts: Record<string, number> = {};
  const eventIds: string[] = [];
  for (const { e } of ordered) {
    const result = step(e);
    if (result === 'pending') continue;
    if (typeof result === 'object') {
      rejections.push(result);
      continue;
    }
    outcomes.set(e.id, result);
    counts[result] = (counts[result] ?? 0) + 1;
    if (result !== EventOutcome.Duplicate && result !== EventOutcome.Excluded) {
      seen.add(e.id);
      eventIds.push(e.id);
    }
  }
  if (needs.tags.size + needs.images.size + needs.details.size > 0) return { kind: 'needs', needs };
  return {
    kind: 'commit',
    commit: assemble(input, work, newMarks, { outcomes, rejections, counts, eventIds }),
  };
}

function assemble(
  input: EventPlanInput,
  work: ReadonlyMap<string, Working>,
  newMarks: ReadonlyMap<string, Span>,
  results: {
    outcomes: Map<string, EventOutcome>;
    rejections: Rejection[];
    counts: Record<string, number>;
    eventIds: string[];
  },
): EventCommit {
  const { view } = input;
  const changes: CatalogChange[] = [];
  const writes: RepositoryWrite[] = [];
  const inventory: InventoryEntry[] = [];
  const inventoried = new Set(view.inventoried);
  let images = 0;
  let tags = 0;
  for (const repository of [...work.keys()].sort()) {
    const w = work.get(repository);
    if (!w) continue;
    const byDigest = new Map<string, string[]>();
    for (const [tag, digest] of w.tags) byDigest.set(digest, [...(byDigest.get(digest) ?? []), tag]);
    const after: ImageRecord[] = [...byDigest]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([digest, list]) => ({ digest, tags: list.sort(), ...w.details.get(digest) }));
    images += after.length;
    tags += w.tags.size;
    const result = compareRepository(repository, view.repositories.get(repository), after);
    changes.push(...result.changes);
    if (result.write) writes.push(result.write);
    for (const change of result.changes) {
      if (change.kind !== 'image-added' || inventoried.has(change.digest)) continue;
      inventoried.add(change.digest);
      const image = after.find((i) => i.digest === change.digest);
      inventory.push({
        registry: view.registry,
        digest: change.digest,
        repository,
        tags: image?.tags ?? [],
        mediaType: image?.mediaType,
        platforms: image?.platforms,
        runId: input.runId,
        inventoriedAt: input.now,
      });
    }
  }
  const run: RunRecord | undefined =
    changes.length === 0
      ? undefined
      : {
          id: input.runId,
          origin: 'events',
          registry: view.registry,
          startedAt: input.now,
          finishedAt: input.now,
          dedupe: input.dedupe,
          summary: {
            repositories: work.size,
            images,
            tags,
            ...countChanges(changes),
            inventoried: inventory.length,
            excluded: results.counts[EventOutcome.Excluded] ?? 0,
            failed: results.rejections.length,
          },
          failures: [],
        };
  return {
    registry: view.registry,
    ...(run ? { run } : {}),
    writes,
    changes,
    inventory,
    marks: [...newMarks].map(([key, span]) => {
      const [repository, subject] = splitKey(key);
      return [repository, subject, span] as const;
    }),
    eventIds: results.eventIds,
    counts: results.counts,
    rejections: results.rejections,
    outcomes: results.outcomes,
  };
}

import { randomUUID } from 'node:crypto';
import { CatalogInputError, RegistryScanError } from './errors.js';
import { instantOf, joinSpans, shiftInstant, type Span } from './events/instant.js';
import { repositoryFilter } from './filter.js';
import type { CatalogChange, DedupeScope, InventoryEntry, RepositoryFailure, RunRecord } from './model.js';
import { mapWithConcurrency } from '../fanout/concurrency.js';
import { planRun } from './plan.js';
import type { ImageRecord, KnownImages, RegistrySource } from './source.js';
import type { CatalogStore } from './store/store.js';

export const DEFAULT_CONCURRENCY = 24;
export const MAX_CONCURRENCY = 256;

export interface ScanProgress {
  readonly total: number;
  readonly done: number;
  readonly repository?: string;
}

export interface ScanOptions {
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  /** Repositories collected at the same time. @default 24 */
  readonly concurrency?: number;
  /** @default 'registry' */
  readonly dedupe?: DedupeScope;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ScanProgress) => void;
  /** Injectable clock and id, for tests. */
  readonly now?: () => Date;
  readonly newRunId?: () => string;
}

export interface ScanResult {
  readonly run: RunRecord;
  readonly changes: readonly CatalogChange[];
  readonly inventoried: readonly InventoryEntry[];
}

function checkConcurrency(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_CONCURRENCY) {
    throw new CatalogInputError(
      `concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, got ${value}`,
    );
  }
  return value;
}

/**
 * How far the local clock may be from a registry's, when a source cannot tell the registry's time:
 * an event within this margin of a scan is checked with one lookup instead of trusted.
 */
export const LOCAL_CLOCK_MARGIN_MS = 2000;

/** When the registry is at now: its own clock if the source can tell, else the local clock ± margin. */
export async function registryNow(
  source: Pick<RegistrySource, 'registryTime'>,
  now: () => Date,
  signal?: AbortSignal,
): Promise<Span> {
  let told: Span | undefined;
  try {
    told = await source.registryTime?.(signal);
  } catch {
    // An unreadable clock is no reason to fail the scan: fall back to ours.
    signal?.throwIfAborted();
  }
  if (told) return told;
  const at = instantOf(now());
  return { lo: shiftInstant(at, -LOCAL_CLOCK_MARGIN_MS), hi: shiftInstant(at, LOCAL_CLOCK_MARGIN_MS) };
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A source may leave out the details of a digest the catalog already knows (to skip a manifest GET on
 * a warm scan). Manifests are content-addressed, so the stored details still hold: fill them in,
 * keeping whatever the source did report.
 */
export function withKnownDetails(image: ImageRecord, known: ImageRecord | undefined): ImageRecord {
  if (!known) return image;
  return {
    ...image,
    ...(image.mediaType === undefined && known.mediaType !== undefined ? { mediaType: known.mediaType } : {}),
    ...(image.platforms === undefined && known.platforms !== undefined ? { platforms: known.platforms } : {}),
    ...(image.pushedAt === undefined && known.pushedAt !== undefined ? { pushedAt: known.pushedAt } : {}),
    ...(image.sizeBytes === undefined && known.sizeBytes !== undefined ? { sizeBytes: known.sizeBytes } : {}),
  };
}

/**
 * Scans one registry and commits the result: discover repositories, collect each one's images with
 * bounded concurrency, compare with the stored catalog, dedupe by digest and inventory what is new.
 * A repository that fails is reported and keeps its stored state; if the repositories cannot be listed
 * at all, nothing is committed.
 */
export async function scanRegistry(
  source: RegistrySource,
  store: CatalogStore,
  options: ScanOptions = {},
): Promise<ScanResult> {
  const concurrency = checkConcurrency(options.concurrency ?? DEFAULT_CONCURRENCY);
  const dedupe = options.dedupe ?? 'registry';
  const now = options.now ?? (() => new Date());
  const filter = repositoryFilter(options.include, options.exclude);
  const startedAt = now().toISOString();
  const signal = options.signal;

  const [stored, inventoried] = await Promise.all([
    store.load(source.registry),
    store.inventoriedDigests(source.registry, dedupe),
  ]);
  // What the scan observed, it observed after this (and before `observedUntil`): events stamped
  // within that span may or may not be in what it saw.
  const observedFrom = await registryNow(source, now, signal);
  let listed: string[];
  try {
    listed = [...new Set(await source.listRepositories(signal))].sort();
  } catch (error) {
    signal?.throwIfAborted();
    throw new RegistryScanError(source.registry, { cause: error });
  }
  const included = listed.filter(filter);
  const byDigest = new Map<string, ImageRecord>();
  for (const repo of stored.state.values())
    for (const [digest, image] of repo.images) byDigest.set(digest, image);
  const describe = (digest: string): ImageRecord | undefined => byDigest.get(digest);

  const collected = new Map<string, readonly ImageRecord[]>();
  const failures: RepositoryFailure[] = [];
  let done = 0;
  options.onProgress?.({ total: included.length, done });
  await mapWithConcurrency(
    included,
    concurrency,
    async (repository) => {
      const previous = stored.state.get(repository);
      const tagDigests = new Map<string, string>();
      for (const image of previous?.images.values() ?? []) {
        for (const tag of image.tags) tagDigests.set(tag, image.digest);
      }
      const known: KnownImages = { tagDigests, describe };
      try {
        const images = await source.listImages(repository, signal, known);
        collected.set(
          repository,
          images.map((image) => withKnownDetails(image, describe(image.digest))),
        );
      } catch (error) {
        signal?.throwIfAborted();
        failures.push({ repository, reason: reasonOf(error) });
      }
      done += 1;
      options.onProgress?.({ total: included.length, done, repository });
    },
    signal,
  );
  failures.sort((a, b) => a.repository.localeCompare(b.repository));
  const observedUntil = await registryNow(source, now, signal);
  const commit = planRun({
    registry: source.registry,
    runId: options.newRunId?.() ?? randomUUID(),
    startedAt,
    finishedAt: now().toISOString(),
    dedupe,
    previous: stored.state,
    baseGeneration: stored.generation,
    listed,
    excluded: listed.length - included.length,
    collected,
    failures,
    inventoried,
    eventSeq: stored.eventSeq,
    span: joinSpans(observedFrom, observedUntil),
  });
  signal?.throwIfAborted();
  const committed = await store.commit(commit);
  return { run: committed.run, changes: committed.changes, inventoried: committed.inventory };
}

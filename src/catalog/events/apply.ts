import { randomUUID } from 'node:crypto';
import { mapWithConcurrency } from '../../fanout/concurrency.js';
import { EventApplyError, UnreadableImageError } from '../errors.js';
import { repositoryFilter } from '../filter.js';
import type { DedupeScope } from '../model.js';
import { registryNow } from '../scan.js';
import type { CatalogStore, EventViewRequest } from '../store/store.js';
import { joinSpans } from './instant.js';
import type { RegistryEvent } from './model.js';
import {
  EMPTY_LOOKUPS,
  planEvents,
  splitKey,
  type DetailsFailure,
  type EventCommit,
  type EventView,
  type ImageDetails,
  type LookupNeeds,
  type Lookups,
} from './plan-events.js';
import type { RegistryProbe } from './probe.js';

export interface ApplyOptions {
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  /** @default 'registry' */
  readonly dedupe?: DedupeScope;
  /** Registry lookups in flight. @default 16 */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  /** Injectable clock and id, for tests. */
  readonly now?: () => Date;
  readonly newRunId?: () => string;
}

export interface ApplyResult {
  readonly commit: EventCommit;
  /** Requests sent to the registry (lookups and clock readings). */
  readonly registryRequests: number;
}

/**
 * Rounds of lookups before giving up. A round's answers may raise new questions (a tag looked up
 * points at a digest not yet read); each event can need a few, one after another.
 */
const roundsFor = (events: number): number => 4 + events;

/**
 * Applies a batch of one registry's events to the store: plans on a snapshot to learn which lookups
 * are needed, makes them outside any transaction, then commits with the registry's event state
 * locked (planning again on what the store holds then). Idempotent: applying the same batch twice
 * changes nothing the second time.
 *
 * @example
 * const { commit } = await applyEvents(parseNotification(body, source.registry).events, source, store);
 */
export async function applyEvents(
  events: readonly RegistryEvent[],
  probe: RegistryProbe,
  store: CatalogStore,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const foreign = events.find((e) => e.registry !== probe.registry);
  if (foreign) {
    throw new EventApplyError(`an event of ${foreign.registry} was handed to the batch of ${probe.registry}`);
  }
  const now = options.now ?? (() => new Date());
  const runId = options.newRunId?.() ?? randomUUID();
  const filter = repositoryFilter(options.include, options.exclude);
  const dedupe = options.dedupe ?? 'registry';
  const request: EventViewRequest = {
    registry: probe.registry,
    repositories: [...new Set(events.map((e) => e.repository))],
    ids: events.map((e) => e.id),
    digests: [...new Set(events.flatMap((e) => (e.digest ? [e.digest] : [])))],
    dedupe,
  };
  const plan = (view: EventView, lookups: Lookups) =>
    planEvents({
      view,
      events,
      lookups,
      detailsScope: probe.detailsScope,
      filter,
      dedupe,
      runId,
      now: now().toISOString(),
    });
  let lookups = EMPTY_LOOKUPS;
  let requests = 0;
  // A first plan on a snapshot, so the lookups happen before the lock is taken.
  let result = plan(await store.eventView(request), lookups);
  for (let round = 0; ; round++) {
    if (result.kind === 'needs') {
      if (round >= roundsFor(events.length)) {
        throw new EventApplyError(
          `the registry ${probe.registry} kept changing while events were applied; nothing of the batch was kept`,
        );
      }
      const looked = await lookUp(probe, result.needs, lookups, now, options);
      lookups = looked.lookups;
      requests += looked.requests;
    }
    const current = lookups;
    result = await store.commitEvents(request, (view) => plan(view, current), now().toISOString());
    if (result.kind === 'commit') return { commit: result.commit, registryRequests: requests };
  }
}

async function lookUp(
  probe: RegistryProbe,
  needs: LookupNeeds,
  previous: Lookups,
  now: () => Date,
  options: ApplyOptions,
): Promise<{ lookups: Lookups; requests: number }> {
  const { signal } = options;
  const concurrency = options.concurrency ?? 16;
  const tags = new Map(previous.tags);
  const images = new Map(previous.images);
  const details = new Map(previous.details);
  let requests = 0;
  const timed = needs.tags.size + needs.images.size > 0;
  const from = timed ? await registryNow(probe, now, signal) : undefined;
  if (timed && probe.registryTime) requests += 1;
  await mapWithConcurrency(
    [...needs.tags],
    concurrency,
    async (key) => {
      const [repository, tag] = splitKey(key);
      requests += 1;
      tags.set(key, (await probe.resolveTag(repository, tag, signal)) ?? null);
    },
    signal,
  );
  await mapWithConcurrency(
    [...needs.images],
    concurrency,
    async (key) => {
      const [repository, digest] = splitKey(key);
      requests += 1;
      images.set(key, await probe.imageExists(repository, digest, signal));
    },
    signal,
  );
  await mapWithConcurrency(
    [...needs.details],
    concurrency,
    async (key) => {
      const [repository, digest] = splitKey(key);
      requests += 1;
      details.set(key, await describe(probe, repository, digest, signal));
    },
    signal,
  );
  let span = previous.span;
  if (from) {
    const until = await registryNow(probe, now, signal);
    if (probe.registryTime) requests += 1;
    // Older lookups are kept; the span covers them all (wider only means more caution).
    span = joinSpans(span ? joinSpans(span, from) : from, until);
  }
  return { lookups: { tags, images, details, ...(span ? { span } : {}) }, requests };
}

async function describe(
  probe: RegistryProbe,
  repository: string,
  digest: string,
  signal: AbortSignal | undefined,
): Promise<ImageDetails | DetailsFailure> {
  try {
    return (await probe.describeImage(repository, digest, signal)) ?? { gone: true };
  } catch (error) {
    if (error instanceof UnreadableImageError) {
      return { unreadable: error.message };
    }
    throw new EventApplyError(`could not read ${repository}@${digest} from ${probe.registry}`, {
      cause: error,
    });
  }
}

import type { Instant } from './instant.js';

/**
 * One change a registry announced, in the catalog's terms (parsed from a distribution registry's
 * notification or an ECR "ECR Image Action" event; see ./distribution.ts and ./ecr-events.ts).
 *
 * - `push` with a tag: the tag now points at `digest`.
 * - `delete` with a digest and no tag: the image and every tag on it are gone.
 * - `delete` with a tag: that tag is gone (the image goes with it when it has no other tag).
 */
export interface RegistryEvent {
  /** Unique per registry; a second delivery of the same id is a duplicate. */
  readonly id: string;
  /** The catalog's registry id, e.g. `http://127.0.0.1:5000` or `ecr://123456789012/eu-west-1`. */
  readonly registry: string;
  readonly repository: string;
  readonly action: 'push' | 'delete';
  readonly digest?: string;
  readonly tag?: string;
  /** When it happened, on the registry's clock. */
  readonly at: Instant;
  /**
   * A tag delete whose image may or may not have gone with it (ECR: deleting by digest and
   * deleting the last tag both delete the image): the engine checks the image once when other
   * tags still point at it.
   */
  readonly checkImage?: boolean;
}

/** What became of one event. */
export enum EventOutcome {
  /** The catalog changed. */
  Applied = 'applied',
  /** The catalog already showed what the event says. */
  Unchanged = 'unchanged',
  /** The event was older than what the catalog knows; kept out. */
  Stale = 'stale',
  /** Its time fell within a scan or lookup; one registry lookup settled the state instead. */
  Settled = 'settled',
  /** The same event id was applied before. */
  Duplicate = 'duplicate',
  /** The repository is excluded by the globs. */
  Excluded = 'excluded',
  /** Not a catalog change: a pull, a blob, a push by digest only, a failed ECR action. */
  Ignored = 'ignored',
}

/** Why an event (or a request carrying events) was refused; recorded per registry or source. */
export enum RejectReason {
  /** Not JSON, or not an event of the expected shape. */
  Malformed = 'malformed',
  /** From an account outside the organization scope. */
  AccountOutOfScope = 'account-out-of-scope',
  /** From a region the catalog's ECR events are not configured for. */
  RegionOutOfScope = 'region-out-of-scope',
  /** The image's manifest could not be read or parsed. */
  UnreadableImage = 'unreadable-image',
  /** Applying it failed every time for too long (not the store being down); the next scan catches it. */
  GaveUp = 'gave-up',
}

export interface Rejection {
  readonly reason: RejectReason;
  /** Short and safe to log: never a body or a token. */
  readonly detail: string;
}

/** What parsing one request or message gave. */
export interface ParsedEvents {
  readonly events: readonly RegistryEvent[];
  /** Events understood but not about the catalog (pulls, blobs, pushes by digest only). */
  readonly ignored: number;
  readonly rejected: readonly Rejection[];
}

export type OutcomeCounts = Partial<Record<EventOutcome, number>>;

/** Adds counts into `into`. */
export function addCounts(into: Record<string, number>, counts: OutcomeCounts): void {
  for (const [outcome, n] of Object.entries(counts)) into[outcome] = (into[outcome] ?? 0) + (n ?? 0);
}

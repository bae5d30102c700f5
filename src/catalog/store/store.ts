import type { OutcomeCounts, RegistryEvent, Rejection, RejectReason } from '../events/model.js';
import type { EventPlan, EventView } from '../events/plan-events.js';
import type { CatalogChange, DedupeScope, InventoryEntry, RegistryState, RunRecord } from '../model.js';
import type { RunCommit } from '../plan.js';
import type { EventViewRequest } from './event-tables.js';

export type { EventViewRequest } from './event-tables.js';

/** The stored catalog of one registry, and the generation it was read at. */
export interface StoredRegistry {
  readonly state: RegistryState;
  /** Bumped by every committed run of this registry; 0 before the first. */
  readonly generation: number;
  /** Bumped by every applied batch of events; a scan keeps what batches after this one wrote. */
  readonly eventSeq: number;
}

/** Where a registry's catalog stands: its last scan, and what events did since. */
export interface RegistryStatus {
  /** A registry id, or the listener/queue a rejected request came through when it named none. */
  readonly registry: string;
  readonly lastScan?: { readonly runId: string; readonly finishedAt: string };
  /** Events handled since the last scan, by outcome. */
  readonly eventsSinceScan: OutcomeCounts;
  /** When the last batch of events was applied (local clock). */
  readonly lastEventAt?: string;
  /** Events a listener accepted and has not applied yet (the inbox); absent when none. */
  readonly heldEvents?: number;
  readonly rejections: readonly {
    readonly reason: RejectReason;
    readonly count: number;
    readonly lastAt: string;
    readonly detail: string;
  }[];
}

export interface InventoryQuery {
  readonly registry?: string;
  /** Also list digests already marked assessed (default: only those awaiting assessment). */
  readonly includeAssessed?: boolean;
}

export interface MarkAssessed {
  readonly registry?: string;
  /** The digests to mark, or 'all' for every digest awaiting assessment. */
  readonly digests: readonly string[] | 'all';
  readonly at: string;
}

/**
 * Where the catalog lives. Two implementations share one schema and one set of queries: an embedded
 * SQLite file (the default) and PostgreSQL (for shared use).
 */
export interface CatalogStore {
  /** A human-readable location, without any password. */
  readonly location: string;
  load(registry: string): Promise<StoredRegistry>;
  /** Digests already inventoried: in this registry, or in any registry for the global scope. */
  inventoriedDigests(registry: string, scope: DedupeScope): Promise<Set<string>>;
  /**
   * Commits a run atomically: new state, changes, inventory additions and the run record, or nothing.
   * Fails with ConcurrentScanError when another run of the same registry committed since `load`.
   * Events applied since `load` keep what they wrote: the commit is rebased on them and returned.
   */
  commit(commit: RunCommit): Promise<RunCommit>;
  /** What the store holds that a batch of events concerns (one snapshot; for planning lookups). */
  eventView(request: EventViewRequest): Promise<EventView>;
  /**
   * Applies a batch of events: with the registry's event state locked, reads the view, plans with
   * `plan` and commits the plan's commit atomically. A plan that needs lookups commits nothing and
   * is returned as it is.
   */
  commitEvents(
    request: EventViewRequest,
    plan: (view: EventView) => EventPlan,
    at: string,
  ): Promise<EventPlan>;
  /**
   * Keeps events a listener accepted until they are applied (the inbox): written before the listener
   * answers, so they outlive it. Holding an event id already held changes nothing.
   */
  holdEvents(registry: string, events: readonly RegistryEvent[], at: string): Promise<void>;
  /** The events held for a registry, oldest first: accepted by a listener, not yet released. */
  heldEvents(registry: string): Promise<RegistryEvent[]>;
  /** Forgets held events once they are applied. */
  releaseEvents(registry: string, ids: readonly string[]): Promise<void>;
  /** Counts refused events per source (registry id, listener or queue) and reason. */
  recordRejections(source: string, rejections: readonly Rejection[], at: string): Promise<void>;
  /** Every registry's last scan, events since, and rejections. */
  status(): Promise<RegistryStatus[]>;
  /** The changes events applied since the registry's last scan, oldest first. */
  eventChanges(registry: string): Promise<{ runs: RunRecord[]; changes: CatalogChange[] }>;
  /** The last run (of one registry, or of any) with its changes. */
  lastRun(registry?: string): Promise<{ run: RunRecord; changes: CatalogChange[] } | undefined>;
  inventory(query?: InventoryQuery): Promise<InventoryEntry[]>;
  /** Marks digests assessed; `unknown` lists requested digests the inventory does not hold. */
  markAssessed(request: MarkAssessed): Promise<{ marked: number; unknown: string[] }>;
  close(): Promise<void>;
}
